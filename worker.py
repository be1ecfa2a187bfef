"""One RQ worker with the scheduler, serving ``high`` then ``default``, inside the app.

The app is built once here; each job runs in a forked horse inside its app context.
"""

import sys

from app import create_app
from app.queue import AppWorker, queues


def main() -> int:
    """Run the worker until it is told to stop."""
    app = create_app()
    queue_set = queues(app)
    worker = AppWorker(queue_set.ordered(), connection=queue_set.connection, app=app)
    worker.work(with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
