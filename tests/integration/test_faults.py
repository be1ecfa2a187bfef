"""Faults injected against the real stack: ``python worker.py`` (supervisor, RQ worker,
scheduler, work horse), a redis-server of the test's own, an aiosmtpd sink. What arrived is
counted at the sink; "nothing lost, nobody twice" is checked, never assumed.

Each test prints a ``FIGURE`` line; docs/RELIABILITY.md records them.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from rq.scheduler import RQScheduler

from app.devstack import RedisServer
from app.extensions import db
from app.models import Delivery
from app.tasks.service import TaskService
from tests.jobs_cancel import stubborn
from tests.support import skip_or_fail, wait_until
from tests.support.faults import figure, reserve, send
from tests.support.flows import ended, wait_for_task
from tests.support.procs import alive, descendants, kill_family


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any,
                 postgres_url: str | None) -> str:
    """Faults are about processes: SQLite unless a test asks for PostgreSQL too (the
    database-heavy ones do), which keeps CI's time in bounds."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'faults.db'}"
    if postgres_url is None:
        skip_or_fail("PostgreSQL pass: set TEST_DATABASE_URL to a server (CI does)")
    return postgres_url


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any,
               request: pytest.FixtureRequest) -> dict[str, Any]:
    app_config.update(TASK_RETRY_INTERVALS="1,1",
                      RESERVATION_MIN_LEAD_SECONDS=1)
    return app_config








def lateness(sink: Any, recipient: str, due: datetime, timeout: float) -> float:
    """Seconds between ``due`` and the mail's arrival at the sink (waits for it)."""
    wait_until(lambda: sink.handler.arrivals(recipient), timeout, f"the mail to {recipient}")
    return sink.handler.arrivals(recipient)[0] - due.timestamp()


def scheduler_lock_holder_pid(conn: Redis) -> int | None:
    """The pid of the scheduler holding the lock of ``high``."""
    name = conn.get(RQScheduler.get_locking_key("high"))
    if not name:
        return None
    pid = conn.hget(f"rq:scheduler:{name.decode()}", "pid")
    return int(pid) if pid else None


def scheduling_worker(app: Flask, start_worker: Any) -> tuple[Any, Redis]:
    """Start ``python worker.py`` and wait until its scheduler holds the lock; the process
    and a connection to the test's Redis."""
    conn = Redis.from_url(app.config["REDIS_URL"])
    process = start_worker()
    wait_until(lambda: scheduler_lock_holder_pid(conn), 20, "the scheduler lock")
    return process, conn


def outcomes(app: Flask, task_id: int) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(db.select(Delivery.recipient, Delivery.status)
                                  .where(Delivery.task_id == task_id))
        return {recipient: status for recipient, status in rows}


def assert_nobody_twice(sink: Any) -> Counter[str]:
    counts = Counter(sink.handler.recipients())
    assert [r for r, n in counts.items() if n > 1] == []
    return counts


# -- a crashed send is finished by another worker ---------------------------------------------

# The parallel case on both databases; one connection claiming one by one on SQLite only
# (the CI budget: each case is 20 s of kills and waits).
@pytest.mark.parametrize("database_url,connections,batch", [
    ("sqlite", 1, 1), ("sqlite", 4, 10), ("postgresql", 4, 10)], indirect=["database_url"])
def test_killed_mid_send_resumes_on_a_new_worker(app: Flask, smtp_sink: Any,
                                                 start_worker: Any, connections: int,
                                                 batch: int) -> None:
    """One connection claiming one recipient at a time leaves at most the one in flight
    unknown; four connections claiming ten each (the default) at most each one's batch."""
    app.config.update(MAIL_CONCURRENCY=connections, MAIL_BATCH_SIZE=batch)
    smtp_sink.handler.delay = 0.1  # each mail takes a while: the kill lands mid-batch
    everyone = [f"r{i:02d}@example.com" for i in range(50)]
    task_id = send(app, everyone)
    doomed = start_worker()
    wait_until(lambda: smtp_sink.handler.count() >= 15, 60, "15 mails")
    kill_family(doomed.pid)  # supervisor, worker, scheduler, horse: no one stops cleanly
    killed_at = time.time()

    start_worker()  # no CLI run: the new scheduler's reconciler notices by itself
    done = wait_for_task(app, task_id, ended, timeout=60, what="the resumed send to finish")
    figure(f"mid-send kill: finished {time.time() - killed_at:.1f} s after the kill")
    counts = assert_nobody_twice(smtp_sink)
    states = outcomes(app, task_id)
    unknown = [r for r, s in states.items() if s == "unknown"]
    assert len(unknown) <= connections * batch
    delivered = {r for r, s in states.items() if s == "delivered"}
    assert delivered | set(unknown) == set(everyone)
    assert delivered <= set(counts) and set(counts) <= set(everyone)
    assert done.status == "finished" and done.delivered_count == len(delivered)
    assert done.unknown_count == len(unknown) and done.attempts == 2
    figure(f"mid-send kill ({connections} connections x {batch}): sink "
           f"{sum(counts.values())} mails for 50, {len(unknown)} unknown, 0 twice")


