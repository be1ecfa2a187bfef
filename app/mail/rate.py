"""The operator's send rate, shared by every worker and task through Redis.

Per second: turns are spaced through Redis (the next free moment is one key, moved on by a
short script on Redis's own clock, shared by every worker) 1.1/N s apart — a tenth of
headroom, because a message reaches the relay some milliseconds after its turn, each a
little differently (up to about 0.1 s on a busy machine), and turns exactly 1/N apart then
show as N+1 or N+2 in some second at the relay (21-22 at 20/s, measured; one slot of
headroom still let 21 through now and then). ``limits`` has no window shorter than a
second, so this spacing is ours. Per hour: the ``limits`` library's moving window (no more than N
messages in any hour), not a hand-written bucket. The turn is taken once the relay has
accepted the recipient, just before the data goes (``app/mail/pool.py``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from limits import RateLimitItem, RateLimitItemPerHour
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis import Redis

from app.redis_url import limits_storage_url

NAMESPACE = "mailroom-smtp"
HEADROOM = 1.1  # turns 10 % further apart than the rate: arrival jitter stays under it
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
        if per_hour > 0:
            self.items.append(RateLimitItemPerHour(per_hour))
        self.limiter = (MovingWindowRateLimiter(storage_from_string(
            limits_storage_url(redis_url))) if self.items else None)
        self.spacing_us = int(HEADROOM * 1_000_000 / per_second) if per_second > 0 else 0
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
        """Block until one more message fits the hour and its turn of the second has come;
        False if ``stop`` was set first."""
        return self.wait_window(stop) and self.take_turn(stop)

    def wait_window(self, stop: threading.Event) -> bool:
        """Block until one more message fits the hourly window (a wait that may be long:
        taken before the message begins); False if ``stop`` was set first."""
        if self.limiter is None:
            return not stop.is_set()
        with self._waiting():
            while not stop.is_set():
                if all(self.limiter.test(item, NAMESPACE) for item in self.items) and all(
                        self.limiter.hit(item, NAMESPACE) for item in self.items):
                    return True
                stop.wait(self._pause())
            return False

    def take_turn(self, stop: threading.Event) -> bool:
        """Block until this message's moment of the second (just before its data goes);
        False if ``stop`` was set first."""
        if self._pace is None:
            return not stop.is_set()
        with self._waiting():
            # One thread of this process asks Redis at a time; the others queue here, so
            # a turn, once won, is used at once instead of after a scramble for the GIL.
            while not self._turn.acquire(timeout=0.1):
                if stop.is_set():
                    return False
            try:
                delay = int(self._pace(keys=[PACE_KEY], args=[self.spacing_us])) / 1e6
                return not stop.wait(delay)
            finally:
                self._turn.release()

    @contextmanager
    def _waiting(self) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
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

