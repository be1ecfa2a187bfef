"""The JSON shapes of the API for its OpenAPI document (JSON Schema, as OpenAPI 3.1 takes
it): what ``present.py`` writes and ``payload.py`` reads."""

from __future__ import annotations

from typing import Any

TIME = {"type": ["string", "null"], "format": "date-time"}
LINK = {"type": "string", "format": "uri"}
TASK: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "failed", "counts", "links"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"enum": ["reserved", "queued", "running", "paused", "canceled",
                            "finished"]},
        "failed": {"type": "boolean"},
        "description": {"type": "string"},
        "template": {"type": ["string", "null"]},
        "list_id": {"type": ["integer", "null"]},
        "progress": {"type": "integer"},
        "counts": {"type": "object", "properties": {
            name: {"type": "integer"}
            for name in ("recipients", "delivered", "refused", "unknown", "pending")}},
        "log": {"type": ["string", "null"]},
        "created_at": TIME, "send_at": TIME, "started_at": TIME, "finished_at": TIME,
        "links": {"type": "object", "additionalProperties": LINK},
    },
}
RECIPIENT = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "format": "email"},
        "outcome": {"enum": ["pending", "sending", "delivered", "refused", "unknown",
                             "suppressed", "bounced"]},
        "reply": {"type": ["string", "null"]},
        "message_id": {"type": ["string", "null"]},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        "updated_at": TIME,
    },
}


def _page(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "page"], "properties": {
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
        "page": {"type": "integer"}, "next": {"type": ["string", "null"], "format": "uri"}}}


SCHEMAS: dict[str, dict[str, Any]] = {
    "SendRequest": {
        "type": "object",
        "required": ["template"],
        "properties": {
            "template": {"type": "string", "description": "A template's name"},
            "recipients": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["email"], "properties": {
                    "email": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {
                        "type": ["string", "number"]}}}}},
            "list_id": {"type": "integer", "description": "A saved list instead"},
            "send_at": {"type": "string", "format": "date-time",
                        "description": "RFC 3339 with an offset; none is a 422"},
        },
    },
    "Task": TASK,
    "TaskPage": _page("Task"),
    "Recipient": RECIPIENT,
    "RecipientPage": _page("Recipient"),
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status"],
        "properties": {"type": {"type": "string", "format": "uri"},
                       "title": {"type": "string"}, "status": {"type": "integer"},
                       "detail": {"type": "string"}, "instance": {"type": "string"},
                       "field": {"type": "string"}, "task": {"type": "integer"}},
    },
    "OpenAPI": {"type": "object"},
}


def _query(name: str, schema: dict[str, Any], words: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": words}


QUERY: dict[str, dict[str, Any]] = {
    "page": _query("page", {"type": "integer", "minimum": 1}, "Page, from 1"),
    "per_page": _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100},
                       "Items a page (20)"),
    "status": _query("status", {"type": "string"},
                     "reserved, queued, running, paused, canceled, finished or failed"),
    "from": _query("from", {"type": "string", "format": "date"}, "Made on or after"),
    "to": _query("to", {"type": "string", "format": "date"}, "Made on or before"),
    "q": _query("q", {"type": "string"}, "Text in an address or the description"),
    "tz": _query("tz", {"type": "string"}, "IANA zone of from/to (APP_TIMEZONE)"),
    "outcome": _query("outcome", {"type": "string"},
                      "delivered, refused, pending, unknown or suppressed"),
    "Idempotency-Key": {"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "The same key and body within 24 h: the first "
                                       "answer again, never a second send"},
}
