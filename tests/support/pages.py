"""Steps the browser tests take in Chromium: sign in, send from the page, write a template."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.flows import PASSWORD

SEOUL = ZoneInfo("Asia/Seoul")


def sign_in(page: Any, base_url: str, username: str = "alice",
            password: str = PASSWORD) -> None:
    """Sign in through the login form."""
    page.goto(base_url + "/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/send_mail")


def send_from_page(page: Any, recipients: list[str], template: str = "welcome") -> str:
    """Submit the send form for ``recipients``; the new task's id from its alert."""
    page.fill("textarea[name=recipient]", "\n".join(recipients))
    page.select_option("select[name=template_name]", template)
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    assert "템플릿 메일을 전송하였습니다." in page.locator(".flash").first.inner_text()
    return page.locator("#in-progress .alert").last.get_attribute("data-task-id")


def write_template(page: Any, base_url: str, fields: dict[str, str]) -> None:
    """Write a new template through the templates page and save it (name, subject,
    body_text, body_html as given)."""
    page.goto(base_url + "/templates")
    page.click("#template-new")
    for name, value in fields.items():
        page.fill(f"#template-form [name={name}]", value)
    page.click("#template-save")


def reserve_from_page(page: Any, recipient: str, seconds_ahead: int) -> datetime:
    """Reserve a send ``seconds_ahead`` from now, typed as Seoul wall time; that time."""
    when = datetime.fromtimestamp(int(time.time()) + seconds_ahead, UTC).astimezone(SEOUL)
    page.fill("textarea[name=recipient]", recipient)
    page.check("input[name=is_scheduled]")
    page.fill("input[name=scheduled_time]", when.strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    return when
