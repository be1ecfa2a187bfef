"""Issue 17, point 1: a user's template can never hurt the server. The attacker's payloads,
on real gunicorn and a real ``python worker.py`` (two worker processes, the default), with
the sandbox's own budgets raised out of the way: what holds here is the render process
alone — its deadline (``TEMPLATE_RENDER_SECONDS``) and its memory limit
(``TEMPLATE_RENDER_MEMORY_MB``). A save, a preview and a send of each payload answer with
the limit named, in time; the login page keeps answering; another user's mail goes out
meanwhile; no process of the worker grows past the limit."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import Delivery, MailTemplate
from tests.support import wait_until
from tests.support.flows import AuthActions, ended, tasks, wait_for_task
from tests.support.live import Browser, LiveApp, live_app  # noqa: F401 (a fixture)
from tests.support.procs import descendants

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SECONDS, MEMORY_MB = 2.0, 256
# The reviewer's payloads, as typed into the form.
CPU_SET = "{% set s='x'*20000 %}"
CPU_LOOP = "{% for a in s[:2000] %}{% if s|sort|first %}…{% endif %}{% endfor %}"
CPU = CPU_SET + CPU_LOOP
MEMORY = "{{ [1]|batch(5*10**7, 0)|first|length }}"
TIME_LIMIT, MEMORY_LIMIT = "TEMPLATE_RENDER_SECONDS", "TEMPLATE_RENDER_MEMORY_MB"
# A branch on a CSV value: harmless at the save's trial render, the payload for "boom".
BRANCHES = {"cpu": CPU_SET + "{% if name == 'boom' %}" + CPU_LOOP + "{% endif %}{{ name }}님",
            "mem": "{% if name == 'boom' %}" + MEMORY + "{% endif %}{{ name }}님"}


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(TEMPLATE_RENDER_SECONDS=SECONDS,
                      TEMPLATE_RENDER_MEMORY_MB=MEMORY_MB, TEMPLATE_WORK_BUDGET=10**15,
                      TEMPLATE_MAX_OUTPUT=10**12, WORKER_PROCESSES=2)
    return app_config


def save(browser: Browser, name: str, body: str) -> Any:
    return browser.post("/templates/new", {"name": name, "subject": "안내", "body_text": body,
                                           "body_html": ""}, form_page="/templates/new")


def saved(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(MailTemplate.name)
                                       .where(MailTemplate.owner == "alice")))


def test_save_and_preview_answer_in_time_and_the_login_page_stays_up(
        app: Flask, auth: AuthActions, live_app: Any) -> None:  # noqa: F811 (the fixture)
    auth.create("alice")
    live: LiveApp = live_app()
    alice = live.browser()
    alice.login("alice")
    for payload, limit in ((CPU, TIME_LIMIT), (MEMORY, MEMORY_LIMIT)):
        answer = save(alice, f"bad-{limit}", payload)
        assert answer.status == 200 and limit in answer.text, answer.text[-2000:]
        assert answer.seconds < SECONDS + 1
    assert saved(app) == []

    for name, body in BRANCHES.items():
        assert save(alice, name, body).status == 200  # passes the save
    for name, limit in (("cpu", TIME_LIMIT), ("mem", MEMORY_LIMIT)):
        answer = alice.post("/send_mail/preview", {
            "recipient": "email,name\nok@example.com,ok\nboom@example.com,boom",
            "template_name": name, "timezone": "Asia/Seoul", "index": "1"})
        assert answer.status == 400 and limit in answer.text, answer.text
        assert answer.seconds < SECONDS + 1

    # Two runaway saves at once; the login page answers a stranger within a second.
    stranger = live.browser()
    answers: list[Any] = []
    runners = [threading.Thread(target=lambda: answers.append(save(alice, "again", CPU)))
               for _ in range(2)]
    for runner in runners:
        runner.start()
    looks = []
    while any(runner.is_alive() for runner in runners):
        looks.append(stranger.get("/auth/login"))
    for runner in runners:
        runner.join()
    assert len(answers) == 2 and all(TIME_LIMIT in a.text for a in answers)
    assert looks and all(look.status == 200 and look.seconds < 1 for look in looks), [
        round(look.seconds, 2) for look in looks]
    print(f"FIGURE login page during two runaway saves: {len(looks)} answers, slowest "
          f"{max(look.seconds for look in looks):.3f} s")


def rss_mib(pids: set[int]) -> dict[int, float]:
    """Resident memory of each live process of ``pids``, MiB."""
    sizes = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        sizes[pid] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return sizes


class MemoryWatch:
    """Samples the resident size of every process under ``root`` until stopped."""

    def __init__(self, root: int) -> None:
        self.root, self.peak, self._stop = root, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            sizes = rss_mib(descendants(self.root) | {self.root})
            self.peak = max(self.peak, *sizes.values(), 0.0)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def test_a_send_refuses_the_runaway_recipient_alone_and_others_mail_goes_on(
        app: Flask, auth: AuthActions, live_app: Any,  # noqa: F811 (the fixture)
        smtp_sink: Any, start_worker: Any) -> None:
    auth.create("alice")
    auth.create("bob")
    live: LiveApp = live_app()
    alice, bob = live.browser(), live.browser()
    alice.login("alice")
    bob.login("bob")
    for name, body in BRANCHES.items():
        assert save(alice, name, body).status == 200
    supervisor = start_worker()
    watch = MemoryWatch(supervisor.pid)
    try:
        sent = alice.post("/send_mail", {
            "recipient": "email,name\na@example.com,a\nboom1@example.com,boom\n"
                         "b@example.com,b\nboom2@example.com,boom",
            "template_name": "cpu", "timezone": "Asia/Seoul"})
        assert "전송하였습니다" in sent.text, sent.text
        wait_until(lambda: any(t.status == "running" for t in tasks(app)), 20, "alice's send")
        posted = time.monotonic()
        bob.post("/send_mail", {"recipient": "bob-friend@example.com",
                                "template_name": "welcome", "timezone": "Asia/Seoul"})
        wait_until(lambda: smtp_sink.handler.arrivals("bob-friend@example.com"), 5,
                   "bob's mail while alice's template runs away")
        print(f"FIGURE bob's one-recipient mail arrived {time.monotonic() - posted:.2f} s "
              "after his post, alice's runaway send running")
        alice.post("/send_mail", {"recipient": "email,name\nc@example.com,c\n"
                                  "boom3@example.com,boom", "template_name": "mem",
                                  "timezone": "Asia/Seoul"})
        for row in tasks(app):
            wait_for_task(app, row.id, ended, timeout=60, what=f"task {row.id}")
    finally:
        peak = watch.stop()
    print(f"FIGURE worker tree peak RSS {peak:.0f} MiB (limit {MEMORY_MB} MiB)")
    assert peak < MEMORY_MB + 50

    arrived = sorted(smtp_sink.handler.recipients())
    assert arrived == ["a@example.com", "b@example.com", "bob-friend@example.com",
                       "c@example.com"]
    with app.app_context():
        refused = {d.recipient: d for d in db.session.scalars(
            db.select(Delivery).where(Delivery.status == "refused"))}
        assert sorted(refused) == ["boom1@example.com", "boom2@example.com",
                                   "boom3@example.com"]
        for address, limit in (("boom1@example.com", TIME_LIMIT),
                               ("boom2@example.com", TIME_LIMIT),
                               ("boom3@example.com", MEMORY_LIMIT)):
            assert limit in (refused[address].error or ""), refused[address].error
    # Two runaway renders held alice's send no longer than their two deadlines (and a new
    # render process after each).
    cpu_send = tasks(app)[0]
    took = cpu_send.finished_at - cpu_send.started_at
    print(f"FIGURE alice's send with two runaway recipients took {took.total_seconds():.2f} s")
    assert took < timedelta(seconds=2 * (SECONDS + 1) + 2)
