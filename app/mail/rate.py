"""The operator's send rate, shared by every worker and task through Redis: the ``limits``
library's moving window (no more than N messages in any window), not a hand-written bucket.

A moving window alone lets a second's N messages go in a burst at its start; they reach
the relay a few milliseconds after their turn, each a little differently, so two bursts
at the edges of two windows show as more than N in one second there. Turns under a
per-second rate are therefore also spaced 1/N apart: the next free moment is kept in
Redis (one key, set by a short script on Redis's own clock) and shared by every worker.
``limits`` has no window shorter than a second, so this one spacing is ours."""

from __future__ import annotations

import threading
import time
from typing import Any

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis import Redis

from app.redis_url import limits_storage_url

NAMESPACE = "mailroom-smtp"
PACE_KEY = "mailroom-smtp:next-turn"
# Take the next free moment (microseconds on Redis's clock), move it on by ARGV[1]; how
# long the caller waits for it.
PACE_SCRIPT = """
local now = redis.call('TIME')
local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
local slot = math.max(micros, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', 60000)
return slot - micros
"""


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
        self.spacing_us = 1_000_000 // per_second if per_second > 0 else 0
        self._pace = (Redis.from_url(redis_url).register_script(PACE_SCRIPT)
                      if self.spacing_us else None)
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
                if self._pace is not None and stop.wait(
                        int(self._pace(keys=[PACE_KEY], args=[self.spacing_us])) / 1e6):
                    return False
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

