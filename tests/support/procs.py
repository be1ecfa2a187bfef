"""Process helpers for tests: the descendants of a process we started, read from /proc."""

from __future__ import annotations

import os
import signal


def descendants(pid: int) -> set[int]:
    """Every descendant of ``pid``."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


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
    from app.devstack import wait_until

    family = descendants(pid) | {pid}
    for victim in [pid, *sorted(family - {pid})]:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not any(alive(p) for p in family), 10, "the killed processes")
    return family
