"""``POST /webhooks/bounces/<provider>``: bounces and complaints pushed by a provider
(``generic``, ``postmark``, ``sendgrid``, ``ses``). No login and no CSRF token here (a provider has
neither): each request proves itself (app/bounces/providers.py) or is answered 403 with
nothing changed. Rate limited per address (RATELIMIT_BOUNCE_WEBHOOK)."""

from __future__ import annotations

import logging
import re
import urllib.request
from typing import Any

from flask import abort, current_app, request

from app.bounces import bp
from app.bounces.handle import NotYet, handle_event
from app.bounces.providers import (
    Event,
    Refused,
    read_generic,
    read_postmark,
    read_sendgrid,
    read_ses,
)
from app.extensions import csrf, db, limiter

log = logging.getLogger(__name__)
# Which setting turns each provider on: unset, its URL is a 404.
ENABLED_BY = {"generic": "BOUNCE_WEBHOOK_SECRET", "postmark": "BOUNCE_POSTMARK_PASSWORD",
              "sendgrid": "BOUNCE_SENDGRID_PUBLIC_KEY", "ses": "BOUNCE_SNS_TOPIC_ARNS"}


def _limit() -> str:
    return current_app.config["RATELIMIT_BOUNCE_WEBHOOK"]


@bp.post("/webhooks/bounces/<provider>")
@csrf.exempt  # a provider's POST carries no CSRF token: its signature is checked instead
@limiter.limit(_limit)
def webhook(provider: str) -> tuple[dict[str, Any], int]:
    """Check the provider's proof, then act on each event; 403 (and nothing changed) for
    a request that is not the provider's, 503 when a delivery is still being written (the
    provider sends it again)."""
    config = current_app.config
    if provider not in ENABLED_BY or not config.get(ENABLED_BY[provider]):
        abort(404)
    body = request.get_data(cache=False)
    try:
        events = _events(provider, body)
    except Refused as exc:
        log.warning("bounce webhook %s refused: %s", provider, exc)
        return {"error": "forbidden"}, 403
    except ValueError as exc:
        return {"error": str(exc)}, 400
    try:
        matched = sum(handle_event(e.failure, f"webhook:{provider}", body, verp=e.verp,
                                   message_ids=e.message_ids).matched for e in events)
    except NotYet:
        db.session.rollback()
        return {"error": "try again later"}, 503
    return {"events": len(events), "matched": matched}, 200


def _events(provider: str, body: bytes) -> list[Event]:
    config = current_app.config
    if provider == "generic":
        return read_generic(config, request.headers, body)
    if provider == "postmark":
        return read_postmark(config, request.authorization, body)
    if provider == "sendgrid":
        return read_sendgrid(config, request.headers, body)
    what, value = read_ses(config, body, config.get("BOUNCE_SNS_CERT_FETCH"))
    if what == "confirm":
        _confirm(value)
        return []
    return value


def _confirm(url: str) -> None:
    """Confirm an SNS subscription: GET its SubscribeURL, on SNS's own hosts only."""
    host = re.match(r"^https://(sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?)/", url)
    if host is None:
        log.warning("SNS SubscribeURL not on an SNS host: not confirmed")
        return
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310
        answer.read(64 * 1024)
    log.info("SNS subscription confirmed at %s", host.group(1))
