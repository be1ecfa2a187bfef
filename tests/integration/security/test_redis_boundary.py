"""Issue 9, point 5: Redis is a code-execution boundary, so the app refuses to start on a
Redis that is neither on this machine, nor password-protected, nor reached over TLS."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from typing import Any

import pytest

from app import create_app
from app.redis_url import check_redis_url, is_loopback
from tests.support import ROOT

LOCAL = [
    "redis://127.0.0.1:6379/0",
    "redis://127.8.9.10:6380/1",
    "redis://localhost:6379",
    "redis://LOCALHOST/0",
    "redis://[::1]:6379/0",
    "redis://[::ffff:127.0.0.1]:6379/0",
    "redis:///0",  # no host: redis-py connects to localhost
    "unix:///run/redis/redis.sock?db=0",
]
PROTECTED = [
    "redis://:s3cret@10.0.0.5:6379/0",
    "redis://mailroom:s3cret@redis.internal:6379/0",
    "redis://redis.internal:6379/0?password=s3cret",
    "rediss://redis.example.com:6380/0",
    "REDISS://10.0.0.5/0",
]
REFUSED = [
    "redis://10.0.0.5:6379/0",
    "redis://redis.internal:6379/0",
    "redis://mailroom@redis.internal:6379/0",  # a user name but no password
    "redis://:@10.0.0.5:6379/0",  # an empty password
    "redis://0.0.0.0:6379/0",
    "redis://[2001:db8::1]:6379/0",
    "redis://localhost.attacker.example:6379/0",
    "redis://127.0.0.1.nip.io:6379/0",
    "redis://192.168.1.10/0?db=0",
]


@pytest.mark.parametrize("url", LOCAL + PROTECTED)
def test_local_or_protected_urls_pass(url: str) -> None:
    check_redis_url(url)


@pytest.mark.parametrize("url", REFUSED)
def test_remote_urls_without_password_or_tls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="REDIS_URL refused") as info:
        check_redis_url(url)
    message = str(info.value)
    assert "password" in message and "rediss://" in message  # it says what to do


@pytest.mark.parametrize("url", ["http://10.0.0.5:6379/0", "10.0.0.5:6379", "", "redis://[::1"])
def test_what_is_not_a_redis_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        check_redis_url(url)


@pytest.mark.parametrize("host,expected", [
    ("127.0.0.1", True), ("127.255.255.254", True), ("::1", True), ("localhost", True),
    (None, True), ("128.0.0.1", False), ("10.0.0.1", False), ("::", False),
    ("example.com", False), ("fe80::1%eth0", False),
])
def test_is_loopback(host: str | None, expected: bool) -> None:
    assert is_loopback(host) is expected


def _overrides(tmp_path: Any, url: str) -> dict[str, Any]:
    return {"TESTING": True, "SECRET_KEY": "test", "REDIS_URL": url,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'boundary.db'}"}


def test_create_app_refuses_a_remote_redis_without_password(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="REDIS_URL refused: Redis on '10.0.0.5'"):
        create_app(_overrides(tmp_path, "redis://10.0.0.5:6379/0"))


def test_create_app_refuses_it_from_the_environment(tmp_path: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://redis.internal:6379/0")
    overrides = _overrides(tmp_path, "")
    del overrides["REDIS_URL"]
    with pytest.raises(ValueError, match="REDIS_URL refused"):
        create_app(overrides)


@pytest.mark.parametrize("url", ["redis://:s3cret@10.0.0.5:6379/0",
                                 "rediss://redis.example.com:6380/0"])
def test_create_app_accepts_a_protected_remote_redis(tmp_path: Any, url: str) -> None:
    app = create_app(_overrides(tmp_path, url))  # the connection is made lazily
    assert app.config["REDIS_URL"] == url


def test_the_refusal_is_a_clear_startup_error(tmp_path: Any) -> None:
    env = {**os.environ, "REDIS_URL": "redis://10.0.0.5:6379/0",
           "SECRET_KEY": secrets.token_urlsafe(32), "UNSUBSCRIBE_SECRET": secrets.token_urlsafe(32),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.db'}"}
    started = subprocess.run([sys.executable, "-c", "import run"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert "ValueError: REDIS_URL refused: Redis on '10.0.0.5'" in started.stderr
