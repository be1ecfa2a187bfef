"""Per-user sending quotas, a policy of TaskService: recipients per rolling 24 hours and
reservations open at once. Over a quota the caller gets a ValueError saying the limit and
when it frees up (in Korean), before any Task row or job exists.

A task is charged when its recipients are really let go (``Task.charged_at``): a send now
when it is made, a reservation when it fires (or is sent now), a resumed send whose charge
left the window when it resumes; each time checked again. Every check first takes the
user's lock (``lock_user``), which both databases honour, so parallel requests of one user
are counted one after the other."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, has_request_context, session
from flask_babel import gettext as _

from app.dates import long_text
from app.extensions import db
from app.labels import remaining_text
from app.models import Task, User
from app.models.task import CANCELED, FINISHED, RESERVED
from app.models.types import utcnow
from app.utils.datetime_converter import localtime, remaining_seconds, zone

RECIPIENTS_PER_DAY = ("QUOTA_RECIPIENTS_PER_DAY", 2000)
OPEN_RESERVATIONS = ("QUOTA_OPEN_RESERVATIONS", 50)
WINDOW = timedelta(hours=24)


class QuotaExceeded(ValueError):
    """A send or a reservation over its user's quota (the message is for the user)."""


def limit(setting: tuple[str, int]) -> int:
    """The configured value of a quota, or its default."""
    name, default = setting
    return int(current_app.config.get(name, default))


def lock_user(username: str) -> None:
    """Hold ``username``'s quota lock until the caller commits: an UPDATE of the user's row
    (PostgreSQL locks the row; SQLite takes its one write lock, which a SELECT … FOR UPDATE
    would not), so two checks of one user never overlap."""
    db.session.execute(db.update(User).where(User.username == username)
                       .values(username=User.username)
                       .execution_options(synchronize_session=False))


def charged(username: str, since: datetime, exclude: int | None = None
            ) -> list[tuple[datetime, int]]:
    """``(charged_at, recipients)`` of the user's tasks charged after ``since``, oldest
    first (but task ``exclude``).

    A task that ended without ever starting (its enqueue failed, or it was canceled while
    waiting) mailed no one and is not charged.
    """
    query = (
        db.select(Task.charged_at, Task.charged)
        .where(Task.username == username, Task.charged_at > since, Task.charged > 0,
               Task.id != (exclude or 0),
               db.or_(Task.status.not_in((CANCELED, FINISHED)), Task.started_at.is_not(None)))
        .order_by(Task.charged_at, Task.id)
    )
    return [(moment, count) for moment, count in db.session.execute(query)]


def reserved_before(username: str, since: datetime, until: datetime
                    ) -> list[tuple[datetime, int]]:
    """``(reserved_at, recipients)`` of the user's reservations not yet charged that fire
    after ``since`` and by ``until``."""
    query = (
        db.select(Task.reserved_at, Task.recipient_count)
        .where(Task.username == username, Task.status == RESERVED, Task.charged_at.is_(None),
               Task.reserved_at > since, Task.reserved_at <= until)
        .order_by(Task.reserved_at, Task.id))
    return [(moment, count) for moment, count in db.session.execute(query)]


def frees_at(rows: list[tuple[datetime, int]], wanted: int, maximum: int) -> datetime | None:
    """When enough of ``rows`` leave the window for ``wanted`` more; None if never."""
    if wanted > maximum:
        return None
    excess = sum(count for _, count in rows) + wanted - maximum
    for created, count in rows:
        excess -= count
        if excess <= 0:
            return created + WINDOW
    return None


def _when(moment: datetime, now: datetime) -> str:
    """``2026년11월24일 09시 00분 00초(3시간 20분 남음)`` in the user's zone."""
    name = session.get("timezone") if has_request_context() else None
    local = localtime(moment, zone(name, current_app.config["APP_TIMEZONE"]))
    return f"{long_text(local)}({remaining_text(remaining_seconds(moment, now))})"


def check_recipients(username: str, wanted: int, now: datetime,
                     exclude: int | None = None) -> None:
    """QuotaExceeded if ``wanted`` more recipients at ``now`` would pass the rolling
    24-hour limit (task ``exclude`` is the one asking, not counted twice)."""
    _check_window(charged(username, now - WINDOW, exclude), wanted, now, username)


