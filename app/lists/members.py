"""The members of a list as the pages read them: counts, a page of a search, one member,
the whole list as CSV (streamed), and the list's imports with their refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select

from app.extensions import db
from app.models import ImportRefusal, ListImport, MailingList, Member, Task
from app.models.task import IMPORT, UNFINISHED
from app.utils.text import like_pattern

EXPORT_BATCH = 1000
# A member's status in words (the list's page, its filter and the CSV export).
STATUS_WORDS = {"active": _l("받는 중"), "unsubscribed": _l("수신 거부"), "bounced": _l("반송")}


def search(mailing_list: MailingList, text: str, status: str = "") -> Select[Any]:
    """The list's members, oldest first, whose address or a field's value holds ``text``
    (any case; the field names themselves are not searched), in ``status`` when given."""
    query = db.select(Member).where(Member.list_id == mailing_list.id)
    if status:
        query = query.where(Member.status == status)
    text = text.strip()[:200]
    if text:
        pattern = like_pattern(text.lower())
        values = [db.func.lower(Member.fields[column].as_string())
                  for column in (mailing_list.columns or [])]
        query = query.where(db.or_(*(value.like(pattern, escape="\\")
                                     for value in [Member.key, *values])))
    return query.order_by(Member.id)


def member_or_404(mailing_list: MailingList, member_id: int) -> Member:
    """One member of the list (of another list: 404)."""
    return db.one_or_404(db.select(Member).filter_by(id=member_id, list_id=mailing_list.id))


def busy(mailing_list: MailingList) -> Task | None:
    """An unfinished task of the list (an import or a send), if there is one."""
    return db.session.scalar(db.select(Task).where(
        Task.list_id == mailing_list.id, Task.status.in_(UNFINISHED)).order_by(Task.id)
        .limit(1))


def running_import(mailing_list: MailingList) -> Task | None:
    """The list's import that has not ended, if one is under way."""
    return db.session.scalar(db.select(Task).where(
        Task.list_id == mailing_list.id, Task.name == IMPORT,
        Task.status.in_(UNFINISHED)).limit(1))


def last_import(mailing_list: MailingList) -> tuple[ListImport | None, Task | None]:
    """The list's newest import and its task."""
    job = db.session.scalar(db.select(ListImport).where(ListImport.list_id == mailing_list.id)
                            .order_by(ListImport.id.desc()).limit(1))
    task = db.session.get(Task, job.task_id) if job and job.task_id else None
    return job, task


def refusals(job: ListImport) -> Select[Any]:
    """An import's refused lines, in order."""
    return (db.select(ImportRefusal).where(ImportRefusal.import_id == job.id)
            .order_by(ImportRefusal.line, ImportRefusal.id))


def export_rows(mailing_list: MailingList,
                words: dict[str, str] | None = None) -> Iterator[list[str]]:
    """Every member as a CSV row (email, status — in ``words`` when given —, each field
    column, added at), read a batch at a time."""
    words = words or {}
    columns = list(mailing_list.columns or [])
    query = (db.select(Member.address, Member.status, Member.fields, Member.created_at)
             .where(Member.list_id == mailing_list.id).order_by(Member.id)
             .execution_options(yield_per=EXPORT_BATCH))
    for address, status, fields, created in db.session.execute(query):
        fields = fields or {}
        yield [address, words.get(status, status), *(str(fields.get(c, "")) for c in columns),
               created.isoformat() if created else ""]
