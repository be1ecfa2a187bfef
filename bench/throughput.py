"""Throughput of the send path, each figure beside a baseline measured in the same run.

A private redis-server, a counting SMTP sink in a process of its own (bench/sink_server.py),
real ``python worker.py`` processes, SQLite (and PostgreSQL when BENCH_DATABASE_URL or
TEST_DATABASE_URL names a server: a fresh database is made and dropped).

1. one task, 1,000 recipients, local sink        vs one raw smtplib connection
2. one task, 1,000 recipients, 20 ms per reply,  vs sequential smtplib (100 messages)
   MAIL_CONCURRENCY=10
3. 200 one-recipient tasks                       vs bare RQ (forking worker, same work)
4. MAIL_RATE_PER_SECOND=50, two workers, two tasks, 10 s: the busiest one-second window
   and the total, against 50 and 500
"""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from app.devstack import RedisServer, free_port, stop_process, wait_until  # noqa: E402
from bench.bare_job import message  # noqa: E402


class Sink:
    """bench/sink_server.py in a subprocess; ``arrivals()`` reads its log."""

    def __init__(self, directory: str, delay_ms: int = 0) -> None:
        self.port = free_port()
        self.log = os.path.join(directory, f"sink-{uuid.uuid4().hex[:6]}.log")
        open(self.log, "w").close()
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "bench", "sink_server.py"), str(self.port),
             self.log, str(delay_ms)], stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "ready"

    def arrivals(self) -> list[float]:
        with open(self.log) as handle:
            return [float(line.split()[0]) for line in handle if line.strip()]

    def wait_for(self, count: int, timeout: float = 300) -> float:
        """Wait until ``count`` mails arrived; the time of the last."""
        wait_until(lambda: len(self.arrivals()) >= count, timeout, f"{count} mails")
        return max(self.arrivals())

    def stop(self) -> None:
        stop_process(self.process)


def raw_smtplib(sink: Sink, count: int) -> float:
    """Messages a second over one smtplib connection (messages built beforehand)."""
    mails = [message(f"raw{i}@example.com") for i in range(count)]
    before = len(sink.arrivals())
    start = time.time()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for i, mail in enumerate(mails):
            smtp.send_message(mail, to_addrs=[f"raw{i}@example.com"])
    sink.wait_for(before + count)
    return count / (time.time() - start)


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, migrated database URL of ``kind`` (sqlite or postgresql)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            _migrate(url)
            yield url
        return
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ["TEST_DATABASE_URL"]
    admin_url = make_url(server).set(drivername="postgresql+psycopg")
    name = f"mailroom_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-" + uuid.uuid4().hex,
           "UNSUBSCRIBE_SECRET": "bench-" + uuid.uuid4().hex}
    subprocess.run([sys.executable, "-m", "flask", "--app", "run", "db", "upgrade"], cwd=ROOT,
                   env=env, check=True, capture_output=True)


class Stack:
    """The app's configuration for one run, and the workers started with it."""

    def __init__(self, db_url: str, redis: RedisServer, sink: Sink, **config: Any) -> None:
        self.env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis.url,
                    "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(sink.port),
                    "SECRET_KEY": "bench-" + uuid.uuid4().hex, "PYTHONPATH": ROOT,
                    "UNSUBSCRIBE_SECRET": "bench-" + uuid.uuid4().hex,
                    "QUOTA_RECIPIENTS_PER_DAY": "1000000", "QUOTA_OPEN_RESERVATIONS": "1000",
                    # One RQ worker per worker.py, as the bare-RQ baseline has one.
                    "WORKER_PROCESSES": "1", **{k: str(v) for k, v in config.items()}}
        self.workers: list[subprocess.Popen[bytes]] = []
        from app import create_app

        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            self.app = create_app()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def start_worker(self) -> None:
        from rq import Worker

        from app.queue import queues

        connection = queues(self.app).connection
        before = len(Worker.all(connection=connection))
        self.workers.append(subprocess.Popen([sys.executable, os.path.join(ROOT, "worker.py")],
                                             env=self.env, cwd=ROOT,
                                             stderr=subprocess.DEVNULL))
        wait_until(lambda: len(Worker.all(connection=connection)) > before, 30, "a worker")

    def send(self, recipients: list[str], username: str = "bench") -> int:
        from app.tasks.service import Mailing, TaskService

        with self.app.app_context():
            _account(username)  # a send is signed with its account's id
            return TaskService(username).send(Mailing.named("welcome", username,
                                                            recipients)).id

    def stop(self) -> None:
        for worker in self.workers:
            stop_process(worker, timeout=30)


def _account(username: str) -> None:
    from app.cli import create_user
    from app.models import User

    if User.by_username(username) is None:
        create_user(username, uuid.uuid4().hex)


