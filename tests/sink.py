"""A recording SMTP sink (aiosmtpd) whose answers a test can script."""

from __future__ import annotations

import threading
import time
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
    before it replies does when the network breaks at that moment)."""

    delay: float = 0.0
    refuse: set[str] = field(default_factory=set)
    defer_first: int = 0  # answer 451 to this many DATA commands first
    defer_nth: int = 0  # answer 451 to the nth DATA command (1-based), once
    data_seen: int = 0
    data_begun: int = 0
    drop_after_data: set[str] = field(default_factory=set)  # once per address
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_begun += 1  # the whole message is here; its answer may still be delayed
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
