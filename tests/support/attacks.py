"""What an attacker does in the security tests: sign in from an address, forge a cookie."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient

from tests.support.flows import csrf_token

OLD_DEFAULT = "dev-only-change-me"


def forged_cookie(app: Flask, key: str, payload: dict[str, Any]) -> str:
    """A session cookie signed with ``key``, as an attacker would make it offline."""
    signer = SecureCookieSessionInterface().get_signing_serializer(
        type("Fake", (), {"secret_key": key, "config": {"SECRET_KEY_FALLBACKS": []}})())
    assert signer is not None
    return signer.dumps(payload)


def attempt(client: FlaskClient, username: str, password: str, address: str) -> Any:
    token = csrf_token(client)
    return client.post("/auth/login", data={"username": username, "password": password,
                                            "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})
