"""Notification: per user and name one row whose payload is a list, updated in place."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("username", "name"),
        Index("ix_notifications_username_timestamp", "username", "timestamp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timestamp: Mapped[float] = mapped_column(default=time.time)

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The payload's list."""
        return list((self.payload or {}).get("data", []))

    def replace_entries(self, entries: list[dict[str, Any]]) -> None:
        """Store a new list and bump the timestamp, strictly past the previous one."""
        self.payload = {"data": entries}
        self.timestamp = max(time.time(), (self.timestamp or 0.0) + 1e-6)

    @classmethod
    def newer_than(cls, username: str, since: float) -> list[Notification]:
        """The user's notifications changed after ``since``, oldest change first."""
        query = (
            db.select(cls)
            .where(cls.username == username, cls.timestamp > since)
            .order_by(cls.timestamp)
        )
        return list(db.session.scalars(query))
