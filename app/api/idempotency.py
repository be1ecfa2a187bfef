"""``Idempotency-Key`` on ``POST /api/v1/sends``: a retry of the same request (same key,
same body, same token, within 24 hours) gets the first answer — the same task and status
— never a second send. The key's row is inserted and committed before the send is made:
the unique (token, key) pair lets exactly one of racing requests in; the others wait for
its answer and replay it. A request that made nothing (refused) gives its key back."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.api.problems import Problem
from app.extensions import db
from app.models import IdempotencyKey
from app.models.types import utcnow

KEEP = timedelta(hours=24)
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
        raise Problem("invalid-request", f"Idempotency-Key는 1~{MAX_KEY}자의 ASCII "
                      "문자열이어야 합니다.", field="Idempotency-Key")
    return key


def _existing(token_id: int, key: str) -> IdempotencyKey | None:
    db.session.expire_all()
    return db.session.scalar(db.select(IdempotencyKey).filter_by(token_id=token_id, key=key))


def _claim(token_id: int, key: str, digest: str) -> tuple[bool, IdempotencyKey | None]:
    """(True, None) when this request now holds the key; else (False, the key's row, or
    None when its holder gave it back meanwhile)."""
    db.session.execute(db.delete(IdempotencyKey).where(  # past 24 hours a key is new again
        IdempotencyKey.token_id == token_id, IdempotencyKey.key == key,
        IdempotencyKey.created_at < utcnow() - KEEP))
    db.session.add(IdempotencyKey(token_id=token_id, key=key, request_hash=digest))
    try:
        db.session.commit()
        return True, None
    except IntegrityError:
        db.session.rollback()
    return False, _existing(token_id, key)


def _release(token_id: int, key: str) -> None:
    db.session.rollback()
    db.session.execute(db.delete(IdempotencyKey).filter_by(token_id=token_id, key=key))
    db.session.commit()


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
                raise Problem("idempotency-key-reused", "이 Idempotency-Key는 다른 본문의 "
                              "요청에 이미 쓰였습니다. 새 요청에는 새 키를 쓰세요.")
            if row.status_code is not None:
                return dict(row.response or {}), row.status_code, True
        if time.monotonic() >= deadline:
            raise Problem("idempotency-in-progress", "첫 요청이 아직 끝나지 않았습니다. "
                          "잠시 후 같은 키로 다시 시도하세요.", {"Retry-After": "1"})
        db.session.close()  # no connection held while waiting
        time.sleep(POLL_SECONDS)