# -- a dead worker swallows nothing; the scheduler comes back within seconds ------------------

def test_worker_killed_idle_loses_no_job_and_no_reservation(app: Flask, smtp_sink: Any,
                                                            start_worker: Any) -> None:
    doomed, conn = scheduling_worker(app, start_worker)
    due = reserve(app, "later@example.com", time.time() + 20)
    family = kill_family(doomed.pid)
    killed_at = time.time()

    start_worker()
    asked = time.time()
    send(app, ["next@example.com"])
    wait_until(lambda: smtp_sink.handler.arrivals("next@example.com"), 30,
               "the next send within 30 s")
    took = smtp_sink.handler.arrivals("next@example.com")[0] - asked
    figure(f"idle kill: next send arrived {took:.2f} s after it was made")
    late = lateness(smtp_sink, "later@example.com", due, 40)
    figure(f"idle kill: reservation due {due.timestamp() - killed_at:.0f} s after the kill "
           f"fired {late:.2f} s late")
    assert late <= 5
    assert_nobody_twice(smtp_sink)
    assert not any(alive(p) for p in family)
    conn.close()


def test_a_killed_rq_worker_is_restarted_by_its_supervisor(app: Flask, smtp_sink: Any,
                                                           start_worker: Any) -> None:
    conn = Redis.from_url(app.config["REDIS_URL"])
    supervisor = start_worker()
    children = descendants(supervisor.pid)
    [worker_pid] = [w.pid for w in _workers(conn)]
    assert worker_pid in children
    os.kill(worker_pid, signal.SIGKILL)
    wait_until(lambda: not alive(worker_pid), 10, "the worker to die")

    send(app, ["after@example.com"])
    wait_until(lambda: smtp_sink.handler.arrivals("after@example.com"), 30,
               "the send after the worker's death")
    assert supervisor.poll() is None
    assert_nobody_twice(smtp_sink)
    conn.close()


def _workers(conn: Redis) -> list[Any]:
    from rq import Worker

    return [w for w in Worker.all(connection=conn) if w.pid and alive(w.pid)]


# -- Redis faults ------------------------------------------------------------------------------

def test_redis_restarted_empty_recovers_queued_and_reserved(app: Flask, own_redis: RedisServer,
                                                            smtp_sink: Any,
                                                            start_worker: Any) -> None:
    _, conn = scheduling_worker(app, start_worker)
    with app.app_context():  # the one worker is busy: the send waits in the queue
        blocker = TaskService("alice").enqueue_task(stubborn, 4, description="busy").id
    wait_for_task(app, blocker, lambda t: t.status == "running", what="the blocker to run")
    task_id = send(app, ["queued@example.com"])
    due = reserve(app, "reserved@example.com", time.time() + 22)
    assert conn.llen("rq:queue:default") == 1
    conn.close()

    os.kill(own_redis.process.pid, signal.SIGKILL)  # no persistence: everything is gone
    own_redis.process.wait()
    time.sleep(10)  # the outage itself, as the issue measured it
    own_redis.start()
    back_at = time.time()

    done = wait_for_task(app, task_id, ended, timeout=60, what="the queued send")
    resumed = wait_for_task(app, blocker, ended, timeout=30, what="the interrupted job")
    assert (resumed.status, resumed.failed) == ("finished", False)
    assert (done.status, done.failed, done.delivered_count) == ("finished", False, 1)
    figure(f"redis restarted empty: queued send delivered "
           f"{smtp_sink.handler.arrivals('queued@example.com')[0] - back_at:.1f} s after "
           "Redis came back")
    late = lateness(smtp_sink, "reserved@example.com", due, 40)
    figure(f"redis restarted empty: reservation fired {late:.2f} s late")
    assert late <= 5
    counts = assert_nobody_twice(smtp_sink)
    assert counts == {"queued@example.com": 1, "reserved@example.com": 1}


