"""The OpenAPI 3.1 document at /api/v1/openapi.json: valid, and saying exactly what the
app routes under /api/v1/ (a route without ``@doc``, or a documented one that is gone,
fails here)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

IGNORED = {"HEAD", "OPTIONS"}


def _url_map(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(path, method.lower()) for method in rule.methods - IGNORED}
    return routes


def test_document_is_valid_openapi_31(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")  # no token needed to read it
    assert response.status_code == 200
    document = response.json
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_document_paths_are_the_url_map(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, operations in document["paths"].items()
                  for method in operations}
    assert documented == _url_map(app)
    assert ("/api/v1/sends/{task_id}/cancel", "post") in documented


def test_every_operation_says_its_problems_and_is_bearer_protected(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.endswith("openapi.json"):
                assert operation["security"] == []
                continue
            assert "401" in operation["responses"], (path, method)
            problem = operation["responses"]["401"]["content"]["application/problem+json"]
            assert problem["schema"]["$ref"] == "#/components/schemas/Problem"
