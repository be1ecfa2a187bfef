"""Bounded integers for URLs: an id or page number a database cannot hold is a 404, never a
500 (SQLite raised OverflowError past 2**63 - 1; PostgreSQL's int4 ids stop at 2**31 - 1)."""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1  # ids are INTEGER columns: int4 on PostgreSQL
MAX_PAGE = 10**9  # (page - 1) * per_page stays far below SQLite's 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII digits only: "١٢" is not a number here


def bounded_int(raw: str | None, maximum: int) -> int | None:
    """``raw`` as an integer from 1 to ``maximum``, or None when it is anything else."""
    if raw is None or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if 1 <= value <= maximum else None


class IdConverter(BaseConverter):
    """``<id:task_id>``: a row id from 1 to MAX_ID; anything else does not match (404)."""

    regex = r"[0-9]{1,10}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = bounded_int(value, MAX_ID)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


def register(app: Flask) -> None:
    """Install the converters on ``app``'s URL map (before any route that uses them)."""
    app.url_map.converters["id"] = IdConverter
