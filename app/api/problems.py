"""Errors of the API as RFC 9457 problem details: ``application/problem+json`` with a
stable ``type`` per kind of problem (a URN: programs compare it, never the words), the
HTTP status, a ``title`` in the caller's language (Korean unless ``Accept-Language``
prefers English) and a ``detail`` saying what exactly went wrong."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from app.api import bp

TYPE_BASE = "urn:mailroom:problem:"
# slug: (status, Korean title, English title)
KINDS: dict[str, tuple[int, str, str]] = {
    "unauthorized": (401, "인증이 필요합니다", "Authentication required"),
    "not-found": (404, "찾을 수 없습니다", "Not found"),
    "method-not-allowed": (405, "허용되지 않는 메서드입니다", "Method not allowed"),
    "conflict": (409, "지금 상태에서는 할 수 없습니다", "Not possible in the task's state"),
    "idempotency-in-progress": (409, "같은 Idempotency-Key의 요청이 아직 처리 중입니다",
                                "A request with this Idempotency-Key is still in progress"),
    "payload-too-large": (413, "요청이 너무 큽니다", "Payload too large"),
    "unsupported-media-type": (415, "JSON 본문이 필요합니다", "A JSON body is required"),
    "invalid-request": (422, "요청 내용이 올바르지 않습니다", "The request is not valid"),
    "idempotency-key-reused": (422, "같은 Idempotency-Key가 다른 본문에 쓰였습니다",
                               "The Idempotency-Key was used with another body"),
    "quota-exceeded": (429, "보내기 한도를 넘었습니다", "Sending quota exceeded"),
    "rate-limited": (429, "요청이 너무 많습니다", "Too many requests"),
    "queue-unavailable": (503, "작업 대기열에 넣지 못했습니다", "The job queue is unavailable"),
}
BY_STATUS = {400: "invalid-request", 401: "unauthorized", 404: "not-found",
             405: "method-not-allowed", 413: "payload-too-large", 429: "rate-limited"}


class Problem(Exception):
    """An answer of the API that is a problem: raise it from a view or a hook."""

    def __init__(self, slug: str, detail: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.slug, self.detail, self.headers, self.extra = slug, detail, headers or {}, extra

    @property
    def status(self) -> int:
        return KINDS[self.slug][0]

    def body(self) -> dict[str, Any]:
        """The problem document."""
        status, korean, english = KINDS[self.slug]
        title = english if wants_english() else korean
        return {"type": TYPE_BASE + self.slug, "title": title, "status": status,
                "detail": self.detail, "instance": request.path, **self.extra}


def wants_english() -> bool:
    """True when the caller's ``Accept-Language`` prefers English to Korean."""
    return request.accept_languages.best_match(["ko", "en"], default="ko") == "en"


def problem_response(problem: Problem) -> Response:
    """The problem as an ``application/problem+json`` answer."""
    from flask import json

    response = Response(json.dumps(problem.body()), status=problem.status,
                        mimetype="application/problem+json")
    response.headers.update(problem.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(Problem)
def _problem(problem: Problem) -> Response:
    return problem_response(problem)


def _http_error(error: HTTPException) -> Response:
    """Werkzeug's errors (a 404 of ``get_or_404``, Flask-Limiter's 429) as problems."""
    code = error.code or 500
    slug = BY_STATUS.get(code)
    if slug is None:
        return error.get_response()
    detail = str(error.description or "")
    if code == 429:
        detail = f"요청 한도를 넘었습니다({detail}). 잠시 후 다시 시도하세요."
    headers = {k: v for k, v in error.get_headers() if k.lower() == "retry-after"}
    return problem_response(Problem(slug, detail, headers))


# By code: Flask looks for a handler of the code (the blueprint's, then the app's HTML
# pages) before one of the class, so a class handler alone would lose to the app's 429 page.
for _code in BY_STATUS:
    bp.register_error_handler(_code, _http_error)


@bp.before_app_request
def _unrouted() -> Response | None:
    """A path under /api/v1 that no route takes (or not with this method) answers a
    problem too: the blueprint's handlers never see a request that matched none of it."""
    error = request.routing_exception
    prefix = bp.url_prefix or "/api/v1"
    if error is None or not (request.path + "/").startswith(prefix + "/"):
        return None
    if isinstance(error, MethodNotAllowed):
        allowed = ", ".join(sorted(error.valid_methods or ()))
        return problem_response(Problem("method-not-allowed", f"{request.method}은(는) 이 "
                                        f"주소에서 쓸 수 없습니다(허용: {allowed}).",
                                        {"Allow": allowed}))
    if isinstance(error, HTTPException) and error.code == 404:
        return problem_response(Problem("not-found", f"API에 {request.path[:100]} 주소는 "
                                        "없습니다. /api/v1/openapi.json을 보세요."))
    return None
