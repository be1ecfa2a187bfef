"""The unsubscribe pages (issue 24): they name the sender as its mail does (the From display
name), never the sending account; an address that already unsubscribed is told so and not
asked again."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from app.cli import create_user
from app.mail.unsubscribe import make_token
from tests.support.flows import PASSWORD


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["MAIL_DEFAULT_SENDER"] = "우리 가게 <shop@example.com>"
    return app_config


def token(app: Flask, owner: str, display_name: str | None = None) -> str:
    with app.app_context():
        create_user(owner, PASSWORD, display_name=display_name)
        return make_token(owner, "reader@example.com")


def test_the_pages_name_the_from_display_name(app: Flask) -> None:
    link = token(app, "bob-login", "밥의 가게")
    client = app.test_client()
    page = client.get(f"/unsubscribe/{link}").get_data(as_text=True)
    assert '<strong id="unsubscribe-sender">밥의 가게</strong>' in page
    assert "bob-login" not in page and 'id="unsubscribe-confirm"' in page
    done = client.post(f"/unsubscribe/{link}").get_data(as_text=True)
    assert "수신 거부가 완료되었습니다" in done and "밥의 가게" in done
    assert "bob-login" not in done


def test_without_a_display_name_the_default_senders_name(app: Flask) -> None:
    link = token(app, "carol-login")
    page = app.test_client().get(f"/unsubscribe/{link}").get_data(as_text=True)
    assert '<strong id="unsubscribe-sender">우리 가게</strong>' in page
    assert "carol-login" not in page


def test_an_address_already_unsubscribed_is_not_asked_again(app: Flask) -> None:
    link = token(app, "dave", "데이브")
    client = app.test_client()
    assert "이미" not in client.post(f"/unsubscribe/{link}").get_data(as_text=True)
    again = client.get(f"/unsubscribe/{link}").get_data(as_text=True)
    assert "이미 수신 거부되어 있습니다" in again and 'data-already="1"' in again
    assert 'id="unsubscribe-confirm"' not in again and "<form" not in again.split("<main")[1]
    twice = client.post(f"/unsubscribe/{link}").get_data(as_text=True)  # a second one-click
    assert "이미 수신 거부되어 있습니다" in twice
