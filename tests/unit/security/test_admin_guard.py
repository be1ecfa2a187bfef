"""Issue 17, point 6: ``/admin/...`` answered 308, 400 or 405 to non-admins (routing and
the CSRF check ran first), telling an outsider the operator view exists. Now every path
under /admin answers 404 to anyone but a signed-in admin, whatever the method or token."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.flows import PASSWORD, AuthActions, csrf_token

PATHS = ["/admin", "/admin/", "/admin/x", "/admin/jobs/1/requeue", "/admin/jobs/1/delete",
         "/admin/jobs/abc/requeue", "/admin//", "/admin/static/../"]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"]


def answers(client: FlaskClient, token: str | None) -> dict[tuple[str, str], int]:
    """Every path with every method, without a CSRF token and (POST) with one."""
    seen = {(method, path): client.open(path, method=method).status_code
            for path in PATHS for method in METHODS}
    if token:
        for path in PATHS:
            seen[("POST+token", path)] = client.post(path, data={"csrf_token": token}
                                                     ).status_code
    return seen


@pytest.mark.parametrize("who", ["anonymous", "user"])
def test_everything_under_admin_is_404_to_others(client: FlaskClient, auth: AuthActions,
                                                 who: str) -> None:
    token = None
    if who == "user":
        auth.create()
        assert auth.login().status_code == 302
        token = csrf_token(client, "/send_mail")
    seen = answers(client, token)
    assert {code for code in seen.values()} == {404}, {k: v for k, v in seen.items() if v != 404}


def test_an_admin_still_gets_the_view(app: Flask, client: FlaskClient, auth: AuthActions,
                                      runner: Any) -> None:
    result = runner.invoke(args=["users", "create", "root", "--password", PASSWORD, "--admin"])
    assert result.exit_code == 0, result.output
    auth.login("root")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin").status_code == 308  # routing as usual for the operator
    assert client.post("/admin/jobs/1/requeue").status_code == 400  # CSRF as usual
    assert app.before_request_funcs[None][0].__name__ == "guard"
