"""A counting SMTP sink in a process of its own (so it does not share the GIL with what it
measures): ``python bench/sink_server.py PORT LOGFILE [DELAY_MS]``. Each accepted message
appends its arrival time to LOGFILE; DELAY_MS holds each reply to MAIL, RCPT and DATA, as a
relay one round trip away would."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller


class Counting:
    def __init__(self, path: str, delay: float) -> None:
        self.out = open(path, "a", buffering=1)  # noqa: SIM115  (open for the process's life)
        self.delay = delay

    async def _wait(self) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        await self._wait()
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        await self._wait()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await self._wait()
        self.out.write(f"{time.time():.6f} {envelope.rcpt_tos[0]}\n")
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    delay = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.0
    controller = Controller(Counting(path, delay), hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
