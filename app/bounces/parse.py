"""What a returned message says: which addresses failed and how (hard, soft, a complaint),
the server's diagnostic, and where to look for the delivery it answers (VERP addresses, the
original's Message-ID). Pure: bytes in, a ``Parsed`` out; matching is app/bounces/handle.py.

Order: an ARF feedback report (RFC 5965) is a complaint; otherwise ``flufl.bounce`` finds
the failed addresses (RFC 3464 DSNs and the common non-standard formats: Exim, qmail, old
Exchange …) with permanent or temporary. A DSN's own fields refine that: a failure whose
status is 4.x.x, or 5.2.2 (mailbox full), is soft; a delay warning is no bounce at all."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr

from flufl.bounce import all_failures

# flufl.bounce says at INFO each detector it runs, for every message: not worth a log line.
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)

HARD, SOFT, COMPLAINT = "hard", "soft", "complaint"
SOFT_STATUSES = ("5.2.2",)  # mailbox full: permanent in form, temporary in fact
VERP_HEADERS = ("to", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to")
_REPLY = re.compile(r"\b([45]\d\d[ -](?:[45]\.\d{1,3}\.\d{1,3}\b)?.*)")
DIAGNOSTIC_CHARS = 500


@dataclass
class Failure:
    """One failed address and what is known of it."""

    address: str
    kind: str  # hard | soft | complaint
    diagnostic: str = ""


@dataclass
class Parsed:
    """What a returned message says, and how that was found."""

    failures: list[Failure] = field(default_factory=list)
    verp: list[str] = field(default_factory=list)  # addresses that may carry a VERP token
    message_ids: list[str] = field(default_factory=list)  # the original's Message-ID
    detector: str = "none"  # arf | dsn | flufl.bounce | none
    delayed: list[str] = field(default_factory=list)  # warnings only: not bounces

    def note(self) -> str:
        """One line on how it was read (kept with the raw message)."""
        found = ", ".join(f"{f.address} {f.kind}" for f in self.failures) or "no failed address"
        extra = f"; delay warning for {', '.join(self.delayed)}" if self.delayed else ""
        return f"{self.detector}: {found}{extra}"


def parse(raw: bytes, rcpts: list[str] | tuple[str, ...] = ()) -> Parsed:
    """Read a returned message; ``rcpts``: the SMTP envelope's recipients, when known."""
    message = message_from_bytes(raw, policy=compat32)
    parsed = Parsed(verp=list(dict.fromkeys([*rcpts, *_header_addresses(message)])))
    parsed.message_ids = list(dict.fromkeys(_original_ids(message)))
    report = _part(message, "message/feedback-report")
    if report is not None:
        _read_arf(message, report, parsed)
        return parsed
    try:
        statuses = _dsn_fields(message)
        temporary, permanent = all_failures(message)
    except Exception as exc:  # a malformed message must not stop the mailbox or the queue
        parsed.detector = f"unreadable ({type(exc).__name__}: {exc})"[:200]
        return parsed
    for address in _addresses(permanent):
        status, diagnostic = statuses.get(address, ("", ""))
        soft = status.startswith("4.") or status in SOFT_STATUSES
        parsed.failures.append(Failure(address, SOFT if soft else HARD,
                                       diagnostic or _diagnostic_in_text(message)))
    parsed.delayed = _addresses(temporary)
    if parsed.failures or parsed.delayed:
        parsed.detector = "dsn" if statuses else "flufl.bounce"
    return parsed


def _addresses(found: frozenset[bytes]) -> list[str]:
    """flufl.bounce's addresses as text, those that are no address (empty) left out."""
    return sorted({a.decode("ascii", "replace").lower() for a in found if b"@" in a})


def _header_addresses(message: Message) -> list[str]:
    values = [str(v) for name in VERP_HEADERS for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


def _part(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _first_block(part: Message) -> Message:
    """A message/* part's header block (parsed as a nested message, or as text)."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return payload[0]
    return HeaderParser(policy=compat32).parsestr(str(payload or ""))


def _original(message: Message) -> Message | None:
    """The headers of the message that came back (message/rfc822 or text/rfc822-headers)."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            return _first_block(part)
        if kind == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            return HeaderParser(policy=compat32).parsestr(text.decode("utf-8", "replace"))
    return None


def _original_ids(message: Message) -> list[str]:
    original = _original(message)
    ids = [str(original.get("Message-ID", ""))] if original is not None else []
    for part in message.walk():  # Gmail and others repeat it among the DSN's fields
        if part.get_content_type() == "message/delivery-status":
            ids.append(str(_first_block(part).get("X-Original-Message-ID", "")))
    return [i.strip() for i in ids if i and i.strip()]


def _read_arf(message: Message, report: Message, parsed: Parsed) -> None:
    """A feedback report: the address that complained (Original-Rcpt-To, else the returned
    message's To) and the envelope sender it was mailed from (a VERP address)."""
    fields = _first_block(report)
    parsed.detector = "arf"
    parsed.verp.extend(a for _, a in getaddresses(fields.get_all("Original-Mail-From", [])))
    addresses = [a for _, a in getaddresses(fields.get_all("Original-Rcpt-To", [])) if a]
    original = _original(message)
    if not addresses and original is not None:
        addresses = [a for _, a in getaddresses(original.get_all("To", [])) if a]
    kind = str(fields.get("Feedback-Type", "abuse")).strip().lower()
    for address in addresses:
        parsed.failures.append(Failure(address.lower(), COMPLAINT, f"feedback-type: {kind}"))


def _dsn_fields(message: Message) -> dict[str, tuple[str, str]]:
    """Per failed recipient of a DSN: (status, diagnostic)."""
    found: dict[str, tuple[str, str]] = {}
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status" or not part.is_multipart():
            continue
        for block in part.get_payload()[1:]:
            recipient = block.get("Final-Recipient") or block.get("Original-Recipient") or ""
            address = parseaddr(str(recipient).split(";", 1)[-1].strip())[1].lower()
            status = str(block.get("Status", "")).strip()
            code = " ".join(str(block.get("Diagnostic-Code", "")).split())
            diagnostic = code.split(";", 1)[-1].strip() if code else ""
            if address:
                text = diagnostic if status in diagnostic else f"{status} {diagnostic}"
                found[address] = (status, _clip(text))
    return found


def _diagnostic_in_text(message: Message) -> str:
    """A server reply quoted in the human-readable part (Exim, old Exchange): ``550 …``."""
    for part in message.walk():
        if part.get_content_type() != "text/plain":
            continue
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
        match = _REPLY.search(text)
        if match:
            return _clip(match.group(1))
        break
    return ""


def _clip(text: str) -> str:
    return " ".join(text.split())[:DIAGNOSTIC_CHARS]
