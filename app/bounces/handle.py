"""The one handler every way in feeds (the SMTP receiver's job, the mailbox poller, the
webhooks): match each failed address to the delivery it answers, keep the bounce with its
raw message, and do what it means.

Matching, most certain first: a VERP token (signed: names the task and the delivery), the
original's Message-ID (``<mailroom.<task>.…>``: the task, then the address in it), then
the address's latest delivery. What a bounce does: the delivery becomes ``bounced`` (its
time of delivery kept, the diagnostic as its reason); a hard bounce or a complaint puts
the address on the owner's suppression list at once, soft ones once BOUNCE_SOFT_LIMIT of
them came within 30 days; in the owner's lists the member becomes ``bounced`` (a complaint:
``unsubscribed``). The same message seen twice changes nothing twice."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.bounces.parse import COMPLAINT, HARD, SOFT, Failure, Parsed, parse
from app.bounces.verp import verp_match
from app.extensions import db
from app.models import Bounce, Delivery, Member, Suppression, Task
from app.models.suppression import BOUNCE
from app.models.suppression import COMPLAINT as COMPLAINT_SOURCE
from app.models.task import BOUNCED, DELIVERED, PENDING, SENDING, UNKNOWN
from app.webhooks_out.events import bounced

OUR_MESSAGE_ID = re.compile(r"<mailroom\.(\d+)\.[0-9a-f]{16}@", re.IGNORECASE)
BOUNCEABLE = (DELIVERED, UNKNOWN)
TARGET_COLUMNS = (Delivery.id, Delivery.task_id, Task.username, Delivery.recipient,
                  Delivery.status)
IGNORED, DUPLICATE = "ignored", "duplicate"


class NotYet(Exception):
    """The delivery's outcome is still being written (its claim is in flight): try later."""


@dataclass
class Target:
    """The delivery a failure answers."""

    delivery_id: int
    task_id: int
    owner: str
    recipient: str
    how: str  # verp | message-id | address
    status: str = ""  # the delivery's, as it was read


@dataclass
class Outcome:
    """What one returned message came to."""

    matched: int = 0  # failures matched to a delivery
    bounces: int = 0  # rows kept

    @property
    def understood(self) -> bool:
        """True when something in it was matched to one of our deliveries."""
        return self.matched > 0


def handle_message(raw: bytes, via: str, rcpts: list[str] | tuple[str, ...] = ()
                   ) -> Outcome:
    """Parse a returned message (a DSN, an ARF report, anything) and act on it; NotYet when
    a delivery it names is still in flight."""
    parsed = parse(raw, rcpts)
    verp = _by_verp(parsed.verp)
    outcome = Outcome()
    for failure in parsed.failures:
        target = verp or _by_message_id(parsed.message_ids, failure.address) \
            or _by_address(failure.address)
        _record(outcome, failure, target, via, raw, parsed.note())
    if not parsed.failures:  # kept for a person to read, changing nothing
        note = parsed.note() + ("; VERP matched" if verp else "")
        _keep(Failure("", "unknown"), verp, via, raw, note, IGNORED)
        outcome.bounces += 1
    return outcome


def handle_event(failure: Failure, via: str, raw: bytes, *, verp: list[str] = (),
                 message_ids: list[str] = ()) -> Outcome:
    """One provider event (a webhook's bounce or complaint), already read: matched and
    acted on as a parsed message would be."""
    parsed = Parsed(failures=[failure], verp=list(verp), message_ids=list(message_ids),
                    detector=via)
    target = _by_verp(parsed.verp) or _by_message_id(parsed.message_ids, failure.address) \
        or _by_address(failure.address)
    outcome = Outcome()
    _record(outcome, failure, target, via, raw, parsed.note())
    return outcome


def _record(outcome: Outcome, failure: Failure, target: Target | None, via: str,
            raw: bytes, note: str) -> None:
    if target is None:
        _keep(failure, None, via, raw, note + "; no delivery of ours matched", IGNORED)
    else:
        outcome.matched += 1
        _act(failure, target, via, raw, note)
    outcome.bounces += 1


def _by_verp(addresses: list[str]) -> Target | None:
    found = verp_match(current_app.config, addresses)
    if found is None:
        return None
    row = db.session.execute(
        db.select(*TARGET_COLUMNS).join(Task, Task.id == Delivery.task_id)
        .where(Delivery.id == found[1], Delivery.task_id == found[0])).first()
    return Target(*row[:4], "verp", row.status) if row else None


