"""Unsubscribe links and the suppression list: the pages, the one-click POST with no cookie,
forged tokens, owners, and the job-start step that skips listed recipients."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from app.extensions import db
from app.mail.unsubscribe import SALT, make_token
from app.models import Delivery, Suppression, Task
from app.models.task import DELIVERED, PENDING, REFUSED, SUPPRESSED
from tests.support.flows import AuthActions, csrf_token


def token(app: Flask, owner: str = "alice", address: str = "Bob@Example.com") -> str:
    with app.app_context():
        return make_token(owner, address)


def listed(app: Flask, owner: str = "alice") -> dict[str, str]:
    """``owner``'s list as {address: source}."""
    with app.app_context():
        rows = db.session.scalars(db.select(Suppression).filter_by(owner=owner))
        return {row.address: row.source for row in rows}


def test_confirm_page_changes_nothing_and_the_post_needs_no_cookie(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.create()
    link = f"/unsubscribe/{token(app)}"
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="unsubscribe-confirm"' in html and "bob@example.com" in html
    assert f'action="{link}"' in html and "<script>" not in html
    assert listed(app) == {}
    # A mailbox provider's one-click POST: no session, no CSRF token (RFC 8058).
    fresh = app.test_client()
    done = fresh.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert 'id="unsubscribe-done"' in done.get_data(as_text=True)
    assert listed(app) == {"bob@example.com": "unsubscribe"}
    assert fresh.post(link).status_code == 200  # twice is fine, still one row
    assert listed(app) == {"bob@example.com": "unsubscribe"}


def test_forged_foreign_or_orphan_tokens_are_404(app: Flask, client: FlaskClient,
                                                 auth: AuthActions) -> None:
    auth.create()
    good = token(app)
    payload, signature = good.split(".")
    forged = token(app, "alice", "eve@example.com").split(".")[0] + "." + signature
    orphan = URLSafeSerializer(app.config["UNSUBSCRIBE_SECRET"], salt=SALT).dumps(
        [999, "bob@example.com"])  # an account that does not exist
    for bad in (forged, good[:-2] + "xx", "garbage", orphan):
        assert client.get(f"/unsubscribe/{bad}").status_code == 404
        assert client.post(f"/unsubscribe/{bad}").status_code == 404
    foreign = URLSafeSerializer("another-apps-unsubscribe-secret", salt=SALT).dumps(
        [1, "bob@example.com"])
    assert client.post(f"/unsubscribe/{foreign}").status_code == 404
    assert listed(app) == {} and listed(app, "nobody") == {}


def test_list_page_add_and_remove(app: Flask, signed_in: FlaskClient) -> None:
    assert signed_in.get("/suppressions").status_code == 200
    response = signed_in.post("/suppressions", data={
        "addresses": "A@example.com, b@example.com\r\nc@EXAMPLE.com\n\n",
        "csrf_token": csrf_token(signed_in, "/suppressions")})
    assert response.status_code == 302
    assert listed(app) == {f"{x}@example.com": "manual" for x in "abc"}
    html = signed_in.get("/suppressions").get_data(as_text=True)
    assert "b@example.com" in html and "직접 추가" in html
    assert re.search(r"\d{1,2}월 \d{1,2}일 오[전후] \d{1,2}:\d{2}</time>", html)  # local time
    entry = re.search(r'<tr id="suppression-(\d+)" data-address="b@example.com"', html)
    assert entry
    gone = signed_in.post(f"/suppressions/{entry.group(1)}/delete",
                          data={"csrf_token": csrf_token(signed_in, "/suppressions")})
    assert gone.status_code == 302
    assert set(listed(app)) == {"a@example.com", "c@example.com"}


def test_bad_paste_adds_nothing_and_says_why(app: Flask, signed_in: FlaskClient) -> None:
    response = signed_in.post("/suppressions", data={
        "addresses": "ok@example.com, not-an-address",
        "csrf_token": csrf_token(signed_in, "/suppressions")})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "수신 거부 목록에 추가하지 못했습니다" in html and "not-an-address" in html
    assert "ok@example.com, not-an-address</textarea>" in html  # the paste is kept
    assert listed(app) == {}


def test_the_list_needs_sign_in_and_csrf(app: Flask, client: FlaskClient,
                                         auth: AuthActions) -> None:
    assert client.get("/suppressions").status_code == 302
    auth.create()
    auth.login()
    refused = client.post("/suppressions", data={"addresses": "x@example.com"})
    assert refused.status_code == 400
    assert listed(app) == {}


def test_another_users_entry_is_404(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    with app.app_context():
        Suppression.add("bob", ["kept@example.com"], "manual")
        entry_id = db.session.scalar(db.select(Suppression.id))
    auth.create()
    auth.login()
    assert "kept@example.com" not in client.get("/suppressions").get_data(as_text=True)
    response = client.post(f"/suppressions/{entry_id}/delete",
                           data={"csrf_token": csrf_token(client, "/suppressions")})
    assert response.status_code == 404
    assert listed(app, "bob") == {"kept@example.com": "manual"}


def test_apply_marks_only_pending_rows_of_the_owners_addresses(app: Flask) -> None:
    with app.app_context():
        Suppression.add("alice", ["gone@example.com", "Done@example.com"], "unsubscribe")
        Suppression.add("bob", ["other@example.com"], "manual")
        task = Task(name="send_mail", description="d", username="alice")
        later = Task(name="send_mail", description="d", username="alice")
        db.session.add_all([task, later])
        db.session.flush()
        outcomes = {"Gone@Example.com": PENDING, "done@example.com": DELIVERED,
                    "other@example.com": PENDING, "kept@example.com": PENDING,
                    "refused@example.com": REFUSED}
        db.session.add_all(Delivery(task_id=task.id, recipient=address, status=status)
                           for address, status in outcomes.items())
        db.session.add(Delivery(task_id=later.id, recipient="gone@example.com"))
        db.session.commit()
        assert Suppression.apply(task.id, "alice") == 1
        assert Suppression.apply(task.id, "alice") == 0
        db.session.expire_all()
        rows = {row.recipient: row for row in db.session.scalars(
            db.select(Delivery).filter_by(task_id=task.id))}
        assert {a: r.status for a, r in rows.items()} == {**outcomes,
                                                          "Gone@Example.com": SUPPRESSED}
        assert "수신 거부" in (rows["Gone@Example.com"].error or "")
        assert db.session.scalar(db.select(Delivery.status).filter_by(task_id=later.id)) \
            == PENDING


def test_add_counts_only_new_addresses(app: Flask) -> None:
    with app.app_context():
        assert Suppression.add("alice", ["a@x.io", "A@X.io", " b@x.io "], "manual") == 2
        assert Suppression.add("alice", ["b@x.io", "c@x.io"], "unsubscribe") == 1
        assert Suppression.add("bob", ["a@x.io"], "manual") == 1  # lists are per owner
        assert Suppression.remove("alice", "A@x.io") is True
        assert Suppression.remove("alice", "a@x.io") is False
    # b@x.io's own unsubscribe made alice's manual row read-only (issue 17).
    assert listed(app) == {"b@x.io": "unsubscribe", "c@x.io": "unsubscribe"}


def test_list_pages(app: Flask, signed_in: FlaskClient) -> None:
    with app.app_context():
        Suppression.add("alice", [f"p{i:02d}@example.com" for i in range(51)], "manual")
    first = signed_in.get("/suppressions").get_data(as_text=True)
    assert first.count('data-address="') == 50 and 'href="/suppressions?page=2"' in first
    second = signed_in.get("/suppressions?page=2").get_data(as_text=True)
    assert second.count('data-address="') == 1 and "2 / 2" in second
    assert signed_in.get("/suppressions?page=3").status_code == 404
    assert signed_in.get("/suppressions?page=x").status_code == 404


def test_add_racing_another_request_still_counts_right(app: Flask, monkeypatch: Any) -> None:
    with app.app_context():
        Suppression.add("alice", ["a@x.io"], "unsubscribe")
        # The other request's row lands between our look-up and our insert.
        monkeypatch.setattr(db.session, "scalars", lambda *args, **kwargs: iter(()))
        assert Suppression.add("alice", ["a@x.io", "b@x.io"], "unsubscribe") == 1
    monkeypatch.undo()
    assert listed(app) == {"a@x.io": "unsubscribe", "b@x.io": "unsubscribe"}
