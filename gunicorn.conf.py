"""gunicorn settings for Mailroom (`gunicorn run:app` reads this file from the project folder).

Threaded workers: a slow or idle client holds one thread, not a whole worker, so a handful
of sockets that promise a body and never send it cannot block everyone. Still put a
buffering proxy (nginx; README, Production) in front on a public port: it reads whole
requests before they reach gunicorn.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(4, multiprocessing.cpu_count() * 2))))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30  # a worker silent this long is restarted
graceful_timeout = 30
keepalive = 5  # seconds an idle keep-alive connection is kept
# Request line and headers: small, bounded (bodies are bounded by MAX_CONTENT_LENGTH).
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
# Trust X-Forwarded-* only from a proxy on this machine.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