def recipients_per_day(username: str) -> int:
    """The user's daily limit: the operator's for that account, else the configured one."""
    own = db.session.scalar(db.select(User.recipients_per_day)
                            .where(User.username == username))
    return own if own is not None else limit(RECIPIENTS_PER_DAY)


def _check_window(rows: list[tuple[datetime, int]], wanted: int, now: datetime,
                  username: str) -> None:
    maximum = recipients_per_day(username)
    used = sum(count for _, count in rows)
    if used + wanted <= maximum:
        return
    when = frees_at(rows, wanted, maximum)
    if when is None:
        raise QuotaExceeded(_("받는 사람 한도를 넘었습니다: 24시간 동안 %(maximum)s명까지 보낼 수 "
                              "있습니다(이번 %(wanted)s명).", maximum=maximum, wanted=wanted))
    raise QuotaExceeded(_("받는 사람 한도를 넘었습니다: 24시간 동안 %(maximum)s명까지 보낼 수 "
                          "있습니다(최근 24시간 %(used)s명, 이번 %(wanted)s명). 지금은 "
                          "%(left)s명까지 보낼 수 있고, %(when)s부터 %(wanted)s명을 보낼 수 "
                          "있습니다.", maximum=maximum, used=used, wanted=wanted,
                          left=max(0, maximum - used), when=_when(when, now)))


def check_reserved_recipients(username: str, wanted: int, at: datetime, now: datetime) -> None:
    """QuotaExceeded if a reservation of ``wanted`` firing ``at`` would find the limit
    reached by what is charged so far and the reservations firing before it (it is
    checked again when it fires)."""
    since = at - WINDOW
    rows = sorted(charged(username, since) + reserved_before(username, since, at))
    _check_window(rows, wanted, now, username)


def check_reservations(username: str, now: datetime) -> None:
    """QuotaExceeded if the user already has as many open reservations as allowed."""
    maximum = limit(OPEN_RESERVATIONS)
    count, earliest = db.session.execute(
        db.select(db.func.count(), db.func.min(Task.reserved_at))
        .where(Task.username == username, Task.status == RESERVED)
    ).one()
    if count < maximum:
        return
    message = _("예약 한도를 넘었습니다: 예약은 한 번에 %(maximum)s개까지 둘 수 있습니다"
                "(지금 %(count)s개).", maximum=maximum, count=count)
    if earliest is not None:
        message += " " + _("가장 이른 예약이 전송되는 %(when)s에, 또는 예약을 취소하면 자리가 "
                           "납니다.", when=_when(earliest, now))
    raise QuotaExceeded(message)


def check_quota(username: str, recipients: int, *, reservation_at: datetime | None = None
                ) -> None:
    """QuotaExceeded unless the user may send to ``recipients`` more now (or, a
    reservation, at ``reservation_at``, and hold one more reservation).

    Takes the user's lock until the caller commits its Task.
    """
    lock_user(username)
    now = utcnow()
    if reservation_at is not None:
        check_reservations(username, now)
        if recipients > 0:
            check_reserved_recipients(username, recipients, reservation_at, now)
    elif recipients > 0:
        check_recipients(username, recipients, now)


def charge(task: Task, recipients: int, fresh: bool = True) -> None:
    """Charge ``task`` for ``recipients`` now, after checking the quota (QuotaExceeded if it
    does not fit); the caller commits. ``fresh=False`` leaves a task charged within the
    window as it is (a resumed send that was charged when it started)."""
    now = utcnow()
    if not fresh and task.charged_at is not None and task.charged_at > now - WINDOW:
        return
    lock_user(task.username)
    check_recipients(task.username, recipients, now, exclude=task.id)
    task.charged_at, task.charged = now, recipients


def charge_at_start(task_id: int) -> None:
    """When a task's run starts: charge a reservation that fired (QuotaExceeded, with
    nothing committed, if the user's quota is used up by now); commit."""
    task = db.session.get(Task, task_id)
    if task is None or task.charged_at is not None:
        return
    try:
        charge(task, task.recipient_count)
    except QuotaExceeded:
        db.session.rollback()
        raise
    db.session.commit()
