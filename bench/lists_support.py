"""Helpers for bench/lists.py: the deterministic members CSV, a small cookie-keeping HTTP
client (keep-alive per thread, forms posted with their CSRF token), gunicorn on a free port,
a tail of the sink's log, and a sampler of a process tree's memory (/proc/<pid>/status)."""

from __future__ import annotations

import http.client
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from app.utils.processes import free_port, stop_process, wait_until  # noqa: E402
from tests.support.procs import descendants  # noqa: E402

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
CITIES = ["서울", "부산", "대구", "인천", "광주", "대전", "울산", "수원", "Jeonju", "Jeju"]


# --- the file ---------------------------------------------------------------------------

@dataclass
class MembersFile:
    data: bytes
    rows: int
    invalid: int
    duplicates: int

    @property
    def valid(self) -> int:
        return self.rows - self.invalid - self.duplicates

    @property
    def refused(self) -> int:
        return self.invalid + self.duplicates


def members_csv(rows: int, seed: int = 20261207) -> MembersFile:
    """``rows`` data rows under ``email,name,city,code``: every 40th row (offset 7) a bad
    address, every 40th (offset 27) an address of 13 rows before in other case; 5 % in all."""
    rng = random.Random(seed)
    out = ["email,name,city,code"]
    invalid = duplicates = 0
    for i in range(rows):
        name, city, code = f"회원{i}", rng.choice(CITIES), f"C{rng.randrange(10**6):06d}"
        if i % 40 == 7:
            address = f"user{i}.example.com"  # no @: refused
            invalid += 1
        elif i % 40 == 27 and i >= 13:
            address = f"USER{i - 13}@Example.com"  # the same address as row i-13
            duplicates += 1
        else:
            address = f"user{i}@example.com"
        out.append(f"{address},{name},{city},{code}")
    return MembersFile(("\n".join(out) + "\n").encode("utf-8"), rows, invalid, duplicates)


# --- HTTP -------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """One signed-in visitor; a keep-alive connection per thread, cookies shared."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                 timeout=120)
        return conn

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, sink: Any = None) -> Answer:
        """One request, timed from sending to the last byte read; ``sink(chunk)`` takes the
        body a chunk at a time instead of keeping it."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            conn = self._connection()
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                if sink is None:
                    data = response.read()
                else:
                    data = b""
                    while chunk := response.read(65536):
                        sink(chunk)
                seconds = time.perf_counter() - start
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        for raw in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            self._local.conn = None
        return Answer(response.status, response.headers, data, seconds)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def csrf(self, page: str) -> str:
        match = CSRF.search(self.get(page).text)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, str], page: str) -> Answer:
        """A form posted as ``page`` would (its CSRF token fetched first, not timed)."""
        body = urllib.parse.urlencode({**data, "csrf_token": self.csrf(page)}).encode()
        return self.request("POST", path, body,
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_file(self, path: str, data: dict[str, str], name: str, filename: str,
                  content: bytes, page: str) -> Answer:
        boundary = uuid.uuid4().hex
        parts = []
        for key, value in {**data, "csrf_token": self.csrf(page)}.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"'
                         f"\r\n\r\n{value}\r\n".encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                     + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, b"".join(parts),
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def login(self, username: str, password: str) -> None:
        answer = self.post_form("/auth/login", {"username": username, "password": password},
                                "/auth/login")
        assert answer.status in (200, 302, 303), answer.text[:300]
        assert "로그아웃" in self.get("/send_mail").text, "not signed in"


class Web:
    """gunicorn (gunicorn.conf.py: threaded workers) serving the bench's app."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                    "WEB_CONCURRENCY": str(workers), "SESSION_COOKIE_SECURE": "false"}
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self.process = subprocess.Popen([gunicorn, "run:app"], cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, 60, "gunicorn")
        wait_until(lambda: len(self.worker_pids()) >= workers, 30, "gunicorn's workers")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        try:
            return Client(self.port).get("/auth/login").status == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        return [p for p in descendants(self.process.pid)]

    def stop(self) -> None:
        stop_process(self.process, timeout=15)


# --- the sink's log, read as it grows --------------------------------------------------

class Tail:
    """Counts the sink's lines past a starting point without rereading the file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.handle = open(path, "rb")  # noqa: SIM115
        self.handle.seek(0, os.SEEK_END)
        self.start = self.handle.tell()
        self.count = 0

    def poll(self) -> int:
        chunk = self.handle.read()
        self.count += chunk.count(b"\n")
        return self.count

    def lines(self) -> list[tuple[float, str]]:
        """Every line since the start: (arrival time, recipient)."""
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            out = []
            for raw in handle.read().decode().splitlines():
                if raw.strip():
                    stamp, recipient = raw.split(" ", 1)
                    out.append((float(stamp), recipient))
            return out

    def wait_for(self, count: int, timeout: float, every: float = 0.1) -> None:
        deadline = time.monotonic() + timeout
        while self.poll() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {count} mails ({self.count} came)")
            time.sleep(every)


# --- memory of a process tree ----------------------------------------------------------

def memory(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in kB, or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            text = handle.read()
    except OSError:
        return None
    values = dict(line.split(":", 1) for line in text.splitlines() if line.startswith("Vm"))
    try:
        return int(values["VmRSS"].split()[0]), int(values["VmHWM"].split()[0])
    except KeyError:  # a zombie
        return None


@dataclass
class Sampler:
    """Samples a process and its descendants every ``every`` seconds in a thread: each
    pid's largest VmHWM and VmRSS, and the largest sum of VmRSS over the tree."""

    root: int
    every: float = 0.5
    hwm: dict[int, int] = field(default_factory=dict)
    rss: dict[int, int] = field(default_factory=dict)
    tree_rss: int = 0
    samples: int = 0
    first: set[int] = field(default_factory=set)

    def start(self) -> Sampler:
        self.first = {self.root, *descendants(self.root)}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            total = 0
            for pid in [self.root, *descendants(self.root)]:
                found = memory(pid)
                if found is None:
                    continue
                rss, hwm = found
                total += rss
                self.rss[pid] = max(self.rss.get(pid, 0), rss)
                self.hwm[pid] = max(self.hwm.get(pid, 0), hwm)
            self.tree_rss = max(self.tree_rss, total)
            self.samples += 1
            if self._stop.wait(self.every):
                return

    def stop(self) -> Sampler:
        self._stop.set()
        self._thread.join()
        return self

    def new_pids(self) -> list[int]:
        """Processes that appeared while sampling (a forked work horse)."""
        return [p for p in self.hwm if p not in self.first]

    def peak(self, pids: list[int] | None = None) -> tuple[int, int]:
        """(pid, VmHWM kB) of the largest peak among ``pids`` (default: every one seen)."""
        pool = {p: self.hwm[p] for p in (pids if pids is not None else self.hwm)}
        if not pool:
            return 0, 0
        pid = max(pool, key=pool.__getitem__)
        return pid, pool[pid]

