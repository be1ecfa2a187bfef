"""Configuration from the environment, and the account CLI."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app import config
from app.models import User


def test_defaults() -> None:
    values = config.load({}, "/srv/instance")
    assert values["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/instance/mailroom.db"
    assert values["APP_TIMEZONE"] == "Asia/Seoul"
    assert values["RESERVATION_MIN_LEAD_SECONDS"] == 60
    assert values["RESERVATION_MAX_DAYS"] == 30
    assert values["NOTIFICATION_POLL_SECONDS"] == 2
    assert values["MAIL_USE_TLS"] is False


def test_environment_wins() -> None:
    values = config.load({"DATABASE_URL": "postgresql://u@h/db", "MAIL_USE_TLS": "true",
                          "RESERVATION_MIN_LEAD_SECONDS": "5"}, "/x")
    assert values["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert values["MAIL_USE_TLS"] is True
    assert values["RESERVATION_MIN_LEAD_SECONDS"] == 5


GOOD = "plum tree in June"


def test_users_create(runner: Any, app: Flask) -> None:
    result = runner.invoke(args=["users", "create", "bob", "--password", GOOD])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = User.by_username("bob")
        assert user is not None and user.check_password(GOOD)
        assert user.password_hash != GOOD
    again = runner.invoke(args=["users", "create", "bob", "--password", GOOD])
    assert again.exit_code != 0
    assert "이미 있는 이름" in again.output


def test_worker_and_quota_settings_from_the_environment() -> None:
    values = config.load({"WORKER_PROCESSES": "3", "SCHEDULER_LOCK_SECONDS": "7",
                          "QUOTA_RECIPIENTS_PER_DAY": "10", "QUOTA_OPEN_RESERVATIONS": "2"}, "/x")
    assert (values["WORKER_PROCESSES"], values["SCHEDULER_LOCK_SECONDS"]) == (3, 7)
    assert (values["QUOTA_RECIPIENTS_PER_DAY"], values["QUOTA_OPEN_RESERVATIONS"]) == (10, 2)
    defaults = config.load({}, "/x")
    assert (defaults["WORKER_STALE_SECONDS"], defaults["RECONCILE_INTERVAL_SECONDS"]) == (10, 2)
    assert defaults["QUOTA_RECIPIENTS_PER_DAY"] == 2000


def test_passwords_are_hashed_with_scrypt_unless_configured(runner: Any, app: Any) -> None:
    """The tests' fast hash is theirs alone: the default is werkzeug's scrypt."""
    assert config.load({}, "/x")["PASSWORD_HASH_METHOD"] == "scrypt"
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    assert runner.invoke(args=["users", "create", "carol", "--password", GOOD]).exit_code == 0
    with app.app_context():
        assert User.by_username("carol").password_hash.startswith("scrypt:")