def ratio_line(name: str, ours: float, base: float, unit: str, goal: str) -> None:
    print(f"  {name:<52} {ours:9.1f} {unit}  baseline {base:9.1f} {unit}  "
          f"ratio {ours / base:5.2f}  (goal {goal})")


def one_big_task(kind: str, redis: RedisServer, tmp: str, label: str, goal: str,
                 delay_ms: int = 0, baseline: int = 1000, **config: Any) -> None:
    """One task of 1,000 recipients against one smtplib connection sending ``baseline``."""
    sink = Sink(tmp, delay_ms=delay_ms)
    try:
        base = raw_smtplib(sink, baseline)
        with database(kind) as url:
            stack = Stack(url, redis, sink, **config)
            try:
                stack.start_worker()
                before = len(sink.arrivals())
                start = time.time()
                stack.send([f"b{i}@example.com" for i in range(1000)])
                last = sink.wait_for(before + 1000)
                ratio_line(f"[{kind}] {label}", 1000 / (last - start), base, "msg/s", goal)
            finally:
                stack.stop()
    finally:
        sink.stop()


def bulk(kind: str, redis: RedisServer, tmp: str) -> None:
    """Local sink: against one raw smtplib connection."""
    one_big_task(kind, redis, tmp, "1 task x 1,000, local sink", ">= 0.8")


def relay(kind: str, redis: RedisServer, tmp: str) -> None:
    """A relay answering after 20 ms: against sequential smtplib."""
    one_big_task(kind, redis, tmp, "1 task x 1,000, 20 ms replies, 10 connections", ">= 8",
                 delay_ms=20, baseline=100, MAIL_CONCURRENCY=10)


def many_tasks(kind: str, redis: RedisServer, tmp: str, count: int = 200) -> None:
    from rq import Queue, Worker
    from rq.serializers import JSONSerializer

    sink = Sink(tmp)
    try:
        with database(kind) as url:
            stack = Stack(url, redis, sink)
            connection = stack.app.extensions["rq"].connection
            bare_queue = Queue("bare", connection=connection, serializer=JSONSerializer)
            before_workers = len(Worker.all(connection=connection))
            bare = subprocess.Popen(
                [os.path.join(os.path.dirname(sys.executable), "rq"), "worker", "--url",
                 redis.url, "--serializer", "json", "bare"],
                env=stack.env, cwd=ROOT, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            try:
                wait_until(lambda: len(Worker.all(connection=connection)) > before_workers, 30,
                           "the bare worker")
                before = len(sink.arrivals())
                start = time.time()
                for i in range(count):
                    bare_queue.enqueue("bench.bare_job.send_one", sink.port, f"q{i}@example.com")
                base = count / (sink.wait_for(before + count) - start)
            finally:
                stop_process(bare, timeout=30)
            try:
                stack.start_worker()
                before = len(sink.arrivals())
                start = time.time()
                for i in range(count):
                    stack.send([f"t{i}@example.com"])
                ours = count / (sink.wait_for(before + count) - start)
                ratio_line(f"[{kind}] {count} one-recipient tasks", ours, base, "task/s",
                           ">= 0.7")
            finally:
                stack.stop()
    finally:
        sink.stop()


def rate(redis: RedisServer, tmp: str, per_second: int = 50, seconds: int = 10) -> None:
    sink = Sink(tmp)
    try:
        with database("sqlite") as url:
            stack = Stack(url, redis, sink, MAIL_RATE_PER_SECOND=per_second)
            try:
                stack.start_worker()
                stack.start_worker()
                before = len(sink.arrivals())
                stack.send([f"x{i}@example.com" for i in range(per_second * seconds * 2)], "u1")
                stack.send([f"y{i}@example.com" for i in range(per_second * seconds * 2)], "u2")
                first = wait_until(lambda: sink.arrivals()[before:], 60, "the first mail")[0]
                time.sleep(seconds + 1.5)
                got = [t for t in sink.arrivals()[before:] if t < first + seconds]
                busiest = max(sum(1 for u in got if t <= u < t + 1) for t in got)
                print(f"  rate {per_second}/s, 2 workers, 2 tasks: busiest 1 s window "
                      f"{busiest} (goal <= {per_second}), {len(got)} in {seconds} s "
                      f"(goal {per_second * seconds} +/- 10 %: "
                      f"{len(got) / (per_second * seconds):.2f})")
            finally:
                stack.stop()
    finally:
        sink.stop()


def main() -> None:
    kinds = ["sqlite"]
    if os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"):
        kinds.append("postgresql")
    redis = RedisServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind in kinds:
                bulk(kind, redis, tmp)
                relay(kind, redis, tmp)
                many_tasks(kind, redis, tmp)
            rate(redis, tmp)
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
