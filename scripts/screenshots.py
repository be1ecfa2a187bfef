"""``make screenshots``: README's pictures, from a real run. A private redis-server, a slow
SMTP sink, ``python worker.py``, the app on a loopback port, and Debian's Chromium driven by
Playwright (never downloaded) take the send page mid-progress with a reservation's
countdown, a task's detail page, the operator view, the templates page with a template
written in it, the send page previewing that template for a CSV recipient, and a list's
page after an import into ``docs/``; and the send page mid-send in English and in Korean,
by the browser's language (``screenshot-send-en.png``, ``screenshot-send-ko.png``)."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from werkzeug.serving import make_server  # noqa: E402

from app.devstack import RedisServer, start_smtp_sink, stop_process, wait_until  # noqa: E402

DOCS = os.path.join(ROOT, "docs")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class SlowSink:
    """Accepts every mail after a pause, so a send is caught mid-way."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.6)
        return "250 OK"


def _env(tmp: str, redis: RedisServer, port: int) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/shots.db", "REDIS_URL": redis.url,
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port),
            "SECRET_KEY": secrets.token_hex(32), "UNSUBSCRIBE_SECRET": secrets.token_hex(32),
            "SESSION_COOKIE_SECURE": "false", "MAIL_CONCURRENCY": "1"}


def _prepare(env: dict[str, str], password: str) -> Any:
    os.environ.update(env)
    from flask_migrate import upgrade

    from app import create_app
    from app.cli import create_user

    app = create_app()
    with app.app_context():
        upgrade()
        create_user("operator", password, admin=True)
    return app


# A template with the recipients' own fields, and a pasted CSV list that fills them.
TEMPLATE = {
    "name": "가을 행사 초대",
    "subject": "{{ name }}님, 가을 행사에 초대합니다",
    "body_text": "{{ name }}님, 안녕하세요.\n{{ date }} 행사에 {{ seat }} 좌석을 준비했습니다.\n"
                 "- {{ sender_name }} 드림",
    "body_html": "<h2>{{ name }}님, 안녕하세요</h2>\n<p><b>{{ date }}</b> 행사에 "
                 "<b>{{ seat }}</b> 좌석을 준비했습니다.</p>\n<p>{{ sender_name }} 드림</p>",
}
CSV = ("email,name,date,seat\nkim@example.com,김하나,10월 24일,A-12\n"
       "lee@example.com,이둘,10월 24일,B-03\npark@example.com,박셋,10월 25일,C-07")


def _sign_in(page: Any, base: str, password: str, username: str = "operator") -> None:
    page.goto(base + "/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/send_mail")


def _shoot_send(page: Any, base: str, app: Any) -> None:
    """The send page mid-send with a reservation, a task's detail, the operator view."""
    from app.tasks.service import Mailing, TaskService

    with app.app_context():
        TaskService("operator").send(
            Mailing.named("notice", "operator", ["later@example.com"]),
            datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5))
    page.fill("textarea[name=recipient]", "\n".join(f"user{i}@example.com" for i in range(30)))
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    task_id = page.locator("#in-progress .alert").last.get_attribute("data-task-id")
    progress = page.locator(f"[id='{task_id}-progress']")  # no eval: the CSP forbids it
    wait_until(lambda: int(progress.inner_text() or 0) >= 20, 60, "20 % sent")
    page.screenshot(path=os.path.join(DOCS, "screenshot-send.png"), full_page=True)
    page.goto(f"{base}/tasks/{task_id}")
    page.wait_for_selector("#recipients [data-outcome='delivered']")
    page.screenshot(path=os.path.join(DOCS, "screenshot-detail.png"))
    _shoot_chart(page, base, task_id)
    page.goto(base + "/admin/")
    page.screenshot(path=os.path.join(DOCS, "screenshot-admin.png"), full_page=True)


def _shoot_chart(page: Any, base: str, task_id: str) -> None:
    """The task page's pictures of the send, once it has ended."""
    def ended() -> bool:
        page.goto(f"{base}/tasks/{task_id}")
        return page.locator("#recipients [data-outcome='pending']").count() == 0

    wait_until(ended, 120, "the send to end")
    page.locator(".task-charts").screenshot(path=os.path.join(DOCS, "screenshot-chart.png"))


# Who sends in each language's picture: a send made in a language is written about in it.
SENDERS = {"en": ("alex", "en-US"), "ko": ("minji", "ko-KR")}


