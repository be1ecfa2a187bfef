"""A live server in a thread and Debian's Chromium driven by Playwright (never downloaded)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.support import skip_or_fail

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Browser tests run on SQLite only: the page is the subject here, not the database."""
    return f"sqlite:///{tmp_path / 'e2e.db'}"


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    """Pages poll fast here, and mail goes to the test's sink."""
    app_config.update(MAIL_PORT=smtp_sink.port, NOTIFICATION_POLL_SECONDS=0.5)
    return app_config


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free loopback port for the length of a test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        skip_or_fail("browser tests need Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True,
                                             args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_locale() -> str:
    """The ``page`` browser's locale (its Accept-Language): a test module may override it."""
    return "ko-KR"


@pytest.fixture
def page(browser: Any, live_server: str, browser_locale: str) -> Iterator[Any]:
    """A fresh browser context in the Asia/Seoul zone, Korean locale (closed before the
    server stops, so its polling never meets a closed port)."""
    context = browser.new_context(timezone_id="Asia/Seoul", locale=browser_locale)
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    # The pages run under a strict CSP: anything it blocked, or any script error, fails.
    assert errors == [], errors
