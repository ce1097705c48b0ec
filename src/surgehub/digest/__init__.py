"""Board digest and daily operations summary (spec §6): model, periods, build, render (charts, CSV, HTML, text), mails."""
