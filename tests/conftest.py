"""Fixtures: app/client/runner, a signed-in client, a real redis-server, an SMTP sink,
real worker subprocesses, and the databases (SQLite always, PostgreSQL when
``TEST_DATABASE_URL`` names a server)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Worker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.devstack import RedisServer, start_smtp_sink
from app.extensions import db
from app.redis_client import redis_client
from tests.support import ROOT, fresh_schema, skip_or_fail, stop_process, wait_until
from tests.support.dkim_keys import can_make_keys, make_key
from tests.support.flows import AuthActions
from tests.support.procs import descendants, kill_leftovers
from tests.support.sink import RecordingHandler
from tests.support.tcp_proxy import TcpProxy
from tests.support.workers import worker_env

TIERS = ("unit", "integration", "e2e")
# The operators' language (app/cli_language.py) does not follow the machine running the
# tests: the commands and the workers speak Korean unless a test asks otherwise.
os.environ["MAILROOM_LANGUAGE"] = "ko"


# The longest integration modules (workers killed, Redis and the database stopped, relays
# cut; saved lists on both databases): make test runs them in a process of their own.
SLOW_MODULES = frozenset({"integration/test_faults.py", "integration/test_faults_ordinary.py",
                          "integration/test_db_outage_web.py", "integration/test_lists.py",
                          "integration/test_sentinel.py"})
# Integration modules make test runs beside the unit and browser tiers, whose process ends
# minutes before the other two (CI at 4b5275b: unit+e2e 631 s, slow 825 s, integration 861 s).
BESIDE_MODULES = frozenset({
    "integration/test_api.py", "integration/test_api_idempotency.py",
    "integration/test_api_webhooks.py", "integration/test_bounce_flow.py",
    "integration/test_bounce_mailbox.py", "integration/test_bounce_receiver.py",
    "integration/test_reserve.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its tier's folder: ``pytest -m unit`` runs tests/unit alone; the
    longest integration modules are ``slow`` as well, and a few others ``beside``."""
    tests = Path(__file__).parent
    for item in items:
        tier = item.path.relative_to(tests).parts[0]
        if tier in TIERS:
            item.add_marker(tier)
        if item.path.relative_to(tests).as_posix() in SLOW_MODULES:
            item.add_marker("slow")
        if item.path.relative_to(tests).as_posix() in BESIDE_MODULES:
            item.add_marker("beside")


# -- servers -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def key_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DKIM test key (dkimpy's key tool runs openssl)."""
    if not can_make_keys():
        skip_or_fail("DKIM key generation needs openssl")
    return make_key(tmp_path_factory.mktemp("dkim") / "mailroom.key")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """Our own redis-server for the whole session (never the one on 6379)."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_conn(redis_server: RedisServer) -> Iterator[Redis]:
    """A connection to the session's redis-server, flushed around each test."""
    conn = Redis.from_url(redis_server.url)
    conn.flushall()
    yield conn
    conn.flushall()
    conn.close()


@pytest.fixture
def smtp_sink() -> Iterator[Any]:
    """A real SMTP server on loopback recording what it accepts (``.handler``)."""
    handler = RecordingHandler()
    controller = start_smtp_sink(handler)
    controller.handler = handler
    yield controller
    controller.stop()


# -- databases -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this run, on the server TEST_DATABASE_URL names."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield None
        return
    url = make_url(server).set(drivername="postgresql+psycopg")
    name = f"mailroom_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any, postgres_url: str | None) -> str:
    """Each DB test runs on SQLite and, when configured, on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    if postgres_url is None:
        skip_or_fail("PostgreSQL pass: set TEST_DATABASE_URL to a server (CI does)")
    return postgres_url


@pytest.fixture
def pg_proxy(database_url: str) -> Iterator[TcpProxy]:
    """A cuttable way to the test's PostgreSQL server (the machine's server stays up)."""
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy
    proxy.close()


# -- the app -------------------------------------------------------------------------------

@pytest.fixture
def app_config(database_url: str, redis_conn: Redis, redis_server: RedisServer,
               tmp_path: Any) -> dict[str, Any]:
    """The overrides every test app gets; tests may add to them before ``app`` is built."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "UNSUBSCRIBE_SECRET": "test-unsubscribe-secret-not-for-production",
        "SESSION_COOKIE_SECURE": False,  # the test client and live servers speak plain http
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_server.url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,  # nothing listens: a test that sends mail passes its sink
        "WORKER_PROCESSES": 1,  # per worker.py (the default is 2): tests that need two say so
        # A password check costs 0.12 s with scrypt: a few hundred sign-ins a run.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "OUTBOX_DIR": None,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """An app on a fresh, empty schema."""
    with fresh_schema(create_app(app_config)) as made:
        yield made


@pytest.fixture
def make_app() -> Iterator[Callable[[dict[str, Any]], Flask]]:
    """More apps on the test's database (other settings); their connections closed after."""
    made: list[Flask] = []

    def make(overrides: dict[str, Any]) -> Flask:
        made.append(create_app(overrides))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()



@pytest.fixture
def auth(client: FlaskClient, app: Flask) -> AuthActions:
    return AuthActions(client, app)


@pytest.fixture
def signed_in(client: FlaskClient, auth: AuthActions) -> FlaskClient:
    """A client signed in as ``alice``."""
    auth.create()
    response = auth.login()
    assert response.status_code == 302
    return client


# -- workers -------------------------------------------------------------------------------

@pytest.fixture
def start_worker(app: Flask, redis_conn: Redis) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start real ``python worker.py`` processes against the test's DB, Redis and sink."""
    started: list[subprocess.Popen] = []
    conn = redis_client(app.config)  # the test's own server (or Sentinel), if it has one

    def start(extra_env: dict[str, str] | None = None, wait: bool = True) -> subprocess.Popen:
        env = {**os.environ, **worker_env(app), "PYTHONPATH": ROOT, **(extra_env or {})}
        before = len(Worker.all(connection=conn))
        process = subprocess.Popen([sys.executable, os.path.join(ROOT, "worker.py")], env=env,
                                   cwd=ROOT)
        started.append(process)
        if wait:
            wait_until(lambda: len(Worker.all(connection=conn)) > before
                       or process.poll() is not None, 20, "the worker to register")
            assert process.poll() is None, "worker.py exited at start"
        return process

    yield start
    for process in started:
        family = descendants(process.pid)  # its worker(s) and scheduler, a horse at work
        stop_process(process, timeout=15)
        kill_leftovers(family)
    conn.close()
