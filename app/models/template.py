"""Mail templates as data: a user's own, and the built-ins every user sees (owner NULL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class MailTemplate(db.Model):
    __tablename__ = "mail_templates"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account that wrote it; NULL for a built-in (read-only, seen by everyone).
    owner: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(128))  # the built-ins' display name
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def builtin(self) -> bool:
        """True for the templates the app ships (read-only)."""
        return self.owner is None

    @property
    def title(self) -> str:
        """What the send form's select shows."""
        return self.label or self.name

    def snapshot(self) -> dict[str, Any]:
        """What a task keeps of the template it was made with, so a later edit or delete
        never changes a send that is queued, reserved or running."""
        return {"id": self.id, "name": self.name, "subject": self.subject,
                "body_text": self.body_text, "body_html": self.body_html or None}

    @classmethod
    def visible_to(cls, username: str) -> list[MailTemplate]:
        """The built-ins, then the user's own templates by name."""
        query = (db.select(cls).where(db.or_(cls.owner.is_(None), cls.owner == username))
                 .order_by(cls.owner.is_not(None), cls.name))
        return list(db.session.scalars(query))

    @classmethod
    def named(cls, name: str, username: str) -> MailTemplate | None:
        """The template ``name`` as ``username`` sees it (their own, else a built-in)."""
        query = (db.select(cls).where(cls.name == name,
                                      db.or_(cls.owner.is_(None), cls.owner == username))
                 .order_by(cls.owner.is_(None)).limit(1))
        return db.session.scalars(query).first()

    @classmethod
    def owned_or_404(cls, template_id: int, username: str) -> MailTemplate:
        """A template ``username`` may look at: their own or a built-in; else 404."""
        return db.one_or_404(db.select(cls).where(
            cls.id == template_id, db.or_(cls.owner.is_(None), cls.owner == username)))
