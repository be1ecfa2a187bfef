"""Configuration, read from the environment with the defaults SPEC.md gives."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any


def json_text(value: Any) -> str:
    """JSON for the database's JSON columns, non-ASCII kept as it is."""
    return json.dumps(value, ensure_ascii=False)


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def security(get: Any) -> dict[str, Any]:
    """Sessions, bodies and request limits (README, Security)."""
    return {
        "SESSION_COOKIE_SECURE": _bool(get("SESSION_COOKIE_SECURE", "true")),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": int(float(get("SESSION_LIFETIME_HOURS", "12")) * 3600),
        "HSTS_SECONDS": int(get("HSTS_SECONDS", "0")),
        "PROXY_COUNT": int(get("PROXY_COUNT", "0")),
        "MAX_CONTENT_LENGTH": int(get("MAX_CONTENT_LENGTH", str(1024 * 1024))),
        "MAX_FORM_MEMORY_SIZE": int(get("MAX_FORM_MEMORY_SIZE", str(1024 * 1024))),
        "MAX_FORM_PARTS": int(get("MAX_FORM_PARTS", "100")),
        # A list's import (POST /lists/<id>/import) only: a CSV of 100,000 rows.
        "LIST_IMPORT_MAX_BYTES": int(get("LIST_IMPORT_MAX_BYTES", str(32 * 1024 * 1024))),
        "RATELIMIT_ENABLED": _bool(get("RATELIMIT_ENABLED", "true")),
        "RATELIMIT_LOGIN_IP": get("RATELIMIT_LOGIN_IP", "20 per minute;200 per day"),
        # Failed sign-ins per (account, address) pair, and per account from browsers that
        # never signed in to it (app/auth/known.py): a guesser cannot lock the owner out.
        "RATELIMIT_LOGIN_PAIR": get("RATELIMIT_LOGIN_PAIR", "5 per minute;30 per hour"),
        "RATELIMIT_LOGIN_ACCOUNT": get("RATELIMIT_LOGIN_ACCOUNT", "100 per hour"),
        "LOGIN_KNOWN_BROWSER_DAYS": int(get("LOGIN_KNOWN_BROWSER_DAYS", "180")),
        "RATELIMIT_SEND": get("RATELIMIT_SEND", "30 per minute;300 per hour"),
        "RATELIMIT_PREVIEW": get("RATELIMIT_PREVIEW", "120 per minute"),
        "RATELIMIT_TEMPLATES": get("RATELIMIT_TEMPLATES", "60 per minute"),
        "RATELIMIT_IMPORT": get("RATELIMIT_IMPORT", "10 per minute;100 per day"),
        # Every /api/v1 request, per token (a send also counts toward RATELIMIT_SEND).
        "RATELIMIT_API": get("RATELIMIT_API", "300 per minute"),
        "PASSWORD_MIN_LENGTH": int(get("PASSWORD_MIN_LENGTH", "12")),
        # werkzeug's hash for new passwords (the tests use a fast one: never in production).
        "PASSWORD_HASH_METHOD": get("PASSWORD_HASH_METHOD", "scrypt"),
    }


def deliverability(get: Any, instance_path: str) -> dict[str, Any]:
    """Unsubscribe links and DKIM signing (docs/UNSUBSCRIBE.md); empty DKIM values: off."""
    return {
        # Signs unsubscribe links (never SECRET_KEY): unset, the dev stack's random one in
        # instance/unsubscribe_secret; none at all refuses to start (app.security).
        "UNSUBSCRIBE_SECRET": get("UNSUBSCRIBE_SECRET")
        or _read(os.path.join(instance_path, "unsubscribe_secret")),
        "UNSUBSCRIBE_SECRET_FALLBACKS": _list(get("UNSUBSCRIBE_SECRET_FALLBACKS", "")),
        # Where recipients reach the app: the base of every unsubscribe link in a message.
        "PUBLIC_BASE_URL": get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "MAIL_UNSUBSCRIBE_MAILTO": get("MAIL_UNSUBSCRIBE_MAILTO", ""),
        "MAIL_DKIM_SELECTOR": get("MAIL_DKIM_SELECTOR", ""),
        "MAIL_DKIM_DOMAIN": get("MAIL_DKIM_DOMAIN", ""),
        "MAIL_DKIM_PRIVATE_KEY_PATH": get("MAIL_DKIM_PRIVATE_KEY_PATH", ""),
    }


