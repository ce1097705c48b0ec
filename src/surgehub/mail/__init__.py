"""Email: composing MIME messages, sending them once through the Airflow SMTP connection, and a loopback server."""
