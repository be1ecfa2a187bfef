"""`python run.py`: the whole stack comes up, serves a signed-in user, and Ctrl-C ends all of it."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

from tests.support import ROOT, free_port, wait_until
from tests.support.procs import alive, descendants


class Output:
    """Collects a process's output in a thread so the test can wait for lines."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            self.lines.append(line)

    def find(self, pattern: str) -> re.Match[str] | None:
        for line in list(self.lines):
            match = re.search(pattern, line)
            if match:
                return match
        return None


def test_run_py_serves_and_stops_clean(tmp_path: Any) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MAIL_SERVER")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}", PORT=str(port),
               OUTBOX_DIR=str(tmp_path / "outbox"), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "run.py"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = Output(process)
    try:
        account = wait_until(lambda: output.find(r"username '(\S+)', password '(\S+)'"), 60,
                             "the demo account line")
        wait_until(lambda: output.find(rf"http://127\.0\.0\.1:{port}/"), 30, "the URL line")
        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def login_page() -> str | None:
            try:
                with opener.open(base + "/auth/login", timeout=5) as response:
                    return response.read().decode()
            except OSError:
                return None

        html = wait_until(login_page, 30, "the web app")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        form = urllib.parse.urlencode({"username": account.group(1),
                                       "password": account.group(2), "csrf_token": token})
        with opener.open(base + "/auth/login", data=form.encode(), timeout=10) as page:
            body, url = page.read().decode(), page.url
        assert url.endswith("/send_mail")
        assert 'name="recipient"' in body and "메일 보내기" in body

        children = descendants(process.pid)
        assert len(children) >= 2  # redis-server and the worker (and its scheduler)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        wait_until(lambda: not any(alive(pid) for pid in children), 30,
                   "every child process to end")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


def test_gunicorn_serves_run_app(tmp_path: Any, redis_server: Any) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
           "REDIS_URL": redis_server.url, "SECRET_KEY": "gunicorn-test-secret-key-0123",
           "UNSUBSCRIBE_SECRET": "gunicorn-test-unsubscribe-secret",
           "SESSION_COOKIE_SECURE": "false"}
    migrate = subprocess.run([sys.executable, "-m", "flask", "--app", "run", "db", "upgrade"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    process = subprocess.Popen([gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "run:app"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        def login_page() -> str | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/auth/login",
                                            timeout=5) as response:
                    return response.read().decode()
            except OSError:
                return None

        assert 'name="username"' in wait_until(login_page, 30, "gunicorn")
    finally:
        family = descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        wait_until(lambda: not any(alive(pid) for pid in family), 30, "gunicorn's workers")


def _start_stack(tmp_path: Any, port: int) -> tuple[subprocess.Popen[str], Output]:
    """run.py in a process group of its own (as `make run` in a terminal is)."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MAIL_SERVER")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}", PORT=str(port),
               OUTBOX_DIR=str(tmp_path / "outbox"), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "run.py"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    output = Output(process)
    wait_until(lambda: output.find(rf"http://127\.0\.0\.1:{port}/"), 90, "the URL line")
    return process, output


def _signal_and_wait(process: subprocess.Popen[str], signum: int, twice: bool) -> None:
    children = descendants(process.pid)
    assert len(children) >= 2  # redis-server and the worker
    os.killpg(process.pid, signum)  # the whole group, as a terminal or a supervisor does
    if twice:  # GNU make passes its own SIGTERM on to run.py: a second one mid-cleanup
        time.sleep(0.2)
        if process.poll() is None:
            process.send_signal(signum)
    assert process.wait(timeout=60) == 0
    wait_until(lambda: not any(alive(pid) for pid in children), 30,
               "every child process (the private redis-server too) to end")


def test_any_stop_signal_cleans_up_and_every_start_tells_the_reset(tmp_path: Any) -> None:
    for signum, first in ((signal.SIGTERM, True), (signal.SIGHUP, False)):
        process, output = _start_stack(tmp_path, free_port())
        try:
            made = output.find(r"username 'demo', password '(\S+)'")
            assert (made is not None) == first  # a password is shown once, when made
            assert output.find(r"forgot a password\? flask --app run users set-password demo")
            _signal_and_wait(process, signum, twice=signum == signal.SIGTERM)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            process.stdout.close()
