"""Mail templates as data: a user's own, and the built-ins every user sees (owner NULL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context
from flask_babel import gettext
from sqlalchemy import String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.i18n import N_
from app.models.types import UTCDateTime, utcnow

# Every built-in ends with the recipient's own unsubscribe link (issue 13). Each piece is a
# msgid: a built-in is sent in the sender's language (``MailTemplate.snapshot``), Korean
# as written here, another language from the catalogs.
_TEXT_FOOTER = ("\n\n--\n", N_("더 이상 받지 않으려면: {{ unsubscribe_url }}"))
_HTML_FOOTER = (N_("<p style=\"color:#666;font-size:12px\">더 이상 받지 않으려면 "
                   "<a href=\"{{ unsubscribe_url }}\">수신 거부</a>를 누르세요.</p>"),
                "\n</body></html>")
TEXT_FOOTER = "".join(_TEXT_FOOTER)
HTML_FOOTER = "".join(_HTML_FOOTER)
# The templates every user sees, read-only (the two the seeds shipped as files), as the
# pieces they are made of: what is not a msgid (markup, the footer's rule) is the same in
# every language.
_PIECES: dict[str, dict[str, tuple[str, ...]]] = {
    "welcome": {
        "label": (N_("환영 메일 (welcome)"),),
        "subject": (N_("Mailroom에 오신 것을 환영합니다"),),
        "body_text": (N_("환영합니다!\n\n{{ recipient }} 님, Mailroom에 오신 것을 환영합니다.\n"
                         "이 메일은 {{ sender_name }} 님이 보냈습니다."), *_TEXT_FOOTER),
        "body_html": (N_("<!doctype html>\n<html lang=\"ko\"><body>\n<h1>환영합니다!</h1>\n"
                         "<p>{{ recipient }} 님, Mailroom에 오신 것을 환영합니다.</p>\n"
                         "<p>이 메일은 {{ sender_name }} 님이 보냈습니다.</p>"), "\n",
                      *_HTML_FOOTER),
    },
    "notice": {
        "label": (N_("공지 메일 (notice)"),),
        "subject": (N_("[공지] Mailroom 서비스 안내"),),
        "body_text": (N_("공지\n\n{{ recipient }} 님, Mailroom 서비스에 대해 알려 드립니다.\n"
                         "보낸 사람: {{ sender_name }}"), *_TEXT_FOOTER),
        "body_html": (N_("<!doctype html>\n<html lang=\"ko\"><body>\n<h1>공지</h1>\n"
                         "<p>{{ recipient }} 님, Mailroom 서비스에 대해 알려 드립니다.</p>\n"
                         "<p>보낸 사람: {{ sender_name }}</p>"), "\n", *_HTML_FOOTER),
    },
}
BUILTINS: list[dict[str, str]] = [
    {"name": name, **{key: "".join(pieces) for key, pieces in parts.items()}}
    for name, parts in _PIECES.items()
]


def builtin_words(name: str, key: str, korean: str | None) -> str | None:
    """A built-in's ``key`` (label, subject, body) in the sender's language: in a request
    the reader's (Flask-Babel's locale), else Korean. ``korean`` (what the row holds) is
    kept as it is when it is not the text shipped (a database of an older version)."""
    pieces = _PIECES.get(name, {}).get(key)
    if pieces is None or korean != "".join(pieces) or not has_request_context():
        return korean
    return "".join(gettext(piece) if piece.strip() else piece for piece in pieces)


def builtin_rows() -> list[dict[str, Any]]:
    """The built-ins as rows to insert (a migration, or ``create_all``)."""
    now = utcnow()
    return [{**row, "owner": None, "created_at": now, "updated_at": now} for row in BUILTINS]


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
        """What the send form's select shows (a built-in's in the reader's language)."""
        return self._words("label", self.label) or self.name

    def _words(self, key: str, value: str | None) -> str | None:
        return builtin_words(self.name, key, value) if self.builtin else value

    def words(self) -> dict[str, str | None]:
        """Subject and bodies as they are sent: a user's template as they wrote it, a
        built-in in the sender's language (the reader's, in a request; else Korean)."""
        words = {key: self._words(key, getattr(self, key))
                 for key in ("subject", "body_text", "body_html")}
        return {**words, "body_html": words["body_html"] or None}

    def snapshot(self) -> dict[str, Any]:
        """What a task keeps of the template it was made with, so a later edit or delete
        never changes a send that is queued, reserved or running (a built-in: in the
        language of the sender who made it)."""
        return {"id": self.id, "name": self.name, **self.words()}

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


@event.listens_for(MailTemplate.__table__, "after_create")
def _install_builtins(table: Any, connection: Any, **_: Any) -> None:
    """A schema made by ``create_all`` (tests, a quick start) has the built-ins too;
    ``flask db upgrade`` inserts them in its migration."""
    connection.execute(table.insert(), builtin_rows())
