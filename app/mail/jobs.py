"""The send job: one template to the task's recipients over up to ``MAIL_CONCURRENCY``
SMTP connections.

Each connection claims its recipients in batches (``pending`` → ``sending``, one UPDATE)
before their messages go and settles them after (one statement per batch:
``app/mail/pool.py``), so a retry, a resumed job or a
second job of the same task never mails anyone twice; a claim whose outcome is in doubt (a
crash, a drop once DATA began) ends ``unknown`` and is left for the user to decide.
"""

from __future__ import annotations

import logging
import threading
from email.message import Message
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from app.bounces.verp import envelope_sender
from app.extensions import after_bulk_write, db
from app.i18n import N_
from app.mail.claims import Outgoing
from app.mail.pool import DB_PATIENCE, run_connections
from app.mail.rate import SendRate
from app.mail.recipients import display
from app.mail.render import (
    RenderedMail,
    RenderLimitExceeded,
    TemplateProblem,
    prewarm,
    recipient_context,
    render_many,
    sender_name,
    template_key,
)
from app.mail.sender import build_message
from app.mail.unsubscribe import unsubscribe_links
from app.models import Delivery, MailTemplate, Suppression, Task
from app.models.audience import list_blanks, take_members
from app.models.task import NOT_BUILT, PENDING, REFUSED, SENDING, SUPPRESSED, UNKNOWN
from app.queue import queues
from app.tasks import inflight
from app.tasks.decorators import (
    ProgressReporter,
    Run,
    StopWatch,
    TransientError,
    background_task,
)
from app.tasks.patience import database_gone, patiently
from app.tasks.quota import QuotaExceeded, charge_at_start

log = logging.getLogger(__name__)
# What the log says, in the task's language (``_(RATE_NOTE)`` where it is written)
RATE_NOTE = N_("전송 속도 제한(MAIL_RATE_PER_SECOND)에 따라 차례를 기다리며 보내는 중입니다.")
LIMIT_STRIKES = 3
NOBODY = N_("보낼 받는 사람이 없습니다(목록이 비었거나 모두 수신 거부·반송 상태입니다).")
GAVE_UP = N_("템플릿이 처리 한도를 %(strikes)s번 넘어 나머지 받는 사람의 메일은 만들지 "
             "않았습니다.")


SHOWN_IN_RESULT = 100  # refused and unknown recipients the task's result names


def _outcome(task_id: int, total: int) -> dict[str, Any]:
    """What the run came to, its size bounded whatever the task's: counts from one
    GROUP BY, and the first refused and unknown recipients by name."""
    by_kind = db.session.execute(
        db.select(Delivery.status, Delivery.reason_kind, db.func.count())
        .where(Delivery.task_id == task_id).group_by(Delivery.status, Delivery.reason_kind))
    counts: dict[str, int] = {}
    for status, kind, n in by_kind:
        key = NOT_BUILT if status == REFUSED and kind == NOT_BUILT else status
        counts[key] = counts.get(key, 0) + n
    named = {status: db.session.execute(
        db.select(Delivery.recipient, Delivery.error, Delivery.reason_kind)
        .where(Delivery.task_id == task_id, Delivery.status == status)
        .order_by(Delivery.position, Delivery.id).limit(SHOWN_IN_RESULT)).all()
        for status in (REFUSED, UNKNOWN)}
    refused = [{"recipient": r, "error": e, **({"kind": k} if k else {})}
               for r, e, k in named[REFUSED]]
    unknown = [{"recipient": r, "error": e} for r, e, _ in named[UNKNOWN]]
    failed = counts.get(REFUSED, 0) + counts.get(NOT_BUILT, 0)
    # Suppressed recipients were skipped on purpose: neither delivered nor failed. Once the
    # connections are done, every other recipient was delivered.
    result: dict[str, Any] = {
        "delivered": total - failed - counts.get(UNKNOWN, 0) - counts.get(SUPPRESSED, 0),
        "total": total, "suppressed": counts.get(SUPPRESSED, 0), "refused_count": failed,
        "unknown_count": counts.get(UNKNOWN, 0), "refused": refused, "unknown": unknown}
    if total == 0:
        result.update(failed=True, log=_(NOBODY))
    elif reasons := _reasons(refused, unknown, counts):
        result["failed"] = True
        result["log"] = " / ".join(reasons)
    return result


