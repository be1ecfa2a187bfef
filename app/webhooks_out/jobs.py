"""The delivery job: POST one event's signed JSON to its hook, note the answer, and raise
on anything but a 2xx so RQ tries again after each of ``WEBHOOK_RETRY_INTERVALS``."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

from flask import current_app

from app.extensions import db
from app.models import Webhook, WebhookDelivery
from app.models.types import utcnow
from app.queue import WEBHOOK_DELIVERY, current_job, queues, retry_after
from app.webhooks_out.events import DELIVERY_QUEUE
from app.webhooks_out.signing import HEADER, signature
from app.webhooks_out.targets import TargetRefused, opener

log = logging.getLogger(__name__)
KEEP_ANSWER = 500  # characters of the receiver's answer kept in the log
USER_AGENT = "Mailroom-Webhooks/1"


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx (RQ retries while it has tries left)."""


def enqueue(delivery_id: int) -> None:
    """Hand delivery ``delivery_id`` to RQ, with the configured retries (a Redis that is
    away leaves it pending in the log: nothing else depends on it)."""
    intervals = [int(s) for s in str(current_app.config["WEBHOOK_RETRY_INTERVALS"]).split(",")
                 if s.strip()]
    timeout = int(float(current_app.config["WEBHOOK_TIMEOUT_SECONDS"])) + 30
    try:
        queues()[DELIVERY_QUEUE].enqueue(
            WEBHOOK_DELIVERY, delivery_id, job_id=f"webhook-{delivery_id}", job_timeout=timeout,
            retry=retry_after(intervals) if intervals else None,
            description=f"webhook delivery {delivery_id}")
    except Exception as exc:  # Redis away: the row says pending
        log.warning("webhook delivery %s not queued: %s", delivery_id, exc)


def _post(hook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """Send the delivery once: the status heard (None: no answer) and the answer's text."""
    body = json.dumps({"id": f"evt_{delivery.id}", **delivery.payload},
                      ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               HEADER: signature(hook.secret, int(time.time()), body),
               "Mailroom-Event": delivery.event, "Mailroom-Delivery": str(delivery.id)}
    request = urllib.request.Request(hook.url, data=body, headers=headers, method="POST")
    config = current_app.config
    try:
        with opener(bool(config["WEBHOOK_ALLOW_PRIVATE"])).open(
                request, timeout=float(config["WEBHOOK_TIMEOUT_SECONDS"])) as response:
            return response.status, response.read(KEEP_ANSWER).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx
        return exc.code, exc.read(KEEP_ANSWER).decode("utf-8", "replace")
    except TargetRefused as exc:
        return None, str(exc)
    except (urllib.error.URLError, OSError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"[:KEEP_ANSWER]


def deliver(delivery_id: int) -> str:
    """The job: one try of one delivery; DeliveryFailed (RQ retries) unless 2xx."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    hook = db.session.get(Webhook, delivery.webhook_id) if delivery is not None else None
    if delivery is None or hook is None or delivery.status == "delivered":
        return "gone"  # the hook was removed, or it went through already
    status, answer = _post(hook, delivery)
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_response = status, answer
    delivery.last_attempt_at = utcnow()
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at = "delivered", utcnow()
        db.session.commit()
        return "delivered"
    job = current_job()
    delivery.status = "retrying" if job is not None and job.retries_left else "failed"
    db.session.commit()
    raise DeliveryFailed(f"webhook {hook.id} delivery {delivery_id}: {status} {answer[:100]}")
