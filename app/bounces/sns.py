"""Amazon SNS message signatures (SES bounce and complaint notifications come through SNS).

A message is signed with the key of a certificate at ``SigningCertURL``; that URL must be
one of Amazon's own SNS hosts (BOUNCE_SNS_CERT_URL_PATTERN: https, sns.<region>.amazonaws
.com), else the message is refused before anything is fetched. Certificates are kept in
memory by URL (Amazon rotates them rarely). SignatureVersion 1 is SHA1withRSA, 2 is
SHA256withRSA, over the fields the SNS documentation lists for each message type."""

from __future__ import annotations

import base64
import re
import threading
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                "TopicArn", "Type"),
}
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
CERT_CACHE_SIZE = 32
FETCH_SECONDS = 10
MAX_CERT_BYTES = 64 * 1024

_certs: dict[str, rsa.RSAPublicKey] = {}
_lock = threading.Lock()


class SignatureError(Exception):
    """The message is not signed by SNS as it claims."""


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=FETCH_SECONDS) as answer:  # noqa: S310
        return answer.read(MAX_CERT_BYTES)


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The canonical text SNS signs: each present field's name and value, one per line."""
    names = FIELDS.get(str(message.get("Type")))
    if names is None:
        raise SignatureError(f"unknown SNS message type: {message.get('Type')!r}")
    lines = []
    for name in names:
        if message.get(name) is not None:
            lines += [name, str(message[name])]
    return ("\n".join(lines) + "\n").encode()


def public_key(url: str, pattern: str, fetch: Callable[[str], bytes] = _fetch
               ) -> rsa.RSAPublicKey:
    """The RSA key of the certificate at ``url``, if ``url`` matches ``pattern`` (cached)."""
    if not re.fullmatch(pattern, url):
        raise SignatureError("SigningCertURL is not one of the provider's own hosts")
    with _lock:
        known = _certs.get(url)
    if known is not None:
        return known
    try:
        key = x509.load_pem_x509_certificate(fetch(url)).public_key()
    except (OSError, ValueError) as exc:
        raise SignatureError(f"signing certificate unavailable: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("signing certificate has no RSA key")
    with _lock:
        if len(_certs) >= CERT_CACHE_SIZE:
            _certs.pop(next(iter(_certs)))
        _certs[url] = key
    return key


def verify(message: Mapping[str, Any], pattern: str,
           fetch: Callable[[str], bytes] = _fetch) -> None:
    """Return if ``message`` (an SNS JSON body) is signed by SNS; else SignatureError."""
    algorithm = HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise SignatureError("unknown SignatureVersion")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except ValueError as exc:
        raise SignatureError("Signature is not base64") from exc
    key = public_key(str(message.get("SigningCertURL", "")), pattern, fetch)
    try:
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature as exc:
        raise SignatureError("bad signature") from exc
