"""``Idempotency-Key`` on ``POST /api/v1/sends``: a retry of the same request (same key,
same body, same token, within 24 hours) gets the first answer — the same task and status
— never a second send. The key's row is inserted and committed before the send is made:
the unique (token, key) pair lets exactly one of racing requests in; the others wait for
its answer and replay it. A request that made nothing (refused) gives its key back.

The task a request makes is written on its key in the same transaction as the task
(``_link``, at the flush): a request that dies after that leaves a key a later retry
answers with that task; one that dies before it leaves a key without a task, which a retry
takes over once it is ``STALE`` — so a crash never blocks a key for a day, nor sends twice."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.present import task_json
from app.api.problems import Problem
from app.extensions import db
from app.models import IdempotencyKey, Task
from app.models.types import utcnow

KEEP = timedelta(hours=24)
STALE = timedelta(minutes=3)  # a key unanswered this long: the request holding it died
HOLDING = "idempotency_key_id"  # in ``g``: the key this request makes a send for
WAIT_SECONDS = 25.0  # a retry waits this long for the first request's answer
POLL_SECONDS = 0.05
MAX_KEY = 255
Answer = tuple[dict[str, Any], int]


def body_hash(body: Any) -> str:
    """The request's fingerprint: its JSON with sorted keys (spacing and order aside)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_key(key: str) -> str:
    """The key as given, or a 422 when it is empty, too long or not printable ASCII."""
    if not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise Problem("invalid-request", _("Idempotency-Key는 1~%(max)s자의 ASCII 문자열이어야 "
                                           "합니다.", max=MAX_KEY), field="Idempotency-Key")
    return key


def _existing(token_id: int, key: str) -> IdempotencyKey | None:
    db.session.expire_all()
    return db.session.scalar(db.select(IdempotencyKey).filter_by(token_id=token_id, key=key))


def _link(session: Session, _context: Any) -> None:
    """After a flush: the Task this request made goes on its key, in the same transaction."""
    key_id = g.get(HOLDING) if has_request_context() else None
    made = [obj.id for obj in session.new if isinstance(obj, Task)] if key_id else []
    if made:
        session.connection().execute(
            db.update(IdempotencyKey.__table__)
            .where(IdempotencyKey.id == key_id, IdempotencyKey.task_id.is_(None))
            .values(task_id=made[0]))


event.listen(Session, "after_flush", _link)


def _claim(token_id: int, key: str, digest: str) -> tuple[bool, IdempotencyKey | None]:
    """(True, None) when this request now holds the key; else (False, the key's row, or
    None when its holder gave it back meanwhile)."""
    db.session.execute(db.delete(IdempotencyKey).where(  # past 24 hours a key is new again
        IdempotencyKey.token_id == token_id, IdempotencyKey.key == key,
        IdempotencyKey.created_at < utcnow() - KEEP))
    row = IdempotencyKey(token_id=token_id, key=key, request_hash=digest)
    db.session.add(row)
    try:
        db.session.commit()
        setattr(g, HOLDING, row.id)
        return True, None
    except IntegrityError:
        db.session.rollback()
    return False, _existing(token_id, key)


def _release(token_id: int, key: str) -> None:
    """Give the key back — unless a task was made under it: then that task is its answer."""
    db.session.rollback()
    row = _existing(token_id, key)
    if row is not None and row.task_id is not None:
        _answer_with_task(row)
        return
    db.session.execute(db.delete(IdempotencyKey).filter_by(token_id=token_id, key=key,
                                                           task_id=None))
    db.session.commit()


def _answer_with_task(row: IdempotencyKey) -> Answer | None:
    """The answer of a key whose request died after making its task (kept); None if the
    task is gone."""
    task = db.session.get(Task, row.task_id) if row.task_id is not None else None
    if task is None:
        return None
    answer = (task_json(task), 201)
    _keep(row.token_id, row.key, answer)
    return answer


def _take_over(row: IdempotencyKey) -> Answer | None:
    """A key whose request died: its task's answer, or the key freed (None) to claim."""
    if row.task_id is not None and (answer := _answer_with_task(row)) is not None:
        return answer
    db.session.execute(db.delete(IdempotencyKey).where(
        IdempotencyKey.id == row.id, IdempotencyKey.status_code.is_(None),
        IdempotencyKey.task_id.is_(None)))  # a task linked meanwhile: answered next round
    db.session.commit()
    return None


def _keep(token_id: int, key: str, answer: Answer) -> None:
    body, status = answer
    task_id = body.get("id") if status < 300 else body.get("task")
    db.session.execute(db.update(IdempotencyKey).filter_by(token_id=token_id, key=key)
                       .values(status_code=status, response=body, task_id=task_id))
    db.session.commit()


def _run(token_id: int, key: str, make: Callable[[], Answer]) -> Answer:
    """Make the send as the key's holder: its answer kept, or the key given back."""
    try:
        answer = make()
    except Problem as problem:
        if problem.status >= 500 and "task" in problem.extra:  # a task exists: keep it
            _keep(token_id, key, (problem.body(), problem.status))
        else:
            _release(token_id, key)
        raise
    except Exception:
        _release(token_id, key)
        raise
    finally:
        g.pop(HOLDING, None)
    _keep(token_id, key, answer)
    return answer


def idempotent(token_id: int, key: str, body: Any, make: Callable[[], Answer]
               ) -> tuple[dict[str, Any], int, bool]:
    """The answer of ``make()`` — run once per (token, key) — and whether it is a replay."""
    digest = body_hash(body)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        mine, row = _claim(token_id, key, digest)
        if mine:
            return (*_run(token_id, key, make), False)
        if row is not None:
            if row.request_hash != digest:
                raise Problem("idempotency-key-reused", _("이 Idempotency-Key는 다른 본문의 "
                              "요청에 이미 쓰였습니다. 새 요청에는 새 키를 쓰세요."))
            if row.status_code is not None:
                return dict(row.response or {}), row.status_code, True
            if utcnow() - row.created_at > STALE:
                if (answer := _take_over(row)) is not None:
                    return (*answer, True)
                continue
        if time.monotonic() >= deadline:
            raise Problem("idempotency-in-progress", _("첫 요청이 아직 끝나지 않았습니다. "
                          "잠시 후 같은 키로 다시 시도하세요."), {"Retry-After": "1"})
        db.session.close()  # no connection held while waiting
        time.sleep(POLL_SECONDS)
