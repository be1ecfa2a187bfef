"""How late a reservation's mail arrives after its time, against how long a send-now takes
(the baseline), on a real redis-server, a real worker (TZ=America/Los_Angeles) and an
SMTP sink, for a user in Asia/Seoul."""

from __future__ import annotations

import math
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from redis import Redis  # noqa: E402
from rq.scheduler import RQScheduler  # noqa: E402

from app import create_app  # noqa: E402
from app.cli import create_user  # noqa: E402
from app.devstack import RedisServer, start_smtp_sink, stop_process, wait_until  # noqa: E402
from app.extensions import db  # noqa: E402
from app.tasks.service import Mailing, TaskService  # noqa: E402
from tests.support.sink import RecordingHandler  # noqa: E402

ROUNDS = 5


def arrival(handler: RecordingHandler, recipient: str) -> float:
    """When the sink accepted the mail for ``recipient``."""
    def found() -> float | None:
        return next((m.at for m in list(handler.messages) if recipient in m.rcpt_tos), None)

    return wait_until(found, 30, recipient)


def main() -> None:
    redis = RedisServer().start()
    handler = RecordingHandler()
    sink = start_smtp_sink(handler)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "REDIS_URL": redis.url,
               "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(sink.port),
               "RESERVATION_MIN_LEAD_SECONDS": "1", "TZ": "America/Los_Angeles",
               "SECRET_KEY": secrets.token_hex(32), "UNSUBSCRIBE_SECRET": secrets.token_hex(32)}
        os.environ.update({k: v for k, v in env.items() if k != "TZ"})
        app = create_app()
        with app.app_context():
            db.create_all()
            create_user("bench", secrets.token_urlsafe(16))  # a send is signed with its id
        worker = subprocess.Popen([sys.executable, os.path.join(ROOT, "worker.py")], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            connection = Redis.from_url(redis.url)
            wait_until(lambda: connection.exists(RQScheduler.get_locking_key("high")), 30,
                       "the worker's scheduler")
            late, now_ = [], []
            with app.app_context():
                service = TaskService("bench")
                for i in range(ROUNDS):
                    target = datetime.fromtimestamp(math.ceil(time.time()) + 3, UTC)
                    service.send(Mailing.named("welcome", "bench", [f"r{i}@example.com"]),
                                 target)
                    late.append(arrival(handler, f"r{i}@example.com") - target.timestamp())
                    asked = time.time()
                    service.send(Mailing.named("welcome", "bench", [f"n{i}@example.com"]))
                    now_.append(arrival(handler, f"n{i}@example.com") - asked)
        finally:
            stop_process(worker, timeout=15)
            sink.stop()
            redis.stop()
    print(f"reservation: arrival after its time, median {statistics.median(late):.3f} s, "
          f"min {min(late):.3f} s, max {max(late):.3f} s (n={ROUNDS})")
    print(f"baseline send now: enqueue to arrival, median {statistics.median(now_):.3f} s, "
          f"max {max(now_):.3f} s")
    print(f"ratio (median lateness / median send-now): "
          f"{statistics.median(late) / statistics.median(now_):.1f}")


if __name__ == "__main__":
    main()
