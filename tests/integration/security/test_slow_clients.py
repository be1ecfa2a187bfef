"""Point 4: slow clients. gunicorn as README's Production runs it (gunicorn.conf.py:
threaded workers): sockets that promise a body and never send it, more of them than there
are workers, do not keep /auth/login from answering within 2 s."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from typing import Any

from tests.support import ROOT, free_port, stop_process, wait_until
from tests.support.procs import descendants, kill_leftovers

WORKERS = 2


def test_idle_sockets_do_not_block_the_login_page(tmp_path: Any, redis_server: Any) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
           "REDIS_URL": redis_server.url, "SECRET_KEY": "slow-client-test-secret-key",
           "UNSUBSCRIBE_SECRET": "slow-client-test-unsubscribe-secret",
           "SESSION_COOKIE_SECURE": "false", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": str(WORKERS)}
    migrate = subprocess.run([sys.executable, "-m", "flask", "--app", "run", "db", "upgrade"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    process = subprocess.Popen([gunicorn, "run:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/auth/login"
    idle: list[socket.socket] = []
    try:
        wait_until(lambda: _answers(url, 5), 30, "gunicorn")
        for _ in range(WORKERS * 3):  # more idle sockets than workers
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"POST /auth/login HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: 100\r\n\r\nusername=")
            idle.append(sock)
        assert _answers(url, 2), "the login page did not answer within 2 s"
    finally:
        for sock in idle:
            sock.close()
        family = descendants(process.pid)
        stop_process(process, timeout=15)
        kill_leftovers(family)


def _answers(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False