def _reasons(refused: list[dict[str, Any]], unknown: list[dict[str, Any]],
             counts: dict[str, int]) -> list[str]:
    """The task's log, with each kind's count and its first addresses: a message that could
    not be made is not blamed on the server."""
    reasons = []
    not_built = [e for e in refused if e.get("kind") == NOT_BUILT]
    by_server = [e for e in refused if e.get("kind") != NOT_BUILT]
    explained = [f"{e['recipient']} ({e['error']})" for e in not_built]
    if counts.get(NOT_BUILT):
        reasons.append(_("메일을 만들지 못한 주소 %(count)s개(받는 서버와 무관): %(who)s",
                         count=counts[NOT_BUILT],
                         who=display(explained, shown=5, total=counts[NOT_BUILT])))
    if counts.get(REFUSED):
        explained = [f"{e['recipient']} ({e['error']})" for e in by_server]
        reasons.append(_("받는 서버가 거부한 주소 %(count)s개: %(who)s", count=counts[REFUSED],
                         who=display(explained, shown=5, total=counts[REFUSED])))
    if counts.get(UNKNOWN):
        reasons.append(_("전달 여부를 알 수 없는 주소 %(count)s개(자동으로 다시 보내지 않음): "
                         "%(who)s", count=counts[UNKNOWN], who=display(
                             [e["recipient"] for e in unknown], shown=5,
                             total=counts[UNKNOWN])))
    return reasons


def task_template(task_id: int, template_name: str, owner: str) -> dict[str, Any]:
    """The template a task sends: the snapshot it was made with; a task made before
    templates were data names a built-in instead."""
    snapshot = db.session.scalar(db.select(Task.template).where(Task.id == task_id))
    if snapshot:
        return snapshot
    template = MailTemplate.named(template_name, owner)
    if template is None:
        raise LookupError(_("템플릿을 찾을 수 없습니다: %(name)s", name=template_name))
    return template.snapshot()


class Composer:
    """Makes the messages of a claimed batch (called from the connections' threads): their
    mail rendered in one request to a render process, each recipient's alone under the
    render limits. A recipient whose mail cannot be made fails alone, with the reason;
    once ``LIMIT_STRIKES`` renders were stopped by a limit, the rest are not tried (a
    template that runs away would otherwise hold the worker for each recipient)."""

    def __init__(self, template: dict[str, Any], owner: str, sender: str,
                 blank: dict[str, str] | None = None, task_id: int | None = None) -> None:
        self.template, self.owner, self.sender = template, owner, sender
        self.task_id = task_id  # names each message's VERP envelope (MAIL_BOUNCE_ADDRESS)
        # A list's columns a member has no value for (imported before the column was)
        self.blank = blank or {}
        self.key = template_key(template)
        self.sender_name = sender_name(owner)
        self.strikes = 0
        self._lock = threading.Lock()

    def __call__(self, items: list[Outgoing]) -> list[Message | str]:
        """Each item's message, or why it cannot be made."""
        if self.strikes >= LIMIT_STRIKES:
            return [_(GAVE_UP, strikes=LIMIT_STRIKES)] * len(items)
        # Each connection's thread runs in an app context: the links read its config.
        try:
            links = [unsubscribe_links(self.owner, item.recipient) for item in items]
        except LookupError as exc:  # the sending account is gone: no link, no mail
            return [_("보내는 계정을 찾을 수 없습니다: %(error)s", error=exc)] * len(items)
        contexts = [recipient_context(item.recipient, {**self.blank, **(item.fields or {})},
                                      self.sender_name, link)
                    for item, (link, _) in zip(items, links, strict=True)]
        mails = render_many(self.template, contexts, self.key)
        return [self._message(item, headers, mail)
                for item, (_, headers), mail in zip(items, links, mails, strict=True)]

    def _message(self, item: Outgoing, headers: list[tuple[str, str]],
                 mail: RenderedMail | TemplateProblem) -> Message | str:
        if isinstance(mail, RenderLimitExceeded):
            with self._lock:
                self.strikes += 1
        if isinstance(mail, TemplateProblem):
            return str(mail)
        try:
            envelope = (envelope_sender(current_app.config, self.task_id, item.delivery_id)
                        if self.task_id is not None else None)
            return build_message(mail, self.sender, item.recipient, item.message_id, headers,
                                 envelope)
        except ValueError as exc:  # an address our SMTP path cannot carry
            return str(exc)


