"""Flask extensions, created unbound; ``create_app`` binds them."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event, text
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so Alembic can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
bootstrap = Bootstrap5()
babel = Babel()  # the locale selector is bound with it (app/i18n.py)
# Storage and switches come from the app's config (app.security.init_limiter).
limiter = Limiter(key_func=get_remote_address)


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; NORMAL: no fsync per commit (WAL stays
    # consistent); a busy writer is waited for instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def tune_sqlite(app: Flask) -> None:
    """Give every SQLite connection of ``app`` WAL, NORMAL sync and a busy timeout."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)


# Rows written at once past which PostgreSQL's statistics of the table are refreshed.
BULK_ROWS = 1000


def after_bulk_write(table: str, rows: int) -> None:
    """After ``rows`` were written to ``table`` at once (a list's import, a list send's
    recipients), refresh PostgreSQL's statistics of it, as its manual advises after a bulk
    load: until autovacuum gets to it, the planner still counts the table as it was and
    reads a whole send's rows to show one page of them. Committed; SQLite needs none."""
    if rows < BULK_ROWS or db.engine.dialect.name != "postgresql":
        return
    db.session.execute(text(f"ANALYZE {db.metadata.tables[table].name}"))
    db.session.commit()
