"""Steps of the API tests: a token made on the settings page as a user would, and JSON
requests with it (the test client, or urllib against a live server)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from flask.testing import FlaskClient

from tests.support.flows import csrf_token

NEW_TOKEN = re.compile(r'id="new-token">([^<]+)<')


def make_token(client: FlaskClient, name: str = "script") -> str:
    """A new token of the signed-in user, as ``/settings/tokens`` shows it once."""
    response = client.post("/settings/tokens", data={
        "name": name, "csrf_token": csrf_token(client, "/settings/tokens")})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    match = NEW_TOKEN.search(response.get_data(as_text=True))
    assert match, "no #new-token on the page"
    return match.group(1)


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def http_json(method: str, url: str, token: str | None = None, body: Any = None,
              headers: dict[str, str] | None = None, timeout: float = 30
              ) -> tuple[int, dict[str, Any], Any]:
    """One JSON request over real HTTP: status, body (parsed) and headers."""
    data = json.dumps(body).encode() if body is not None else None
    head = {"Content-Type": "application/json", **(bearer(token) if token else {}),
            **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=head)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}"), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), exc.headers


def delivery_in(app: Any, status: str) -> Any:
    """The first webhook delivery once it is in ``status`` (detached), else None."""
    from app.extensions import db
    from app.models import WebhookDelivery

    with app.app_context():
        row = db.session.scalar(db.select(WebhookDelivery).order_by(WebhookDelivery.id))
        if row is not None and row.status == status:
            db.session.expunge(row)
            return row
    return None