def test_redis_paused_reservations_after_it_are_on_time(app: Flask, own_redis: RedisServer,
                                                        smtp_sink: Any,
                                                        start_worker: Any) -> None:
    _, conn = scheduling_worker(app, start_worker)
    conn.close()
    start = time.time()
    dues = {f"p{i}@example.com": reserve(app, f"p{i}@example.com", start + 8 + 2 * i)
            for i in range(3)}
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    time.sleep(5)  # the pause itself
    os.kill(own_redis.process.pid, signal.SIGCONT)

    worst = max(lateness(smtp_sink, r, due, 40) for r, due in dues.items())
    figure(f"redis paused 5 s: latest of 3 reservations after it fired {worst:.2f} s late")
    assert worst <= 5
    assert assert_nobody_twice(smtp_sink) == dict.fromkeys(dues, 1)


# -- SMTP faults -------------------------------------------------------------------------------

def test_connection_dropped_after_the_final_dot_mails_nobody_twice(app: Flask, smtp_sink: Any,
                                                                   start_worker: Any) -> None:
    everyone = [f"{name}@example.com" for name in "abcde"]
    smtp_sink.handler.drop_after_data = {"c@example.com"}
    task_id = send(app, everyone)
    start_worker()
    done = wait_for_task(app, task_id, ended, what="the send")

    assert assert_nobody_twice(smtp_sink) == dict.fromkeys(everyone, 1)
    states = outcomes(app, task_id)
    assert states == {**dict.fromkeys(everyone, "delivered"), "c@example.com": "unknown"}
    assert (done.status, done.failed) == ("finished", True)
    assert (done.delivered_count, done.unknown_count) == (4, 1)
    assert "c@example.com" in done.log
    figure("drop after '.': sink 5 for 5, c@example.com unknown, 0 twice")


# -- two workers, the scheduler's holder killed -----------------------------------------------

@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_scheduler_holder_killed_the_other_worker_takes_over(app: Flask, smtp_sink: Any,
                                                             start_worker: Any) -> None:
    first, conn = scheduling_worker(app, start_worker)
    assert scheduler_lock_holder_pid(conn) in descendants(first.pid)
    start_worker()
    start = time.time()
    dues = {f"t{i}@example.com": reserve(app, f"t{i}@example.com", start + 4 + 3 * i)
            for i in range(6)}
    kill_family(first.pid)

    late = {r: lateness(smtp_sink, r, due, 60) for r, due in dues.items()}
    figure("scheduler holder killed: lateness " +
           ", ".join(f"{v:.1f}" for v in late.values()) + " s")
    assert max(late.values()) <= 15
    assert assert_nobody_twice(smtp_sink) == dict.fromkeys(dues, 1)
    conn.close()


# -- RQ's own CLI, as README's alternative -----------------------------------------------------

def test_rq_cli_worker_runs_our_scheduler_and_takes_it_down(app: Flask, smtp_sink: Any,
                                                             start_worker: Any) -> None:
    """``rq worker -w app.worker.AppWorker --with-scheduler`` starts our scheduler as its own
    process (not a fork holding the worker's socket), and it dies with the worker."""
    import subprocess
    import sys

    from tests.support import ROOT
    from tests.support.workers import worker_env

    conn = Redis.from_url(app.config["REDIS_URL"])
    env = {**os.environ, **worker_env(app), "PYTHONPATH": ROOT}
    cli = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "rq"), "worker",
                            "--with-scheduler", "-w", "app.worker.AppWorker",
                            "--url", app.config["REDIS_URL"], "high", "default"],
                           env=env, cwd=ROOT)
    try:
        wait_until(lambda: scheduler_lock_holder_pid(conn), 30, "the scheduler lock")
        holder = scheduler_lock_holder_pid(conn)
        assert holder in descendants(cli.pid) and holder != cli.pid
        with open(f"/proc/{holder}/cmdline", "rb") as handle:
            assert handle.read().split(b"\0")[1:3] == [b"-m", b"app.worker"]  # exec'd afresh
        due = reserve(app, "cli@example.com", time.time() + 3)
        assert lateness(smtp_sink, "cli@example.com", due, 30) <= 5
        os.kill(cli.pid, signal.SIGKILL)  # the worker alone: its scheduler must not outlive it
        cli.wait()
        wait_until(lambda: not alive(holder), 10, "the scheduler to die with its worker")
    finally:
        if cli.poll() is None:
            kill_family(cli.pid)
    # The lock it held expires with it; a new worker takes over and nothing is doubled.
    start_worker()
    wait_until(lambda: scheduler_lock_holder_pid(conn) not in (None, holder), 30,
               "a new scheduler")
    assert assert_nobody_twice(smtp_sink) == {"cli@example.com": 1}
    conn.close()
