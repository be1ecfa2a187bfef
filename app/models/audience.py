"""Audiences: a user's saved lists of recipients (members, each with its fields and a
status), and the imports that fill them (the file kept until its job has read it, the
report it ends with, and every refused line)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.suppression import Suppression
from app.models.task import PENDING, Delivery, Task
from app.models.types import UTCDateTime, utcnow

ACTIVE, UNSUBSCRIBED, BOUNCED = "active", "unsubscribed", "bounced"
MEMBER_STATUSES = (ACTIVE, UNSUBSCRIBED, BOUNCED)


class MailingList(db.Model):
    __tablename__ = "mailing_lists"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)  # a username
    name: Mapped[str] = mapped_column(String(128))
    # Every field column its imports brought, in the order first seen (``email`` aside).
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @classmethod
    def owned_or_404(cls, list_id: int, owner: str) -> MailingList:
        """The list, if it is ``owner``'s; another user's answers 404."""
        return db.one_or_404(db.select(cls).filter_by(id=list_id, owner=owner))

    @classmethod
    def of_owner(cls, owner: str) -> list[MailingList]:
        """The user's lists, by name."""
        return list(db.session.scalars(
            db.select(cls).where(cls.owner == owner).order_by(cls.name, cls.id)))

    def add_columns(self, names: list[str]) -> None:
        """Remember the field columns an import brought (new ones at the end)."""
        known = list(self.columns or [])
        self.columns = known + [n for n in names if n not in known]

    def remove(self) -> None:
        """Delete the list with its members and imports, in bulk statements (SQLite keeps
        no cascades); the caller commits. Tasks that used it keep their recipients."""
        imports = db.select(ListImport.id).where(ListImport.list_id == self.id)
        for statement in (
            db.delete(ImportRefusal).where(ImportRefusal.import_id.in_(imports)),
            db.delete(ListImport).where(ListImport.list_id == self.id),
            db.delete(Member).where(Member.list_id == self.id),
            db.update(Task).where(Task.list_id == self.id).values(list_id=None),
            db.delete(MailingList).where(MailingList.id == self.id),
        ):
            db.session.execute(statement.execution_options(synchronize_session=False))

    def counts(self) -> dict[str, int]:
        """How many members are in each status (every status present, zero or not)."""
        rows = db.session.execute(
            db.select(Member.status, db.func.count()).where(Member.list_id == self.id)
            .group_by(Member.status))
        return {status: 0 for status in MEMBER_STATUSES} | dict(rows.all())


class Member(db.Model):
    """One address of a list: unique in it whatever its case (``key`` is lower-cased)."""

    __tablename__ = "list_members"
    __table_args__ = (
        UniqueConstraint("list_id", "key"),
        Index("ix_list_members_list_status", "list_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    key: Mapped[str] = mapped_column(String(320))
    fields: Mapped[dict[str, str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def unsubscribe(cls, owner: str, address: str) -> int:
        """The address left ``owner``'s mail: in each of the owner's lists it is
        ``unsubscribed`` (it stays, so a later import does not bring it back); the caller
        commits. How many members."""
        return cls._restatus(owner, address, ACTIVE, UNSUBSCRIBED)

    @classmethod
    def bounce(cls, owner: str, address: str) -> int:
        """The address's mail comes back (a hard bounce, or soft ones past the limit): in
        each of ``owner``'s lists an active member becomes ``bounced``; the caller commits.
        How many members."""
        return cls._restatus(owner, address, ACTIVE, BOUNCED)

    @classmethod
    def unbounce(cls, owner: str, address: str) -> int:
        """The sender lifted the address's bounce suppression: in ``owner``'s lists its
        bounced members are active again; the caller commits. How many members."""
        return cls._restatus(owner, address, BOUNCED, ACTIVE)

    @classmethod
    def _restatus(cls, owner: str, address: str, was: str, becomes: str) -> int:
        lists = db.select(MailingList.id).where(MailingList.owner == owner)
        result = db.session.execute(
            db.update(cls).where(cls.list_id.in_(lists), cls.key == address.strip().lower(),
                                 cls.status == was)
            .values(status=becomes, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        return result.rowcount


def sendable(list_id: int, owner: str) -> Any:
    """The members of a list a send may mail now: active, and not on the owner's
    suppression list (a SELECT of members, in order)."""
    listed = db.select(Suppression.id).where(Suppression.owner == owner,
                                             Suppression.address == Member.key)
    return (db.select(Member).where(Member.list_id == list_id, Member.status == ACTIVE,
                                    ~listed.exists())
            .order_by(Member.id))


def sendable_count(mailing_list: MailingList) -> int:
    """How many members a send to the list would mail now: the active ones (counted in the
    list's status index) less those of them on the owner's suppression list (found from
    that list, usually far the shorter)."""
    active = db.session.scalar(db.select(db.func.count()).where(
        Member.list_id == mailing_list.id, Member.status == ACTIVE)) or 0
    suppressed = db.session.scalar(
        db.select(db.func.count()).select_from(Suppression)
        .join(Member, db.and_(Member.list_id == mailing_list.id,
                              Member.key == Suppression.address))
        .where(Suppression.owner == mailing_list.owner, Member.status == ACTIVE)) or 0
    return active - suppressed


def take_members(task: Task) -> int:
    """A list send's recipients as its run starts: the list's sendable members, each with
    its fields, copied into the task's deliveries in one INSERT … SELECT; the task's count
    set and the taking stamped (once: a later run of the task keeps them). Not committed.
    How many."""
    if task.list_id is None or task.recipients_taken_at is not None:
        return 0
    now = utcnow()
    members = sendable(task.list_id, task.username).with_only_columns(
        db.literal(task.id), Member.id, Member.address, Member.fields,
        db.literal(PENDING), db.literal(now, UTCDateTime))
    db.session.execute(db.insert(Delivery).from_select(
        ["task_id", "position", "recipient", "fields", "status", "created_at"], members))
    task.recipient_count = Delivery.count(task.id, PENDING)
    task.recipients_taken_at = utcnow()  # when the copy was done
    return task.recipient_count


def list_blanks(task_id: int) -> dict[str, str]:
    """A list send's columns, each empty: what a member without that field renders with."""
    columns = db.session.scalar(db.select(MailingList.columns).join(
        Task, Task.list_id == MailingList.id).where(Task.id == task_id))
    return dict.fromkeys(columns or [], "")


class ListImport(db.Model):
    """One import into a list: its file (dropped once read), where its job got to (a
    resumed run goes on after ``line``), and the report."""

    __tablename__ = "list_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("mailing_lists.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    encoding: Mapped[str] = mapped_column(String(16))
    # The file, read once by the job (deferred: each commit of a batch reloads the row).
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(default=0)  # bytes
    line: Mapped[int] = mapped_column(default=0)  # the last line whose row is written
    lines: Mapped[int] = mapped_column(default=0)  # lines in the file
    added: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    done: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def report(self) -> dict[str, Any]:
        """What the list's page says about it."""
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "refused": self.refused, "line": self.line, "done": self.done}


class ImportRefusal(db.Model):
    """One refused line of an import, with the reason (the report lists them)."""

    __tablename__ = "import_refusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("list_imports.id", ondelete="CASCADE"), index=True)
    line: Mapped[int] = mapped_column()
    address: Mapped[str] = mapped_column(String(320))  # the row's first cell, as written
    reason: Mapped[str] = mapped_column(Text)
