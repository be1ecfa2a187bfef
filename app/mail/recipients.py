"""Reading the recipient field: split, trim, validate (only what our SMTP path can send:
ASCII local parts, domains in their IDNA ASCII form), de-duplicate."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

_SEPARATORS = re.compile(r"[,\n]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _sendable(address: str) -> str:
    """``address`` validated and in the ASCII form our SMTP path sends (IDNA domain).

    Raises ValueError with a message for the user when it cannot be sent.
    """
    if _CONTROL.search(address):
        raise ValueError("받는 사람 주소에 줄바꿈이나 제어 문자를 넣을 수 없습니다.")
    local, at, _ = address.rpartition("@")
    if at and not local.isascii():
        # Such a mailbox needs SMTPUTF8 end to end; we send plain ASCII envelopes.
        raise ValueError("@ 앞부분에 영문·숫자·기호(ASCII) 이외의 문자가 있는 주소로는 보낼 수 "
                         f"없습니다: {address[:100]}")
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"올바르지 않은 이메일 주소입니다: {address[:100]} ({exc})") from exc
    return valid.ascii_email or valid.normalized


def parse_recipients(raw: str | None, limit: int) -> list[str]:
    """The addresses in ``raw`` (commas or new lines), normalized and de-duplicated.

    Raises ValueError with a message for the user on the first bad address.
    """
    text = (raw or "").replace("\r\n", "\n")
    found: dict[str, str] = {}
    for token in _SEPARATORS.split(text):
        address = token.strip(" \t")
        if not address:
            continue
        normalized = _sendable(address)
        found.setdefault(normalized.lower(), normalized)
        if len(found) > limit:
            raise ValueError(f"받는 사람은 한 번에 {limit}명까지 보낼 수 있습니다.")
    if not found:
        raise ValueError("받는 사람을 한 명 이상 입력하세요.")
    return list(found.values())


def display(recipients: list[str], shown: int = 3) -> str:
    """A short form for messages: ``a@x, b@x, c@x 외 7명``."""
    head = ", ".join(recipients[:shown])
    rest = len(recipients) - shown
    return f"{head} 외 {rest}명" if rest > 0 else head
