"""What each provider's webhook sends, checked and read: ``generic`` (our JSON, signed with
an HMAC of BOUNCE_WEBHOOK_SECRET), ``postmark`` (basic auth), ``sendgrid`` (its signed
event webhook: ECDSA) and ``ses`` (Amazon SES through SNS, signed by SNS). Each ``read_*``
raises Refused for a request that does not prove where it came from (the view answers 403
and changes nothing), and gives the events it carries, already in our terms."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.bounces import sns
from app.bounces.parse import COMPLAINT, HARD, SOFT, Failure

GENERIC_TOLERANCE = 300  # seconds a generic request's timestamp may be off (no replays)
POSTMARK_KINDS = {
    "HardBounce": HARD, "BadEmailAddress": HARD, "ManuallyDeactivated": HARD,
    "SoftBounce": SOFT, "Transient": SOFT, "DnsError": SOFT,
    "SpamComplaint": COMPLAINT,
}
SES_KINDS = {"Permanent": HARD, "Transient": SOFT, "Undetermined": SOFT}
# SendGrid: a bounce event's type (``blocked``: refused for now), and a spam report.
SENDGRID_BOUNCE_TYPES = {"bounce": HARD, "blocked": SOFT}


class Refused(Exception):
    """The request is not the provider's (a bad or missing signature)."""


@dataclass
class Event:
    """One failed address from a provider, with what may name its delivery."""

    failure: Failure
    verp: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ValueError("the body is not JSON") from exc


def read_generic(config: Mapping[str, Any], headers: Mapping[str, str], body: bytes
                 ) -> list[Event]:
    """``X-Mailroom-Timestamp`` (epoch seconds) and ``X-Mailroom-Signature:
    sha256=<hex HMAC-SHA256 of "<timestamp>." + body>``; body ``{"events": [{"email",
    "kind": hard|soft|complaint, "diagnostic", "message_id", "verp"}]}``."""
    secret = str(config.get("BOUNCE_WEBHOOK_SECRET") or "").encode()
    stamp = headers.get("X-Mailroom-Timestamp", "")
    given = headers.get("X-Mailroom-Signature", "").removeprefix("sha256=")
    want = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not secret or not hmac.compare_digest(given, want):
        raise Refused("bad signature")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > GENERIC_TOLERANCE:
        raise Refused("stale timestamp")
    data = _json(body)
    events = data.get("events", [data]) if isinstance(data, dict) else data
    found = []
    for item in events if isinstance(events, list) else []:
        kind = str(item.get("kind", ""))
        if item.get("email") and kind in (HARD, SOFT, COMPLAINT):
            found.append(Event(Failure(str(item["email"]).lower(), kind,
                                       str(item.get("diagnostic") or "")),
                               [str(item["verp"])] if item.get("verp") else [],
                               [str(item["message_id"])] if item.get("message_id") else []))
    return found


def read_postmark(config: Mapping[str, Any], authorization: Any, body: bytes) -> list[Event]:
    """Postmark's bounce and spam-complaint webhooks, behind basic auth (the URL's
    user:password, BOUNCE_POSTMARK_USERNAME and _PASSWORD)."""
    user = str(config.get("BOUNCE_POSTMARK_USERNAME") or "")
    password = str(config.get("BOUNCE_POSTMARK_PASSWORD") or "")
    if (not user or not password or authorization is None
            or not hmac.compare_digest(str(authorization.username or ""), user)
            or not hmac.compare_digest(str(authorization.password or ""), password)):
        raise Refused("bad credentials")
    data = _json(body)
    kind = POSTMARK_KINDS.get(str(data.get("Type") or data.get("RecordType") or ""))
    if kind is None or not data.get("Email"):
        return []
    diagnostic = " ".join(str(data.get(k) or "") for k in ("Description", "Details")).strip()
    return [Event(Failure(str(data["Email"]).lower(), kind, diagnostic[:500]))]


