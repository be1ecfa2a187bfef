"""The sign-in page in a real browser."""

from __future__ import annotations

from typing import Any

from tests.support.flows import AuthActions
from tests.support.pages import sign_in


def test_sign_in_and_out(page: Any, live_server: str, auth: AuthActions) -> None:
    auth.create()
    sign_in(page, live_server)
    assert page.locator("h1").inner_text() == "메일 보내기"
    # Bootstrap is served from the app itself: the page needs no internet.
    assert page.evaluate("typeof bootstrap") == "object"
    page.click("#logout")
    page.wait_for_url("**/auth/login")
    assert "로그아웃하였습니다." in page.content()
