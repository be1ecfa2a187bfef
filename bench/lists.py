"""Saved lists at scale, each figure beside a baseline measured in the same run.

``.venv/bin/python bench/lists.py [--rows N] [--db sqlite|postgresql|both]`` (default 5,000
rows, both databases; the issue's figures need ``--rows 100000``). A private redis-server,
the counting SMTP sink in a process of its own (bench/sink_server.py), one real
``python worker.py`` (WORKER_PROCESSES=1), real gunicorn (gunicorn.conf.py, 2 workers),
everything driven over HTTP as a browser would (CSRF tokens, a signed-in session).
PostgreSQL: BENCH_DATABASE_URL or TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/postgres; a fresh database is made and dropped.

1. Import of an N-row CSV (email + 3 fields; 5 % bad addresses or repeats): POST to
   ListImport.done, beside PostgreSQL ``COPY`` of the same file into a plain table (the
   floor); the work horse's peak RSS (VmHWM of the worker's children, sampled every 0.2 s).
2. A send to that list: the POST's answer time; the snapshot (recipients_taken_at -
   started_at, and first mail - started_at); msg/s over the first M mails against one raw
   smtplib connection sending M prebuilt messages to the same sink just before; the worker
   tree's RSS every 0.5 s; at the end every member mailed once.
3. While the send runs: GET /tasks/<id> and /tasks/<id>?q=user123 (p95 of 50), the
   recipients CSV streamed (gunicorn workers' VmHWM before and after), /notifications with
   100 pollers (one signed-in session, each thread polling every NOTIFICATION_POLL_SECONDS)
   p99; the baseline of each is the same measure once the send is over (idle).
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from app.devstack import RedisServer, wait_until  # noqa: E402
from bench.lists_support import (  # noqa: E402
    Client,
    MembersFile,
    Sampler,
    Tail,
    Web,
    members_csv,
)
from bench.throughput import Sink, Stack, database, raw_smtplib  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
USER = "bench"
PASSWORD = secrets.token_urlsafe(16)
POLLERS = 100
RESULTS: list[tuple[str, str, str, str, str]] = []  # (db, measure, ours, baseline, goal)


def row(kind: str, measure: str, ours: str, baseline: str, goal: str) -> None:
    RESULTS.append((kind, measure, ours, baseline, goal))
    print(f"  [{kind}] {measure}: {ours}  | baseline {baseline}  | goal {goal}", flush=True)


def p(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def stamp(moment: Any) -> float:
    return moment.timestamp() if moment is not None else float("nan")


# --- the floor: PostgreSQL COPY --------------------------------------------------------

def pg_server() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") \
        or DEFAULT_PG


def copy_floor(data: bytes) -> float | None:
    """Seconds of ``COPY … FROM STDIN (FORMAT csv, HEADER)`` of the file into a plain
    table of a fresh database, commit included; None when no PostgreSQL answers."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(pg_server())
    name = f"mailroom_copy_{uuid.uuid4().hex[:8]}"
    plain = server.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(plain, autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"  (no PostgreSQL for the COPY floor: {exc})")
        return None
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        target = server.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False)
        best = []
        with psycopg.connect(target) as conn:
            for _ in range(3):
                conn.execute("DROP TABLE IF EXISTS plain_members")
                conn.execute("CREATE TABLE plain_members (email text, name text, city text, "
                             "code text)")
                conn.commit()
                start = time.perf_counter()
                with conn.cursor() as cur:
                    with cur.copy("COPY plain_members FROM STDIN "
                                  "WITH (FORMAT csv, HEADER true)") as copy:
                        for i in range(0, len(data), 1 << 20):
                            copy.write(data[i:i + (1 << 20)])
                conn.commit()
                best.append(time.perf_counter() - start)
            count = conn.execute("SELECT count(*) FROM plain_members").fetchone()[0]
            assert count == data.count(b"\n") - 1, count
        return statistics.median(best)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# --- one database ----------------------------------------------------------------------

