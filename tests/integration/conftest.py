"""The integration tier's workers also run the job functions of ``tests/jobs.py`` and
``tests/jobs_cancel.py``: a worker runs only an allowlist (app/worker/rqworker.py). Shared
fixtures of the fault tests: ``own_redis``. A test that asks for ``smtp_sink`` mails it."""

from __future__ import annotations

import inspect
import os
import signal
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from app.devstack import RedisServer
from tests import jobs, jobs_cancel


def job_names(*modules: ModuleType) -> list[str]:
    """The dotted names of the functions each module defines (not those it imports)."""
    return [f"{module.__name__}.{name}" for module in modules
            for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__]


TEST_JOBS = job_names(jobs, jobs_cancel)


@pytest.fixture
def app_config(app_config: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """The shared overrides, plus the test job functions on the workers' allowlist; mail to
    the test's sink when it has one (``smtp_sink``), Redis its own when it has one
    (``own_redis``)."""
    app_config["WORKER_JOB_ALLOWLIST"] = TEST_JOBS
    if "smtp_sink" in request.fixturenames:
        app_config["MAIL_PORT"] = request.getfixturevalue("smtp_sink").port
    if "own_redis" in request.fixturenames:
        app_config["REDIS_URL"] = request.getfixturevalue("own_redis").url
    return app_config


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server this test may kill, pause, fill and restart (empty, on the same port
    with the same password: ``own_redis.start()`` again)."""
    server = RedisServer().start()
    yield server
    if server.process is not None and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()
