"""Errors of the API as RFC 9457 problem details: ``application/problem+json`` with a
stable ``type`` per kind of problem (a URN: programs compare it, never the words), the
HTTP status, a ``title`` and a ``detail`` saying what exactly went wrong, both in the
caller's language (``language.py``: ``Accept-Language``, else the token owner's saved
language, else Korean)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from app.api import bp
from app.i18n import N_

TYPE_BASE = "urn:mailroom:problem:"
# slug: (status, title): the title in Korean, shown in the caller's language (``language.py``)
KINDS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, N_("인증이 필요합니다")),
    "not-found": (404, N_("찾을 수 없습니다")),
    "method-not-allowed": (405, N_("허용되지 않는 메서드입니다")),
    "conflict": (409, N_("지금 상태에서는 할 수 없습니다")),
    "idempotency-in-progress": (409, N_("같은 Idempotency-Key의 요청이 아직 처리 중입니다")),
    "payload-too-large": (413, N_("요청이 너무 큽니다")),
    "unsupported-media-type": (415, N_("JSON 본문이 필요합니다")),
    "invalid-request": (422, N_("요청 내용이 올바르지 않습니다")),
    "idempotency-key-reused": (422, N_("같은 Idempotency-Key가 다른 본문에 쓰였습니다")),
    "quota-exceeded": (429, N_("보내기 한도를 넘었습니다")),
    "rate-limited": (429, N_("요청이 너무 많습니다")),
    "queue-unavailable": (503, N_("작업 대기열에 넣지 못했습니다")),
}
BY_STATUS = {400: "invalid-request", 401: "unauthorized", 404: "not-found",
             405: "method-not-allowed", 413: "payload-too-large", 429: "rate-limited"}
# The detail of a Werkzeug error that came with only Werkzeug's own (English) description.
DETAILS = {400: N_("요청을 읽을 수 없습니다."), 401: N_("인증이 필요합니다."),
           404: N_("요청한 것을 찾을 수 없습니다."),
           405: N_("이 주소에서 쓸 수 없는 메서드입니다."),
           413: N_("요청 본문이 이 주소가 받을 수 있는 크기보다 큽니다.")}


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
        status, title = KINDS[self.slug]
        return {"type": TYPE_BASE + self.slug, "title": _(title), "status": status,
                "detail": str(self.detail), "instance": request.path, **self.extra}


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
    if code in DETAILS and detail in ("", type(error).description):
        detail = _(DETAILS[code])
    if code == 429:
        detail = _("요청 한도를 넘었습니다(%(limit)s). 잠시 후 다시 시도하세요.", limit=detail)
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
        return problem_response(Problem("method-not-allowed", _(
            "%(method)s은(는) 이 주소에서 쓸 수 없습니다(허용: %(allowed)s).",
            method=request.method, allowed=allowed), {"Allow": allowed}))
    if isinstance(error, HTTPException) and error.code == 404:
        return problem_response(Problem("not-found", _(
            "API에 %(path)s 주소는 없습니다. /api/v1/openapi.json을 보세요.",
            path=request.path[:100])))
    return None
