"""Helpers the views of several blueprints share: the page number of a list (and a page of a
search that counts nothing), the answer of a task control (JSON for the page's script, else
a flash and a redirect), the user's time zone as the browser says it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, flash, redirect, request, session
from werkzeug.wrappers import Response

from app.converters import MAX_PAGE, bounded_int
from app.extensions import db
from app.utils.datetime_converter import zone


def page_number() -> int:
    """``?page=`` from 1 to MAX_PAGE (1 when absent); anything else is a 404."""
    raw = request.args.get("page")
    if raw is None:
        return 1
    page = bounded_int(raw, MAX_PAGE)
    if page is None:
        abort(404)
    return page


@dataclass
class Window:
    """One page of a search, found without counting every match (a search over a big
    task's rows would otherwise read them all twice): one row more than a page is asked
    for, to know whether there is a next page. Read as a Flask-SQLAlchemy page is."""

    page: int
    items: list[Any] = field(default_factory=list)
    has_next: bool = False
    total: None = None  # not counted

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def pages(self) -> int:
        """At least this many (the pager shows no total)."""
        return self.page + 1 if self.has_next else self.page

    def __iter__(self) -> Any:
        return iter(self.items)


def window(query: Any, per_page: int) -> Window:
    """The page of ``query`` that ``?page=`` asks for, uncounted; past the last: 404."""
    number = page_number()
    rows = list(db.session.scalars(query.limit(per_page + 1).offset((number - 1) * per_page)))
    if number > 1 and not rows:
        abort(404)
    return Window(number, rows[:per_page], len(rows) > per_page)


def remember_zone(raw: str | None) -> str:
    """The browser's zone when it is a real IANA name, else APP_TIMEZONE; remembered."""
    name = zone(raw, current_app.config["APP_TIMEZONE"]).key
    session["timezone"] = name
    return name


def control_answer(ok: bool, message: str, back: str, state: str | None = None,
                   pending: bool = False) -> Response | tuple[dict[str, object], int]:
    """The outcome of a task control: JSON for the page's script (200 done, 202 asked and
    not done yet, 409 refused), else a flash and a redirect to ``back``."""
    category = "info" if pending else "success" if ok else "danger"
    if request.accept_mimetypes.best == "application/json":
        body: dict[str, object] = {"ok": ok, "message": message, "category": category}
        if state:
            body["state"] = state
        if pending:
            body["pending"] = True
        return body, 202 if pending else 200 if ok else 409
    flash(message, category)
    return redirect(back)
