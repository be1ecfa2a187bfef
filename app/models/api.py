"""What programs use: personal API tokens (kept hashed), the idempotency keys of their
sends, and outgoing webhooks with their delivery log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

TOKEN_PREFIX = "mr_"  # a Mailroom token says what it is (secret scanners, logs)
SHOWN_PREFIX = 10  # characters of a token kept in clear, to recognise it by
TOUCH_EVERY = timedelta(minutes=1)  # last-used time written at most this often


def digest(secret: str) -> str:
    """The stored form of a token: SHA-256 of a 256-bit random value needs no salt."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiToken(db.Model):
    """A personal API token: ``Authorization: Bearer <token>`` acts as its owner."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def issue(cls, username: str, name: str) -> tuple[ApiToken, str]:
        """A new token of ``username`` (added, not committed) and its secret, shown once."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(username=username, name=name, prefix=secret[:SHOWN_PREFIX],
                    token_hash=digest(secret))
        db.session.add(token)
        return token, secret

    @classmethod
    def by_secret(cls, secret: str) -> ApiToken | None:
        """The live (not revoked) token whose secret is ``secret``, or None."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        return db.session.scalar(db.select(cls).where(cls.token_hash == digest(secret),
                                                      cls.revoked_at.is_(None)))

    @classmethod
    def of_user(cls, username: str) -> list[ApiToken]:
        """The user's tokens, newest first (revoked ones too: they say when)."""
        return list(db.session.scalars(db.select(cls).where(cls.username == username)
                                       .order_by(cls.created_at.desc(), cls.id.desc())))

    def touch(self) -> None:
        """Note the token was used now (at most once a minute: no write per request)."""
        now = utcnow()
        if self.last_used_at is None or now - self.last_used_at > TOUCH_EVERY:
            self.last_used_at = now
            db.session.commit()


class IdempotencyKey(db.Model):
    """One ``Idempotency-Key`` of one token: inserted before the send is made (the unique
    pair lets one of racing requests in), then the answer it gave, replayed for 24 hours."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column()
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Webhook(db.Model):
    """A URL that hears of a user's events, each delivery signed with ``secret``."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    # Kept as it is: the HMAC needs it (shown to the user once, like a token).
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @classmethod
    def of_user(cls, username: str) -> list[Webhook]:
        """The user's hooks, oldest first."""
        return list(db.session.scalars(db.select(cls).where(cls.username == username)
                                       .order_by(cls.id)))

    @classmethod
    def owned_or_404(cls, hook_id: int, username: str) -> Webhook:
        """The hook, if it is ``username``'s; another user's answers 404."""
        return db.one_or_404(db.select(cls).filter_by(id=hook_id, username=username))


class WebhookDelivery(db.Model):
    """One event for one hook, and how its delivery went (the last answer heard)."""

    __tablename__ = "webhook_deliveries"
    # One delivery per event per hook, however often the task that caused it is published.
    __table_args__ = (UniqueConstraint("webhook_id", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"),
                                            index=True)
    event: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None] = mapped_column()
    last_response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
