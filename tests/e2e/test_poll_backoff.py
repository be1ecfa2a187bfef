"""The open send page while the app's PostgreSQL is away: its poller gets 503, waits the
``Retry-After`` it names (not the poll interval) and says, quietly, that it cannot connect;
once the database is back the line goes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.errors import DB_RETRY_AFTER_SECONDS
from tests.support import skip_or_fail
from tests.support.flows import AuthActions
from tests.support.pages import sign_in
from tests.support.tcp_proxy import TcpProxy, through

POLL = "/notifications"
TROUBLE = "잠시 연결할 수 없습니다. 다시 시도합니다…"


@pytest.fixture
def database_url(postgres_url: str | None) -> str:
    """This page test needs the database to go away: PostgreSQL, through a proxy."""
    if postgres_url is None:
        skip_or_fail("PostgreSQL pass: set TEST_DATABASE_URL to a server (CI does)")
    return postgres_url


@pytest.fixture
def app_config(app_config: dict[str, Any], pg_proxy: TcpProxy,
               database_url: str) -> dict[str, Any]:
    app_config["SQLALCHEMY_DATABASE_URI"] = through(pg_proxy, database_url)
    return app_config


def test_the_open_page_backs_off_and_says_so(app: Flask, auth: AuthActions, pg_proxy: TcpProxy,
                                             browser: Any, live_server: str) -> None:
    auth.create()
    # Not the tier's ``page``: the browser rightly logs each 503 it gets as a console error.
    context = browser.new_context(timezone_id="Asia/Seoul", locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in(page, live_server)
        status = page.locator("#poll-status")
        assert status.get_attribute("role") == "status"
        expect(status).to_have_text("")
        with pg_proxy.down():
            with page.expect_response(lambda r: POLL in r.url and r.status == 503):
                pass
            refused_at = time.monotonic()
            expect(status).to_have_text(TROUBLE)
            with page.expect_response(lambda r: POLL in r.url, timeout=20000) as after:
                pass
            # Retry-After is waited, not the 0.5 s poll interval of this tier.
            waited = time.monotonic() - refused_at
            assert waited >= DB_RETRY_AFTER_SECONDS - 1, waited
            assert after.value.status == 503
        with page.expect_response(lambda r: POLL in r.url and r.status == 200, timeout=20000):
            pass
        expect(status).to_have_text("")
    finally:
        context.close()
