"""Render processes: how the web app and the worker run a user's template without running
it themselves. Each process of ours keeps a small pool of ``render_child.py`` processes
(started on demand up to ``TEMPLATE_RENDER_PROCESSES``, kept for the next render, replaced
after ``RENDERS_PER_PROCESS`` renders), and waits on each answer at most
``TEMPLATE_RENDER_SECONDS``: past it, the render process is killed (SIGKILL, by its PID)
and the caller hears the limit. The caller's thread only waits on a pipe, so it holds no
lock and no CPU while a template runs.

A pool belongs to the process that made it: a forked work horse makes its own (it never
touches its parent's render processes).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "render_child.py")
RENDERS_PER_PROCESS = 1000
START_SECONDS = 15.0  # a new render process loading Jinja on a busy machine
TIME, MEMORY, BUSY = "time", "memory", "busy"


@dataclass(frozen=True)
class RenderLimits:
    """The bounds of one render (the config's ``TEMPLATE_*`` settings)."""

    seconds: float = 2.0
    memory_mb: int = 256
    max_output: int = 200_000
    work_budget: int = 1_000_000
    processes: int = 4

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RenderLimits:
        """The limits the app is configured with."""
        return cls(seconds=float(config["TEMPLATE_RENDER_SECONDS"]),
                   memory_mb=int(config["TEMPLATE_RENDER_MEMORY_MB"]),
                   max_output=int(config["TEMPLATE_MAX_OUTPUT"]),
                   work_budget=int(config["TEMPLATE_WORK_BUDGET"]),
                   processes=max(1, int(config["TEMPLATE_RENDER_PROCESSES"])))


class RenderProcess:
    """One ``render_child.py`` process and the two pipes to it."""

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        child_in, to_child = os.pipe()
        from_child, child_out = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-E", "-s", CHILD, str(child_in), str(child_out),
                 json.dumps(asdict(limits))],
                pass_fds=(child_in, child_out), stdin=subprocess.DEVNULL)
        except OSError:
            for fd in (to_child, from_child):
                os.close(fd)
            raise
        finally:
            os.close(child_in)
            os.close(child_out)
        self.owner = os.getpid()
        self.outbound = Connection(to_child, readable=False)
        self.inbound = Connection(from_child, writable=False)
        self.renders = 0
        self.dead = False
        self.known: set[str] = set()  # template keys sent to it
        if self.answer(START_SECONDS).get("ready") is not True:
            self.close()
            raise OSError("the render process did not start")

    def ask(self, request: dict[str, Any]) -> bool:
        """Send one request; False if the process is gone (then ask another)."""
        try:
            self.outbound.send_bytes(json.dumps(request).encode())
        except OSError:
            self.dead = True
            return False
        return True

    def render_request(self, template: Mapping[str, Any], contexts: list[dict[str, Any]],
                       key: str | None) -> dict[str, Any]:
        """A render request, carrying the template unless this process has it by ``key``."""
        request: dict[str, Any] = {"op": "render", "key": key, "contexts": contexts}
        if key is None or key not in self.known:
            request["template"] = dict(template)
            if key is not None:
                self.known.add(key)
        return request

    def answer(self, timeout: float) -> dict[str, Any]:
        """The next answer; ``{"limit": ...}`` if none came within ``timeout`` seconds (the
        process is then killed) or the process died."""
        try:
            if self.inbound.poll(timeout):
                self.renders += 1
                answer = json.loads(self.inbound.recv_bytes())
                if "limit" in answer:  # it said so, and ends
                    self._end()
                return answer
        except (EOFError, OSError):
            return {"limit": self._end()}
        self.kill()
        return {"limit": TIME}

    def _end(self) -> str:
        """The process ended by itself: why (the CPU limit's SIGXCPU, else memory)."""
        self.dead = True
        code = self.process.wait()
        return TIME if code == -signal.SIGXCPU else MEMORY

    @property
    def reusable(self) -> bool:
        """Alive, ours, and not yet due for replacement."""
        return (not self.dead and self.owner == os.getpid() and self.process.poll() is None
                and self.renders < RENDERS_PER_PROCESS)

    def kill(self) -> None:
        """End it now (a render past its deadline)."""
        self.dead = True
        if self.owner == os.getpid() and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        """Close the pipes; the process ends on the end of its input (or is killed)."""
        for connection in (self.outbound, self.inbound):
            connection.close()
        if self.owner != os.getpid():
            return  # a forked copy: the process is our parent's to end
        try:
            self.process.wait(1.0)
        except subprocess.TimeoutExpired:
            self.kill()


