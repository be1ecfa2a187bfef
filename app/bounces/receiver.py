"""The SMTP bounce receiver ``python worker.py`` runs when BOUNCE_SMTP_PORT is set: it sits
behind the bounce domain's MX and takes only mail to VERP addresses whose token we signed
(it is never a relay), at most BOUNCE_SMTP_MAX_BYTES a message and
BOUNCE_SMTP_MAX_CONNECTIONS at once, and hands each message to a job (app/bounces/jobs.py)
before it answers 250: what it accepted is in Redis."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Any

from flask import Flask
from redis.exceptions import RedisError

from app.bounces.jobs import hand_over
from app.bounces.verp import read_token, token_of

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 50  # one DSN names one envelope sender; a few in a row at most


class BounceHandler:
    """aiosmtpd's handler: VERP recipients only, each message handed to a job."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        """Accept a VERP address with a valid token; refuse anything else (no relay)."""
        token = token_of(self.app.config, address)
        if token is None or read_token(self.app.config, token) is None:
            return "550 5.1.1 No such bounce address here"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Hand the message to a job; 451 (try later) when Redis cannot take it."""
        raw = envelope.original_content or envelope.content or b""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, hand_over, self.app, raw, "smtp",
                                       list(envelope.rcpt_tos))
        except RedisError as exc:
            log.warning("bounce not queued (Redis: %s): the sender will try again", exc)
            return "451 4.3.0 Try again later"
        return "250 2.0.0 OK: queued"


def _smtp_class(limit: int) -> type:
    """aiosmtpd's SMTP refusing connections past ``limit`` at once (421, then closed)."""
    from aiosmtpd.smtp import SMTP

    active = [0]

    class CappedSMTP(SMTP):
        counted = False

        def connection_made(self, transport: Any) -> None:
            if active[0] >= limit:
                transport.write(b"421 4.7.0 Too many connections, try again later\r\n")
                transport.close()
                return
            active[0] += 1
            self.counted = True
            super().connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.counted:
                active[0] -= 1
                self.counted = False
                super().connection_lost(exc)

    return CappedSMTP


def start(app: Flask, port: int | None = None, host: str | None = None) -> Any:
    """Start the receiver on its own thread's event loop; the aiosmtpd Controller."""
    from aiosmtpd.controller import Controller

    config = app.config
    smtp_class = _smtp_class(int(config["BOUNCE_SMTP_MAX_CONNECTIONS"]))
    domain = str(config.get("MAIL_BOUNCE_ADDRESS") or "localhost").rpartition("@")[2]

    class BounceController(Controller):
        def factory(self) -> Any:
            return smtp_class(self.handler, **self.SMTP_kwargs)

    controller = BounceController(
        BounceHandler(app), hostname=host or config["BOUNCE_SMTP_HOST"],
        port=port or int(config["BOUNCE_SMTP_PORT"]), server_hostname=domain,
        data_size_limit=int(config["BOUNCE_SMTP_MAX_BYTES"]), ident="Mailroom bounces")
    controller.start()
    return controller


def serve(app: Flask) -> int:
    """``python -m app.worker bounces``: run the receiver until SIGTERM or SIGINT."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller = start(app)
    log.info("bounce receiver on %s:%s", controller.hostname, controller.port)
    stop.wait()
    controller.stop()
    return 0
