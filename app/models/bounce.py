"""Bounces: mail that came back (a DSN, a provider's event, a complaint), kept with what was
concluded from it and its raw text (capped), so a person can check the conclusion."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

HARD, SOFT, COMPLAINT = "hard", "soft", "complaint"
KINDS = (HARD, SOFT, COMPLAINT)
# Soft bounces of one address are counted over this window (BOUNCE_SOFT_LIMIT of them).
SOFT_WINDOW = timedelta(days=30)


class Bounce(db.Model):
    """One failed address of one returned message (a DSN naming three addresses makes
    three rows, sharing the raw message's ``digest``)."""

    __tablename__ = "bounces"
    __table_args__ = (
        Index("ix_bounces_owner_received", "owner", "received_at"),
        Index("ix_bounces_owner_address_kind", "owner", "address", "kind", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The sending account it was matched to (a username); NULL when nothing matched.
    owner: Mapped[str | None] = mapped_column(String(64))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"))
    address: Mapped[str | None] = mapped_column(String(320))  # lower-cased
    kind: Mapped[str] = mapped_column(String(16))  # hard | soft | complaint | unknown
    # How it came: smtp | imap | webhook:<provider>
    via: Mapped[str] = mapped_column(String(32))
    diagnostic: Mapped[str | None] = mapped_column(Text)
    # What was concluded and why (VERP token, detector, match), for a person to check.
    conclusion: Mapped[str] = mapped_column(Text)
    # What the message did: bounced, suppressed, ignored (a duplicate, a warning, no match)
    effect: Mapped[str] = mapped_column(String(32))
    raw: Mapped[str] = mapped_column(Text)  # the message as it came, capped
    # The same returned message (or event) seen again — a mailbox polled twice, an SMTP
    # client that retries — changes nothing twice: sha256 of raw and address.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @classmethod
    def soft_count(cls, owner: str, address: str, now: datetime | None = None) -> int:
        """How many soft bounces of ``address`` ``owner`` has had in the last 30 days."""
        since = (now or utcnow()) - SOFT_WINDOW
        return db.session.scalar(db.select(db.func.count()).where(
            cls.owner == owner, cls.address == address.lower(), cls.kind == SOFT,
            cls.received_at >= since)) or 0
