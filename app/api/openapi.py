"""The OpenAPI 3.1 document of ``/api/v1``, made from the code: each view declares its
operation with ``@doc`` beside its route, and ``GET /api/v1/openapi.json`` joins those to
the app's URL map (the path and its parameters come from the route itself). A route
without ``@doc`` is missing from the document, which a test notices."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from apispec import APISpec
from flask import Flask, current_app

from app.api import bp
from app.api.schemas import QUERY, SCHEMAS

F = TypeVar("F", bound=Callable[..., Any])
OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {}  # endpoint → method → operation
PROBLEM_WORDS = {401: "No token, or a revoked one", 404: "Not the caller's, or none",
                 409: "Not possible now", 415: "Not JSON",
                 422: "Not valid (the problem names the field)",
                 429: "A quota or a rate limit", 503: "The job queue is unavailable"}
DESCRIPTION = (
    "Sends through the same door as the send form.\n\n"
    "Errors are RFC 9457 problem details (`application/problem+json`). Their `title` and "
    "`detail` are in the caller's language: the `Accept-Language` header when it names "
    "Korean (`ko`) or English (`en`); without one, the language the token's owner chose "
    "in Mailroom (the navbar's switch); else Korean. The `type` (a URN) never changes "
    "with the language: programs compare it, never the words.")
CONVERTED = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


ANSWER_HEADERS = {  # what some answers carry besides their body
    "Idempotent-Replayed": {"description": "true when this is the first answer again",
                            "schema": {"enum": ["true", "false"]}},
    "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}},
    "WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}},
}
PROBLEM_HEADERS = {401: ("WWW-Authenticate",), 429: ("Retry-After",), 409: ("Retry-After",)}


def _headers(names: Iterable[str]) -> dict[str, Any]:
    return {"headers": {name: ANSWER_HEADERS[name] for name in names}} if names else {}


def _responses(answers: dict[int, str], problems: Iterable[int],
               answer_headers: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {str(code): {"description": schema, "content": _json(schema),
                                       **_headers(tuple(answer_headers))}
                           for code, schema in answers.items()}
    for code in problems:
        out[str(code)] = {"description": PROBLEM_WORDS[code], "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            **_headers(PROBLEM_HEADERS.get(code, ()))}
    return out


def doc(method: str, summary: str, body: str | None, answers: dict[int, str], *,
        problems: Iterable[int] = (), query: Iterable[str] = (),
        headers: tuple[str, ...] = (), public: bool = False) -> Callable[[F], F]:
    """Declare the OpenAPI operation of the view below (for ``method`` of its route)."""
    def mark(view: F) -> F:
        operation: dict[str, Any] = {
            "operationId": view.__name__, "summary": summary,
            "description": (view.__doc__ or "").strip(),
            "parameters": [QUERY[name] for name in (*query, *headers)],
            "responses": _responses(answers, problems,
                                    ("Idempotent-Replayed",) if "Idempotency-Key" in headers
                                    else ())}
        if body:
            operation["requestBody"] = {"required": True, "content": _json(body)}
        if public:
            operation["security"] = []
        OPERATIONS.setdefault(f"{bp.name}.{view.__name__}", {})[method] = operation
        return view
    return mark


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """A Flask rule as an OpenAPI path, with its path parameters (ids: integers)."""
    names = CONVERTED.findall(rule)
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1}} for name in names]
    return CONVERTED.sub(r"{\1}", rule), params


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API as ``app`` routes it."""
    spec = APISpec(title="Mailroom API", version="1", openapi_version="3.1.0",
                   info={"description": DESCRIPTION},
                   servers=[{"url": "/"}], security=[{"bearer": []}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        operations = OPERATIONS.get(rule.endpoint)
        if operations is None:
            continue
        path, params = _path(rule.rule)
        found = {m: {**op, "parameters": [*params, *op["parameters"]]}
                 for m, op in operations.items() if m.upper() in (rule.methods or ())}
        spec.path(path=path, operations=found)
    return spec.to_dict()


@bp.get("/openapi.json")
@doc("get", "This document", None, {200: "OpenAPI"}, public=True)
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of this API."""
    return document(current_app)
