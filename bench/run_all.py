"""Benchmarks: print figures and ratios against a baseline measured in the same run.

1. Per-job start cost of our forking AppWorker (fork a process that already holds the app)
   against flask-rq's way (a fresh interpreter that imports and builds the app per job).
2. A /notifications poll with nothing new, against the cheapest signed-in page view
   (the baseline), through the Flask test client on SQLite.
3. Reservation lateness (bench/reservation_latency.py).
4. Throughput of the send path (bench/throughput.py).
5. Saved lists (bench/lists.py).
6. Bounces through the SMTP receiver (bench/bounces.py).
"""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_KEY = secrets.token_hex(32)
BENCH_UNSUBSCRIBE_SECRET = secrets.token_hex(32)
BENCH_PASSWORD = secrets.token_urlsafe(16)
sys.path.insert(0, ROOT)


def timed(func: Callable[[], object], runs: int) -> list[float]:
    """Wall seconds of each of ``runs`` calls."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return samples


def report(name: str, samples: list[float]) -> float:
    median = statistics.median(samples)
    print(f"  {name:<44} median {median * 1000:9.2f} ms  (n={len(samples)})")
    return median


def job_start_cost() -> None:
    print("1. job start: fork with the app loaded vs a fresh interpreter building the app")
    env = {**os.environ, "DATABASE_URL": "sqlite://", "REDIS_URL": "redis://127.0.0.1:1/0",
           "SECRET_KEY": BENCH_KEY, "UNSUBSCRIBE_SECRET": BENCH_UNSUBSCRIBE_SECRET}

    def fresh() -> None:
        subprocess.run([sys.executable, "-c", "import run"], cwd=ROOT, env=env, check=True)

    from app import create_app

    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": BENCH_KEY,
                "UNSUBSCRIBE_SECRET": BENCH_UNSUBSCRIBE_SECRET})

    def fork() -> None:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)

    slow = report("fresh interpreter + create_app (flask-rq)", timed(fresh, 5))
    fast = report("fork of a worker holding the app (ours)", timed(fork, 200))
    print(f"  ratio: {slow / fast:,.0f}x")


def notifications_poll() -> None:
    print("2. /notifications with nothing new vs the history page (baseline)")
    from app import create_app
    from app.cli import create_user
    from app.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                          "WTF_CSRF_ENABLED": False, "REDIS_URL": "redis://127.0.0.1:1/0",
                          "SECRET_KEY": BENCH_KEY, "SESSION_COOKIE_SECURE": False,
                          "UNSUBSCRIBE_SECRET": BENCH_UNSUBSCRIBE_SECRET,
                          "RATELIMIT_ENABLED": False})
        with app.app_context():
            db.create_all()
            create_user("bench", BENCH_PASSWORD)
        client = app.test_client()
        client.post("/auth/login", data={"username": "bench", "password": BENCH_PASSWORD})
        since = time.time()
        poll = report("GET /notifications?since=now",
                      timed(lambda: client.get(f"/notifications?since={since}"), 500))
        page = report("GET /tasks (empty history)", timed(lambda: client.get("/tasks"), 500))
        print(f"  ratio poll/page: {poll / page:.2f}")


if __name__ == "__main__":
    job_start_cost()
    notifications_poll()
    print("3. reservation lateness vs send now (baseline)")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "reservation_latency.py")],
                   check=True)
    print("4. throughput of the send path vs raw smtplib and bare RQ (baselines)")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "throughput.py")], check=True)
    print("5. saved lists: an import and a send of N members (bench/lists.py --rows 100000 for\n"
          "   the figures in docs/BENCHMARKS.md)")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "lists.py")], check=True)
    print("6. bounces: DSNs accepted and handled per second by the SMTP bounce receiver")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bounces.py")], check=True)
