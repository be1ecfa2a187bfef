"""What stops or fails a run, as the job machinery and the layers under it (SMTP, claims)
see it: the user's cancel or pause, a deploy's shutdown, a newer run, a passing failure."""

from __future__ import annotations


class CancelRequested(Exception):
    """Raised by a job that saw its user's cancel request between two units of work."""


class PauseRequested(Exception):
    """Raised by a job that saw its user's pause request between two units of work."""


class ShutdownRequested(Exception):
    """The worker is going away (a deploy, a restart): the run stopped between two units of
    work and hands its task back to the queue, to go on at once in another worker."""


class Superseded(Exception):
    """This run no longer owns its Task: the reconciler handed the task to a newer run."""


class TransientError(Exception):
    """A failure worth retrying later (a busy or unreachable server)."""


def summarize(exc: BaseException) -> str:
    """A one-line reason a user can read, not a traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    summary = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return summary[:500]