class RenderPool:
    """Up to ``limits.processes`` render processes shared by the threads of one process."""

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self._idle: list[RenderProcess] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limits.processes)
        self._warming: threading.Thread | None = None

    def prewarm(self) -> None:
        """Start a render process in the background when none is idle, so the first render
        of a new process (a forked work horse) does not wait for one to load."""
        with self._lock:
            if self._idle or self._warming is not None:
                return
            self._warming = threading.Thread(target=self._warm, name="render-prewarm",
                                             daemon=True)
            self._warming.start()

    def _warm(self) -> None:
        try:
            process: RenderProcess | None = RenderProcess(self.limits)
        except OSError:
            process = None  # the first render will start one, or say why it cannot
        with self._lock:
            if process is not None:
                self._idle.append(process)
            self._warming = None

    @contextmanager
    def _process(self) -> Iterator[RenderProcess]:
        if not self._slots.acquire(timeout=self.limits.seconds * 2):
            raise PoolBusy
        process: RenderProcess | None = None
        try:
            warming = self._warming
            if warming is not None:  # one is on its way: cheaper than starting another
                warming.join(START_SECONDS)
            with self._lock:
                while self._idle and process is None:
                    candidate = self._idle.pop()
                    if candidate.reusable:
                        process = candidate
                    else:
                        candidate.close()
            if process is None:
                process = RenderProcess(self.limits)
            yield process
        finally:
            if process is not None:
                self._release(process)
            self._slots.release()

    def _release(self, process: RenderProcess) -> None:
        if process.reusable:
            with self._lock:
                self._idle.append(process)
        else:
            process.close()

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """One request with one answer (``check``, ``fields``)."""
        try:
            for _ in range(2):  # an idle process may have ended since it was last used
                with self._process() as process:
                    if process.ask(request):
                        return process.answer(self.limits.seconds)
        except PoolBusy:
            pass
        return {"limit": BUSY}

    def render(self, template: Mapping[str, Any], contexts: list[dict[str, Any]],
               key: str | None = None) -> list[dict[str, Any]]:
        """One answer per context, in order. A render past a limit answers the limit and
        the rest go on in a new process. With a ``key`` naming the template, a process
        that has compiled it is sent only the key."""
        answers: list[dict[str, Any]] = []
        lost = 0
        while len(answers) < len(contexts):
            todo = contexts[len(answers):]
            try:
                with self._process() as process:
                    if not process.ask(process.render_request(template, todo, key)):
                        lost += 1  # an idle process that had ended: the next one is new
                        if lost > 2:
                            raise OSError("render processes end as soon as they start")
                        continue
                    for _ in todo:
                        answer = process.answer(self.limits.seconds)
                        if answer.get("unknown"):  # it let the template go: send it again
                            process.known.discard(key or "")
                            break
                        answers.append(answer)
                        if "limit" in answer:
                            break
            except PoolBusy:
                answers.extend({"limit": BUSY} for _ in todo)
        return answers

    def close(self) -> None:
        """Close every idle process (at exit)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.close()


class PoolBusy(Exception):
    """Every render process stayed busy for twice the render deadline."""


class _Pools:
    """The pools of this process, one per set of limits (a fork starts afresh)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.pools: dict[RenderLimits, RenderPool] = {}


_state = _Pools()


def pool_for(limits: RenderLimits) -> RenderPool:
    """This process's pool for ``limits``."""
    global _state
    if _state.pid != os.getpid():
        inherited, _state = _state, _Pools()  # the old lock may be held by a dead thread
        for pool in inherited.pools.values():
            for process in pool._idle:
                process.close()  # a forked copy only closes its pipes
    with _state.lock:
        found = _state.pools.get(limits)
        if found is None:
            found = _state.pools[limits] = RenderPool(limits)
        return found


@atexit.register
def _close_all() -> None:
    if _state.pid == os.getpid():
        for pool in list(_state.pools.values()):
            pool.close()
