"""What a test's worker subprocess is told: the test app's configuration as environment."""

from __future__ import annotations

from flask import Flask

from app import config
from tests.support import ROOT


def worker_env(app: Flask) -> dict[str, str]:
    """The test app's configuration as the environment a subprocess reads it from."""
    env = {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    for key in config.load({}, ROOT):
        value = app.config.get(key)
        if key.startswith(("SQLALCHEMY_", "BOOTSTRAP_")) or value is None:
            continue
        if isinstance(value, list):
            value = ",".join(value)
        env[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return env
