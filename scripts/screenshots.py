"""``make screenshots``: README's pictures, from a real run. A private redis-server, a slow
SMTP sink, ``python worker.py``, the app on a loopback port, and Debian's Chromium driven by
Playwright (never downloaded) take the send page mid-progress with a reservation's
countdown, a task's detail page, and the operator view into ``docs/``."""

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
            "SECRET_KEY": secrets.token_hex(32), "SESSION_COOKIE_SECURE": "false",
            "MAIL_CONCURRENCY": "1"}


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


def _shoot(base: str, app: Any, password: str) -> None:
    from playwright.sync_api import sync_playwright

    from app.mail.jobs import send_mail
    from app.tasks.service import TaskService

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("screenshots need Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900},
                                timezone_id="Asia/Seoul", locale="ko-KR")
        page.goto(base + "/auth/login")
        page.fill("input[name=username]", "operator")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/send_mail")
        with app.app_context():
            TaskService("operator").reserve_task(
                datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5), send_mail,
                "notice", "operator", recipients=["later@example.com"], description="공지")
        page.fill("textarea[name=recipient]",
                  "\n".join(f"user{i}@example.com" for i in range(30)))
        page.click("#send-button")
        page.wait_for_url("**/send_mail")
        task_id = page.locator("#in-progress .alert").last.get_attribute("data-task-id")
        progress = page.locator(f"[id='{task_id}-progress']")  # no eval: the CSP forbids it
        wait_until(lambda: int(progress.inner_text() or 0) >= 20, 60, "20 % sent")
        page.screenshot(path=os.path.join(DOCS, "screenshot-send.png"), full_page=True)
        page.goto(f"{base}/tasks/{task_id}")
        page.wait_for_selector("#recipients [data-outcome='delivered']")
        page.screenshot(path=os.path.join(DOCS, "screenshot-detail.png"))
        page.goto(base + "/admin/")
        page.screenshot(path=os.path.join(DOCS, "screenshot-admin.png"), full_page=True)
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
    print("docs/screenshot-send.png, docs/screenshot-detail.png, docs/screenshot-admin.png")


if __name__ == "__main__":
    main()
