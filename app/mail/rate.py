"""The operator's send rate, shared by every worker and task through Redis.

Per second: no more than N messages may reach the relay in any one second, whatever the
machine's scheduling does to a message between its turn and its arrival. Spacing turns
1/N s apart is not enough for that: a message delayed 50 ms after its turn (a busy machine)
arrives beside the next one, and the relay counts N+1 in some second (21 at 20/s, measured
at the sink even with turns 1.1/N s apart). So each message holds its place in a window
from its turn until one second after the relay answered it (a sorted set in Redis, on
Redis's clock): a new turn is given only while fewer than N places are held. Any second at
the relay then sees at most N arrivals (a message arrives after its turn and before its
answer; the last one given a turn in that second found every other one still holding its
place). Turns are also spaced 1/N s apart so a send flows instead of bursting. A message
that never gets its answer (a crash) holds its place for MAIL_TIMEOUT_SECONDS + 1 s.
Per hour: the ``limits`` library's moving window (no more than N messages in any hour),
not a hand-written bucket. The turn is taken once the relay has accepted the recipient,
just before the data goes (``app/mail/pool.py``)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from limits import RateLimitItem, RateLimitItemPerHour
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.redis_client import limits_storage, patience, redis_client

NAMESPACE = "mailroom-smtp"
WINDOW_KEY = "mailroom-smtp:window"  # member: a turn; score: until when it holds its place
PACE_KEY = "mailroom-smtp:next-turn"  # the earliest moment of the next turn
# ARGV: N, the turn's id, how long a turn holds its place before its answer (µs), the
# spacing (µs). Returns 0 when the turn is given, else how long to wait (µs).
TURN_SCRIPT = """
local now = redis.call('TIME')
local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
local paced = tonumber(redis.call('GET', KEYS[2]) or '0')
if paced > micros then return paced - micros end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', micros)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(tonumber(first[2]) - micros, 1000)
end
local hold = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], micros + hold, ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(hold / 1000) + 1000)
redis.call('SET', KEYS[2], micros + tonumber(ARGV[4]), 'PX', 60000)
return 0
"""
# The relay answered turn ARGV[1]: it holds its place one more second, from now.
ANSWERED_SCRIPT = """
local now = redis.call('TIME')
local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
redis.call('ZADD', KEYS[1], 'XX', micros + 1000000, ARGV[1])
return 0
"""
POLL_SECONDS = 0.02  # the longest a waiting turn sleeps before asking again


class SendRate:
    """``wait_turn()`` before each message; a no-op when no rate is configured."""

    def __init__(self, redis_url: str | Mapping[str, Any], per_second: int = 0,
                 per_hour: int = 0, hold_seconds: float = 31.0) -> None:
        # A URL, or the app's config (REDIS_URL or Sentinel: app/redis_client.py).
        config = {"REDIS_URL": redis_url} if isinstance(redis_url, str) else redis_url
        self.items: list[RateLimitItem] = []
        if per_hour > 0:
            self.items.append(RateLimitItemPerHour(per_hour))
        uri, options = limits_storage(config)
        self.limiter = (MovingWindowRateLimiter(storage_from_string(uri, **options))
                        if self.items else None)
        self.per_second = max(per_second, 0)
        # The worker side's patience: a Redis restart or failover waited out, not an error.
        redis = redis_client(config, retry=patience(config)) if self.per_second else None
        self._turn_script = redis.register_script(TURN_SCRIPT) if redis else None
        self._answered_script = redis.register_script(ANSWERED_SCRIPT) if redis else None
        self.hold_us = int(hold_seconds * 1_000_000)
        self.waited = 0.0  # seconds spent waiting for a turn, by every thread together
        self._lock = threading.Lock()
        self._turn = threading.Lock()

    @classmethod
    def from_config(cls, config: Any) -> SendRate:
        """The rate ``MAIL_RATE_PER_SECOND`` / ``MAIL_RATE_PER_HOUR`` set (0: none)."""
        return cls(config, int(config["MAIL_RATE_PER_SECOND"]),
                   int(config["MAIL_RATE_PER_HOUR"]),
                   hold_seconds=float(config["MAIL_TIMEOUT_SECONDS"]) + 1.0)

    def wait_turn(self, stop: threading.Event) -> bool:
        """Block until one more message fits the hour and the second, counting it as gone at
        once; False if ``stop`` was set first."""
        if not self.wait_window(stop):
            return False
        turn = self.take_turn(stop)
        if turn is None:
            return False
        self.answered(turn)
        return True

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

    def take_turn(self, stop: threading.Event) -> str | None:
        """Block until this message may go (just before its data): its turn, to be passed
        to ``answered()`` once the relay answered (or the connection broke); None if
        ``stop`` was set first. "" when no per-second rate is set."""
        if self._turn_script is None:
            return None if stop.is_set() else ""
        turn = uuid.uuid4().hex
        args = [self.per_second, turn, self.hold_us, 1_000_000 // self.per_second]
        with self._waiting():
            # One thread of this process asks Redis at a time; the others queue here, so
            # a turn, once won, is used at once instead of after a scramble for the GIL.
            while not self._turn.acquire(timeout=0.1):
                if stop.is_set():
                    return None
            try:
                while wait := int(self._turn_script(keys=[WINDOW_KEY, PACE_KEY], args=args)):
                    if stop.wait(min(wait / 1e6, POLL_SECONDS)):
                        return None
                return turn
            finally:
                self._turn.release()

    def answered(self, turn: str) -> None:
        """The relay answered the message of ``turn`` (or its connection broke): it holds
        its place one more second, then frees it."""
        if turn and self._answered_script is not None:
            self._answered_script(keys=[WINDOW_KEY], args=[turn])

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
