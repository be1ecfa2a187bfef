"""The render process: where users' templates run, under hard limits, apart from the web
app and the worker. ``app/mail/renderpool.py`` starts it as
``python -E -s app/mail/render_child.py IN_FD OUT_FD LIMITS`` (the sandbox is imported as a
sibling module, so nothing of the app, Flask or the database is loaded here) and talks to
it in JSON over two pipes: one request in, one answer per result out.

Its address space is capped at ``memory_mb`` (RLIMIT_AS: a ``MemoryError`` is answered,
then the process ends) and, before each render, its CPU time at what it used so far plus
``seconds`` + 1 (RLIMIT_CPU: the kernel ends a process whose parent could not) — the
parent's deadline and SIGKILL come first; these hold even if the parent is stuck.
"""

from __future__ import annotations

import json
import math
import resource
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import sandbox  # the sibling package app/mail/sandbox/ (this file runs as a script)

CACHE_SIZE = 8  # compiled templates kept (one send asks for the same one again and again)


def _limit_memory(megabytes: int) -> None:
    size = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def _limit_cpu(seconds: float) -> None:
    """From now on, at most ``seconds`` + 1 s more CPU time (SIGXCPU ends the process)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))


def _problem(exc: sandbox.TemplateProblem) -> dict[str, Any]:
    return {"problem": {"message": exc.message, "part": exc.part, "line": exc.line}}


class Server:
    """Answers ``check``, ``fields`` and ``render`` requests, one at a time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.compiled: dict[str, sandbox.CompiledMail] = {}

    def _compiled(self, request: dict[str, Any]) -> sandbox.CompiledMail | None:
        """The request's template, compiled (kept under its key: a send sends it once);
        None when the request names a key this process no longer keeps."""
        template = request.get("template")
        key = request.get("key") or json.dumps(template, sort_keys=True)
        found = self.compiled.pop(key, None)
        if found is None:
            if template is None:
                return None
            found = sandbox.compile_mail(template)
        self.compiled[key] = found  # most recent last
        while len(self.compiled) > CACHE_SIZE:
            self.compiled.pop(next(iter(self.compiled)))
        return found

    def answers(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The answers to one request: one, or one per recipient of a ``render``."""
        op = request["op"]
        _limit_cpu(self.seconds)
        try:
            if op == "check":
                yield {"fields": sandbox.check(request["template"])}
                return
            if op == "fields":
                yield {"fields": sandbox.fields_used(request["template"])}
                return
            mail = self._compiled(request)
        except sandbox.TemplateProblem as exc:
            for _ in request.get("contexts") or [None]:
                yield _problem(exc)
            return
        if mail is None:
            yield {"unknown": True}  # send the template again
            return
        for context in request["contexts"]:
            _limit_cpu(self.seconds)
            try:
                rendered = mail.render(context)
            except sandbox.TemplateProblem as exc:
                yield _problem(exc)
                continue
            yield {"mail": {"subject": rendered.subject, "text": rendered.text,
                            "html": rendered.html}}


def main(argv: list[str]) -> int:
    """Serve requests until the parent closes the pipe (or a render runs out of memory)."""
    inbound = Connection(int(argv[1]), writable=False)
    outbound = Connection(int(argv[2]), readable=False)
    limits = json.loads(argv[3])
    sandbox.configure(max_output=int(limits["max_output"]),
                      work_budget=int(limits["work_budget"]))
    _limit_memory(int(limits["memory_mb"]))
    server = Server(float(limits["seconds"]))
    outbound.send_bytes(b'{"ready": true}')
    while True:
        try:
            request = json.loads(inbound.recv_bytes())
        except EOFError:
            return 0
        try:
            for answer in server.answers(request):
                outbound.send_bytes(json.dumps(answer).encode())
        except MemoryError:
            del server  # let go of what the render built, then say so and end
            outbound.send_bytes(b'{"limit": "memory"}')
            return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
