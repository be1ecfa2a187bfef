"""The language switch in a real browser (issue 21): an English browser gets the sign-in
page in English, the navbar's switch turns the pages Korean with no script, and the choice
saved on the account outlives a sign-out and a sign-in; axe finds nothing on either."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.axe import assert_no_violations
from tests.support.flows import AuthActions
from tests.support.pages import sign_in

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture
def browser_locale() -> str:
    return "en-US"  # the browser asks for English


def _chrome(page: Any) -> str:
    """The page's visible words, less what is marked as Korean (the switch's 한국어)."""
    return page.evaluate("""() => {
        const copy = document.body.cloneNode(true);
        copy.querySelectorAll('[lang="ko"]').forEach(e => e.remove());
        return copy.innerText + ' ' + document.title;
    }""")


def test_english_then_korean_and_kept(page: Any, live_server: str, auth: AuthActions) -> None:
    auth.create()
    page.goto(live_server + "/auth/login")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Sign in"
    assert not HANGUL.search(_chrome(page)), _chrome(page)
    assert_no_violations(page)
    sign_in(page, live_server)
    assert page.locator("#main-nav .nav-link").first.inner_text() == "Send"
    assert_no_violations(page)  # the send page's frame in English (its body is next)
    page.click("#language-switch button[lang=ko]")
    page.wait_for_url("**/send_mail")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.locator("#main-nav .nav-link").first.inner_text() == "보내기"
    assert_no_violations(page)
    page.click("#logout")
    page.wait_for_url("**/auth/login")
    assert "로그아웃하였습니다." in page.content()  # still Korean, though the browser asks en
    sign_in(page, live_server)
    assert page.locator("html").get_attribute("lang") == "ko"