@background_task
def send_mail(run: Run, legacy_template: str | None = None,
              legacy_owner: str | None = None) -> dict[str, Any]:
    """Send the task's template to each of its pending recipients, stopping between two
    messages on every connection once the user cancels, pauses, or the worker shuts down.
    Everything comes from the Task row (a task made before that named its built-in
    template and owner as arguments: ``legacy_*``)."""
    task_id = run.task_id
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    prewarm()  # a render process loads while the run gets ready
    # A crashed run's claims: answered ones get their answer, begun ones are in doubt.
    inflight.settle_claims(queues(app).connection, task_id)
    try:
        _take_and_charge(task_id)
    except QuotaExceeded as exc:
        return {"failed": True, "log": str(exc), "delivered": 0}
    owner = db.session.scalar(db.select(Task.username).where(Task.id == task_id))
    # Who asked to be left alone since the task was made (a reservation, a retry) is skipped.
    Suppression.apply(task_id, owner)
    counts = {status: n for status, n in db.session.execute(
        db.select(Delivery.status, db.func.count()).where(Delivery.task_id == task_id)
        .group_by(Delivery.status))}
    total, pending = sum(counts.values()), counts.get(PENDING, 0)
    if pending:
        composer = Composer(task_template(task_id, legacy_template or "welcome", owner),
                            owner, app.config["MAIL_DEFAULT_SENDER"], list_blanks(task_id),
                            task_id)
        transient = _send_all(app, run, total, pending, composer)
        if transient and Delivery.count(task_id, PENDING):  # none left: no wait for a retry
            raise TransientError(transient[0])
    return _outcome(task_id, total)


def _take_and_charge(task_id: int) -> None:
    """A list send takes its members now; a reservation that fired or a list send is
    charged now, if it still fits (QuotaExceeded, with nothing kept, if not); commit."""
    task = db.session.get(Task, task_id)
    taken = take_members(task) if task is not None else 0
    charge_at_start(task_id)
    db.session.commit()
    after_bulk_write("deliveries", taken)


def _send_all(app: Flask, run: Run, total: int, pending: int,
              composer: Composer) -> list[str]:
    """Send until nothing is pending; the transient failures met. A claim whose commit
    went through while its answer was lost (the database went away mid-commit) left rows
    ``sending`` that no connection holds: once the connections end, they are settled from
    the ledger (never begun: back to pending) and sent in the same run."""
    while True:
        transient = _send(app, run, total, pending, composer)
        left = patiently(lambda: inflight.settle_claims(queues(app).connection, run.task_id),
                         DB_PATIENCE, f"task {run.task_id}: claims left")
        pending = Delivery.count(run.task_id, PENDING) if left else 0
        if transient or not pending:
            return transient
        log.warning("task %s: %d claim(s) no connection held went back to pending",
                    run.task_id, left)


def _send(app: Flask, run: Run, total: int, pending: int, composer: Composer) -> list[str]:
    """Run the connections with the stop watch and the progress writer; the transient
    failures met (CancelRequested and the other stops raised once they are done)."""
    task_id = run.task_id
    progress = ProgressReporter(task_id, total)
    rate = SendRate.from_config(app.config)

    def on_tick() -> None:
        if not progress.due():
            return
        note = _(RATE_NOTE) if rate.waited > 1 else None
        try:
            done = total - Delivery.count(task_id, PENDING, SENDING)
        except DBAPIError as exc:  # the database is away: the connections wait it out
            if not database_gone(exc):
                raise
            db.session.remove()
            return
        progress.report(done, note=note)

    with StopWatch(app, task_id, run.number) as watch:
        transient = run_connections(app, task_id, pending, run.number, composer, watch.event,
                                    rate, on_tick)
    watch.raise_if_stopped()
    return transient
