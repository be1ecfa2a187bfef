"""The suppression list: per sending account, the addresses that asked to be left alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.i18n import N_
from app.models.task import PENDING, SUPPRESSED, Delivery
from app.models.types import UTCDateTime, utcnow

UNSUBSCRIBE, MANUAL = "unsubscribe", "manual"
# Mail that came back (app/bounces): the address does not take mail, or its owner reported
# the mail as spam (a complaint: the recipient's own choice, like an unsubscribe).
BOUNCE, COMPLAINT = "bounce", "complaint"
SOURCES = (UNSUBSCRIBE, MANUAL, BOUNCE, COMPLAINT)
# The recipient's own choice: the sender cannot take these off (only the recipient could).
READ_ONLY_SOURCES = frozenset({UNSUBSCRIBE, COMPLAINT})
# How an address came onto the list, in words (the pages read them here, and only here).
SOURCE_LABELS = {
    UNSUBSCRIBE: _l("수신자가 거부"),
    COMPLAINT: _l("수신자가 스팸 신고"),
    BOUNCE: _l("반송"),
    MANUAL: _l("직접 추가"),
}
# The skipped delivery's reason, written in the send's language (the worker's run is under
# app.i18n.written_in); the constant stays Korean.
SUPPRESSED_ERROR = N_("수신 거부 목록에 있는 주소라 보내지 않았습니다.")


def source_label(source: str) -> str:
    """The words for how an address came onto the list (an unknown source reads as added
    by hand, as the page always showed it)."""
    return str(SOURCE_LABELS.get(source, SOURCE_LABELS[MANUAL]))


class Suppression(db.Model):
    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("owner", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The sending account (a username): each sender keeps a list of its own.
    owner: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(320))  # lower-cased
    source: Mapped[str] = mapped_column(String(16))  # one of SOURCES
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def source_label(self) -> str:
        """How this address came onto the list, in the reader's language."""
        return source_label(self.source)

    @property
    def sender_may_remove(self) -> bool:
        """False for a recipient's own unsubscribe: the sender may not mail them again."""
        return self.source not in READ_ONLY_SOURCES

    @classmethod
    def add(cls, owner: str, addresses: Iterable[str], source: str) -> int:
        """Put ``addresses`` on ``owner``'s list (those already there stay, but a recipient's
        unsubscribe makes the sender's own row of that address read-only); commit. How many
        were new."""
        if source not in SOURCES:
            raise ValueError(f"unknown suppression source: {source}")
        wanted = {address.strip().lower() for address in addresses if address.strip()}
        if not wanted:
            return 0
        known = set(db.session.scalars(db.select(cls.address).where(
            cls.owner == owner, cls.address.in_(wanted))))
        new = sorted(wanted - known)
        db.session.add_all(cls(owner=owner, address=address, source=source) for address in new)
        try:
            db.session.commit()
            added = len(new)
        except IntegrityError:
            # Another request added one of them meanwhile (two clicks on one link): go one
            # by one, so each insert either lands or finds its row already there.
            db.session.rollback()
            added = sum(cls._add_one(owner, address, source) for address in new)
        if source in READ_ONLY_SOURCES:
            cls._lock(owner, wanted, source)
        return added

    @classmethod
    def _lock(cls, owner: str, addresses: set[str], source: str) -> None:
        """The recipient's own unsubscribe overrides the sender's manual row (else the
        sender could delete that row and mail them again); commit."""
        db.session.execute(
            db.update(cls).where(cls.owner == owner, cls.address.in_(addresses),
                                 cls.source.not_in(READ_ONLY_SOURCES))
            .values(source=source).execution_options(synchronize_session=False))
        db.session.commit()

    @classmethod
    def _add_one(cls, owner: str, address: str, source: str) -> bool:
        db.session.add(cls(owner=owner, address=address, source=source))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return False
        return True

    @classmethod
    def remove(cls, owner: str, address: str) -> bool:
        """Take ``address`` off ``owner``'s list unless the recipient put it there; commit.
        False when it was not there or is read-only."""
        result = db.session.execute(
            db.delete(cls).where(cls.owner == owner, cls.address == address.strip().lower(),
                                 cls.source.not_in(READ_ONLY_SOURCES))
            .execution_options(synchronize_session=False))
        db.session.commit()
        return result.rowcount > 0

    @classmethod
    def owned_or_404(cls, entry_id: int, owner: str) -> Suppression:
        """The entry, if it is on ``owner``'s list; another user's answers 404."""
        return db.one_or_404(db.select(cls).filter_by(id=entry_id, owner=owner))

    @classmethod
    def among(cls, owner: str, addresses: Iterable[str]) -> int:
        """How many of ``addresses`` are on ``owner``'s list (a send will skip them)."""
        wanted = {address.lower() for address in addresses}
        return db.session.scalar(db.select(db.func.count()).where(
            cls.owner == owner, cls.address.in_(wanted))) or 0

    @classmethod
    def apply(cls, task_id: int, owner: str) -> int:
        """Mark the task's pending deliveries to addresses on ``owner``'s list as
        ``suppressed`` (never sent, never counted delivered or failed); commit. How many.

        One UPDATE, run when the job starts: a reservation checks the list when it fires.
        """
        listed = db.select(cls.address).where(cls.owner == owner)
        result = db.session.execute(
            db.update(Delivery)
            .where(Delivery.task_id == task_id, Delivery.status == PENDING,
                   db.func.lower(Delivery.recipient).in_(listed))
            .values(status=SUPPRESSED, error=_(SUPPRESSED_ERROR), updated_at=utcnow())
            .execution_options(synchronize_session=False))
        db.session.commit()
        return result.rowcount
