"""Ordinary events (issue 25) against the real stack: a Redis blip, a crash, a deploy, a
database outage, a relay that never answers, a full Redis, two workers sharing a rate.
Each runs ``python worker.py`` (supervisor, RQ worker, scheduler, work horse) against an
aiosmtpd sink (``tests.sink.start_sink``: it can hang at the greeting, and notes each
recipient whose DATA began) and counts at the sink: nothing lost, nobody mailed twice.

The bounds are the issue's (2 s, 12 s, 1 s, 3 s, 5 s, ``CANCEL_DRAIN_SECONDS`` + 2 s,
20 a second); every other wait is a deadline. Each test prints ``FIGURE`` lines;
docs/RELIABILITY.md records them.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from redis.exceptions import OutOfMemoryError
from rq import Worker
from rq.scheduler import RQScheduler

from app.devstack import RedisServer
from app.extensions import db
from app.models import Delivery
from tests.support import skip_or_fail, wait_until
from tests.support.faults import figure, reserve, send
from tests.support.flows import (
    account,
    control,
    csrf_token,
    ended,
    flashes,
    post_send,
    task,
    tasks,
    wait_for_task,
)
from tests.support.live import live_app  # noqa: F401 (a fixture)
from tests.support.procs import alive, children, cmdline, descendants, kill_family
from tests.support.sink import RecordingHandler, start_sink
from tests.support.tcp_proxy import TcpProxy, through

JSON = {"Accept": "application/json"}
# The "five runs" of three sends of 200 at 20 a second take 2.5 minutes: the suite
# (CI's 20-minute budget) runs one; docs/RELIABILITY.md's figures come from
# MAILROOM_RATE_RUNS=5.
RATE_RUNS = int(os.environ.get("MAILROOM_RATE_RUNS", "1"))


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any,
                 postgres_url: str | None) -> str:
    """SQLite, unless a test asks for PostgreSQL (the database outage does)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ordinary.db'}"
    if postgres_url is None:
        skip_or_fail("PostgreSQL pass: set TEST_DATABASE_URL to a server (CI does)")
    return postgres_url


@pytest.fixture
def smtp_sink() -> Iterator[Any]:
    """The recording sink, with the greeting hang and DATA noted at its command."""
    handler = RecordingHandler()
    controller = start_sink(handler)
    yield controller
    handler.release()
    controller.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any,
               request: pytest.FixtureRequest) -> dict[str, Any]:
    """The sink; reservations a second ahead; a quota the rate test's 3,000 fit in. With
    ``own_redis`` the test's own Redis, with ``pg_proxy`` the database through the proxy
    (the worker and gunicorn read the same URL)."""
    app_config.update(RESERVATION_MIN_LEAD_SECONDS=1,
                      QUOTA_RECIPIENTS_PER_DAY=100_000)
    if "pg_proxy" in request.fixturenames:
        pg_proxy = request.getfixturevalue("pg_proxy")
        app_config["SQLALCHEMY_DATABASE_URI"] = through(
            pg_proxy, app_config["SQLALCHEMY_DATABASE_URI"])
    return app_config


# -- helpers -------------------------------------------------------------------------------







def outcomes(app: Flask, task_id: int) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(db.select(Delivery.recipient, Delivery.status)
                                  .where(Delivery.task_id == task_id))
        return {recipient: status for recipient, status in rows}


def unknown_of(app: Flask, task_id: int) -> list[str]:
    return sorted(r for r, s in outcomes(app, task_id).items() if s == "unknown")


def assert_nobody_twice(sink: Any) -> Counter[str]:
    counts = Counter(sink.handler.recipients())
    assert [r for r, n in counts.items() if n > 1] == []
    return counts


def arrivals_after(sink: Any, recipients: set[str], since: float) -> list[float]:
    """Arrival times (epoch) of mails to ``recipients`` at or after ``since``, sorted."""
    with sink.handler.lock:
        return sorted(m.at for m in sink.handler.messages
                      if m.at >= since and recipients.intersection(m.rcpt_tos))


def horses_of(worker_pid: int) -> set[int]:
    """The worker's forked work horses (its children that are not render processes)."""
    return {p for p in children(worker_pid) if "render_child" not in cmdline(p)}


