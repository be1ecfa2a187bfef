"""Reading an import: the file is checked whole at the door (its encoding and its header,
``open_import``), then its rows are read one by one (``rows``) — a bad row is a refusal
with its line and reason, never the end of the import — and written a batch at a time:
one INSERT … ON CONFLICT of the batch's rows (on PostgreSQL from a COPY into a temporary
table; fields merged by the database, which says which rows it made and which it changed),
the refusals and where the import got to, in one commit (``write_batch``). A run that
stopped part way goes on after the last line written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.config import json_text
from app.extensions import db
from app.i18n import N_
from app.mail.recipients import (
    check_row,
    csv_delimiter,
    decode_upload,
    header_columns,
    parse_recipients,
    records,
)
from app.models import ImportRefusal, ListImport, MailingList, Member
from app.models.audience import ACTIVE
from app.models.types import utcnow

BATCH = 1000  # rows a statement writes
NO_HEADER = N_("첫 줄은 email로 시작하는 머리줄이어야 합니다(예: email,name). 주소만 붙여 넣을 "
               "때는 머리줄 없이 한 줄에 하나씩 넣으세요.")


@dataclass
class Row:
    line: int
    address: str
    fields: dict[str, str]

    @property
    def key(self) -> str:
        return self.address.lower()


@dataclass
class Refusal:
    line: int
    cell: str  # the row's first cell as written (the address it meant)
    reason: str


def pasted_text(text: str) -> str:
    """Pasted members as CSV: as they are when they start with an ``email`` header, else
    addresses (commas or new lines) under one."""
    if csv_delimiter(text):
        return text
    return "email\n" + "\n".join(token.strip() for token in
                                 text.replace(",", "\n").splitlines() if token.strip())


def open_import(mailing_list: MailingList, filename: str, data: bytes) -> ListImport:
    """The import of ``data`` into the list, checked whole (encoding, header; ValueError, a
    message for the user, when it cannot be read), not yet added to the session."""
    text, encoding = decode_upload(data)
    delimiter = csv_delimiter(text)
    if delimiter is None:
        raise ValueError(_(NO_HEADER))
    line, columns = header(text, delimiter)
    if line == 0:
        raise ValueError(_(NO_HEADER))
    lines = text.count("\n") + 1
    if lines <= line:
        raise ValueError(_("머리줄 다음 줄부터 받는 사람을 한 명 이상 넣으세요."))
    mailing_list.add_columns(columns)
    # An earlier import's file that no run will read any more (one canceled before it
    # started) is dropped: a list keeps at most the one being read.
    db.session.execute(db.update(ListImport).where(
        ListImport.list_id == mailing_list.id, ListImport.data.is_not(None))
        .values(data=None).execution_options(synchronize_session=False))
    return ListImport(list_id=mailing_list.id, filename=filename[:255], encoding=encoding,
                      data=data, size=len(data), lines=lines)


def header(text: str, delimiter: str) -> tuple[int, list[str]]:
    """The header's line and its field columns (ValueError when they cannot be used)."""
    for line, row, problem in records(text, delimiter):
        if problem is not None:
            raise ValueError(_("%(line)s번째 줄: %(problem)s", line=line, problem=problem))
        assert row is not None
        return line, header_columns(row)
    return 0, []


def check_pasted(text: str, limit: int) -> None:
    """A pasted list without a header: every address checked (ValueError on the first bad
    one, as the send form does)."""
    if not csv_delimiter(text):
        parse_recipients(text, limit)


def rows(text: str) -> Iterator[Row | Refusal]:
    """Every record after the header, read or refused; an address seen on an earlier line
    of the file is refused naming that line."""
    delimiter = csv_delimiter(text) or ","
    columns: list[str] | None = None
    seen: dict[str, int] = {}
    for line, row, problem in records(text, delimiter):
        if columns is None and row is not None:
            columns = header_columns(row)
            continue
        if row is None or columns is None:
            yield Refusal(line, "", problem or "")
            continue
        try:
            address, fields = check_row(row, columns)
        except ValueError as exc:
            yield Refusal(line, row[0].strip()[:320], str(exc))
            continue
        earlier = seen.setdefault(address.lower(), line)
        if earlier != line:
            yield Refusal(line, row[0].strip()[:320],
                          _("%(line)s번째 줄에 이미 있는 주소입니다.", line=earlier))
            continue
        yield Row(line, address, fields)


