"""Mailroom: send templated mail now or later, watch it go, stop it."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response

from app import config, i18n, queue
from app.converters import register as register_converters
from app.extensions import bootstrap, csrf, db, login_manager, migrate, tune_sqlite


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config from the environment, then ``overrides`` on top."""
    app = Flask(__name__, instance_relative_config=True)
    from app.security import Request

    app.request_class = Request  # some routes take larger bodies (app.security.LARGE_BODIES)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config.load(os.environ, app.instance_path))
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = config.database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    _init_extensions(app)
    register_converters(app)  # before the routes that use <id:...>
    _register_blueprints(app)

    from app.filters import register as register_filters

    register_filters(app)

    from app.cli import register as register_cli

    register_cli(app)

    @app.get("/")
    def index() -> Response:
        """The home page is the send page."""
        return redirect(url_for("mail_ui.send_mail"))

    from app import errors, security

    errors.register(app)  # a database outage answers 503, never 500
    security.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from app import admin, models  # noqa: F401  (the models must be known to Alembic)

    db.init_app(app)
    tune_sqlite(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    admin.install_guard(app)  # first of the app's before_request hooks: before CSRF's
    csrf.init_app(app)
    login_manager.init_app(app)
    bootstrap.init_app(app)
    i18n.init_app(app)  # Flask-Babel: the reader's language
    queue.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.bounces import bp as bounces_bp
    from app.lists import bp as lists_bp
    from app.mail_templates import bp as mail_templates_bp
    from app.mail_ui import bp as mail_ui_bp
    from app.notifications import bp as notifications_bp
    from app.outbox import bp as outbox_bp
    from app.settings import bp as settings_bp
    from app.suppressions import bp as suppressions_bp
    from app.tasks_ui import bp as tasks_bp
    from app.unsubscribe import bp as unsubscribe_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(mail_ui_bp)
    app.register_blueprint(mail_templates_bp)
    app.register_blueprint(tasks_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(outbox_bp)
    app.register_blueprint(unsubscribe_bp)
    app.register_blueprint(suppressions_bp)
    app.register_blueprint(lists_bp)
    app.register_blueprint(bounces_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(settings_bp)