def _by_message_id(message_ids: list[str], address: str) -> Target | None:
    for message_id in message_ids:
        match = OUR_MESSAGE_ID.search(message_id)
        if match:
            target = _delivery_to(address, Delivery.task_id == int(match.group(1)))
            if target is not None:
                target.how = "message-id"
                return target
    return None


def _by_address(address: str) -> Target | None:
    """The address's latest delivery that went out (a scan: the last resort)."""
    target = _delivery_to(address, Delivery.status.in_((*BOUNCEABLE, BOUNCED)))
    if target is not None:
        target.how = "address"
    return target


def _delivery_to(address: str, *where: Any) -> Target | None:
    row = db.session.execute(
        db.select(*TARGET_COLUMNS).join(Task, Task.id == Delivery.task_id)
        .where(db.func.lower(Delivery.recipient) == address.lower(), *where)
        .order_by(Delivery.id.desc()).limit(1)).first()
    return Target(*row[:4], "", row.status) if row else None


def _act(failure: Failure, target: Target, via: str, raw: bytes, note: str) -> None:
    """Keep the bounce, mark the delivery and the owner's list members in one commit; then
    the suppression list (its own commit: it knows the read-only sources)."""
    status = target.status
    if status in (PENDING, SENDING):
        db.session.rollback()
        raise NotYet(f"delivery {target.delivery_id} is still {status}")
    address = target.recipient.lower()
    failure = Failure(address, failure.kind, failure.diagnostic)
    note = f"{note}; matched by {target.how} to task {target.task_id}"
    effect = _effect(failure, target)
    if not _keep(failure, target, via, raw, note, effect, commit=False):
        return
    if failure.kind in (HARD, SOFT) and status in BOUNCEABLE:
        _mark_bounced(target, status, failure.diagnostic)
    complaint = failure.kind == COMPLAINT
    if effect == "suppressed":
        (Member.unsubscribe if complaint else Member.bounce)(target.owner, address)
    db.session.commit()
    if effect == "suppressed":
        Suppression.add(target.owner, [address], COMPLAINT_SOURCE if complaint else BOUNCE)
    bounced(target.owner, target.task_id, address, failure.kind, failure.diagnostic)


def _effect(failure: Failure, target: Target) -> str:
    """``suppressed`` for a hard bounce, a complaint, or the soft one that reaches the
    limit (this one counted); else ``bounced``."""
    if failure.kind in (HARD, COMPLAINT):
        return "suppressed"
    limit = int(current_app.config["BOUNCE_SOFT_LIMIT"])
    earlier = Bounce.soft_count(target.owner, failure.address)
    return "suppressed" if earlier + 1 >= limit else "bounced"


def _mark_bounced(target: Target, was: str, diagnostic: str) -> None:
    """The delivery is ``bounced`` (its ``updated_at``, when it was delivered, kept) and
    its task's counts follow; not committed."""
    changed = db.session.execute(
        db.update(Delivery).where(Delivery.id == target.delivery_id, Delivery.status == was)
        .values(status=BOUNCED, error=diagnostic or None)
        .execution_options(synchronize_session=False)).rowcount
    if changed:
        counts: dict[str, Any] = {"bounced_count": Task.bounced_count + 1}
        column = "delivered_count" if was == DELIVERED else "unknown_count"
        counts[column] = getattr(Task, column) - 1
        db.session.execute(db.update(Task).where(Task.id == target.task_id).values(**counts)
                           .execution_options(synchronize_session=False))


def _keep(failure: Failure, target: Target | None, via: str, raw: bytes, note: str,
          effect: str, commit: bool = True) -> bool:
    """Add the bounce's row (its raw message capped); False when the same message was kept
    for this address before (nothing is done twice)."""
    cap = int(current_app.config["BOUNCE_RAW_MAX_BYTES"])
    text = raw[:cap].decode("utf-8", "replace")
    if len(raw) > cap:
        text += f"\n[… {len(raw) - cap:,} bytes more not kept]"
    digest = hashlib.sha256(raw + b"\0" + failure.address.encode()).hexdigest()
    row = Bounce(owner=target.owner if target else None,
                 task_id=target.task_id if target else None,
                 delivery_id=target.delivery_id if target else None,
                 address=failure.address or None, kind=failure.kind, via=via[:32],
                 diagnostic=failure.diagnostic or None, conclusion=note, effect=effect,
                 raw=text, digest=digest)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    if commit:
        db.session.commit()
    return True
