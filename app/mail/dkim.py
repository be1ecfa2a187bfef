"""DKIM signing with dkimpy, when MAIL_DKIM_SELECTOR, MAIL_DKIM_DOMAIN and
MAIL_DKIM_PRIVATE_KEY_PATH are set; and the DNS record that publishes the key."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

SETTINGS = ("MAIL_DKIM_SELECTOR", "MAIL_DKIM_DOMAIN", "MAIL_DKIM_PRIVATE_KEY_PATH")
# What the signature covers: the headers a reader sees and the unsubscribe pair (an absent
# one is signed as absent, so nobody can add it on the way).
SIGNED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
                  "List-Unsubscribe-Post", "MIME-Version", "Content-Type")
# Each name twice in ``h=`` (over-signing, RFC 6376 8.15): the second covers the instance
# above the signed one, absent when signed, so a second Subject or List-Unsubscribe added
# above ours (the one most readers show) breaks the signature instead of riding on it.
H_TAG = tuple(name for name in SIGNED_HEADERS for _ in range(2))
RSA_ENCRYPTION_OID = bytes.fromhex("06092a864886f70d010101")  # 1.2.840.113549.1.1.1


class DkimConfigError(RuntimeError):
    """DKIM is configured but cannot sign (a missing setting, an unreadable key)."""


class DkimSigner:
    """Signs messages for one selector and domain with one RSA key (relaxed/relaxed)."""

    def __init__(self, selector: str, domain: str, private_key_pem: bytes | str) -> None:
        _parse_key(private_key_pem)  # a bad key fails here, at start, not on every message
        if not (selector.isascii() and domain.isascii()):
            raise DkimConfigError("MAIL_DKIM_SELECTOR and MAIL_DKIM_DOMAIN must be ASCII "
                                  "(an IDN domain in its xn-- form)")
        self.selector = selector
        self.domain = domain
        self.private_key_pem = _pem_bytes(private_key_pem)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DkimSigner | None:
        """The signer the settings describe; None when none of them is set."""
        values = {name: str(config.get(name) or "").strip() for name in SETTINGS}
        if not any(values.values()):
            return None
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise DkimConfigError(f"DKIM is half configured: set {', '.join(missing)} too "
                                  "(or none of the MAIL_DKIM_* settings to send unsigned)")
        path = values["MAIL_DKIM_PRIVATE_KEY_PATH"]
        try:
            with open(path, "rb") as handle:
                pem = handle.read()
        except OSError as exc:
            raise DkimConfigError(f"cannot read the DKIM private key {path}: {exc}") from exc
        return cls(values["MAIL_DKIM_SELECTOR"], values["MAIL_DKIM_DOMAIN"], pem)

    def sign(self, data: bytes) -> bytes:
        """``data`` (a whole message, CRLF line ends, not yet dot-stuffed for SMTP DATA)
        with its DKIM-Signature header in front."""
        header = dkim.sign(data, self.selector.encode(), self.domain.encode(),
                           self.private_key_pem, canonicalize=(b"relaxed", b"relaxed"),
                           include_headers=[name.encode() for name in H_TAG])
        return header + data


def _pem_bytes(private_key_pem: bytes | str) -> bytes:
    data = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
    return data.replace(b"\r\n", b"\n")  # dkimpy's PEM reader wants LF line ends


def _parse_key(private_key_pem: bytes | str) -> dict[str, int]:
    """The RSA key's numbers; DkimConfigError when it is not a PEM RSA private key."""
    try:
        return parse_pem_private_key(_pem_bytes(private_key_pem))
    except (UnparsableKeyError, ValueError, IndexError) as exc:
        raise DkimConfigError(f"the DKIM private key is not a PEM RSA private key: {exc}") from exc


def _der(tag: int, body: bytes) -> bytes:
    """One DER element (tag, definite length, body)."""
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _der_int(value: int) -> bytes:
    # One spare bit so the top bit of a positive number is never read as a sign.
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def public_key_b64(private_key_pem: bytes | str) -> str:
    """The public half as DNS carries it: base64 of its SubjectPublicKeyInfo (DER)."""
    key = _parse_key(private_key_pem)
    rsa_public = _der(0x30, _der_int(key["modulus"]) + _der_int(key["publicExponent"]))
    algorithm = _der(0x30, RSA_ENCRYPTION_OID + _der(0x05, b""))
    info = _der(0x30, algorithm + _der(0x03, b"\x00" + rsa_public))
    return base64.b64encode(info).decode("ascii")


def txt_value(private_key_pem: bytes | str) -> str:
    """The TXT record's text: ``v=DKIM1; k=rsa; p=...``."""
    return f"v=DKIM1; k=rsa; p={public_key_b64(private_key_pem)}"


def dns_record(private_key_pem: bytes | str, selector: str, domain: str) -> str:
    """The zone-file line to publish: ``selector._domainkey.domain. IN TXT "..." "..."``
    (split into strings of at most 255 characters, as DNS requires)."""
    text = txt_value(private_key_pem)
    chunks = " ".join(f'"{text[i:i + 255]}"' for i in range(0, len(text), 255))
    return f"{selector}._domainkey.{domain.rstrip('.')}. IN TXT {chunks}"