class Bench:
    def __init__(self, kind: str, redis: RedisServer, tmp: str, members: MembersFile,
                 floor: float | None) -> None:
        self.kind, self.redis, self.tmp = kind, redis, tmp
        self.members, self.floor = members, floor

    def db(self) -> Any:
        from app.extensions import db

        return db

    def read(self, func: Any) -> Any:
        with self.stack.app.app_context():
            return func(self.db())

    def run(self) -> None:
        sink = Sink(self.tmp)
        try:
            self.equal = min(10_000, max(1000, self.members.valid // 2))
            # The raw baseline first, alone on the machine.
            self.raw_rate = raw_smtplib(sink, self.equal)
            with database(self.kind) as url:
                self.stack = Stack(url, self.redis, sink, RATELIMIT_ENABLED="false",
                                   SESSION_COOKIE_SECURE="false")
                try:
                    self._account()
                    self.stack.start_worker()
                    self.web = Web(self.stack.env)
                    try:
                        self.client = Client(self.web.port)
                        self.client.login(USER, PASSWORD)
                        list_id = self.import_members()
                        self.send(list_id, sink)
                    finally:
                        self.web.stop()
                finally:
                    self.stack.stop()
        finally:
            sink.stop()

    def _account(self) -> None:
        from app.cli import create_user

        with self.stack.app.app_context():
            create_user(USER, PASSWORD)

    # 1. import -----------------------------------------------------------------------

    def import_members(self) -> int:
        from app.models import ListImport, Task

        made = self.client.post_form("/lists/new", {"name": f"bench {self.kind}"}, "/lists/new")
        assert made.status == 302, made.text[:300]
        list_id = int(made.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        worker = self.stack.workers[-1].pid
        sampler = Sampler(worker, every=0.2).start()
        posted = time.time()
        answer = self.client.post_file(f"/lists/{list_id}/import", {}, "members_file",
                                       "members.csv", self.members.data, f"/lists/{list_id}")
        assert answer.status == 302, answer.text[:300]

        def done(db: Any) -> Any:
            job = db.session.scalar(db.select(ListImport).where(ListImport.list_id == list_id))
            if job is None or not job.done:
                return None
            task = db.session.get(Task, job.task_id)
            if task.finished_at is None:
                return None
            return (job.added, job.updated, job.unchanged, job.refused, job.line, job.lines,
                    stamp(job.created_at), stamp(job.finished_at), stamp(task.created_at),
                    stamp(task.started_at), stamp(task.finished_at), task.status, task.failed)

        try:
            result = wait_until(lambda: self.read(done), 600, "the import")
        finally:
            sampler.stop()
        seen = time.time()
        (added, updated, unchanged, refused, line, lines, created, finished, task_created,
         task_started, task_finished, status, failed) = result
        wall = finished - posted
        m = self.members
        ok = added == m.valid and refused == m.refused and updated == unchanged == 0
        horse_pid, horse_kb = sampler.peak(sampler.new_pids() or None)
        tree_pid, tree_kb = sampler.peak()
        row(self.kind, f"import {m.rows:,} rows: POST to ListImport.done", f"{wall:.2f} s",
            f"PostgreSQL COPY of the same file {self.floor:.2f} s "
            f"(x{wall / self.floor:.0f})" if self.floor else "n/a", "<= 20 s")
        print(f"      POST answered in {ms(answer.seconds)}; queued "
              f"{task_started - task_created:.2f} s; job ran "
              f"{task_finished - task_started:.2f} s (ListImport.finished_at - "
              f"task.started_at {finished - task_started:.2f} s); seen done by the bench "
              f"{seen - posted:.2f} s after the POST; task {status}, failed={failed}")
        print(f"      counts: added {added:,} (expect {m.valid:,}), refused {refused:,} "
              f"(expect {m.refused:,}: {m.invalid:,} bad + {m.duplicates:,} repeats), "
              f"updated {updated}, unchanged {unchanged}, line {line:,}/{lines:,}: "
              f"{'OK' if ok else 'MISMATCH'}")
        row(self.kind, "import: peak RSS of the work horse (VmHWM)", mb(horse_kb),
            f"the worker tree's largest process before the import "
            f"{mb(max((sampler.hwm.get(p, 0) for p in sampler.first), default=0))}",
            "<= 250 MB")
        print(f"      horse pid {horse_pid} (new during the import: "
              f"{sorted(sampler.new_pids())}); largest of the tree: pid {tree_pid} "
              f"{mb(tree_kb)}; tree RSS sum max {mb(sampler.tree_rss)}; "
              f"{sampler.samples} samples")
        if not ok:
            print("      !! import counts differ from the file's")
        return list_id

    # 2. send + 3. pages while it runs ----------------------------------------------------

    def send(self, list_id: int, sink: Sink) -> None:
        from app.models import Delivery, Task
        from app.models.task import DELIVERED

        tail = Tail(sink.log)
        worker = self.stack.workers[-1].pid
        sampler = Sampler(worker, every=0.5).start()
        posted = time.time()
        answer = self.client.post_form(
            "/send_mail", {"list_id": str(list_id), "template_name": "welcome",
                           "timezone": "Asia/Seoul"}, "/send_mail")
        assert answer.status in (302, 303), answer.text[:300]
        task_id = self.read(lambda db: db.session.scalar(
            db.select(Task.id).where(Task.list_id == list_id, Task.name == "send_mail")))
        assert task_id, "no send task"
        total = self.members.valid
        try:
            tail.wait_for(self.equal, 900)
            self.during = self.pages(task_id, "during the send", tail, total)
            tail.wait_for(total, 1800)

            def finished(db: Any) -> Any:
                task = db.session.get(Task, task_id)
                return task if task.status == "finished" else None

            wait_until(lambda: self.read(finished), 120, "the send task to finish")
        finally:
            sampler.stop()
        time.sleep(1)  # anything late would show in the sink
        arrivals = tail.lines()

        def facts(db: Any) -> Any:
            task = db.session.get(Task, task_id)
            delivered = Delivery.count(task_id, DELIVERED)
            return (stamp(task.started_at), stamp(task.recipients_taken_at),
                    stamp(task.finished_at), task.recipient_count, delivered, task.failed)

        started, taken, ended, count, delivered, failed = self.read(facts)
        times = sorted(t for t, _ in arrivals)
        recipients = [r for _, r in arrivals]
        unique = len(set(r.lower() for r in recipients))
        first, last = times[0], times[-1]
        row(self.kind, "send: snapshot recipients_taken_at - started_at",
            f"{taken - started:.2f} s", f"first mail - started_at {first - started:.2f} s "
            f"(includes the INSERT…SELECT)", "<= 5 s")
        ours = total / (last - posted)
        row(self.kind, f"send: msg/s, POST to the last of {total:,} mails", f"{ours:,.0f} msg/s",
            f"raw smtplib {self.equal:,} msgs {self.raw_rate:,.0f} msg/s "
            f"(ratio {ours / self.raw_rate:.2f})", "ratio >= 0.8")
        early = self.equal / (times[self.equal - 1] - posted)
        print(f"      POST to mail #{self.equal:,}: {early:,.0f} msg/s (ratio "
              f"{early / self.raw_rate:.2f}; the snapshot is in it); first to last "
              f"{total / max(last - first, 1e-9):,.0f} msg/s (the pages of 3. ran during it); "
              f"task started {started - posted:.2f} s after the POST, finished "
              f"{ended - posted:.1f} s after")
        pid, peak = sampler.peak()
        row(self.kind, "send: worker RSS max (largest process, VmHWM)", mb(peak),
            f"tree sum of VmRSS max {mb(sampler.tree_rss)}", "<= 300 MB")
        top = sorted(sampler.rss.items(), key=lambda item: -item[1])[:5]
        print(f"      pid {pid}: {self.process_name(pid)}; largest VmRSS max: "
              + ", ".join(f"pid {p} {mb(k)}" for p, k in top)
              + f"; {len(sampler.rss)} processes seen (render children included); "
              f"{sampler.samples} samples")
        exact = len(arrivals) == total == count == delivered == unique
        row(self.kind, "send: sink count / members mailed / nobody twice",
            f"sink {len(arrivals):,}, unique {unique:,}",
            f"members {total:,}, task recipients {count:,}, delivered {delivered:,}",
            "all equal" + (": OK" if exact else ": MISMATCH"))
        if failed:
            print("      !! the task ended failed")
        idle = self.pages(task_id, "idle, after the send", tail, total, measure_csv=False)
        one = self.client.post_form(
            "/send_mail", {"recipient": "one@example.com", "template_name": "welcome",
                           "timezone": "Asia/Seoul"}, "/send_mail")
        assert one.status in (302, 303), one.text[:300]
        row(self.kind, f"send: POST /send_mail (list of {total:,}) answer time",
            ms(answer.seconds), f"POST /send_mail to 1 typed address, idle {ms(one.seconds)}",
            "<= 300 ms")
        d = self.during
        note = f" ({d['running']})"
        row(self.kind, f"GET /tasks/{task_id} p95 of {len(d['page'])}",
            ms(p(d["page"], 95)) + note, f"idle {ms(p(idle['page'], 95))}", "<= 150 ms")
        row(self.kind, f"GET /tasks/{task_id}?q=user123 p95 of {len(d['search'])}",
            ms(p(d["search"], 95)) + note + f"; q {'matched' if d['q_works'] else 'IGNORED'}",
            f"idle {ms(p(idle['search'], 95))}", "<= 150 ms")
        row(self.kind, f"/notifications p99, {POLLERS} pollers ({len(d['poll'])} polls)",
            ms(p(d["poll"], 99)) + note, f"idle {ms(p(idle['poll'], 99))}", "<= 50 ms")
        c = d["csv"]
        row(self.kind, f"recipients.csv streamed ({c['rows']:,} rows, {c['bytes'] / 1e6:.1f} MB, "
            f"{c['seconds']:.1f} s)", f"web worker VmHWM after {mb(c['after'])}",
            f"before {mb(c['before'])} (+{mb(c['after'] - c['before'])})", "constant")

    def process_name(self, pid: int) -> str:
        from tests.support.procs import cmdline

        return cmdline(pid)[-80:] or "(gone)"

    def pages(self, task_id: int, label: str, tail: Tail, total: int,
              measure_csv: bool = True) -> dict[str, Any]:
        """The three page measures of 3.; ``running`` says how far the send was."""
        from app.models import Task

        def status() -> str:
            return self.read(lambda db: db.session.get(Task, task_id).status)

        out: dict[str, Any] = {}
        before = tail.poll()
        page = [self.client.get(f"/tasks/{task_id}") for _ in range(50)]
        assert all(a.status == 200 for a in page), {a.status for a in page}
        out["page"] = [a.seconds for a in page]
        search = [self.client.get(f"/tasks/{task_id}?q=user123") for _ in range(50)]
        assert all(a.status == 200 for a in search), {a.status for a in search}
        out["search"] = [a.seconds for a in search]
        text = search[-1].text
        out["q_works"] = "user123@example.com" in text and "user124@example.com" not in text
        out["poll"] = self.pollers()
        if measure_csv:
            out["csv"] = self.stream_csv(task_id)
        after = tail.poll()
        out["running"] = (f"{label}: mails {before:,} to {after:,} of {total:,}, "
                          f"task {status()}")
        print(f"      pages {label}: {out['running']}")
        return out

    def pollers(self, seconds: float = 10.0) -> list[float]:
        """``POLLERS`` threads on the one session, each polling every
        NOTIFICATION_POLL_SECONDS (starts spread over one period) for ``seconds``."""
        period = float(self.stack.app.config["NOTIFICATION_POLL_SECONDS"])
        samples: list[float] = []
        errors: list[int] = []
        lock = threading.Lock()
        since = time.time()
        end = time.monotonic() + seconds

        def poller(i: int) -> None:
            time.sleep(period * i / POLLERS)
            while time.monotonic() < end:
                tick = time.monotonic()
                answer = self.client.get(f"/notifications?since={since}")
                with lock:
                    (samples if answer.status == 200 else errors).append(
                        answer.seconds if answer.status == 200 else answer.status)
                time.sleep(max(0.0, period - (time.monotonic() - tick)))

        threads = [threading.Thread(target=poller, args=(i,)) for i in range(POLLERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:5]
        return samples

    def stream_csv(self, task_id: int) -> dict[str, Any]:
        from bench.lists_support import memory

        def hwm() -> int:
            return max((memory(pid) or (0, 0))[1] for pid in self.web.worker_pids())

        before = hwm()
        size = [0, 0]

        def take(chunk: bytes) -> None:
            size[0] += len(chunk)
            size[1] += chunk.count(b"\n")

        answer = self.client.get(f"/tasks/{task_id}/recipients.csv", sink=take)
        assert answer.status == 200, answer.status
        return {"before": before, "after": hwm(), "bytes": size[0], "rows": size[1] - 1,
                "seconds": answer.seconds}


def table() -> None:
    print("\nSummary")
    widths = [max(len(r[i]) for r in RESULTS + [("db", "measure", "ours", "baseline",
                                                   "goal")]) for i in range(5)]
    head = ("db", "measure", "ours", "baseline (same run)", "goal")
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in RESULTS:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    members = members_csv(args.rows)
    print(f"Saved lists: {members.rows:,} rows ({len(members.data) / 1e6:.1f} MB; "
          f"{members.valid:,} valid, {members.invalid:,} bad, {members.duplicates:,} repeats)",
          flush=True)
    os.environ.setdefault("BENCH_DATABASE_URL", pg_server())  # for bench.throughput.database
    floor = copy_floor(members.data)
    if floor is not None:
        print(f"  floor: PostgreSQL COPY of the file into a plain table, median of 3: "
              f"{floor:.2f} s", flush=True)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if floor is None and "postgresql" in kinds:
        kinds.remove("postgresql")
    redis = RedisServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind in kinds:
                print(f"{kind}: load average {os.getloadavg()}", flush=True)
                Bench(kind, redis, tmp, members, floor).run()
    finally:
        redis.stop()
        print(f"load average at the end {os.getloadavg()}")
        table()


if __name__ == "__main__":
    main()
