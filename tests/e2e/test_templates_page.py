"""Templates written in the browser (issue 11): write one, preview it for each CSV
recipient, send it and watch the progress reach 100 %; a broken one is refused at save."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.support.flows import AuthActions
from tests.support.pages import send_from_page, sign_in, write_template

# The second name carries markup: the preview's HTML must show it escaped.
NAMES = {"kim@example.com": "김하나", "lee@example.com": "이<둘>", "park@example.com": "박셋"}
CSV = ["email,name", *(f"{address},{name}" for address, name in NAMES.items())]
GREETING = {"name": "인사", "subject": "{{ name }}님, 안녕하세요",
            "body_text": "{{ name }}님께\n주소: {{ email }}",
            "body_html": "<p>{{ name }}님께</p>"}


def test_write_preview_and_send_a_template(page: Any, live_server: str, auth: AuthActions,
                                           smtp_sink: Any, start_worker: Any) -> None:
    auth.create()
    start_worker(wait=False)  # it registers while the browser works
    sign_in(page, live_server)
    write_template(page, live_server, GREETING)
    expect(page.locator("#templates [data-template='인사']")).to_be_visible()

    page.goto(live_server + "/send_mail")
    page.fill("textarea[name=recipient]", "\n".join(CSV))
    page.select_option("select[name=template_name]", "인사")
    page.click("#preview-button")
    expect(page.locator("#preview-subject")).to_have_text("김하나님, 안녕하세요")
    expect(page.locator("#preview-position")).to_have_text("1 / 3")
    page.click("#preview-next")
    expect(page.locator("#preview-subject")).to_have_text("이<둘>님, 안녕하세요")
    expect(page.locator("#preview-recipient")).to_have_text("lee@example.com")
    expect(page.locator("#preview-position")).to_have_text("2 / 3")
    # The frame holds the mail's HTML with the name escaped: text, not an element.
    mail = page.frame_locator("#preview-html")
    expect(mail.locator("p")).to_have_text("이<둘>님께")
    assert "<p>이&lt;둘&gt;님께</p>" in mail.locator("body").inner_html()
    page.click("#preview-text-tab")
    expect(page.locator("#preview-text")).to_be_visible()
    expect(page.locator("#preview-text")).to_contain_text("이<둘>님께\n주소: lee@example.com")

    task_id = send_from_page(page, CSV, "인사")
    expect(page.locator(f"[id='{task_id}-progress']")).to_have_text("100", timeout=30000)
    subjects = {m.rcpt_tos[0]: str(m.message["Subject"]) for m in smtp_sink.handler.messages}
    assert subjects == {address: f"{name}님, 안녕하세요" for address, name in NAMES.items()}


def test_a_syntax_error_is_refused_at_save(page: Any, live_server: str,
                                           auth: AuthActions) -> None:
    auth.create()
    sign_in(page, live_server)
    write_template(page, live_server, {**GREETING, "body_text": "첫 줄\n{% if name %}"})
    expect(page.locator("#body_text-error")).to_contain_text("텍스트 본문 2번째 줄: 문법 오류")
    page.goto(live_server + "/templates")
    expect(page.locator("#templates [data-template='인사']")).to_have_count(0)
