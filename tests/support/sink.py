"""A recording SMTP sink (aiosmtpd) whose answers a test can script."""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any


@dataclass
class Received:
    envelope_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    at: float
    raw: bytes = b""  # as it came, for a signature check


@dataclass
class RecordingHandler:
    """Keeps every accepted mail; can delay, refuse recipients (550), defer (451), or keep
    a mail and then drop the connection before answering (as a server that stores mail
    before it replies does when the network breaks at that moment).

    Also (for the sink ``start_sink`` makes, see ``ScriptedSMTP``): ``async_delay``, a slow
    answer to DATA that holds only its own connection (``delay`` blocks the whole sink);
    ``hang``, places where a connection is held, unanswered, until ``release()``
    (``"greeting"``: before the 220, as a relay that accepts and never speaks; ``"data"``:
    the message is here, its answer never comes); and ``data_begun_by``, every recipient
    whose DATA command the sink read (at the DATA command with ``ScriptedSMTP``, else when
    the message is complete)."""

    delay: float = 0.0
    refuse: set[str] = field(default_factory=set)
    defer_first: int = 0  # answer 451 to this many DATA commands first
    defer_nth: int = 0  # answer 451 to the nth DATA command (1-based), once
    data_seen: int = 0
    data_begun: int = 0
    drop_after_data: set[str] = field(default_factory=set)  # once per address
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    async_delay: float = 0.0  # each DATA's answer waits this long; other connections go on
    hang: set[str] = field(default_factory=set)  # "greeting", "data": held until release()
    held: int = 0  # connections held right now
    data_begun_by: list[str] = field(default_factory=list)  # one entry per recipient per DATA
    _generation: int = 0  # bumped by release(): every hold of an older one ends

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_begun += 1  # the whole message is here; its answer may still be delayed
        self.note_data_begun(envelope)  # unless ScriptedSMTP noted it at the DATA command
        await self.hold("data")
        if self.async_delay:
            await asyncio.sleep(self.async_delay)
        if self.delay:
            time.sleep(self.delay)  # blocks the sink's loop: a slow server, on purpose
        with self.lock:
            self.data_seen += 1
            if self.data_seen == self.defer_nth:
                return "451 4.3.0 try again later"
            if self.defer_first > 0:
                self.defer_first -= 1
                return "451 4.3.0 try again later"
            message = BytesParser(policy=policy.default).parsebytes(envelope.content)
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          message, time.time(), envelope.original_content))
            dropped = self.drop_after_data.intersection(a.lower() for a in envelope.rcpt_tos)
            self.drop_after_data.difference_update(dropped)
        if dropped:
            server.transport.abort()  # kept, but the client never hears "250"
        return "250 OK"

    def recipients(self) -> list[str]:
        """Every recipient of every accepted mail, in order."""
        with self.lock:
            return [rcpt for m in self.messages for rcpt in m.rcpt_tos]

    def arrivals(self, recipient: str) -> list[float]:
        """When each mail to ``recipient`` arrived (epoch seconds)."""
        with self.lock:
            return [m.at for m in self.messages if recipient in m.rcpt_tos]

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def note_data_begun(self, envelope: Any) -> None:
        """Record the envelope's recipients as ones whose DATA began (once per envelope)."""
        if getattr(envelope, "mailroom_data_noted", False):
            return
        envelope.mailroom_data_noted = True
        with self.lock:
            self.data_begun_by.extend(envelope.rcpt_tos)

    def data_begun_for(self) -> set[str]:
        """Every recipient whose DATA began at least once."""
        with self.lock:
            return set(self.data_begun_by)

    async def hold(self, where: str) -> None:
        """Hold the calling connection here while ``where`` is in ``hang``, until
        ``release()`` (or until the client goes: the coroutine is cancelled)."""
        if where not in self.hang:
            return
        generation = self._generation
        with self.lock:
            self.held += 1
        try:
            while self._generation == generation:
                await asyncio.sleep(0.02)
        finally:
            with self.lock:
                self.held -= 1

    def release(self) -> None:
        """Stop hanging: every held connection goes on, and new ones are not held."""
        with self.lock:
            self.hang.clear()
            self._generation += 1


def _smtp_class() -> type:
    from aiosmtpd.smtp import SMTP

    class ScriptedSMTP(SMTP):
        """aiosmtpd's SMTP with two more places a handler can act: before the greeting
        (``hold("greeting")``) and when the DATA command is read (``note_data_begun``),
        before any of the message has come."""

        async def _handle_client(self) -> None:
            hold = getattr(self.event_handler, "hold", None)
            if hold is not None:
                await hold("greeting")
            await super()._handle_client()

        async def smtp_DATA(self, arg: str) -> None:
            note = getattr(self.event_handler, "note_data_begun", None)
            if (note is not None and not arg and self.envelope is not None
                    and self.envelope.rcpt_tos):
                note(self.envelope)
            await super().smtp_DATA(arg)

        def eof_received(self) -> bool:
            """The client went away (a killed worker, a cut connection): close our side
            too, instead of keeping a half-open socket nobody will close."""
            super().eof_received()
            return False

    return ScriptedSMTP


def start_sink(handler: Any, port: int | None = None) -> Any:
    """An aiosmtpd Controller serving ``handler`` on 127.0.0.1 with ``ScriptedSMTP`` (the
    greeting can hang; DATA is noted when its command is read); ``.handler`` is set."""
    from aiosmtpd.controller import Controller

    from tests.support import free_port

    smtp_class = _smtp_class()

    class ScriptedController(Controller):
        def factory(self) -> Any:
            server = smtp_class(self.handler, **self.SMTP_kwargs)
            opened.add(server)
            return server

        def stop(self, no_assert: bool = False) -> None:
            """Close the connections still open (held ones too), then stop."""
            closed = threading.Event()

            def close_all() -> None:
                for server in list(opened):
                    if server.transport is not None:
                        server.transport.close()
                closed.set()

            if self.loop.is_running():
                self.loop.call_soon_threadsafe(close_all)
                closed.wait(5)
            super().stop(no_assert)

    opened: weakref.WeakSet[Any] = weakref.WeakSet()

    controller = ScriptedController(handler, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    controller.handler = handler
    return controller
