"""Board digest and daily operations summary (spec §6): periods, figures, charts, CSV, HTML and text."""
