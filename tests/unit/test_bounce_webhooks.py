"""``POST /webhooks/bounces/<provider>``: a request that does not prove it is the
provider's answers 403 and changes nothing; a good one acts. SES's SNS signatures are made
here with a self-made key and certificate, served by a fetcher the test gives (the real
one fetches only from Amazon's SNS hosts, and a URL elsewhere is refused unfetched);
SendGrid's with a self-made ECDSA key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskClient

from app.bounces import sns
from app.extensions import db
from app.models import Bounce, Delivery, Suppression, Task
from app.models.types import utcnow
from tests.support.flows import account

ADDRESS = "gone@example.org"
SECRET = "generic-webhook-secret-for-tests"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC = base64.b64encode(SENDGRID_KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
fetched: list[str] = []


def _certificate() -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(KEY.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + timedelta(days=1)).sign(KEY, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


PEM = _certificate()


def fetch(url: str) -> bytes:
    fetched.append(url)
    return PEM


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(BOUNCE_WEBHOOK_SECRET=SECRET, BOUNCE_POSTMARK_USERNAME="postmark",
                      BOUNCE_POSTMARK_PASSWORD="postmark-password-for-tests",
                      BOUNCE_SNS_TOPIC_ARNS=[TOPIC], BOUNCE_SNS_CERT_FETCH=fetch,
                      BOUNCE_SENDGRID_PUBLIC_KEY=SENDGRID_PUBLIC,
                      RATELIMIT_BOUNCE_WEBHOOK="20 per minute")
    return app_config


@pytest.fixture
def delivered(app: Flask) -> int:
    """A delivered message to ADDRESS; its delivery's id."""
    account(app)
    sns._certs.clear()
    fetched.clear()
    with app.app_context():
        task = Task(name="send_mail", description="d", username="alice", status="finished",
                    recipient_count=1, delivered_count=1)
        db.session.add(task)
        db.session.flush()
        row = Delivery(task_id=task.id, recipient=ADDRESS, status="delivered",
                       updated_at=utcnow())
        db.session.add(row)
        db.session.commit()
        return row.id


def changed(app: Flask) -> tuple[int, int, str]:
    with app.app_context():
        return (db.session.scalar(db.select(db.func.count()).select_from(Bounce)),
                db.session.scalar(db.select(db.func.count()).select_from(Suppression)),
                db.session.scalar(db.select(Delivery.status)))


def generic(client: FlaskClient, body: bytes, secret: str = SECRET,
            stamp: int | None = None) -> Any:
    stamp = int(time.time()) if stamp is None else stamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/bounces/generic", data=body, content_type="application/json",
                       headers={"X-Mailroom-Timestamp": str(stamp),
                                "X-Mailroom-Signature": f"sha256={mac}"})


EVENT = json.dumps({"events": [{"email": ADDRESS, "kind": "hard",
                                "diagnostic": "550 5.1.1 no such user"}]}).encode()


def test_generic_refuses_a_bad_signature_and_accepts_a_good_one(
        app: Flask, client: FlaskClient, delivered: int) -> None:
    assert generic(client, EVENT, secret="not-the-secret").status_code == 403
    assert generic(client, EVENT, stamp=int(time.time()) - 3600).status_code == 403  # replay
    assert changed(app) == (0, 0, "delivered")
    answer = generic(client, EVENT)  # no CSRF token, no login: its signature is its proof
    assert answer.status_code == 200 and answer.json == {"events": 1, "matched": 1}
    assert changed(app) == (1, 1, "bounced")


