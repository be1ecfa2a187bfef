"""What the operator view reads of RQ and does to it: queues, workers, the scheduler's
lock, scheduled, failed and abandoned jobs; requeue and delete keep the Task rows true."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from redis import Redis
from redis.exceptions import ResponseError
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.utils import utcparse

from app.extensions import db
from app.i18n import N_, written_in
from app.models import Task
from app.models.task import FINISHED, QUEUED, RUNNING, UNFINISHED
from app.models.types import utcnow
from app.queue import SERIALIZER, QueueSet, fetch_job
from app.tasks import inflight
from app.tasks.progress import publish_task, publish_task_id
from app.tasks.submit import submit_job

# The log of a task an operator deleted, written in the task's language (as the worker's).
DELETED_LOG = N_("운영자가 작업을 지웠습니다.")


def _pid_alive(hostname: str | None, pid: int | None) -> bool | None:
    """Whether ``pid`` runs, when it is on this machine (None: cannot tell from here)."""
    if hostname != socket.gethostname() or not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as handle:  # a zombie is as dead as a missing pid
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def live_workers(queue_set: QueueSet) -> list[dict[str, Any]]:
    """Registered workers that still beat (and, on this machine, still run)."""
    found = []
    now = utcnow()
    for worker in Worker.all(connection=queue_set.connection, serializer=SERIALIZER):
        beat = worker.last_heartbeat.replace(tzinfo=UTC) if worker.last_heartbeat else None
        fresh = beat is not None and now - beat < timedelta(seconds=worker.worker_ttl + 60)
        if not fresh or _pid_alive(worker.hostname, worker.pid) is False:
            continue
        found.append({"name": worker.name, "hostname": worker.hostname, "pid": worker.pid,
                      "state": worker.get_state(), "last_heartbeat": beat,
                      "job": worker.get_current_job_id(),
                      "queues": ", ".join(worker.queue_names())})
    return found


def _scheduler_row(connection: Redis, name: str) -> dict[str, Any] | None:
    """A registered scheduler as RQ keeps it (its hash lives ``interval + 60`` s past its last
    heartbeat), or None when it has none any more."""
    try:
        data = connection.hgetall(SCHEDULER_KEY_TEMPLATE % name)
    except ResponseError:  # not a scheduler's hash
        return None
    if not data:
        return None
    info = {k.decode(): v.decode() for k, v in data.items()}
    try:
        beat = utcparse(info["last_heartbeat"]) if info.get("last_heartbeat") else None
    except ValueError:
        beat = None
    pid = int(info["pid"]) if info.get("pid", "").isdigit() else None
    return {"name": name, "hostname": info.get("hostname", ""), "pid": pid,
            "last_heartbeat": beat, "alive": _pid_alive(info.get("hostname"), pid),
            "locks": []}


def scheduler_state(queue_set: QueueSet, scheduled: int) -> dict[str, Any]:
    """Who holds each queue's scheduler lock, the schedulers registered, and whether the
    lock is missing while a scheduler runs or ``scheduled`` reservations wait."""
    connection = queue_set.connection
    prefix = SCHEDULER_KEY_TEMPLATE % ""
    names = {key.decode()[len(prefix):] for key in connection.scan_iter(match=prefix + "*")}
    rows = {name: row for name in sorted(names) if (row := _scheduler_row(connection, name))}
    locks = []
    for queue in queue_set.ordered():
        holder = connection.get(RQScheduler.get_locking_key(queue.name))
        name = holder.decode() if holder else None
        locks.append({"queue": queue.name, "holder": name})
        if name and name not in rows and (row := _scheduler_row(connection, name)):
            rows[name] = row
        if name in rows:
            rows[name]["locks"].append(queue.name)
    unheld = [lock["queue"] for lock in locks if lock["holder"] is None]
    holders = [row for row in rows.values() if row["locks"]]
    return {"locks": locks, "schedulers": list(rows.values()), "unheld": unheld,
            "holder": holders[0] if holders else None, "scheduled": scheduled,
            "stuck": bool(unheld) and (bool(rows) or scheduled > 0)}


def _job_row(queue_set: QueueSet, job_id: str, kind: str) -> dict[str, Any]:
    row: dict[str, Any] = {"id": job_id, "kind": kind, "description": "", "info": ""}
    try:
        job = fetch_job(job_id, queue_set.connection)
    except NoSuchJobError:
        return row
    row["description"] = job.description or ""
    if kind == "failed":
        result = job.latest_result()
        lines = ((result.exc_string if result else "") or "").strip().splitlines()
        row["info"] = lines[-1] if lines else ""
    elif kind == "abandoned":
        row["info"] = job.worker_name or ""
    return row


def overview(queue_set: QueueSet) -> dict[str, Any]:
    """Everything the operator view shows."""
    workers = live_workers(queue_set)
    alive = {w["name"] for w in workers}
    queues, jobs = [], []
    for queue in queue_set.ordered():
        started = StartedJobRegistry(queue.name, connection=queue_set.connection,
                                     serializer=SERIALIZER)
        scheduled = ScheduledJobRegistry(queue.name, connection=queue_set.connection,
                                         serializer=SERIALIZER)
        failed = FailedJobRegistry(queue.name, connection=queue_set.connection,
                                   serializer=SERIALIZER)
        queues.append({"name": queue.name, "depth": len(queue), "started": started.count,
                       "scheduled": scheduled.count, "failed": failed.count})
        jobs += [_job_row(queue_set, j, "scheduled") for j in scheduled.get_job_ids()[:100]]
        jobs += [_job_row(queue_set, j, "failed") for j in failed.get_job_ids()[:100]]
        for job_id in started.get_job_ids(cleanup=False):
            row = _job_row(queue_set, job_id, "abandoned")
            if row["info"] not in alive:
                jobs.append(row)
    scheduler = scheduler_state(queue_set, sum(q["scheduled"] for q in queues))
    return {"queues": queues, "workers": workers, "scheduler": scheduler, "jobs": jobs,
            "now": datetime.now(UTC)}


def _forget(queue_set: QueueSet, job_id: str, delete: bool) -> None:
    """Take ``job_id`` out of every registry of every queue (and delete it if asked)."""
    connection = queue_set.connection
    for queue in queue_set.ordered():
        for registry in (queue.failed_job_registry, queue.scheduled_job_registry):
            registry.remove(job_id)
        try:
            job = fetch_job(job_id, connection)
        except NoSuchJobError:
            continue
        StartedJobRegistry(queue.name, connection=connection).remove_executions(job)
        if delete:
            job.delete(remove_from_queue=True)


def requeue(queue_set: QueueSet, job_id: str) -> bool:
    """Run a failed or abandoned task's job again for its recipients still pending."""
    task = db.session.get(Task, int(job_id)) if job_id.isdigit() else None
    if task is None or task.job_func is None:
        return False
    inflight.settle_claims(queue_set.connection, task.id)
    moved = db.session.execute(
        db.update(Task).where(Task.id == task.id, Task.status.in_((FINISHED, RUNNING)))
        .values(status=QUEUED, failed=False, finished_at=None, log=None,
                cancel_requested_at=None).execution_options(synchronize_session=False))
    db.session.commit()
    if moved.rowcount != 1:
        return False
    _forget(queue_set, job_id, delete=False)
    db.session.refresh(task)
    submit_job(task, queue_set)
    publish_task_id(task.id)
    return True


def delete(queue_set: QueueSet, job_id: str) -> None:
    """Delete a job from Redis; its Task, if still unfinished, ends failed."""
    _forget(queue_set, job_id, delete=True)
    task = db.session.get(Task, int(job_id)) if job_id.isdigit() else None
    if task is not None and task.status in UNFINISHED:
        inflight.settle_claims(queue_set.connection, task.id)
        task.sync_delivery_counts()
        with written_in(task.language):
            log = _(DELETED_LOG)
        task.end(FINISHED, failed=True, log=log)
        publish_task(task)
