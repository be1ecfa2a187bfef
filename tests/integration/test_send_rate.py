"""The shared send rate (``limits``' moving window in the test's real Redis)."""

from __future__ import annotations

import threading

from redis import Redis

from app.devstack import RedisServer
from app.mail.rate import PACE_KEY, SendRate


def test_no_rate_never_waits(redis_conn: Redis, redis_server: RedisServer) -> None:
    rate = SendRate(redis_server.url)
    assert rate.limiter is None
    assert all(rate.wait_turn(threading.Event()) for _ in range(1000))


def test_the_window_is_shared_and_a_stop_ends_the_wait(redis_conn: Redis,
                                                       redis_server: RedisServer) -> None:
    first, second = SendRate(redis_server.url, 0, 5), SendRate(redis_server.url, 0, 5)
    go = threading.Event()
    assert [first.wait_turn(go) for _ in range(3)] == [True] * 3
    assert [second.wait_turn(go) for _ in range(2)] == [True] * 2  # another worker's share
    stop = threading.Event()
    stop.set()
    assert second.wait_turn(stop) is False  # the hour is full: it would have to wait
    assert redis_conn.keys("LIMITS*")


def test_a_waiting_turn_comes_when_the_window_moves(redis_conn: Redis,
                                                    redis_server: RedisServer) -> None:
    rate = SendRate(redis_server.url, 2)
    go = threading.Event()
    assert rate.wait_turn(go) and rate.wait_turn(go)
    assert rate.wait_turn(go)  # blocks until the first entry leaves the 1 s window
    assert rate.waited > 0


def test_turns_are_spaced_across_senders(redis_conn: Redis, redis_server: RedisServer) -> None:
    first, second = SendRate(redis_server.url, 20), SendRate(redis_server.url, 20)
    go = threading.Event()
    slots = []
    for rate in (first, second) * 3:
        assert rate.wait_turn(go)
        slots.append(int(redis_conn.get(PACE_KEY)))
    # Each turn, whichever sender took it, moved the next free moment on by 1/20 s at least.
    assert all(b - a >= 50_000 for a, b in zip(slots, slots[1:], strict=False))


def test_a_second_keeps_a_tenth_of_headroom(redis_conn: Redis,
                                            redis_server: RedisServer) -> None:
    """Turns at 20/s are 55 ms apart: a message reaches the relay a little after its turn,
    and turns exactly 1/20 s apart showed as 21-22 in some second at the relay."""
    rate = SendRate(redis_server.url, 20)
    go = threading.Event()
    slots = []
    for _ in range(4):
        assert rate.wait_turn(go)
        slots.append(int(redis_conn.get(PACE_KEY)))
    assert all(b - a >= 55_000 for a, b in zip(slots, slots[1:], strict=False))
