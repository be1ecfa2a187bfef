"""Background tasks: the service that talks to RQ, the job decorator, progress notifications."""
