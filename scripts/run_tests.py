"""`make test`: three pytest processes side by side — the integration tier, its longest
modules (``slow``: workers killed, Redis and the database stopped, relays cut, saved lists
on both databases), and the unit and browser tiers (with a few integration modules,
``beside``, so that the three end close together). Most of a test's time here is waiting
(for a worker, a relay, a page, a deadline), not computing, so three processes on two cores
finish in about the time of the longest. Each process starts its own servers on free ports
and its own PostgreSQL database, so they never meet. Arguments are passed to each (e.g.
``-x``, ``-k name``). Each line is printed as it comes, prefixed with its process; the exit
status is the worst."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

TIERS = {"integration": "integration and not slow and not beside", "slow": "slow",
         "unit+e2e": "not integration or beside"}
NO_TESTS = 5  # pytest's status when a filter left a process nothing to run


def _stream(name: str, process: subprocess.Popen[str], ended: dict[str, float]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(f"[{name}] {line}")
        sys.stdout.flush()
    ended[name] = time.monotonic()  # its output closed: the process is ending


def main(args: list[str]) -> int:
    started = time.monotonic()
    runs = {name: subprocess.Popen([sys.executable, "-m", "pytest", "-m", marks, *args],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for name, marks in TIERS.items()}
    ended: dict[str, float] = {}
    readers = [threading.Thread(target=_stream, args=(*item, ended)) for item in runs.items()]
    for reader in readers:
        reader.start()
    codes = {name: process.wait() for name, process in runs.items()}
    for reader in readers:
        reader.join()
    took = {name: f"{at - started:.0f} s" for name, at in ended.items()}
    print(f"tiers: {codes} in {time.monotonic() - started:.0f} s (each: {took})")
    ran = [code for code in codes.values() if code != NO_TESTS]
    return max(ran) if ran else NO_TESTS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