def _check_sendgrid(config: Mapping[str, Any], headers: Mapping[str, str], body: bytes
                   ) -> None:
    stamp = headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
    try:
        key = serialization.load_der_public_key(
            base64.b64decode(str(config.get("BOUNCE_SENDGRID_PUBLIC_KEY") or "")))
        signature = base64.b64decode(
            headers.get("X-Twilio-Email-Event-Webhook-Signature", ""), validate=True)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError("not an ECDSA key")
        key.verify(signature, stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as exc:
        raise Refused("bad signature") from exc
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > GENERIC_TOLERANCE:
        raise Refused("stale timestamp")


def read_sendgrid(config: Mapping[str, Any], headers: Mapping[str, str], body: bytes
                  ) -> list[Event]:
    """SendGrid's signed event webhook: ``X-Twilio-Email-Event-Webhook-Signature`` (ECDSA
    P-256 with SHA-256, base64 DER) over ``X-Twilio-Email-Event-Webhook-Timestamp`` + body,
    checked with BOUNCE_SENDGRID_PUBLIC_KEY (the base64 key SendGrid shows); a bounce
    (``blocked``: soft) or a spam report, the original's Message-ID as ``smtp-id``."""
    _check_sendgrid(config, headers, body)
    events = _json(body)
    if not isinstance(events, list):
        raise ValueError("SendGrid posts a JSON list of events")
    found = []
    for item in (e for e in events if isinstance(e, dict) and e.get("email")):
        kind = (COMPLAINT if item.get("event") == "spamreport" else
                SENDGRID_BOUNCE_TYPES.get(str(item.get("type") or "bounce"))
                if item.get("event") == "bounce" else None)
        if kind:
            why = f"{item.get('status') or ''} {item.get('reason') or ''}".strip()[:500]
            ids = [str(item["smtp-id"])] if item.get("smtp-id") else []
            found.append(Event(Failure(str(item["email"]).lower(), kind, why), [], ids))
    return found


def read_ses(config: Mapping[str, Any], body: bytes, fetch: Any = None) -> tuple[str, Any]:
    """An SNS message from one of BOUNCE_SNS_TOPIC_ARNS, its signature checked:
    ``("confirm", SubscribeURL)`` or ``("events", [Event, …])``."""
    message = _json(body)
    if not isinstance(message, dict):
        raise Refused("not an SNS message")
    if message.get("TopicArn") not in (config.get("BOUNCE_SNS_TOPIC_ARNS") or []):
        raise Refused("not a topic of ours")  # before any certificate is fetched for it
    try:
        sns.verify(message, config["BOUNCE_SNS_CERT_URL_PATTERN"],
                   **({"fetch": fetch} if fetch else {}))
    except sns.SignatureError as exc:
        raise Refused(str(exc)) from exc
    if message.get("Type") == "SubscriptionConfirmation":
        return "confirm", str(message.get("SubscribeURL", ""))
    if message.get("Type") != "Notification":
        return "events", []
    return "events", ses_events(_json(str(message.get("Message", "")).encode()))


def ses_events(notification: Mapping[str, Any]) -> list[Event]:
    """The failed addresses of an SES notification (Bounce or Complaint)."""
    kind_name = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail") or {}
    verp = [str(mail["source"])] if mail.get("source") else []
    ids = [str(h.get("value")) for h in mail.get("headers") or []
           if str(h.get("name", "")).lower() == "message-id"]
    if kind_name == "Bounce":
        bounce = notification.get("bounce") or {}
        kind = SES_KINDS.get(str(bounce.get("bounceType")), SOFT)
        recipients = [(r.get("emailAddress"), r.get("diagnosticCode") or r.get("status"))
                      for r in bounce.get("bouncedRecipients") or []]
    elif kind_name == "Complaint":
        kind = COMPLAINT
        complaint = notification.get("complaint") or {}
        recipients = [(r.get("emailAddress"), complaint.get("complaintFeedbackType") or "")
                      for r in complaint.get("complainedRecipients") or []]
    else:
        return []
    return [Event(Failure(str(address).lower(), kind, str(why or "")[:500]), verp, ids)
            for address, why in recipients if address]