def _upsert() -> Any:
    """SQLite's statement for a batch: INSERT … ON CONFLICT (list, address) DO UPDATE of the
    fields (merged by ``json_patch``) and the address's case — only where that changes them
    — RETURNING when each written row was made (a new member's is this batch's)."""
    table = Member.__table__
    statement = sqlite_insert(table)
    before = db.func.json(db.func.coalesce(table.c.fields, "{}"))
    merged = db.func.json_patch(before, statement.excluded.fields)
    return statement.on_conflict_do_update(
        index_elements=["list_id", "key"],
        set_={"address": statement.excluded.address, "fields": merged,
              "updated_at": statement.excluded.updated_at},
        where=merged != before).returning(table.c.created_at)


# PostgreSQL's way for a batch: COPY into a temporary table, then one INSERT … SELECT …
# ON CONFLICT (fields merged as jsonb) that says which rows it made (xmax = 0).
STAGING = ("CREATE TEMPORARY TABLE IF NOT EXISTS import_rows "
           "(address text, key text, fields jsonb) ON COMMIT DELETE ROWS")
MERGE = """INSERT INTO list_members (list_id, address, key, fields, status, created_at, updated_at)
SELECT %(list_id)s, address, key, fields::json, %(status)s, %(now)s, %(now)s FROM import_rows
ON CONFLICT (list_id, key) DO UPDATE
SET address = excluded.address, updated_at = excluded.updated_at,
    fields = (coalesce(list_members.fields::jsonb, '{}') || excluded.fields::jsonb)::json
WHERE NOT coalesce(list_members.fields::jsonb, '{}') @> excluded.fields::jsonb
RETURNING xmax = 0"""


def _copied(job: ListImport, found: list[Row], now: datetime) -> list[bool]:
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(STAGING)
        with cursor.copy("COPY import_rows (address, key, fields) FROM STDIN") as copy:
            for row in found:
                copy.write_row((row.address, row.key, json_text(row.fields)))
        cursor.execute(MERGE, {"list_id": job.list_id, "status": ACTIVE, "now": now})
        return [made for (made,) in cursor.fetchall()]


def _written(job: ListImport, found: list[Row], now: datetime) -> list[bool]:
    """Merge the batch's rows into the list (not committed): for each row written, whether
    it was made (a new member) rather than changed; rows already so are left out."""
    if db.engine.dialect.name == "postgresql":
        return _copied(job, found, now)
    made = db.session.execute(_upsert(), [
        {"list_id": job.list_id, "address": row.address, "key": row.key,
         "fields": row.fields, "status": ACTIVE, "created_at": now, "updated_at": now}
        for row in found]).scalars().all()
    return [at == now for at in made]


def write_batch(job: ListImport, batch: list[Row | Refusal]) -> None:
    """Write one batch (its rows merged into the members: fields added or changed, the
    status kept — an unsubscribed member stays so), its refusals and the import's counts
    and last line; commit."""
    found = [item for item in batch if isinstance(item, Row)]
    if found:
        written = _written(job, found, utcnow())
        job.added += sum(written)
        job.updated += len(written) - sum(written)
        job.unchanged += len(found) - len(written)
    refusals = [{"import_id": job.id, "line": r.line, "address": r.cell, "reason": r.reason}
                for r in batch if isinstance(r, Refusal)]
    if refusals:
        db.session.execute(db.insert(ImportRefusal.__table__), refusals)
    job.refused += len(refusals)
    job.line = batch[-1].line
    db.session.commit()


def batches(items: Iterator[Row | Refusal], after: int) -> Iterator[list[Row | Refusal]]:
    """The items past line ``after`` (where an earlier run stopped), ``BATCH`` at a time."""
    batch: list[Row | Refusal] = []
    for item in items:
        if item.line <= after:
            continue
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def summary(job: ListImport) -> str:
    """The import's counts in words (the task's log and the alert's line), in the task's
    language (the worker writes under it)."""
    counts = {key: f"{getattr(job, key):,}"
              for key in ("line", "lines", "added", "updated", "unchanged", "refused")}
    return _("%(line)s/%(lines)s줄: 추가 %(added)s · 갱신 %(updated)s · 그대로 %(unchanged)s · "
             "거부 %(refused)s", **counts)
