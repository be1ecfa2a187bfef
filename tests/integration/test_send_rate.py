"""The shared send rate (``limits``' moving window in the test's real Redis)."""

from __future__ import annotations

import random
import threading
import time

from redis import Redis

from app.devstack import RedisServer
from app.mail.rate import PACE_KEY, WINDOW_KEY, SendRate


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
    # Each turn, whichever sender took it, moved the next free moment on by 1/20 s at least
    # (the window does the counting; this keeps a send flowing instead of bursting).
    assert all(b - a >= 50_000 for a, b in zip(slots, slots[1:], strict=False))


def test_a_turn_holds_its_place_until_a_second_after_its_answer(
        redis_conn: Redis, redis_server: RedisServer) -> None:
    rate = SendRate(redis_server.url, 2, hold_seconds=30)
    go, stop = threading.Event(), threading.Event()
    first, second = rate.take_turn(go), rate.take_turn(go)
    assert first and second
    timer = threading.Timer(1.5, stop.set)  # neither answered: a third must still wait
    timer.start()
    assert rate.take_turn(stop) is None
    rate.answered(first)
    assert rate.take_turn(go)  # once the first's answer is a second old
    held = redis_conn.zrange(WINDOW_KEY, 0, -1)
    assert len(held) == 2 and first.encode() not in held


def test_late_arrivals_never_crowd_a_second(redis_conn: Redis,
                                            redis_server: RedisServer) -> None:
    """Messages held up between their turn and the relay (a busy machine) by 0-300 ms:
    still no more than N arrive in any one second (the sink of the fault tests measures the
    same with real workers)."""
    rate, go = SendRate(redis_server.url, 3), threading.Event()
    arrivals: list[float] = []
    lock = threading.Lock()

    def send(delay: float) -> None:
        turn = rate.take_turn(go)
        assert turn
        time.sleep(delay)  # the message on its way to the relay
        with lock:
            arrivals.append(time.monotonic())
        rate.answered(turn)

    threads = [threading.Thread(target=send, args=(random.uniform(0, 0.3),))
               for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    arrivals.sort()
    assert len(arrivals) == 12
    busiest = max(sum(1 for b in arrivals[i:] if b - a < 1.0) for i, a in enumerate(arrivals))
    assert busiest <= 3