def bounces(get: Any) -> dict[str, Any]:
    """Mail that comes back (README "Bounces"); unset values turn each way in off."""
    return {
        # VERP: each message's MAIL FROM becomes bounces+<token>@domain of this address.
        "MAIL_BOUNCE_ADDRESS": get("MAIL_BOUNCE_ADDRESS", ""),
        "BOUNCE_SMTP_HOST": get("BOUNCE_SMTP_HOST", "0.0.0.0"),
        "BOUNCE_SMTP_PORT": int(get("BOUNCE_SMTP_PORT", "0")),  # 0: no receiver
        "BOUNCE_SMTP_MAX_BYTES": int(get("BOUNCE_SMTP_MAX_BYTES", str(1024 * 1024))),
        "BOUNCE_SMTP_MAX_CONNECTIONS": int(get("BOUNCE_SMTP_MAX_CONNECTIONS", "20")),
        "BOUNCE_IMAP_URL": get("BOUNCE_IMAP_URL", ""),  # imaps://user:password@host/INBOX
        "BOUNCE_IMAP_FOLDER": get("BOUNCE_IMAP_FOLDER", "Mailroom-unmatched"),
        "BOUNCE_IMAP_CA_FILE": get("BOUNCE_IMAP_CA_FILE") or None,  # else the system's CAs
        "BOUNCE_IMAP_INTERVAL_SECONDS": float(get("BOUNCE_IMAP_INTERVAL_SECONDS", "60")),
        "BOUNCE_SOFT_LIMIT": int(get("BOUNCE_SOFT_LIMIT", "3")),
        "BOUNCE_RAW_MAX_BYTES": int(get("BOUNCE_RAW_MAX_BYTES", str(64 * 1024))),
        # Webhooks (POST /webhooks/bounces/<provider>): a provider without its secret is off.
        "BOUNCE_WEBHOOK_SECRET": get("BOUNCE_WEBHOOK_SECRET", ""),
        "BOUNCE_POSTMARK_USERNAME": get("BOUNCE_POSTMARK_USERNAME", ""),
        "BOUNCE_POSTMARK_PASSWORD": get("BOUNCE_POSTMARK_PASSWORD", ""),
        # SendGrid's signed event webhook: the verification key it shows (base64).
        "BOUNCE_SENDGRID_PUBLIC_KEY": get("BOUNCE_SENDGRID_PUBLIC_KEY", ""),
        "BOUNCE_SNS_TOPIC_ARNS": _list(get("BOUNCE_SNS_TOPIC_ARNS", "")),
        # Where an SNS signing certificate may come from: Amazon's own SNS hosts only.
        "BOUNCE_SNS_CERT_URL_PATTERN": get(
            "BOUNCE_SNS_CERT_URL_PATTERN",
            r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[A-Za-z0-9._/-]+\.pem$"),
        "RATELIMIT_BOUNCE_WEBHOOK": get("RATELIMIT_BOUNCE_WEBHOOK", "600 per minute"),
    }


def database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def mail(get: Any) -> dict[str, Any]:
    """The relay, and how the worker side talks to it."""
    return {
        "MAIL_SERVER": get("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": int(get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool(get("MAIL_USE_TLS", "false")),
        "MAIL_USERNAME": get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": get("MAIL_PASSWORD") or None,
        # Implicit TLS (port 465) instead of STARTTLS; either way the relay's certificate is
        # verified against MAIL_SERVER (system CAs, or this PEM file): app/mail/sender.py.
        "MAIL_USE_SSL": _bool(get("MAIL_USE_SSL", "false")),
        "MAIL_TLS_CA_FILE": get("MAIL_TLS_CA_FILE") or None,
        "MAIL_DEFAULT_SENDER": get("MAIL_DEFAULT_SENDER", "Mailroom <mailroom@localhost>"),
        "MAIL_MAX_RECIPIENTS": int(get("MAIL_MAX_RECIPIENTS", "500")),
        "MAIL_TIMEOUT_SECONDS": float(get("MAIL_TIMEOUT_SECONDS", "30")),
        # Connecting to the relay and hearing its greeting (a relay that never answers).
        "MAIL_CONNECT_TIMEOUT_SECONDS": float(get("MAIL_CONNECT_TIMEOUT_SECONDS", "10")),
        # SMTP connections per task, recipients each claims at once, and the send rate
        # every worker shares through Redis (0: no limit).
        "MAIL_CONCURRENCY": int(get("MAIL_CONCURRENCY", "4")),
        "MAIL_BATCH_SIZE": int(get("MAIL_BATCH_SIZE", "10")),
        "MAIL_RATE_PER_SECOND": int(get("MAIL_RATE_PER_SECOND", "0")),
        "MAIL_RATE_PER_HOUR": int(get("MAIL_RATE_PER_HOUR", "0")),
    }


def redis(get: Any) -> dict[str, Any]:
    """RQ's Redis: one server (``REDIS_URL``), or Sentinel's primary (``REDIS_SENTINELS``,
    ``host:port,…``; app/redis_client.py)."""
    return {
        "REDIS_URL": get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "REDIS_SENTINELS": get("REDIS_SENTINELS") or None,
        "REDIS_SENTINEL_MASTER": get("REDIS_SENTINEL_MASTER", "mymaster"),
        "REDIS_PASSWORD": get("REDIS_PASSWORD") or None,
        "REDIS_SENTINEL_PASSWORD": get("REDIS_SENTINEL_PASSWORD") or None,
        "REDIS_SENTINEL_TLS": _bool(get("REDIS_SENTINEL_TLS", "false")),
        "REDIS_TLS_CA_FILE": get("REDIS_TLS_CA_FILE") or None,
    }


def worker(get: Any) -> dict[str, Any]:
    """Runs, retries, the worker processes and the scheduler."""
    return {
        "CANCEL_GRACE_SECONDS": float(get("CANCEL_GRACE_SECONDS", "1")),
        "CANCEL_DRAIN_SECONDS": float(get("CANCEL_DRAIN_SECONDS", "3")),
        "TASK_RETRY_INTERVALS": get("TASK_RETRY_INTERVALS", "10,60,300"),
        # The worker side (python worker.py): see README "Workers and faults".
        # Two by default: one user's slow send or template never holds up everyone's mail.
        "WORKER_PROCESSES": int(get("WORKER_PROCESSES", "2")),
        # Job functions a worker runs besides Mailroom's own (app.queue.JOB_FUNCTIONS).
        "WORKER_JOB_ALLOWLIST": _list(get("WORKER_JOB_ALLOWLIST", "")),
        # Sends to at most this many recipients run in the worker process, not a fork.
        "WORKER_INLINE_MAX_RECIPIENTS": int(get("WORKER_INLINE_MAX_RECIPIENTS", "10")),
        "WORKER_STALE_SECONDS": float(get("WORKER_STALE_SECONDS", "10")),
        # How long the worker side waits out a Redis that went away before giving up.
        "WORKER_REDIS_PATIENCE_SECONDS": float(get("WORKER_REDIS_PATIENCE_SECONDS", "60")),
        "SCHEDULER_LOCK_SECONDS": int(get("SCHEDULER_LOCK_SECONDS", "10")),
        "RECONCILE_INTERVAL_SECONDS": float(get("RECONCILE_INTERVAL_SECONDS", "2")),
        "TASK_MAX_RUNS": int(get("TASK_MAX_RUNS", "5")),
        # Outgoing webhooks (app/webhooks_out): retried after each of these seconds; loopback
        # and private addresses refused unless allowed (no requests into the own network).
        "WEBHOOK_RETRY_INTERVALS": get("WEBHOOK_RETRY_INTERVALS", "10,60,300,1800,7200"),
        "WEBHOOK_TIMEOUT_SECONDS": float(get("WEBHOOK_TIMEOUT_SECONDS", "10")),
        "WEBHOOK_ALLOW_PRIVATE": _bool(get("WEBHOOK_ALLOW_PRIVATE", "false")),
    }


def limits(get: Any) -> dict[str, Any]:
    """What one user's templates and sends may take."""
    return {
        # Users' templates run in render processes under these bounds (app/mail/render.py).
        "TEMPLATE_RENDER_SECONDS": float(get("TEMPLATE_RENDER_SECONDS", "2")),
        "TEMPLATE_RENDER_MEMORY_MB": int(get("TEMPLATE_RENDER_MEMORY_MB", "256")),
        "TEMPLATE_RENDER_PROCESSES": int(get("TEMPLATE_RENDER_PROCESSES", "4")),
        "TEMPLATE_MAX_OUTPUT": int(get("TEMPLATE_MAX_OUTPUT", "200000")),
        "TEMPLATE_WORK_BUDGET": int(get("TEMPLATE_WORK_BUDGET", "1000000")),
        # Per-user quotas (app/tasks/quota.py): see README "Security".
        "QUOTA_RECIPIENTS_PER_DAY": int(get("QUOTA_RECIPIENTS_PER_DAY", "2000")),
        "QUOTA_OPEN_RESERVATIONS": int(get("QUOTA_OPEN_RESERVATIONS", "50")),
    }


def load(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the app's config mapping from ``environ``."""
    get = environ.get
    sqlite_default = "sqlite:///" + os.path.join(instance_path, "mailroom.db")
    return {
        # No default: an unset key refuses to start (app.security); the dev stack keeps a
        # random one in instance/secret_key, read when the environment names none.
        "SECRET_KEY": get("SECRET_KEY") or _read(os.path.join(instance_path, "secret_key")),
        "SECRET_KEY_FALLBACKS": _list(get("SECRET_KEY_FALLBACKS", "")),
        "SQLALCHEMY_DATABASE_URI": database_url(get("DATABASE_URL", sqlite_default)),
        **redis(get),
        **mail(get),
        **worker(get),
        **limits(get),
        "APP_TIMEZONE": get("APP_TIMEZONE", "Asia/Seoul"),
        "RESERVATION_MIN_LEAD_SECONDS": int(get("RESERVATION_MIN_LEAD_SECONDS", "60")),
        "RESERVATION_MAX_DAYS": int(get("RESERVATION_MAX_DAYS", "30")),
        "NOTIFICATION_POLL_SECONDS": float(get("NOTIFICATION_POLL_SECONDS", "2")),
        "OUTBOX_DIR": get("OUTBOX_DIR") or None,
        **deliverability(get, instance_path),
        **bounces(get),
        "BOOTSTRAP_SERVE_LOCAL": True,
        # JSON kept as written (Hangul, not \\uXXXX escapes): a list's search reads fields.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "json_serializer": json_text},
        **security(get),
    }
