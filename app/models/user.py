"""Accounts."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Part of the id in the session cookie: bumping it ends every copy of every session.
    session_version: Mapped[int] = mapped_column(default=0)
    is_admin: Mapped[bool] = mapped_column(default=False)  # sees the operator view /admin/
    # How the account signs its mail (``{{ sender_name }}``): never the login name, which
    # recipients must not learn.
    display_name: Mapped[str | None] = mapped_column(String(128))
    # Recipients a day this account may send to; NULL: QUOTA_RECIPIENTS_PER_DAY.
    recipients_per_day: Mapped[int | None] = mapped_column()
    # The language chosen with the navbar's switch (app/i18n.py LANGUAGES); NULL: none
    # chosen, the browser's Accept-Language decides.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def get_id(self) -> str:
        """Flask-Login's id: the account and its session version."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """Every session signed in so far stops working (logout, a new password)."""
        self.session_version = (self.session_version or 0) + 1

    def set_password(self, password: str, method: str = "scrypt") -> None:
        """Store a salted hash of ``password`` made with ``method`` (werkzeug's; the config's
        ``PASSWORD_HASH_METHOD``), ending the sessions of the old one."""
        if self.password_hash:
            self.end_sessions()
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @classmethod
    def by_username(cls, username: str) -> User | None:
        """The account named ``username``, or None."""
        return db.session.scalar(db.select(cls).filter_by(username=username))
