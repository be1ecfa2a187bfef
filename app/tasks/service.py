"""TaskService: the door to RQ for the views. Every job mirrors a Task row, committed
first, with ``job_id == str(task.id)`` (how a job is made: ``submit.py``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from redis.exceptions import RedisError

from app.extensions import db
from app.i18n import current_language
from app.models import Delivery, ListImport, MailingList, MailTemplate, Task
from app.models.audience import sendable_count
from app.models.task import (
    FINISHED,
    IMPORT,
    NOT_BUILT,
    PENDING,
    QUEUED,
    RESERVED,
)
from app.models.types import utcnow
from app.queue import IMPORT_MEMBERS, SEND_MAIL, queues
from app.tasks.controls import TaskControls
from app.tasks.progress import publish_task
from app.tasks.quota import check_quota
from app.tasks.submit import (
    QUEUE_FULL,
    EnqueueError,
    QueueFull,
    refuses_writes,
    retry_policy,
    submit_job,
)

__all__ = ["QUEUE_FULL", "EnqueueError", "QueueFull", "TaskService", "retry_policy",
           "submit_job"]
log = logging.getLogger(__name__)
RESERVE_QUEUE = "high"  # reservations jump ahead of sends that were queued meanwhile
LIST_TIMEOUT_RECIPIENTS = 100_000  # a list send's job timeout allows at least this many


@dataclass(frozen=True)
class Mailing:
    """A send as the service takes it: the template (a ``MailTemplate.snapshot()``) and the
    recipients, each with the fields the template uses — or a saved list (``audience``),
    whose members the run takes when it starts."""

    template: Mapping[str, Any]
    recipients: list[str]
    fields: list[dict[str, str]] | None = None
    audience: MailingList | None = None
    members: int = 0  # a list's sendable members when the send was planned

    @classmethod
    def named(cls, name: str, owner: str, recipients: list[str],
              fields: list[dict[str, str]] | None = None) -> Mailing:
        """A send of the template ``owner`` sees by ``name`` (LookupError if none)."""
        template = MailTemplate.named(name, owner)
        if template is None:
            raise LookupError(_("템플릿을 찾을 수 없습니다: %(name)s", name=name))
        return cls(template.snapshot(), recipients, fields)

    @classmethod
    def to_list(cls, template: Mapping[str, Any], audience: MailingList,
                members: int | None = None) -> Mailing:
        """A send of ``template`` to the members of ``audience`` (``members``: how many may
        be mailed now, when the caller has just counted them)."""
        return cls(template, [], None, audience,
                   sendable_count(audience) if members is None else members)

    def count(self) -> int:
        """How many it goes to (a list: its members who may be mailed now; the run takes
        and counts them again)."""
        return len(self.recipients) if self.audience is None else self.members

    def describe(self, count: int) -> str:
        """What the task says it does (its description; a list's members are counted when
        the run takes them)."""
        name = self.template.get("name", "")
        if self.audience is not None:
            return _("[%(name)s] 템플릿 메일을 목록 '%(list)s'에 전송", name=name,
                     list=self.audience.name)
        return ngettext("[%(name)s] 템플릿 메일을 %(count)s명에게 전송",
                        "[%(name)s] 템플릿 메일을 %(count)s명에게 전송", count, name=name,
                        count=count)


class TaskService(TaskControls):
    """The door the views send through, and the one to RQ: create, enqueue, reserve (and,
    through ``TaskControls``, cancel, pause, resume, reschedule and send now) the background
    tasks of one user."""

    def __init__(self, username: str, queue_name: str = "default") -> None:
        self.username = username
        self.queue_set = queues()
        self.queue = self.queue_set[queue_name]
        self.reserve_queue = self.queue_set[RESERVE_QUEUE]

    # -- sends ---------------------------------------------------------------------------

    def send(self, mailing: Mailing, when: datetime | None = None,
             resent_from: int | None = None) -> Task:
        """Send ``mailing`` now, or reserve it for ``when`` (aware): the service picks the
        job, its timeout, description and queue, and whether it runs in the worker's own
        process. ValueError (QuotaExceeded, a time out of the window) before anything
        exists; EnqueueError or QueueFull after."""
        count = mailing.count()
        columns = {"template": dict(mailing.template), "resent_from": resent_from}
        fill = None
        if mailing.audience is None:
            fill = partial(_add_recipients, mailing=mailing)
        else:  # its members are taken, counted and charged when the run starts
            columns.update(list_id=mailing.audience.id)
            count_by = max(count, LIST_TIMEOUT_RECIPIENTS)  # the list may grow meanwhile
        spec = JobSpec(func=SEND_MAIL, name="send_mail", description=mailing.describe(count),
                       # RQ's 180 s would kill a long send part way
                       timeout=300 + 5 * (count if fill else count_by))
        return self._make(spec, count, when, columns, fill, charge_now=fill is not None)

    def start_import(self, job: ListImport, list_name: str) -> Task:
        """Commit a ``queued`` Task with ``job`` (a list's import, not yet added), then hand
        its job to Redis."""
        spec = JobSpec(func=IMPORT_MEMBERS, name=IMPORT,
                       description=_("목록 '%(list)s'에 %(file)s 가져오기", list=list_name,
                                     file=job.filename),
                       timeout=600 + job.lines // 100)
        return self._make(spec, 0, None, {"list_id": job.list_id},
                          partial(_attach_import, job=job))

    def resend(self, task: Task, status: str) -> Task:
        """A new task for exactly ``task``'s recipients in ``status`` (refused or unknown),
        with the same template snapshot and each one's own fields; LookupError if none.
        Those whose message could not be made are left out: the same template would fail
        them the same way (``resend_skipped`` counts them)."""
        rows = db.session.execute(
            db.select(Delivery.recipient, Delivery.fields)
            .where(Delivery.task_id == task.id, Delivery.status == status,
                   Delivery.reason_kind.is_distinct_from(NOT_BUILT))
            .order_by(Delivery.position)).all()
        if not rows:
            raise LookupError(_("다시 보낼 받는 사람이 없습니다."))
        template = task.template or _legacy_template(task)
        mailing = Mailing(template, [r for r, _ in rows], [f or {} for _, f in rows])
        count = mailing.count()
        spec = JobSpec(func=SEND_MAIL, name="send_mail", timeout=300 + 5 * count,
                       description=ngettext("작업 #%(id)s 다시 보내기: %(count)s명",
                                            "작업 #%(id)s 다시 보내기: %(count)s명", count,
                                            id=task.id, count=count))
        return self._make(spec, count, None, {"template": dict(template),
                                              "resent_from": task.id},
                          lambda new: _add_recipients(new, mailing))

    # -- any job -------------------------------------------------------------------------

    def enqueue_task(self, func: Callable[..., Any], *args: Any, description: str | None = None,
                     timeout: int | None = None, recipient_count: int = 0,
                     **kwargs: Any) -> Task:
        """Commit a ``queued`` Task, then enqueue ``func(run, *args, **kwargs)`` as its job
        (``recipient_count`` counts toward the user's quota)."""
        return self._make(JobSpec.of(func, args, kwargs, description, timeout),
                          recipient_count, None, {})

    def reserve_task(self, scheduled_time: datetime, func: Callable[..., Any], *args: Any,
                     description: str | None = None, timeout: int | None = None,
                     recipient_count: int = 0, **kwargs: Any) -> Task:
        """Commit a ``reserved`` Task, then schedule its job at ``scheduled_time`` (aware);
        the rest as ``enqueue_task``."""
        return self._make(JobSpec.of(func, args, kwargs, description, timeout),
                          recipient_count, scheduled_time, {})

    def _make(self, spec: JobSpec, count: int, when: datetime | None,
              columns: dict[str, Any], fill: Callable[[Task], None] | None = None,
              charge_now: bool = True) -> Task:
        """Check the quota (and the time), commit the Task with its whole job (``fill``
        adds its rows), then hand the job to Redis. A send now is charged at once, unless
        ``charge_now`` is False (a list's: charged when its run takes the members)."""
        if when is None:
            check_quota(self.username, count)
            now = utcnow()  # charged when it is made: it goes at once
            columns.update(status=QUEUED, created_at=now)
            if charge_now:
                columns.update(charged=count, charged_at=now)
            queue_name = self.queue.name
        else:
            self.check_time(when)
            # Charged when it fires (checked again then); refused now if it could not fit.
            check_quota(self.username, count, reservation_at=when)
            columns.update(status=RESERVED, reserved_at=when)
            queue_name = RESERVE_QUEUE
        task = spec.task(self.username, queue_name, recipient_count=count, **columns)
        db.session.add(task)
        db.session.flush()
        if fill is not None:
            fill(task)
        db.session.commit()
        self._submit(task)
        return task

    def _fail(self, task: Task, exc: Exception) -> EnqueueError:
        log.error("enqueue of task %s failed: %s", task.id, exc)
        db.session.rollback()
        reason = f"Could not connect to Redis: {exc}" if isinstance(exc, RedisError) \
            else f"Error: {exc}"
        task.end(FINISHED, failed=True, log=reason)
        publish_task(task)
        return EnqueueError(task, reason)

    def _submit(self, task: Task) -> None:
        """Hand the new Task's job to Redis: EnqueueError (the Task ends failed) when Redis
        cannot be reached, QueueFull (the Task waits) when it refuses writes."""
        try:
            submit_job(task, self.queue_set)
        except (RedisError, OSError) as exc:
            if not refuses_writes(exc):
                raise self._fail(task, exc) from exc
            log.warning("task %s waits: Redis refuses writes (%s)", task.id, exc)
            publish_task(task)
            raise QueueFull(task, str(exc)) from exc
        publish_task(task)


@dataclass(frozen=True)
class JobSpec:
    """A job as the Task row keeps it, so a Redis that lost it can be given it again."""

    func: str  # dotted name
    name: str
    description: str | None
    timeout: int | None = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
           description: str | None, timeout: int | None) -> JobSpec:
        """The spec of ``func(run, *args, **kwargs)``."""
        return cls(f"{func.__module__}.{func.__qualname__}", func.__name__, description,
                   timeout, args, kwargs)

    def task(self, username: str, queue_name: str, **columns: Any) -> Task:
        """A new Task row for this job (not yet added)."""
        if not self.description:
            raise ValueError("Description required to start background job")
        return Task(name=self.name, description=self.description, username=username,
                    job_func=self.func, job_args={"args": list(self.args),
                                                  "kwargs": self.kwargs},
                    job_queue=queue_name, job_timeout=self.timeout,
                    language=current_language(), **columns)


def _attach_import(task: Task, job: ListImport) -> None:
    job.task_id = task.id
    db.session.add(job)


def _add_recipients(task: Task, mailing: Mailing) -> None:
    """The task's delivery rows, each recipient with its own template fields."""
    fields = mailing.fields
    db.session.execute(db.insert(Delivery), [
        {"task_id": task.id, "position": i, "recipient": r, "status": PENDING,
         "fields": fields[i] if fields else None}
        for i, r in enumerate(mailing.recipients)])


def _legacy_template(task: Task) -> dict[str, Any]:
    """The snapshot of the built-in a task made before templates were data named."""
    name = ((task.job_args or {}).get("args") or ["welcome"])[0]
    template = MailTemplate.named(str(name), task.username)
    return template.snapshot() if template is not None else {}
