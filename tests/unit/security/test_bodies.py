"""Point 3: bounded bodies. An anonymous oversized POST is answered 413 (a Korean page)
before it is spooled or parsed; form parts are bounded too; nothing changes."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Task
from tests.support.flows import post_send


def test_an_oversized_urlencoded_body_is_413(client: FlaskClient) -> None:
    response = client.post("/auth/login", data=b"username=" + b"a" * (2 * 1024 * 1024),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "요청이 너무 큽니다" in response.get_data(as_text=True)


def multipart(parts: dict[str, bytes], files: bool = True) -> tuple[bytes, str]:
    """A multipart/form-data body, encoded here (the test client would spool a big one to a
    temporary file it never closes when the server refuses early)."""
    boundary = "mailroom-test-boundary"
    filename = '; filename="upload.csv"' if files else ""
    chunks = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
              f'{filename}\r\n\r\n'.encode() + value + b"\r\n"
              for name, value in parts.items()]
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_oversized_multipart_upload_is_413(client: FlaskClient) -> None:
    body, content_type = multipart({"file": b"x" * (3 * 1024 * 1024)})
    response = client.post("/auth/login", data=body, content_type=content_type)
    assert response.status_code == 413


def test_too_many_form_parts_is_413(client: FlaskClient) -> None:
    body, content_type = multipart({f"f{i}": b"x" for i in range(500)}, files=False)
    response = client.post("/auth/login", data=body, content_type=content_type)
    assert response.status_code == 413


def test_a_big_send_changes_nothing(app: Flask, signed_in: FlaskClient) -> None:
    response = post_send(signed_in, "a@example.com," * 120_000)
    assert response.status_code == 413
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Task)) == 0
