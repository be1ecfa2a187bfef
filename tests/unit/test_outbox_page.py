"""``/outbox`` (issue 24): a captured mail's HTML part in a sandboxed frame served as its own
response under the mail's policy, its date in the user's zone, its text part's links
clickable; another user's mail stays 404 on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.security import MAIL_HTML_POLICY
from tests.support.outbox import captured


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "outbox").mkdir()
    app_config["OUTBOX_DIR"] = str(tmp_path / "outbox")
    return app_config


def test_the_html_part_is_framed_under_the_mail_policy(app: Flask,
                                                       signed_in: FlaskClient) -> None:
    name = captured(app, "alice", "<p style='color:red'>빨강</p><script>alert(1)</script>")
    page = signed_in.get(f"/outbox/{name}").get_data(as_text=True)
    assert f'<iframe id="outbox-html" src="/outbox/{name}/html" sandbox=""' in page
    frame = signed_in.get(f"/outbox/{name}/html")
    assert frame.status_code == 200 and frame.mimetype == "text/html"
    assert frame.headers["Content-Security-Policy"] == MAIL_HTML_POLICY
    assert frame.headers["X-Content-Type-Options"] == "nosniff"
    assert "빨강" in frame.get_data(as_text=True)


def test_date_is_local_and_links_are_clickable(app: Flask, signed_in: FlaskClient) -> None:
    name = captured(app, "alice")
    page = signed_in.get(f"/outbox/{name}").get_data(as_text=True)
    # 18:15:33 UTC is 03:15:33 the next morning in Seoul.
    assert '<time datetime="2026-12-06T03:15:33+09:00">12월 6일 오전 3:15:33</time>' in page
    assert ('<a href="https://mail.example/unsubscribe/abc?x=1&amp;y=2" rel="noopener '
            'noreferrer" target="_blank">https://mail.example/unsubscribe/abc?x=1&amp;y=2'
            '</a>.') in page
    assert 'id="outbox-html"' not in page  # a text-only mail has no frame
    listing = signed_in.get("/outbox/").get_data(as_text=True)
    assert "12월 6일 오전 3:15<" in listing


def test_another_users_mail_is_404_also_its_html(app: Flask, signed_in: FlaskClient) -> None:
    name = captured(app, "bob", "<p>bob</p>")
    assert signed_in.get(f"/outbox/{name}").status_code == 404
    assert signed_in.get(f"/outbox/{name}/html").status_code == 404
