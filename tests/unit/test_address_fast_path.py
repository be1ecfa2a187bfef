"""The quick check of plain addresses (a domain checked once) gives exactly what
email-validator's full check gives, and refuses what it refuses."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from app.mail import recipients

ADDRESSES = [
    "user@example.com", "User.Name+tag@Example.COM", "a@b.co", "x@xn--bcher-kva.example",
    "someone@bücher.example", "first.last@sub.domain.example.org", "o'brien@example.ie",
    "Postmaster@example.com", "info@example.com", "a..b@example.com", ".a@example.com",
    "a.@example.com", "a@example", "a@localhost", "a@-bad.example", "a@bad-.example",
    "a@example..com", "a@123.123.123.123", "a@[127.0.0.1]", '"quoted"@example.com',
    "a" * 64 + "@example.com", "a" * 65 + "@example.com",
    "a@" + ".".join(["b" * 63] * 4) + ".com", "a@example.invalid", "a@example.test",
    "under_score@example.com", "a@exa_mple.com", "#!$%&'*+-/=?^_`{}|~@example.org",
]


def full(address: str) -> str | None:
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return valid.ascii_email or valid.normalized


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_quick_check_agrees_with_the_full_one(address: str) -> None:
    local, _, domain = address.rpartition("@")
    quick = recipients._simple(local, domain)
    assert quick is None or quick == full(address)
    try:
        sent = recipients._sendable(address)
    except ValueError:
        sent = None
    assert sent == full(address)
