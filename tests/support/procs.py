"""Process helpers for tests: the descendants of a process we started, read from /proc."""

from __future__ import annotations

import os
import signal


def _table() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, state), read from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> set[int]:
    """Every descendant of ``pid``."""
    parents: dict[int, list[int]] = {}
    for child, (parent, _) in _table().items():
        parents.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def children(pid: int) -> set[int]:
    """The living direct children of ``pid``."""
    return {child for child, (parent, state) in _table().items()
            if parent == pid and state != "Z"}


def cmdline(pid: int) -> str:
    """The command line of ``pid`` ("" once it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_leftovers(pids: set[int]) -> None:
    """SIGKILL those of ``pids`` (descendants of a process we started) still running."""
    for pid in pids:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def kill_family(pid: int) -> set[int]:
    """SIGKILL ``pid`` (a process we started) and then every descendant; wait until all are
    gone; the pids. The parent goes first, so a supervisor cannot start a replacement for a
    child it saw die."""
    from tests.support import wait_until

    family = descendants(pid) | {pid}
    for victim in [pid, *sorted(family - {pid})]:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not any(alive(p) for p in family), 10, "the killed processes")
    return family
