"""Per-user sending quotas, a policy of TaskService: recipients per rolling 24 hours and
reservations open at once. Over a quota the caller gets a ValueError saying the limit and
when it frees up (in Korean), before any Task row or job exists."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, has_request_context, session

from app.extensions import db
from app.models import Task, User
from app.models.task import CANCELED, FINISHED, RESERVED
from app.models.types import utcnow
from app.utils.datetime_converter import korean_datetime, localtime, timedelta_to_remain, zone

RECIPIENTS_PER_DAY = ("QUOTA_RECIPIENTS_PER_DAY", 2000)
OPEN_RESERVATIONS = ("QUOTA_OPEN_RESERVATIONS", 50)
WINDOW = timedelta(hours=24)


class QuotaExceeded(ValueError):
    """A send or a reservation over its user's quota (the message is for the user)."""


def limit(setting: tuple[str, int]) -> int:
    """The configured value of a quota, or its default."""
    name, default = setting
    return int(current_app.config.get(name, default))


def charged(username: str, since: datetime) -> list[tuple[datetime, int]]:
    """``(created_at, recipients)`` of the user's tasks created after ``since``, oldest first.

    A task that ended without ever starting (its enqueue failed, or it was canceled while
    waiting) mailed no one and is not charged.
    """
    query = (
        db.select(Task.created_at, Task.recipient_count)
        .where(Task.username == username, Task.created_at > since, Task.recipient_count > 0,
               db.or_(Task.status.not_in((CANCELED, FINISHED)), Task.started_at.is_not(None)))
        .order_by(Task.created_at, Task.id)
    )
    return [(created, count) for created, count in db.session.execute(query)]


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
    return f"{korean_datetime(local)}({timedelta_to_remain(moment - now)})"


def check_recipients(username: str, wanted: int, now: datetime) -> None:
    """QuotaExceeded if ``wanted`` more recipients would pass the rolling 24-hour limit."""
    maximum = limit(RECIPIENTS_PER_DAY)
    rows = charged(username, now - WINDOW)
    used = sum(count for _, count in rows)
    if used + wanted <= maximum:
        return
    head = f"받는 사람 한도를 넘었습니다: 24시간 동안 {maximum}명까지 보낼 수 있습니다"
    when = frees_at(rows, wanted, maximum)
    if when is None:
        raise QuotaExceeded(f"{head}(이번 {wanted}명).")
    raise QuotaExceeded(f"{head}(최근 24시간 {used}명, 이번 {wanted}명). 지금은 "
                        f"{max(0, maximum - used)}명까지 보낼 수 있고, {_when(when, now)}부터 "
                        f"{wanted}명을 보낼 수 있습니다.")


def check_reservations(username: str, now: datetime) -> None:
    """QuotaExceeded if the user already has as many open reservations as allowed."""
    maximum = limit(OPEN_RESERVATIONS)
    count, earliest = db.session.execute(
        db.select(db.func.count(), db.func.min(Task.reserved_at))
        .where(Task.username == username, Task.status == RESERVED)
    ).one()
    if count < maximum:
        return
    message = (f"예약 한도를 넘었습니다: 예약은 한 번에 {maximum}개까지 둘 수 있습니다"
               f"(지금 {count}개).")
    if earliest is not None:
        message += (f" 가장 이른 예약이 전송되는 {_when(earliest, now)}에, 또는 예약을 "
                    "취소하면 자리가 납니다.")
    raise QuotaExceeded(message)


def check_quota(username: str, recipients: int, *, reservation: bool = False) -> None:
    """QuotaExceeded unless the user may send to ``recipients`` more (and reserve one more).

    Locks the user's row until the caller commits its Task (PostgreSQL), so two requests of
    one user cannot both slip under the limit.
    """
    db.session.execute(db.select(User.id).where(User.username == username).with_for_update())
    now = utcnow()
    if reservation:
        check_reservations(username, now)
    if recipients > 0:
        check_recipients(username, recipients, now)
