"""RQ workers and the scheduler, supervised, serving ``high`` then ``default``, inside the app.

``WORKER_PROCESSES`` workers (default 1) and one scheduler, each its own process; a child
that dies is started again with back-off; SIGTERM or Ctrl-C stops them all.
"""

import sys

from app.worker.supervisor import main

if __name__ == "__main__":
    sys.exit(main())
