"""Waiting out a database that went away: the worker side keeps its place (a claim to
write, a run to start or to end) and tries again with back-off, instead of failing a send
for a restart of PostgreSQL."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_PAUSE, LONGEST_PAUSE = 0.2, 1.0
# What a database that is away raises (a reset connection, a refused one).
GONE = (OperationalError, InterfaceError)


def database_gone(exc: BaseException) -> bool:
    """True for an error that says the database cannot be reached right now."""
    return isinstance(exc, GONE) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def patiently(work: Callable[[], T], seconds: float, what: str,
              stop: Callable[[], bool] = lambda: False) -> T:
    """``work()``, tried again while the database is away (the session rolled back between
    tries), for up to ``seconds``; then its error. ``stop()`` true ends the wait early."""
    deadline = time.monotonic() + seconds
    pause, warned = FIRST_PAUSE, False
    while True:
        try:
            return work()
        except DBAPIError as exc:
            if not database_gone(exc) or time.monotonic() + pause > deadline or stop():
                raise
            if not warned:
                log.warning("%s: the database is away (%s); trying again", what,
                            str(exc).splitlines()[0][:200])
                warned = True
            _rollback()
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)


def _rollback() -> None:
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.remove()  # the connection is gone with the database: start afresh