def test_postmark_needs_its_basic_auth(app: Flask, client: FlaskClient, delivered: int) -> None:
    body = json.dumps({"RecordType": "Bounce", "Type": "HardBounce", "Email": ADDRESS,
                       "Description": "The server was unable to deliver your message",
                       "Details": "smtp;550 5.1.1 unknown user"}).encode()
    wrong = client.post("/webhooks/bounces/postmark", data=body,
                        headers={"Authorization": "Basic " + base64.b64encode(
                            b"postmark:guess").decode()})
    assert wrong.status_code == 403 and changed(app) == (0, 0, "delivered")
    right = client.post("/webhooks/bounces/postmark", data=body,
                        headers={"Authorization": "Basic " + base64.b64encode(
                            b"postmark:postmark-password-for-tests").decode()})
    assert right.status_code == 200 and changed(app) == (1, 1, "bounced")


def signed(message: dict[str, Any], key: rsa.RSAPrivateKey = KEY) -> bytes:
    message = {"SignatureVersion": "2", "SigningCertURL": CERT_URL, **message}
    signature = key.sign(sns.string_to_sign(message), padding.PKCS1v15(), hashes.SHA256())
    return json.dumps({**message, "Signature": base64.b64encode(signature).decode()}).encode()


def ses_bounce(address: str = ADDRESS) -> dict[str, Any]:
    notification = {"notificationType": "Bounce", "bounce": {
        "bounceType": "Permanent", "bouncedRecipients": [
            {"emailAddress": address, "status": "5.1.1",
             "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]},
        "mail": {"source": "mailroom@example.com", "headers": []}}
    return {"Type": "Notification", "MessageId": "m-1", "TopicArn": TOPIC,
            "Message": json.dumps(notification), "Timestamp": "2026-12-06T05:00:00.000Z"}


def test_ses_checks_the_sns_signature(app: Flask, client: FlaskClient, delivered: int) -> None:
    def post(body: bytes) -> int:
        return client.post("/webhooks/bounces/ses", data=body,
                           content_type="text/plain").status_code

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert post(signed(ses_bounce(), other_key)) == 403  # not the certificate's key
    tampered = json.loads(signed(ses_bounce("someone@example.org")))
    tampered["Message"] = ses_bounce()["Message"]
    assert post(json.dumps(tampered).encode()) == 403
    assert post(signed({**ses_bounce(), "TopicArn": "arn:aws:sns:x:1:other"})) == 403
    evil = signed({**ses_bounce(), "SigningCertURL": "https://evil.example.net/cert.pem"})
    assert post(evil) == 403
    assert changed(app) == (0, 0, "delivered")
    assert fetched == [CERT_URL]  # once (then cached); the evil host never fetched
    assert post(signed(ses_bounce())) == 200
    assert changed(app) == (1, 1, "bounced")


def test_an_unconfigured_provider_is_not_there_and_requests_are_limited(
        app: Flask, client: FlaskClient, delivered: int) -> None:
    assert client.post("/webhooks/bounces/mailgun", data=b"{}").status_code == 404
    codes = [generic(client, b"{}", secret="wrong").status_code for _ in range(20)]
    assert codes[:19] == [403] * 19 and codes[19] == 429  # the 404 counted: 20 a minute


def test_sendgrid_checks_its_ecdsa_signature(app: Flask, client: FlaskClient,
                                            delivered: int) -> None:
    body = json.dumps([{"email": ADDRESS, "event": "bounce", "type": "bounce",
                        "status": "5.1.1", "reason": "550 5.1.1 unknown user",
                        "smtp-id": "<x@example.com>"},
                       {"email": "other@example.org", "event": "delivered"}]).encode()

    def post(key: ec.EllipticCurvePrivateKey, stamp: int) -> int:
        signature = key.sign(str(stamp).encode() + body, ec.ECDSA(hashes.SHA256()))
        return client.post("/webhooks/bounces/sendgrid", data=body, headers={
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": str(stamp)}).status_code

    assert post(ec.generate_private_key(ec.SECP256R1()), int(time.time())) == 403
    assert post(SENDGRID_KEY, int(time.time()) - 3600) == 403  # an old one, replayed
    assert changed(app) == (0, 0, "delivered")
    assert post(SENDGRID_KEY, int(time.time())) == 200
    assert changed(app) == (1, 1, "bounced")
