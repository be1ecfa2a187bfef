"""The integration tier's workers also run the job functions of ``tests/jobs.py`` and
``tests/jobs_cancel.py``: a worker runs only an allowlist (app/worker/rqworker.py)."""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

import pytest

from tests import jobs, jobs_cancel


def job_names(*modules: ModuleType) -> list[str]:
    """The dotted names of the functions each module defines (not those it imports)."""
    return [f"{module.__name__}.{name}" for module in modules
            for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__]


TEST_JOBS = job_names(jobs, jobs_cancel)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The shared overrides, plus the test job functions on the workers' allowlist."""
    app_config["WORKER_JOB_ALLOWLIST"] = TEST_JOBS
    return app_config
