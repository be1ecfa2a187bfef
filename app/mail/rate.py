"""The operator's send rate, shared by every worker and task through Redis: the ``limits``
library's moving window (no more than N messages in any window), not a hand-written bucket."""

from __future__ import annotations

import threading
import time
from typing import Any

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.redis_url import limits_storage_url

NAMESPACE = "mailroom-smtp"


class SendRate:
    """``wait_turn()`` before each message; a no-op when no rate is configured."""

    def __init__(self, redis_url: str, per_second: int = 0, per_hour: int = 0) -> None:
        self.items: list[RateLimitItem] = []
        if per_second > 0:
            self.items.append(RateLimitItemPerSecond(per_second))
        if per_hour > 0:
            self.items.append(RateLimitItemPerHour(per_hour))
        self.limiter = (MovingWindowRateLimiter(storage_from_string(
            limits_storage_url(redis_url))) if self.items else None)
        self.waited = 0.0  # seconds spent waiting for a turn, by every thread together
        self._lock = threading.Lock()
        self._turn = threading.Lock()

    @classmethod
    def from_config(cls, config: Any) -> SendRate:
        """The rate ``MAIL_RATE_PER_SECOND`` / ``MAIL_RATE_PER_HOUR`` set (0: none)."""
        return cls(config["REDIS_URL"], int(config["MAIL_RATE_PER_SECOND"]),
                   int(config["MAIL_RATE_PER_HOUR"]))

    def wait_turn(self, stop: threading.Event) -> bool:
        """Block until one more message fits every window; False if ``stop`` was set first."""
        if self.limiter is None:
            return not stop.is_set()
        started = time.monotonic()
        try:
            # One thread of this process asks Redis at a time; the others queue here, so
            # a turn, once won, is used at once instead of after a scramble for the GIL.
            while not self._turn.acquire(timeout=0.1):
                if stop.is_set():
                    return False
            try:
                while not stop.is_set():
                    if all(self.limiter.test(item, NAMESPACE) for item in self.items) and all(
                            self.limiter.hit(item, NAMESPACE) for item in self.items):
                        return True
                    stop.wait(self._pause())
                return False
            finally:
                self._turn.release()
        finally:
            with self._lock:
                self.waited += time.monotonic() - started

    def _pause(self) -> float:
        """Until the tightest window frees a slot (at least 5 ms, at most 0.2 s)."""
        assert self.limiter is not None
        now = time.time()
        resets = [self.limiter.get_window_stats(item, NAMESPACE).reset_time
                  for item in self.items]
        return min(max(min(resets) - now, 0.005), 0.2)

