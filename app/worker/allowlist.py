"""The job functions a worker runs: with JSON jobs nothing is unpickled, but a job still
names its callable, so whoever can write to Redis could otherwise run any importable
function (``os.system``). Mailroom's own (``app.queue.JOB_FUNCTIONS``) plus
``WORKER_JOB_ALLOWLIST``; anything else fails with the reason, before it is imported — in
the operator's language (``app/cli_language.py``), when the job runs in an app context."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from rq.job import Job

from app.cli_language import operator_language
from app.queue import JOB_FUNCTIONS


class JobNotAllowed(Exception):
    """The job names a function (or a callback) that is not on the worker's allowlist."""


class AllowlistedJob(Job):
    """A job that imports and calls only functions named in ``allowed`` (dotted names): with
    JSON jobs nothing is unpickled, but a job still names its callable, so whoever can write
    to Redis could otherwise run any importable function (``os.system``). The names are
    compared before anything is imported; a refused job fails with the reason, not retried."""

    allowed: frozenset[str] = frozenset(JOB_FUNCTIONS)

    def refusal(self) -> str | None:
        """Why this job must not run; None when it may."""
        if self.instance is not None:  # ``getattr(instance, func_name)``: never ours
            with force_locale(operator_language()):
                return _("객체에 묶인 작업은 실행하지 않습니다.")
        names = (self.func_name, self._success_callback_name, self._failure_callback_name,
                 self._stopped_callback_name)
        refused = [name for name in names if name and name not in self.allowed]
        if refused:
            with force_locale(operator_language()):
                return _("작업 함수 %(names)s은(는) 이 워커의 허용 목록에 없어 실행하지 "
                         "않습니다(app.queue.JOB_FUNCTIONS, WORKER_JOB_ALLOWLIST).",
                         names=", ".join(refused))
        return None

    @property
    def func(self) -> Any:
        """The job's function, imported only when the allowlist names it."""
        reason = self.refusal()
        if reason is not None:
            self.retries_left = 0  # it would be refused again
            raise JobNotAllowed(reason)
        return super().func

    @property
    def success_callback(self) -> Any:
        """RQ's success callback, only when allowed (else none)."""
        return super().success_callback if self._allows(self._success_callback_name) else None

    @property
    def failure_callback(self) -> Any:
        """RQ's failure callback, only when allowed (else none)."""
        return super().failure_callback if self._allows(self._failure_callback_name) else None

    @property
    def stopped_callback(self) -> Any:
        """RQ's stopped callback, only when allowed (else none)."""
        return super().stopped_callback if self._allows(self._stopped_callback_name) else None

    def _allows(self, name: str | None) -> bool:
        return not name or name in self.allowed


def allowlisted_job_class(extra: Iterable[str] | str = ()) -> type[AllowlistedJob]:
    """The job class of a worker that runs Mailroom's job functions plus ``extra`` (dotted
    names, or one comma-separated string of them)."""
    names = extra.split(",") if isinstance(extra, str) else extra
    allowed = frozenset((*JOB_FUNCTIONS, *(name.strip() for name in names if name.strip())))
    return type("AllowlistedJob", (AllowlistedJob,), {"allowed": allowed})
