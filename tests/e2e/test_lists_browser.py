"""Audiences in Chromium: a list made on its page, a CSV of about 2,000 rows (a few bad)
chosen in #members_file and imported while the progress bar moves, the report and a
member searched, then "send to this list", and the task's detail page with every member
delivered; axe on /lists and /lists/<id> (with a report) at 1280 and 390 wide."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.support import wait_until
from tests.support.axe import report, violations
from tests.support.flows import AuthActions, ended, wait_for_task
from tests.support.pages import sign_in

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
ROWS = 2_000
BAD = (17, 450, 999, 1500, 1999)  # rows (1-based, after the header) with a bad address

# Every change of the import bar's aria-valuenow, kept in sessionStorage: the page reloads
# itself when the import ends, and the record must outlive that.
WATCH_BAR = """(barId) => {
  sessionStorage.setItem('bar', '[]');
  const keep = () => {
    const bar = document.getElementById(barId);
    if (!bar) { return; }
    const seen = JSON.parse(sessionStorage.getItem('bar'));
    seen.push(Number(bar.getAttribute('aria-valuenow')));
    sessionStorage.setItem('bar', JSON.stringify(seen));
  };
  keep();
  new MutationObserver(keep).observe(document.getElementById('import-progress'),
    {attributes: true, subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """A day's quota above the list's size (the default is 2,000)."""
    app_config.update(QUOTA_RECIPIENTS_PER_DAY=10_000)
    return app_config


def members_csv(folder: Path, rows: int = ROWS) -> tuple[Path, int]:
    """A CSV file of ``rows`` members (those of ``BAD`` refused); its path and the valid."""
    lines = ["email,name,city"]
    for n in range(1, rows + 1):
        address = f"bad{n}.example.com" if n in BAD else f"reader{n:04d}@example.com"
        lines.append(f"{address},독자{n},{'서울' if n % 2 else '부산'}")
    path = folder / "독자.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, rows - len([n for n in BAD if n <= rows])


def new_list(page: Any, base: str, name: str) -> int:
    """Make a list on /lists/new; its id (from the page it lands on)."""
    page.goto(base + "/lists/new")
    page.fill("input[name=name]", name)
    page.click("#list-create")
    page.wait_for_url(re.compile(r".*/lists/\d+$"))
    expect(page.locator("#list-name")).to_have_text(name)
    return int(page.url.rsplit("/", 1)[1])


def import_file(page: Any, path: Path) -> str:
    """Choose ``path`` in #members_file and submit; the import task's id."""
    page.set_input_files("#members_file", str(path))
    page.click("#import-button")
    page.wait_for_load_state()
    holder = page.locator("#import-progress")
    task_id = holder.get_attribute("data-reload-on-end")
    assert task_id, "no running import on the page after the submit"
    return task_id


def test_import_search_and_send_to_the_list(page: Any, live_server: str, app: Flask,
                                            auth: AuthActions, smtp_sink: Any,
                                            start_worker: Any, tmp_path: Path) -> None:
    auth.create()
    path, valid = members_csv(tmp_path)
    sign_in(page, live_server)
    list_id = new_list(page, live_server, "뉴스레터 독자")

    task_id = import_file(page, path)  # no worker yet: the alert waits, queued
    bar = page.locator(f"[id='{task_id}-bar']")
    expect(bar).to_be_visible()
    assert page.locator(f"[id='{task_id}-progress-cancel']").count() == 1
    page.evaluate(WATCH_BAR, f"{task_id}-bar")
    start_worker()
    report_box = page.locator("#import-report")
    expect(report_box).to_have_attribute("data-added", str(valid), timeout=60000)
    seen = page.evaluate("() => JSON.parse(sessionStorage.getItem('bar') || '[]')")
    assert seen and seen[0] < 100 and max(seen) == 100, seen  # it moved, to the end
    assert report_box.get_attribute("data-refused") == str(len(BAD))
    assert report_box.get_attribute("data-done") == "true"
    lines = page.locator("#import-refusals tr[data-line]")
    expect(lines).to_have_count(len(BAD))
    assert [int(x) for x in lines.evaluate_all("rows => rows.map(r => r.dataset.line)")] == \
        [n + 1 for n in BAD]  # the header is line 1
    expect(page.locator("#member-counts [data-status=active]")).to_have_attribute(
        "data-count", str(valid))
    assert page.locator("#import-progress .alert").count() == 0

    page.fill("#member-q", "reader1234@")
    page.locator("#member-search button[type=submit]").click()
    page.wait_for_url(re.compile(r".*[?&]q=reader1234"))
    found = page.locator("#members tbody tr")
    expect(found).to_have_count(1)
    assert found.get_attribute("data-member") == "reader1234@example.com"
    assert found.get_attribute("data-status") == "active"
    assert "독자1234" in found.inner_text()

    page.click("#send-to-list")
    page.wait_for_url(re.compile(rf".*/send_mail\?list_id={list_id}$"))
    assert page.input_value("#list_id") == str(list_id)
    assert page.input_value("textarea[name=recipient]") == ""
    page.select_option("select[name=template_name]", "welcome")
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    flash = page.locator(".flash").first.inner_text()
    assert "전송" in flash, flash
    send_id = page.locator("#in-progress .alert").last.get_attribute("data-task-id")
    assert send_id and send_id != task_id

    done = wait_for_task(app, int(send_id), ended, 120, "the list send")
    assert (done.status, done.failed, done.delivered_count) == ("finished", False, valid)
    wait_until(lambda: smtp_sink.handler.count() >= valid, 10, "every mail at the sink")
    received = smtp_sink.handler.recipients()
    assert len(received) == len(set(received)) == valid
    page.goto(f"{live_server}/tasks/{send_id}")
    rows = page.locator("#recipients tbody tr[data-recipient]")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 1
    outcomes = rows.evaluate_all("rows => rows.map(r => r.dataset.outcome)")
    assert set(outcomes) == {"delivered"}, outcomes
    first = page.locator("#recipients [data-recipient='reader0001@example.com']")
    expect(first).to_have_attribute("data-outcome", "delivered")


def test_list_pages_pass_axe(page: Any, live_server: str, auth: AuthActions,
                             start_worker: Any, tmp_path: Path) -> None:
    auth.create()
    path, valid = members_csv(tmp_path, rows=60)  # a pager, and one refused line (17)
    start_worker()
    sign_in(page, live_server)
    list_id = new_list(page, live_server, "접근성 점검")
    import_file(page, path)
    expect(page.locator("#import-report")).to_have_attribute("data-added", str(valid),
                                                             timeout=60000)
    found = []
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        for path_ in ("/lists", f"/lists/{list_id}"):
            page.goto(live_server + path_)
            if path_ != "/lists":
                expect(page.locator("#import-refusals tr[data-line]")).to_have_count(1)
            problems = violations(page)
            if problems:
                found.append(f"{path_} at {size} ({viewport['width']}):\n{report(problems)}")
    assert found == [], "axe violations:\n" + "\n".join(found)
