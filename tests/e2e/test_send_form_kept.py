"""Issue 24, points 1 and 2 in Chromium: one control says when (지금 보내기 / 예약), the time
field is there only for 예약; a time without 예약 sends nothing and says so on the field;
every refused send comes back with every field as it was, the message on the field it
concerns (aria-invalid, aria-describedby) and the focus there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.mail_ui.plan import RESERVATION_WITHOUT_TIME, TIME_WITHOUT_RESERVATION
from tests.support.flows import AuthActions, tasks
from tests.support.pages import sign_in, write_template

CSV_NICK = "email,nick\nkim@example.com,하나\n"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["MAIL_MAX_RECIPIENTS"] = 3
    return app_config


@pytest.fixture
def no_js_page(browser: Any, live_server: str) -> Iterator[Any]:
    """A browser with JavaScript off: the page's fallback."""
    context = browser.new_context(timezone_id="Asia/Seoul", locale="ko-KR",
                                  java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def refused_on(page: Any, field: str, message: str) -> None:
    """The refusal is said on ``field``: marked invalid, described by the message, focused."""
    control = page.locator(f"[name={field}]").first
    expect(control).to_have_attribute("aria-invalid", "true")
    described = control.get_attribute("aria-describedby").split()
    assert f"{field}-error" in described
    expect(page.locator(f"[id='{field}-error']")).to_contain_text(message)
    assert page.evaluate("document.activeElement.name") == field


def test_a_time_without_reservation_does_not_send(no_js_page: Any, live_server: str,
                                                  app: Flask, auth: AuthActions) -> None:
    """Without JavaScript the time field is always there: a time with 지금 보내기 is refused
    on the field, and nothing is created."""
    auth.create()
    page = no_js_page
    sign_in(page, live_server)
    assert page.is_checked("#is_scheduled-now")
    page.fill("textarea[name=recipient]", "a@example.com")
    page.select_option("select[name=template_name]", "notice")
    page.fill("input[name=scheduled_time]", "2030-01-02T03:04")
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    assert TIME_WITHOUT_RESERVATION in page.locator(".flash").first.inner_text()
    assert tasks(app) == []
    refused_on(page, "scheduled_time", TIME_WITHOUT_RESERVATION)
    assert page.input_value("textarea[name=recipient]") == "a@example.com"
    assert page.input_value("select[name=template_name]") == "notice"
    assert page.input_value("input[name=scheduled_time]") == "2030-01-02T03:04"
    assert page.is_checked("#is_scheduled-now")


def test_the_time_field_is_there_only_for_a_reservation(page: Any, live_server: str,
                                                        auth: AuthActions) -> None:
    auth.create()
    sign_in(page, live_server)
    time_group = page.locator("#scheduled-time-group")
    expect(time_group).to_be_hidden()  # 지금 보내기: not shown, not in the tab order
    assert page.is_checked("#is_scheduled-now")
    page.check("input[name=is_scheduled]")  # the first of the name is 예약
    assert page.is_checked("#is_scheduled")
    expect(time_group).to_be_visible()
    assert page.evaluate("document.activeElement.name") == "scheduled_time"
    page.check("#is_scheduled-now")
    expect(time_group).to_be_hidden()
    assert page.locator("input[name=scheduled_time]").is_disabled()  # not posted: now is now


def fill(page: Any, recipients: str, template: str) -> None:
    page.fill("textarea[name=recipient]", recipients)
    page.select_option("select[name=template_name]", template)


def kept(page: Any, recipients: str, template: str) -> None:
    assert page.input_value("textarea[name=recipient]") == recipients
    assert page.input_value("select[name=template_name]") == template


def test_every_refusal_keeps_every_field(page: Any, live_server: str, app: Flask,
                                         auth: AuthActions, tmp_path: Path) -> None:
    auth.create()
    sign_in(page, live_server)
    write_template(page, live_server, {"name": "greeting", "subject": "{{ name }}님",
                                       "body_text": "{{ name }}님께"})
    page.goto(live_server + "/send_mail")
    cases = [  # (recipients, template, the field refused, the message)
        ("a@example.com\nnot-an-address", "notice", "recipient", "올바르지 않은 이메일 주소"),
        (CSV_NICK, "greeting", "recipient", "템플릿이 쓰는 필드(name)"),
        ("a@x.com, b@x.com, c@x.com, d@x.com", "notice", "recipient", "3명까지"),
    ]
    for recipients, template, field, message in cases:
        fill(page, recipients, template)
        page.click("#send-button")
        page.wait_for_url("**/send_mail")
        refused_on(page, field, message)
        kept(page, recipients, template)
        assert page.is_checked("#is_scheduled-now")

    # 예약 without a time: the mode is kept, the time field shown with the message.
    fill(page, "a@example.com", "notice")
    page.check("#is_scheduled")
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    refused_on(page, "scheduled_time", RESERVATION_WITHOUT_TIME)
    kept(page, "a@example.com", "notice")
    assert page.is_checked("#is_scheduled")
    expect(page.locator("#scheduled-time-group")).to_be_visible()

    # The box and a file: the file is named and asked for again; the box is kept.
    upload = tmp_path / "명단.csv"
    upload.write_text("email\nb@example.com\n", encoding="utf-8")
    page.check("#is_scheduled-now")
    fill(page, "a@example.com", "welcome")
    page.set_input_files("input[name=recipient_file]", str(upload))
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    refused_on(page, "recipient_file", "한 곳에만")
    kept(page, "a@example.com", "welcome")
    expect(page.locator("#recipient-file-name")).to_have_text("명단.csv")
    assert "recipient_file-again" in page.get_attribute("input[name=recipient_file]",
                                                          "aria-describedby")
    assert tasks(app) == []


def test_the_template_chosen_last_stays_chosen(page: Any, live_server: str,
                                               auth: AuthActions) -> None:
    auth.create()
    sign_in(page, live_server)
    fill(page, "a@example.com", "notice")
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    assert page.input_value("select[name=template_name]") == "notice"
    assert page.input_value("textarea[name=recipient]") == ""  # a sent form starts afresh
    page.goto(live_server + "/send_mail")
    assert page.input_value("select[name=template_name]") == "notice"
