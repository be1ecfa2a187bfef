"""Mail: the templates, the SMTP batch sender and the send job."""
