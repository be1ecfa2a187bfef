"""`make run` with sentinels named starts no private Redis and names no REDIS_URL: the
app's clients then go through Sentinel (app/redis_client.py)."""

from __future__ import annotations

from collections.abc import Callable

from app import devstack


def test_sentinels_named_start_no_private_redis(monkeypatch) -> None:
    started: list[str] = []
    monkeypatch.setattr(devstack.RedisServer, "start",
                        lambda self: started.append("redis") or self)
    env = {"SECRET_KEY": "k" * 40, "UNSUBSCRIBE_SECRET": "u" * 40,
           "MAIL_SERVER": "127.0.0.1", "REDIS_SENTINELS": "127.0.0.1:26379"}
    stack: list[Callable[[], None]] = []
    devstack._prepare(env, stack)
    assert started == [] and "REDIS_URL" not in env and stack == []
