"""The unit tier starts no server: Redis is fakeredis (one fake server per test), rate limits
count in memory, and SQLite is a file in the test's folder (PostgreSQL only when
``TEST_DATABASE_URL`` names one, as everywhere). Fixtures that would start a redis-server,
an SMTP sink or a worker refuse here: such a test belongs in ``tests/integration``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
from flask import Flask
from redis import Redis

from app import create_app
from app.queue import bind
from tests.support import fresh_schema
from tests.support.procs import cmdline, descendants

FAKE_URL = "redis://127.0.0.1:1/0"  # never dialled: the app's queues are bound to fakeredis


SERVERS = ("redis-server", "gunicorn", "worker.py", "aiosmtpd", "chromium")


@pytest.fixture(scope="session", autouse=True)
def no_server_started() -> Iterator[None]:
    """Checked after the unit tests: no server process started while they ran is left
    (render processes, which are not servers, may be; other tiers' servers were there
    before)."""
    before = _servers()
    yield
    started = _servers() - before
    assert not started, f"unit tests started servers: {sorted(started)}"


def _servers() -> set[str]:
    lines = {f"{pid} {cmdline(pid)}" for pid in descendants(os.getpid())}
    return {line for line in lines if any(name in line for name in SERVERS)}


class NoServer:
    """What ``redis_server`` is in the unit tier: a URL nothing listens on."""

    url = FAKE_URL


@pytest.fixture(scope="session")
def redis_server() -> NoServer:
    return NoServer()


@pytest.fixture
def redis_conn() -> Iterator[Redis]:
    """A fakeredis client on a fresh fake server."""
    conn = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    yield conn
    conn.close()


@pytest.fixture
def smtp_sink() -> None:
    pytest.fail("unit tests start no SMTP sink: move this test to tests/integration")


@pytest.fixture
def start_worker() -> None:
    pytest.fail("unit tests start no worker: move this test to tests/integration")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["RATELIMIT_STORAGE_URI"] = "memory://"
    return app_config


@pytest.fixture
def app_redis(redis_conn: Redis) -> Redis:
    """The connection the app's queues use (a test may give one that refuses)."""
    return redis_conn


@pytest.fixture
def app(app_config: dict[str, Any], app_redis: Redis) -> Iterator[Flask]:
    """An app on a fresh, empty schema whose queues live in ``app_redis``."""
    app = create_app(app_config)
    bind(app, app_redis)
    with fresh_schema(app) as made:
        yield made
