"""The migrations make the schema from nothing, and the models do not drift from them."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import MetaData, create_engine, inspect, text

from app.config import database_url as normalize
from tests.support import ROOT


def _empty(url: str) -> None:
    engine = create_engine(normalize(url))
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()


def _flask(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "migrations-test-secret-key",
           "UNSUBSCRIBE_SECRET": "migrations-test-unsubscribe-secret"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_upgrade_from_empty_and_no_drift(database_url: str) -> None:
    _empty(database_url)
    try:
        upgrade = _flask(database_url, "db", "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        engine = create_engine(normalize(database_url))
        tables = set(inspect(engine).get_table_names())
        assert {"users", "tasks", "deliveries", "notifications", "alembic_version"} <= tables
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from alembic_version")).scalar() == 1
        engine.dispose()
        check = _flask(database_url, "db", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No new upgrade operations detected" in check.stdout + check.stderr
    finally:
        _empty(database_url)
