"""``python worker.py``: RQ workers and one scheduler, each its own process (started fresh,
never forked from another, so none holds another's Redis socket), restarted with back-off
when they die, stopped together, and taking their children with them when killed."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

FIRST_BACKOFF, MAX_BACKOFF = 1.0, 5.0
HEALTHY_AFTER = 30.0  # a child that lived this long starts its back-off afresh
STOP_SECONDS = 25.0  # a warm shutdown may finish the message in flight, not the batch


class Child:
    """One supervised process: started, watched, restarted with back-off, stopped."""

    def __init__(self, name: str, argv: list[str]) -> None:
        self.name, self.argv = name, argv
        self.process: subprocess.Popen[bytes] | None = None
        self.backoff = FIRST_BACKOFF
        self.started_at = 0.0
        self.next_start = 0.0
        self.stopping = False

    def start(self) -> None:
        """Start the process (it arranges to die with us: see ``app.worker.__main__``)."""
        env = {**os.environ, "MAILROOM_SUPERVISOR_PID": str(os.getpid())}
        self.process = subprocess.Popen(self.argv, env=env)
        self.started_at = time.monotonic()
        log.info("supervisor: started %s (pid %s)", self.name, self.process.pid)

    def check(self) -> None:
        """Restart the process if it ended, once its back-off has passed."""
        if self.stopping:
            return
        if self.process is not None and self.process.poll() is None:
            return
        now = time.monotonic()
        if self.process is not None:
            code = self.process.returncode
            lived = now - self.started_at
            self.backoff = FIRST_BACKOFF if lived >= HEALTHY_AFTER else min(
                self.backoff * 2, MAX_BACKOFF)
            self.next_start = now + (0 if lived >= HEALTHY_AFTER else self.backoff)
            log.warning("supervisor: %s exited (code %s) after %.1f s; restart in %.0f s",
                        self.name, code, lived, self.next_start - now)
            self.process = None
        if now >= self.next_start:
            self.start()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process if it runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """SIGTERM, wait, SIGKILL what lingers; no restart after this."""
        self.stopping = True
        self.signal(signal.SIGTERM)
        self.wait(timeout)

    def wait(self, timeout: float) -> None:
        """Wait for the process to end; SIGKILL it after ``timeout``."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def supervise_in_thread(child: Child, tick: float = 0.5) -> threading.Thread:
    """Keep ``child`` running from a daemon thread until it is stopped."""

    def loop() -> None:
        while not child.stopping:
            child.check()
            time.sleep(tick)

    thread = threading.Thread(target=loop, name=f"supervise-{child.name}", daemon=True)
    thread.start()
    return thread


class Supervisor:
    """The children of ``python worker.py``: ``WORKER_PROCESSES`` workers and a scheduler,
    and ``roles`` (the bounce receiver, the mailbox poller) when they are configured."""

    def __init__(self, workers: int, roles: tuple[str, ...] = ()) -> None:
        python = sys.executable
        self.children = [Child(f"worker-{i + 1}", [python, "-m", "app.worker", "work"])
                         for i in range(workers)]
        self.children.append(Child("scheduler", [python, "-m", "app.worker", "scheduler"]))
        self.children.extend(Child(role, [python, "-m", "app.worker", role]) for role in roles)
        self._stop = False

    def request_stop(self, signum: int = 0, frame: Any = None) -> None:
        """SIGTERM/SIGINT: stop the children and return."""
        self._stop = True

    def run(self, tick: float = 0.5) -> int:
        """Start and watch the children until asked to stop; then stop them all."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        try:
            while not self._stop:
                for child in self.children:
                    child.check()
                time.sleep(tick)
        finally:
            for child in self.children:
                child.stopping = True
                child.signal(signal.SIGTERM)
            for child in self.children:
                child.wait(STOP_SECONDS)
        return 0


def main() -> int:
    """Entry of ``python worker.py``."""
    from app import create_app

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Read the configuration once here, so a bad one fails loudly before any child starts.
    app = create_app()
    roles = tuple(role for role, setting in (("bounces", "BOUNCE_SMTP_PORT"),
                                             ("imap", "BOUNCE_IMAP_URL"))
                  if app.config.get(setting))
    return Supervisor(int(app.config["WORKER_PROCESSES"]), roles).run()
