"""``python -m app.worker work|scheduler``: one child of the supervisor (``worker.py``)."""

from __future__ import annotations

import os
import signal
import sys

from app.worker.lifeline import die_with_parent

BOUNCE_ROLES = ("bounces", "imap")


def main(argv: list[str]) -> int:
    """Run one worker or the scheduler in this process, inside the app."""
    role = argv[1] if len(argv) > 1 else ""
    if role not in ("work", "scheduler", *BOUNCE_ROLES):
        print("usage: python -m app.worker work|scheduler|bounces|imap", file=sys.stderr)
        return 2
    parent = os.environ.get("MAILROOM_SUPERVISOR_PID")
    if parent:
        # Killed or not, the supervisor takes us with it: no orphan holds a lock or a socket.
        die_with_parent(signal.SIGTERM, parent=int(parent))
    from app import create_app
    from app.queue import queues

    app = create_app()
    if role in BOUNCE_ROLES:  # the bounce receiver or the mailbox poller (app/bounces)
        from app.bounces.service import serve

        return serve(role, app)
    if role == "scheduler":
        from app.worker.scheduler import SchedulerLoop

        SchedulerLoop(app).run()
        return 0
    from redis.exceptions import RedisError

    from app.worker.rqworker import AppWorker

    queue_set = queues(app)
    try:
        worker = AppWorker(queue_set.ordered(), connection=queue_set.connection, app=app)
    except RedisError as exc:
        print(f"worker: Redis unavailable ({exc}); the supervisor will try again",
              file=sys.stderr)
        return 1
    worker.work()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
