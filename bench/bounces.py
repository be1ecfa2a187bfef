"""DSNs handled per second by the SMTP bounce receiver, beside a plain SMTP sink taking the
same messages over the same connections in the same run.

``.venv/bin/python bench/bounces.py [--dsns N] [--connections C]`` (default 2,000 DSNs over
4 connections). A private redis-server, one real ``python worker.py`` (its default
WORKER_PROCESSES=2, and the receiver it runs when BOUNCE_SMTP_PORT is set), SQLite and,
when BENCH_DATABASE_URL or TEST_DATABASE_URL names a server, PostgreSQL (a fresh database).
One finished task of N delivered recipients; N Postfix DSNs (tests/support/bounces.py), each
to its delivery's VERP address, sent over C parallel SMTP connections:

- accepted/s: the receiver's 250 for each (the message handed to an RQ job in Redis),
  against bench/sink_server.py (aiosmtpd that only notes the arrival) on the same DSNs;
- handled/s: from the first DSN sent until every delivery is ``bounced`` and on the
  suppression list (parsed, matched by VERP, written), the figure the issue asks for.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from app.devstack import RedisServer, free_port, wait_until  # noqa: E402
from bench.throughput import Sink, Stack, _account, database  # noqa: E402
from tests.support.bounces import listening, postfix_dsn  # noqa: E402

BOUNCE_ADDRESS = "bounces@bounce.example.com"


def deliveries(stack: Stack, count: int) -> list[tuple[str, str]]:
    """One finished task of ``count`` delivered recipients; (VERP address, recipient) each."""
    from app.bounces.verp import envelope_sender
    from app.extensions import db
    from app.models import Delivery, Task
    from app.models.types import utcnow

    with stack.app.app_context():
        _account("bench")
        task = Task(name="send_mail", description="bench", username="bench",
                    status="finished", recipient_count=count, delivered_count=count)
        db.session.add(task)
        db.session.flush()
        db.session.execute(db.insert(Delivery), [
            {"task_id": task.id, "position": i, "recipient": f"gone{i}@example.org",
             "status": "delivered", "updated_at": utcnow()} for i in range(count)])
        db.session.commit()
        rows = db.session.execute(db.select(Delivery.id, Delivery.recipient)
                                  .where(Delivery.task_id == task.id)).all()
        return [(envelope_sender(stack.app.config, task.id, i), r) for i, r in rows]


def send_all(port: int, messages: list[tuple[str, bytes]], connections: int) -> float:
    """Send every (recipient, message) over ``connections`` parallel SMTP connections; the
    seconds until the last was answered 250."""
    shares = [messages[i::connections] for i in range(connections)]

    def one(share: list[tuple[str, bytes]]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for rcpt, raw in share:
                smtp.sendmail("", [rcpt], raw)

    threads = [threading.Thread(target=one, args=(share,)) for share in shares]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def bounced(stack: Stack) -> int:
    from app.extensions import db
    from app.models import Delivery, Suppression

    with stack.app.app_context():
        marked = db.session.scalar(db.select(db.func.count()).where(
            Delivery.status == "bounced"))
        listed = db.session.scalar(db.select(db.func.count()).select_from(Suppression))
        db.session.remove()
        return min(marked, listed)


def run(kind: str, redis: RedisServer, tmp: str, count: int, connections: int) -> None:
    sink = Sink(tmp)
    port = free_port()
    with database(kind) as url:
        stack = Stack(url, redis, sink, WORKER_PROCESSES=2, MAIL_BOUNCE_ADDRESS=BOUNCE_ADDRESS,
                      BOUNCE_SMTP_HOST="127.0.0.1", BOUNCE_SMTP_PORT=port)
        try:
            targets = deliveries(stack, count)
            messages = [(verp, postfix_dsn(verp, rcpt, message_id=f"<{uuid.uuid4().hex}@x>"))
                        for verp, rcpt in targets]
            baseline = send_all(sink.port, messages, connections)
            stack.start_worker()
            wait_until(lambda: listening(port), 30, "the bounce receiver")
            start = time.perf_counter()
            accepted = send_all(port, messages, connections)
            wait_until(lambda: bounced(stack) >= count, 600, f"{count} bounces handled")
            handled = time.perf_counter() - start
        finally:
            stack.stop()
            sink.stop()
    size = sum(len(raw) for _, raw in messages) / count
    print(f"[{kind}] {count:,} DSNs ({size:,.0f} bytes each) over {connections} connections:")
    print(f"  accepted  {count / accepted:8.1f} DSN/s   baseline sink {count / baseline:8.1f}"
          f" DSN/s   ratio {baseline / accepted:.2f}")
    print(f"  handled   {count / handled:8.1f} DSN/s   (first sent -> every delivery "
          f"bounced and suppressed: {handled:.1f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsns", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    redis = RedisServer().start()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for kind in ("sqlite", "postgresql") if server else ("sqlite",):
                run(kind, redis, tmp, args.dsns, args.connections)
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
