"""A live web app for tests that must see what a browser or an attacker sees: real gunicorn
(``gunicorn.conf.py``: threaded workers) on a free loopback port, against the test's own
database and Redis, and a small cookie-keeping HTTP client that posts forms with their
CSRF token."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from tests.support import ROOT, free_port, stop_process, wait_until
from tests.support.flows import PASSWORD
from tests.support.procs import descendants, kill_leftovers
from tests.support.workers import worker_env

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass
class Answer:
    status: int
    text: str
    seconds: float
    headers: Any = None


class Browser:
    """One visitor of the live app: its own cookies, forms posted with their CSRF token."""

    def __init__(self, base: str, address: str | None = None) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method: str, path: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None, timeout: float = 30) -> Answer:
        """One request; the answer whatever its status (no exception for 4xx/5xx)."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method,
                                         headers=headers or {})
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=timeout) as response:
                text = response.read().decode("utf-8", "replace")
                return Answer(response.status, text, time.monotonic() - started,
                              response.headers)
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            return Answer(exc.code, text, time.monotonic() - started, exc.headers)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def csrf(self, path: str = "/send_mail") -> str:
        """The CSRF token of the form on ``path``."""
        match = CSRF.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict[str, str], form_page: str = "/send_mail",
             **kwargs: Any) -> Answer:
        """Post a form as the page on ``form_page`` would (with its CSRF token)."""
        return self.request("POST", path, {**data, "csrf_token": self.csrf(form_page)},
                            **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> Answer:
        answer = self.post("/auth/login", {"username": username, "password": password},
                           form_page="/auth/login")
        assert answer.status == 200 and "로그아웃" in answer.text, answer.text[:300]
        return answer


class LiveApp:
    """gunicorn serving the test's app (its database, Redis, mail settings)."""

    def __init__(self, app: Flask, extra_env: dict[str, str] | None = None,
                 workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **worker_env(app), "PYTHONPATH": ROOT,
                    "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers),
                    "SESSION_COOKIE_SECURE": "false", **(extra_env or {})}
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self.process = subprocess.Popen([gunicorn, "run:app"], cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL)
        wait_until(self._answers, 60, "gunicorn")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        try:
            return Browser(self.url).get("/auth/login", timeout=5).status == 200
        except OSError:
            return False

    def browser(self) -> Browser:
        return Browser(self.url)

    def stop(self) -> None:
        family = descendants(self.process.pid)
        stop_process(self.process, timeout=15)
        kill_leftovers(family)


@pytest.fixture
def live_app(app: Flask) -> Iterator[Callable[..., LiveApp]]:
    """Start gunicorn on the test's app (``live_app(extra_env)``); stopped after the test."""
    started: list[LiveApp] = []

    def start(extra_env: dict[str, str] | None = None, workers: int = 2) -> LiveApp:
        started.append(LiveApp(app, extra_env, workers))
        return started[-1]

    yield start
    for live in started:
        live.stop()