def live_workers(conn: Redis) -> dict[str, int]:
    """RQ's registered workers whose process lives: name -> pid."""
    return {w.name: w.pid for w in Worker.all(connection=conn) if w.pid and alive(w.pid)}


def scheduler_lock_holder_pid(conn: Redis) -> int | None:
    name = conn.get(RQScheduler.get_locking_key("high"))
    if not name:
        return None
    pid = conn.hget(f"rq:scheduler:{name.decode()}", "pid")
    return int(pid) if pid else None


def timed_control(client: FlaskClient, task_id: int, action: str) -> tuple[Any, float]:
    """POST a task control as the page's script does (JSON); the answer and its seconds."""
    asked = time.monotonic()
    response = control(client, task_id, action, headers=JSON)
    return response, time.monotonic() - asked


def assert_accepted(response: Any) -> dict[str, Any]:
    """The control's new contract: 200 when done, 202 ``pending`` when requested."""
    assert response.status_code in (200, 202), (response.status_code,
                                                response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert body["ok"] is True, body
    if response.status_code == 202:
        assert body.get("pending") is True, body
    return body


def busiest_second(times: list[float]) -> int:
    """The most arrivals in any one-second window [t, t + 1)."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def detail_rows(client: FlaskClient, task_id: int) -> dict[str, tuple[str, str]]:
    """``/tasks/<id>``'s recipients: address -> (data-outcome, the row's HTML)."""
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    rows = re.findall(r'<tr data-recipient="([^"]+)" data-outcome="([^"]+)"[^>]*>(.*?)</tr>',
                      html, re.S)
    return {recipient: (outcome, body) for recipient, outcome, body in rows}


# -- 1. a Redis blip mid-send restarts nothing --------------------------------------------

@pytest.mark.parametrize("fault", ["sigstop", "restart"])
def test_redis_blip_mid_send_restarts_no_worker_and_no_horse(
        app: Flask, own_redis: RedisServer, smtp_sink: Any, start_worker: Any,
        fault: str) -> None:
    """Redis paused 5 s (SIGSTOP), or killed and restarted empty after 5 s, while a send
    of 300 goes out (~10 s): it finishes with 0 unknown, everyone once, and the worker and
    its horse are the processes that started it."""
    smtp_sink.handler.delay = 0.035  # blocks the sink: 300 messages take about 10 s
    everyone = [f"r{i:03d}@example.com" for i in range(300)]
    conn = Redis.from_url(app.config["REDIS_URL"])
    supervisor = start_worker()
    task_id = send(app, everyone)
    wait_until(lambda: smtp_sink.handler.count() >= 60, 60, "60 of 300 mails")
    before = children(supervisor.pid)  # the RQ worker and the scheduler
    [worker_pid] = live_workers(conn).values()
    horses = horses_of(worker_pid)
    conn.close()

    if fault == "sigstop":
        os.kill(own_redis.process.pid, signal.SIGSTOP)
        time.sleep(5)  # the outage itself
        os.kill(own_redis.process.pid, signal.SIGCONT)
    else:
        os.kill(own_redis.process.pid, signal.SIGKILL)
        own_redis.process.wait()
        time.sleep(5)  # the outage itself
        own_redis.start()  # empty, same port and password
    back = time.time()
    at_back = smtp_sink.handler.count()

    def finished_by_the_same_processes() -> Any:
        gone = [p for p in {worker_pid, *horses} if not alive(p)]
        row = task(app, task_id)
        if ended(row):
            return row
        assert not gone, (f"{fault}: worker {worker_pid} / horse {horses}: {gone} died "
                          f"before the send ended (task {row.status}, "
                          f"{smtp_sink.handler.count()} of 300 at the sink)")
        return None

    done = wait_until(finished_by_the_same_processes, 90, "the send to finish")
    counts = assert_nobody_twice(smtp_sink)
    unknown = unknown_of(app, task_id)
    figure(f"redis {fault} 5 s mid-send (300 at ~30/s): sink {at_back} at Redis's return, "
           f"finished {time.time() - back:.1f} s after it; {sum(counts.values())} for 300, "
           f"{len(unknown)} unknown, 0 twice; worker {worker_pid} and horse(s) "
           f"{sorted(horses)} kept")
    assert unknown == [] and done.unknown_count == 0
    assert counts == dict.fromkeys(everyone, 1)
    assert (done.status, done.failed, done.delivered_count) == ("finished", False, 300)
    assert alive(worker_pid) and children(supervisor.pid) == before


# -- 2. a crash leaves unknown only what was on the wire ----------------------------------

def test_worker_tree_killed_leaves_unknown_only_messages_whose_data_began(
        app: Flask, smtp_sink: Any, start_worker: Any) -> None:
    """SIGKILL to the whole worker tree at 0.1 s a message on 4 connections: at most 4
    recipients unknown, each one whose DATA the sink saw begin; a new worker sends the
    rest, everyone else exactly once."""
    app.config.update(MAIL_CONCURRENCY=4)
    smtp_sink.handler.async_delay = 0.1  # each connection's answer takes 0.1 s
    everyone = [f"k{i:02d}@example.com" for i in range(80)]
    task_id = send(app, everyone)
    doomed = start_worker()
    wait_until(lambda: smtp_sink.handler.count() >= 20, 60, "20 of 80 mails")
    kill_family(doomed.pid)
    killed_at = time.time()
    at_kill = smtp_sink.handler.count()

    start_worker()
    done = wait_for_task(app, task_id, ended, timeout=90, what="the resumed send to finish")
    counts = assert_nobody_twice(smtp_sink)
    states = outcomes(app, task_id)
    unknown = sorted(r for r, s in states.items() if s == "unknown")
    begun = smtp_sink.handler.data_begun_for()
    never_mailed = [r for r in unknown if r not in counts]
    figure(f"tree SIGKILLed at {at_kill} of 80 (4 connections, 0.1 s a message): finished "
           f"{time.time() - killed_at:.1f} s after; {len(unknown)} unknown "
           f"({len(never_mailed)} of them never mailed), sink {sum(counts.values())} for 80")
    assert len(unknown) <= 4, unknown
    assert [r for r in unknown if r not in begun] == [], "unknown, yet DATA never began"
    others = [r for r in everyone if r not in unknown]
    assert {r: states[r] for r in others} == dict.fromkeys(others, "delivered")
    assert {r: counts[r] for r in others} == dict.fromkeys(others, 1)
    assert done.status == "finished" and done.unknown_count == len(unknown)


# -- 3. a deploy: SIGTERM stops between messages and hands over at once -------------------

def test_sigterm_stops_between_messages_and_a_new_worker_resumes_at_once(
        app: Flask, smtp_sink: Any, start_worker: Any) -> None:
    """SIGTERM to ``python worker.py`` at 0.4 s a message: it exits within
    CANCEL_DRAIN_SECONDS + 2 s leaving 0 unknown and the task queued; a new worker started
    right after resumes within 3 s; everyone exactly once."""
    drain = float(app.config["CANCEL_DRAIN_SECONDS"])
    smtp_sink.handler.async_delay = 0.4
    everyone = [f"t{i:03d}@example.com" for i in range(120)]
    task_id = send(app, everyone)
    old = start_worker()
    wait_until(lambda: smtp_sink.handler.count() >= 10, 60, "10 of 120 mails")
    workerish = {p for p in descendants(old.pid) if "app.worker" in cmdline(p)}

    os.kill(old.pid, signal.SIGTERM)
    asked = time.monotonic()
    wait_until(lambda: old.poll() is not None, 45, "worker.py to exit after SIGTERM")
    exited = time.monotonic() - asked
    left = sorted(p for p in workerish if alive(p))
    at_exit = task(app, task_id)
    unknown = unknown_of(app, task_id)
    sent = smtp_sink.handler.count()
    figure(f"SIGTERM at 0.4 s a message: worker.py exited {exited:.1f} s after "
           f"(bound {drain + 2:.0f} s); {sent} of 120 sent, {len(unknown)} unknown, task "
           f"{at_exit.status}")
    assert exited <= drain + 2
    assert left == [], "a worker or horse outlived worker.py"
    assert unknown == [] and at_exit.unknown_count == 0
    assert at_exit.status == "queued"

    start_worker()
    started = time.monotonic()

    def resumed() -> str | None:
        if smtp_sink.handler.count() > sent:
            return "an arrival"
        row = task(app, task_id)
        if row.status == "running" and row.attempts > at_exit.attempts:
            return "running again"
        return None

    how = wait_until(resumed, 45, "the send to resume")
    took = time.monotonic() - started
    figure(f"SIGTERM: the new worker resumed ({how}) {took:.2f} s after it registered")
    assert took <= 3
    done = wait_for_task(app, task_id, ended, timeout=90, what="the send to finish")
    assert assert_nobody_twice(smtp_sink) == dict.fromkeys(everyone, 1)
    assert (done.status, done.failed, done.delivered_count, done.unknown_count) == (
        "finished", False, 120, 0)


# -- 4. the database away for 15 s --------------------------------------------------------

@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_database_outage_mid_send_stops_no_process_and_resumes_at_once(
        app: Flask, pg_proxy: TcpProxy, smtp_sink: Any, start_worker: Any,
        live_app: Callable[..., Any]) -> None:  # noqa: F811 (the fixture)
    """PostgreSQL refusing connections for 15 s mid-send, a reservation due inside: no
    worker or scheduler process exits; the send resumes and the reservation fires within
    5 s of the database's return; the web answers 503, never 500, meanwhile; everyone
    exactly once."""
    app.config["WORKER_PROCESSES"] = 2  # the reservation does not wait for the long send
    smtp_sink.handler.delay = 0.05
    everyone = [f"d{i:03d}@example.com" for i in range(150)]
    conn = Redis.from_url(app.config["REDIS_URL"])
    supervisor = start_worker()
    wait_until(lambda: len(live_workers(conn)) == 2 and scheduler_lock_holder_pid(conn), 30,
               "two workers and the scheduler lock")
    web = live_app()
    browser = web.browser()
    account(app)
    browser.login("alice")
    task_id = send(app, everyone)
    wait_until(lambda: smtp_sink.handler.count() >= 30, 60, "30 of 150 mails")
    before = children(supervisor.pid)  # two workers and the scheduler
    due = reserve(app, "later@example.com", time.time() + 7)

    pg_proxy.cut()
    cut_at = time.time()
    try:
        at_cut = smtp_sink.handler.count()
        page = browser.get("/send_mail", timeout=20)
        notes = browser.get("/notifications?since=0", timeout=20)
        time.sleep(max(0.0, 15 - (time.time() - cut_at)))  # the outage itself
    finally:
        pg_proxy.restore()
    back = time.time()
    figure(f"database away 15 s: web answered {page.status} (page) / {notes.status} "
           f"(/notifications); sink {at_cut} of 150 at the cut")

    wait_until(lambda: arrivals_after(smtp_sink, set(everyone), back), 60,
               "the send to resume after the database's return")
    resumed = arrivals_after(smtp_sink, set(everyone), back)[0] - back
    wait_until(lambda: smtp_sink.handler.arrivals("later@example.com"), 60,
               "the reservation")
    fired = smtp_sink.handler.arrivals("later@example.com")[0]
    done = wait_for_task(app, task_id, ended, timeout=120, what="the send to finish")
    after = children(supervisor.pid)
    counts = assert_nobody_twice(smtp_sink)
    figure(f"database away 15 s: send resumed {resumed:.2f} s after its return; reservation "
           f"due {due.timestamp() - cut_at:.0f} s into the outage fired {fired - back:.2f} s "
           f"after the return; processes {'kept' if after == before else 'changed'}; sink "
           f"{sum(counts.values())} for 151")
    assert after == before, (sorted(before), sorted(after))
    assert resumed <= 5
    assert fired - back <= 5
    assert counts == dict.fromkeys([*everyone, "later@example.com"], 1)
    assert done.status == "finished"
    assert (page.status, notes.status) == (503, 503)
    conn.close()


# -- 5. a relay that never answers ---------------------------------------------------------

def held_and_running(app: Flask, sink: Any, task_id: int) -> bool:
    return sink.handler.held >= 1 and task(app, task_id).status == "running"


def horses_busy(app: Flask) -> bool:
    """Some RQ worker of the test's Redis is running a job."""
    conn = Redis.from_url(app.config["REDIS_URL"])
    try:
        return any(w.get_state() != "idle" for w in Worker.all(connection=conn))
    finally:
        conn.close()