def _reserve_and_send(page: Any, lang: str) -> None:
    """From the send page: a reservation five minutes ahead, then a send of 20 caught at
    a fifth of the way."""
    when = datetime.now(UTC).astimezone(ZoneInfo("Asia/Seoul")) + timedelta(minutes=5)
    page.fill("textarea[name=recipient]", "later@example.com")
    page.check("input[name=is_scheduled]")
    page.fill("input[name=scheduled_time]", when.strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    page.fill("textarea[name=recipient]", "\n".join(f"{lang}{i}@example.com" for i in range(20)))
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    progress = page.locator("#in-progress .task-alert [id$='-progress']").first
    wait_until(lambda: int(progress.inner_text() or 0) >= 20, 60, "20 % sent")


def _shoot_languages(browser: Any, base: str, app: Any, password: str) -> None:
    """The send page mid-send with a reservation, as an English and a Korean browser see
    it (their ``Accept-Language``), each of its own account and sends."""
    from app.cli import create_user

    for lang, (username, locale) in SENDERS.items():
        with app.app_context():
            create_user(username, password)
        page = browser.new_page(viewport={"width": 1200, "height": 900},
                                timezone_id="Asia/Seoul", locale=locale)
        _sign_in(page, base, password, username)
        _reserve_and_send(page, lang)
        page.goto(base + "/send_mail")  # without the flash: the page as it stays
        page.wait_for_timeout(1000)  # a poll: the bar drawn, the countdown ticking
        box = page.locator("#reserved").bounding_box()
        page.screenshot(path=os.path.join(DOCS, f"screenshot-send-{lang}.png"), full_page=True,
                        clip={"x": 0, "y": 0, "width": 1200,
                              "height": box["y"] + box["height"] + 16})
        page.close()


def _shoot_phone(browser: Any, base: str, password: str) -> None:
    """The send page at a phone's size, a send just made: its alert in view."""
    page = browser.new_page(viewport={"width": 390, "height": 844}, timezone_id="Asia/Seoul",
                            locale="ko-KR", device_scale_factor=2, is_mobile=True)
    _sign_in(page, base, password)
    page.fill("textarea[name=recipient]", "\n".join(f"phone{i}@example.com" for i in range(20)))
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    alert = page.locator("#in-progress .alert").last
    alert.wait_for()
    # Once the page has brought the new alert into view and stopped scrolling.
    last = [-1.0]

    def settled() -> bool:
        page.wait_for_timeout(200)  # a smooth scroll moves on between two looks
        now = page.evaluate("window.scrollY")
        still, last[0] = now == last[0], now
        return still and alert.is_visible()

    wait_until(settled, 10, "the page to scroll to the new alert")
    page.screenshot(path=os.path.join(DOCS, "screenshot-phone.png"))
    page.close()


def _shoot_templates(page: Any, base: str) -> None:
    """The templates page with one template written there, then its preview for a CSV
    recipient on the send page."""
    page.goto(base + "/templates")
    page.click("#template-new")
    for name, value in TEMPLATE.items():
        page.fill(f"#template-form [name={name}]", value)
    page.click("#template-save")
    page.wait_for_selector(f"#templates [data-template='{TEMPLATE['name']}']")
    page.screenshot(path=os.path.join(DOCS, "screenshot-templates.png"), full_page=True)
    page.goto(base + "/send_mail")
    page.fill("textarea[name=recipient]", CSV)
    page.select_option("select[name=template_name]", TEMPLATE["name"])
    page.click("#preview-button")
    page.locator("#preview-position", has_text="1 / 3").wait_for()  # else "next" has no count
    page.click("#preview-next")
    page.locator("#preview-position", has_text="2 / 3").wait_for()
    box = page.locator("#preview").bounding_box()  # the form and the preview, not the lists
    page.screenshot(path=os.path.join(DOCS, "screenshot-preview.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1200, "height": box["y"] + box["height"] + 16})


def _members_csv(path: str) -> str:
    """A list's CSV as a spreadsheet saves it: 240 people, three lines a person would fix."""
    names = ["김하나", "이둘", "박셋", "최넷", "정다섯", "강여섯"]
    rows = ["email,name,team"] + [f"member{i:03d}@example.com,{names[i % 6]},{i % 4 + 1}조"
                                  for i in range(240)]
    rows[40] = "member039@example,이름없는 도메인,1조"
    rows[120] = "member119@example.com,열이 하나 더,2조,추가"
    rows[200] = "Member010@Example.com,중복,3조"
    with open(path, "w", encoding="utf-8-sig") as handle:
        handle.write("\n".join(rows) + "\n")
    return path


def _shoot_lists(page: Any, base: str) -> None:
    """A list's page after an import: counts, the report with its refused lines, members."""
    page.goto(base + "/lists/new")
    page.fill("#name", "가을 행사 참가자")
    page.click("#list-create")
    with tempfile.TemporaryDirectory() as tmp:
        page.set_input_files("#members_file", _members_csv(os.path.join(tmp, "참가자.csv")))
        page.click("#import-button")
        page.wait_for_selector("#import-report[data-done='true']", timeout=60_000)
    members = page.locator("table#members").bounding_box()  # down to the first members
    page.screenshot(path=os.path.join(DOCS, "screenshot-list.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1200, "height": members["y"] + 260})


def _shoot(base: str, app: Any, password: str) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("screenshots need Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900},
                                timezone_id="Asia/Seoul", locale="ko-KR")
        _sign_in(page, base, password)
        _shoot_languages(browser, base, app, password)
        _shoot_send(page, base, app)
        _shoot_templates(page, base)
        _shoot_lists(page, base)
        _shoot_phone(browser, base, password)
        browser.close()


def main() -> None:
    """Start everything, take the pictures, stop everything."""
    redis = RedisServer().start()
    sink = start_smtp_sink(SlowSink())
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(tmp, redis, sink.port)
        app = _prepare(env, password)
        worker = subprocess.Popen([sys.executable, os.path.join(ROOT, "worker.py")], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            from redis import Redis
            from rq import Worker

            connection = Redis.from_url(redis.url)
            wait_until(lambda: Worker.all(connection=connection), 30, "the worker")
            _shoot(f"http://127.0.0.1:{server.server_port}", app, password)
        finally:
            server.shutdown()
            stop_process(worker, timeout=15)
            sink.stop()
            redis.stop()
    print("docs/screenshot-{send,send-en,send-ko,detail,chart,phone,admin,templates,preview,"
          "list}.png")


if __name__ == "__main__":
    main()