def test_hung_relay_cancel_answers_at_once_and_frees_the_worker(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    """A relay that accepts and never greets: cancel of a 5-recipient (inline) send answers
    within 2 s, and the only worker takes the next job within 12 s of the cancel."""
    assert 5 <= int(app.config["WORKER_INLINE_MAX_RECIPIENTS"])
    start_worker()
    smtp_sink.handler.hang = {"greeting"}
    five = [f"h{i}@example.com" for i in range(5)]
    post_send(signed_in, ",".join(five))
    [row] = tasks(app)
    wait_until(lambda: held_and_running(app, smtp_sink, row.id), 30,
               "the send to wait at the greeting")

    try:
        asked = time.monotonic()
        response, answered = timed_control(signed_in, row.id, "cancel")
        smtp_sink.handler.hang.discard("greeting")  # new connections are greeted again
        next_id = send(app, ["next@example.com"])
        wait_until(lambda: task(app, next_id).status != "queued", 60, "the next job to start")
        took = time.monotonic() - asked
        figure(f"hung relay: cancel of 5 answered {answered:.2f} s "
               f"({response.status_code}); the worker took the next job {took:.1f} s after "
               "the cancel")
        assert answered <= 2
        assert_accepted(response)
        assert took <= 12
        wait_for_task(app, next_id, ended, what="the next send")
        canceled = wait_for_task(app, row.id, ended, what="the cancel to land")
    finally:
        smtp_sink.handler.release()  # the held greeting goes; nothing may follow it
    assert canceled.status == "canceled"
    wait_until(lambda: not horses_busy(app), 20, "the worker to be idle")
    assert assert_nobody_twice(smtp_sink) == {"next@example.com": 1}


def test_hung_relay_pause_answers_within_a_second(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    """Pause of a 20-recipient send at a relay that never greets answers within 1 s (200,
    or 202 pending); once the relay answers it lands, and resume mails everyone once."""
    start_worker()
    smtp_sink.handler.hang = {"greeting"}
    twenty = [f"q{i:02d}@example.com" for i in range(20)]
    post_send(signed_in, ",".join(twenty))
    [row] = tasks(app)
    wait_until(lambda: held_and_running(app, smtp_sink, row.id), 30,
               "the send to wait at the greeting")

    try:
        response, answered = timed_control(signed_in, row.id, "pause")
        figure(f"hung relay: pause of 20 answered {answered:.2f} s ({response.status_code})")
        assert answered <= 1
        assert_accepted(response)
    finally:
        smtp_sink.handler.release()
    wait_for_task(app, row.id, lambda t: t.status == "paused", timeout=60,
                  what="the pause to land")
    assert_accepted(timed_control(signed_in, row.id, "resume")[0])
    done = wait_for_task(app, row.id, ended, timeout=60, what="the resumed send")
    assert assert_nobody_twice(smtp_sink) == dict.fromkeys(twenty, 1)
    assert (done.status, done.failed, done.delivered_count) == ("finished", False, 20)


# -- 6. Redis full ------------------------------------------------------------------------

def fill(conn: Redis) -> int:
    """Set ``maxmemory`` just above what Redis uses (``noeviction``), write filler until it
    refuses, then lower ``maxmemory`` a little under what it now holds: the workers' own
    deletions (a heartbeat's key, a finished job) must not make room for the next write.
    The filler keys written."""
    conn.config_set("maxmemory-policy", "noeviction")
    conn.config_set("maxmemory", int(conn.info("memory")["used_memory"]) + 1024 * 1024)
    written = 0
    for size in (65536, 1024):
        try:
            while written < 100_000:
                conn.set(f"filler:{written}", b"x" * size)
                written += 1
        except OutOfMemoryError:
            pass
    conn.config_set("maxmemory", int(conn.info("memory")["used_memory"]) - 256 * 1024)
    assert refuses_writes(conn)
    return written


def refuses_writes(conn: Redis) -> bool:
    try:
        conn.set("probe", b"x" * 64)
    except OutOfMemoryError:
        return True
    return False


def free(conn: Redis) -> None:
    conn.config_set("maxmemory", 0)
    keys = list(conn.scan_iter("filler:*", count=1000))
    for start in range(0, len(keys), 500):
        conn.delete(*keys[start:start + 500])


@pytest.mark.parametrize("paused_when", ["before", "while_full"])
def test_redis_full_a_posted_and_a_resumed_send_go_once_memory_frees(
        app: Flask, own_redis: RedisServer, signed_in: FlaskClient, smtp_sink: Any,
        start_worker: Any, paused_when: str) -> None:
    """Redis at maxmemory (noeviction) for 5 s: a send posted meanwhile stays queued (not
    failed) and the user is not told it failed; a paused send resumed meanwhile is queued
    too; both are delivered, once, after memory frees. The send is paused before Redis
    fills, or while it is full (its run then ends when Redis cannot record it: RQ's started
    registry keeps the entry of a job that no longer runs)."""
    conn = Redis.from_url(own_redis.url)
    start_worker()
    smtp_sink.handler.delay = 0.1
    first = [f"p{i:02d}@example.com" for i in range(40)]
    post_send(signed_in, ",".join(first))
    [paused] = tasks(app)
    wait_until(lambda: smtp_sink.handler.count() >= 3, 30, "3 of 40 mails")
    if paused_when == "before":
        assert_accepted(timed_control(signed_in, paused.id, "pause")[0])
        wait_for_task(app, paused.id, lambda t: t.status == "paused", what="the pause")
    fill(conn)
    full_at = time.time()
    if paused_when == "while_full":
        assert_accepted(timed_control(signed_in, paused.id, "pause")[0])
    smtp_sink.handler.delay = 0.0

    post_send(signed_in, "full@example.com")
    told = flashes(signed_in)
    assert len(tasks(app)) == 2, f"no Task for the send posted while Redis was full: {told}"
    posted = tasks(app)[-1]
    wait_for_task(app, paused.id, lambda t: t.status == "paused", what="the pause")
    resume, _ = timed_control(signed_in, paused.id, "resume")
    while_full = {"posted": (task(app, posted.id).status, task(app, posted.id).failed),
                  "resumed": (task(app, paused.id).status, task(app, paused.id).failed)}
    still_full = refuses_writes(conn)
    time.sleep(max(0.0, 5 - (time.time() - full_at)))  # the fault itself
    free(conn)
    freed_at = time.time()

    def both_ended() -> bool:
        return ended(task(app, posted.id)) and ended(task(app, paused.id))

    try:
        wait_until(both_ended, 60, "both sends to end")
    except RuntimeError:
        pass  # the assertions below say which one did not
    counts = assert_nobody_twice(smtp_sink)
    arrived = smtp_sink.handler.arrivals("full@example.com")
    last_resumed = max((a for r in first for a in smtp_sink.handler.arrivals(r)), default=0)
    figure(f"redis full 5 s (paused {paused_when}): posted send {while_full['posted']} while "
           f"full, delivered {(arrived[0] - freed_at) if arrived else float('nan'):.1f} s "
           f"after memory freed; resumed send {while_full['resumed']} while full, finished "
           f"{last_resumed - freed_at:.1f} s after; sink {sum(counts.values())} for 41")
    assert still_full, "Redis was not full while the send was posted and resumed"
    assert told and not any("실패" in message for _, message in told), told
    assert while_full["posted"] == ("queued", False)
    assert_accepted(resume)
    assert while_full["resumed"] == ("queued", False)
    assert counts == dict.fromkeys([*first, "full@example.com"], 1)
    for task_id in (posted.id, paused.id):
        done = task(app, task_id)
        assert (done.status, done.failed) == ("finished", False), (task_id, done.log)
    conn.close()


# -- 7. two workers share the rate --------------------------------------------------------

def test_two_workers_never_exceed_the_shared_rate(app: Flask, smtp_sink: Any,
                                                  start_worker: Any) -> None:
    """Two ``python worker.py`` at MAIL_RATE_PER_SECOND=20, three sends of 200, five runs:
    the busiest one-second window of arrivals at the sink is at most 20 in every run."""
    app.config.update(MAIL_RATE_PER_SECOND=20)
    conn = Redis.from_url(app.config["REDIS_URL"])
    start_worker()
    start_worker()
    wait_until(lambda: len(live_workers(conn)) == 2, 20, "two workers")
    conn.close()
    busiest, closest = [], []
    for run in range(RATE_RUNS):
        sends = [[f"w{run}s{s}r{i:03d}@example.com" for i in range(200)] for s in range(3)]
        ids = [send(app, recipients) for recipients in sends]
        for task_id in ids:
            wait_for_task(app, task_id, ended, timeout=120, what=f"run {run}'s sends")
        everyone = {r for recipients in sends for r in recipients}
        times = arrivals_after(smtp_sink, everyone, 0)
        busiest.append(busiest_second(times))
        closest.append(min(b - a for a, b in zip(times, times[1:], strict=False)))
        counts = assert_nobody_twice(smtp_sink)
        assert {r: counts[r] for r in everyone} == dict.fromkeys(everyone, 1)
    figure(f"two workers at 20/s, 3 sends of 200: busiest second {busiest} in "
           f"{RATE_RUNS} runs; closest arrivals "
           f"{', '.join(f'{gap * 1000:.0f}' for gap in closest)} ms")
    assert max(busiest) <= 20, busiest


# -- 8. the minor points -------------------------------------------------------------------

def test_a_transient_error_with_nothing_pending_does_not_wait_for_a_retry(
        app: Flask, smtp_sink: Any, start_worker: Any) -> None:
    """A 451 on one connection whose recipient the other connection then delivers: nothing
    is left, so the run ends finished instead of queued behind RQ's retry (30 s here)."""
    app.config.update(MAIL_CONCURRENCY=2, TASK_RETRY_INTERVALS="30")
    smtp_sink.handler.async_delay = 0.05
    smtp_sink.handler.defer_nth = 1
    everyone = [f"n{i:02d}@example.com" for i in range(20)]
    task_id = send(app, everyone)
    start_worker()
    first = wait_for_task(app, task_id, lambda t: t.attempts >= 1 and t.status != "running",
                          timeout=60, what="the first run to end")
    states = outcomes(app, task_id)
    figure(f"451 with nothing left: the run ended {first.status} (attempts "
           f"{first.attempts}); {Counter(states.values())}")
    assert smtp_sink.handler.data_seen >= 21  # the 451, and everyone delivered
    assert [r for r, s in states.items() if s != "delivered"] == []
    assert (first.status, first.failed, first.attempts) == ("finished", False, 1)
    assert assert_nobody_twice(smtp_sink) == dict.fromkeys(everyone, 1)


def test_recipients_pending_when_retries_run_out_are_settled_and_offered_for_resend(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    """A relay answering 451 to everything, two runs: the recipients never tried are
    settled with the last reason (refused, not pending) and the resend form offers them;
    the resend mails each once."""
    app.config.update(MAIL_CONCURRENCY=1, TASK_RETRY_INTERVALS="1")
    smtp_sink.handler.defer_first = 1000
    three = ["a@example.com", "b@example.com", "c@example.com"]
    post_send(signed_in, ",".join(three))
    [row] = tasks(app)
    start_worker()
    done = wait_for_task(app, row.id, ended, timeout=60, what="the retries to run out")
    rows = detail_rows(signed_in, row.id)
    page = signed_in.get(f"/tasks/{row.id}").get_data(as_text=True)
    figure(f"451 to all, retries out: task {done.status}/failed={done.failed} after "
           f"{done.attempts} runs; outcomes {sorted({o for o, _ in rows.values()})}")
    assert (done.status, done.failed) == ("finished", True)
    assert sorted(rows) == three
    assert {r: outcome for r, (outcome, _) in rows.items()} == dict.fromkeys(three, "refused")
    assert all("451" in body for _, body in rows.values()), rows
    assert 'id="resend-failed"' in page

    smtp_sink.handler.defer_first = 0
    response = signed_in.post(f"/tasks/{row.id}/resend", data={
        "which": "failed", "csrf_token": csrf_token(signed_in, "/send_mail")})
    assert response.status_code == 302
    resent = tasks(app)[-1]
    assert resent.resent_from == row.id
    assert sorted(outcomes(app, resent.id)) == three
    again = wait_for_task(app, resent.id, ended, what="the resend")
    assert (again.status, again.failed, again.delivered_count) == ("finished", False, 3)
    assert assert_nobody_twice(smtp_sink) == dict.fromkeys(three, 1)
