"""What the app refuses and limits: a missing or known secret key (or unsubscribe secret),
brute force, floods of sends, oversized bodies; and the headers signed-in responses carry."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask import Request as FlaskRequest
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from limits import parse as parse_limit
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.extensions import limiter

# Keys that were ever a default somewhere: a session signed with one can be forged offline.
KNOWN_KEYS = frozenset({"dev-only-change-me", "dev", "secret", "changeme", "change-me"})
MIN_SECRET_LENGTH = 16


# Routes whose bodies may be larger than MAX_CONTENT_LENGTH, and the setting that says how
# much: a list's import takes a CSV of 100,000 rows; every other route keeps its 1 MiB.
LARGE_BODIES = {"lists.import_members": "LIST_IMPORT_MAX_BYTES"}


class Request(FlaskRequest):
    """The app's request: the body limits of ``LARGE_BODIES`` on their routes (known once
    the URL is matched, before CSRF's check reads the form)."""

    def _large(self) -> int | None:
        setting = LARGE_BODIES.get(self.endpoint or "")
        return int(current_app.config[setting]) if setting else None

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        return self._large() or super().max_content_length

    @property
    def max_form_memory_size(self) -> int | None:  # type: ignore[override]
        return self._large() or super().max_form_memory_size


class InsecureConfig(RuntimeError):
    """The app must not start as configured."""


def _weak(secret: object) -> bool:
    """True for a secret that can be guessed: empty, a known default or under 16 characters."""
    return not secret or str(secret) in KNOWN_KEYS or len(str(secret)) < MIN_SECRET_LENGTH


def _refuse_weak_fallbacks(app: Flask, name: str) -> None:
    """A fallback still verifies what it signed: a public or short one forges (tests too)."""
    if any(_weak(key) for key in app.config.get(name) or []):
        raise InsecureConfig(
            f"{name} lists a known default or a key under {MIN_SECRET_LENGTH} characters: "
            "whatever was signed with it can be forged. A key that was ever public is never "
            "kept as a fallback: remove it and run `flask --app run users end-sessions --all`.")


def check_secret_key(app: Flask) -> None:
    """Refuse to start without a secret key of our own (a test config may use a short one)
    or with a weak key among ``SECRET_KEY_FALLBACKS``."""
    _refuse_weak_fallbacks(app, "SECRET_KEY_FALLBACKS")
    key = app.config.get("SECRET_KEY")
    if app.testing and key:
        return
    if _weak(key):
        raise InsecureConfig(
            "SECRET_KEY is unset, too short or a known default: sessions could be forged. "
            "Set it to a long random value, e.g. "
            "python -c 'import secrets; print(secrets.token_hex(32))' "
            "(python run.py makes one for the dev stack in instance/secret_key).")


def check_unsubscribe_secret(app: Flask) -> None:
    """Refuse to start (outside testing) without an unsubscribe secret of its own: strong,
    and none of the session keys, so a leaked session key forges no unsubscribe link."""
    _refuse_weak_fallbacks(app, "UNSUBSCRIBE_SECRET_FALLBACKS")
    config = app.config
    secret = config.get("UNSUBSCRIBE_SECRET")
    unsubscribe = {secret, *(config.get("UNSUBSCRIBE_SECRET_FALLBACKS") or [])} - {None, ""}
    session = {config.get("SECRET_KEY"), *(config.get("SECRET_KEY_FALLBACKS") or [])}
    if unsubscribe & session:
        raise InsecureConfig("UNSUBSCRIBE_SECRET (or a fallback) equals a session key: "
                             "give the unsubscribe links a secret of their own.")
    if not app.testing and _weak(secret):
        raise InsecureConfig(
            "UNSUBSCRIBE_SECRET is unset, too short or a known default: unsubscribe links "
            "could be forged. Set it to a long random value other than SECRET_KEY "
            "(python run.py makes one for the dev stack in instance/unsubscribe_secret).")


def per_user() -> str:
    """The rate-limit key of the signed-in account (a send, a preview, a template save): its
    id alone, so signing in again (a new session version) starts no new count."""
    return f"user:{getattr(current_user, 'id', None)}"


def init_limiter(app: Flask, storage_uri: str, options: dict | None = None) -> None:
    """Flask-Limiter in the app's Redis (an in-memory count while Redis is away)."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", options or {})
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


# Scripts and styles only from our own files: no inline <script>, no <style> block and no
# style attribute anywhere (the templates use classes from static/css/app.css; scripts set
# styles through the CSSOM, el.style.width = …, which the policy allows).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'self'"
)


# The mail's HTML is the user's (and the CSV cells'): the frame shows it under this policy,
# never the page's (a srcdoc frame inherits the page's CSP, which refuses the mail's own
# styles). Its styles, as a mail client draws them; no scripts, no network (inline images
# only), an opaque origin, no forms, and framed by our own pages alone.
MAIL_HTML_POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'")


def security_headers(response: Response) -> Response:
    """The headers every response carries (CSP, no sniffing, same-origin referrers), no
    caching of anything a signed-in user sees, and HSTS when configured."""
    from flask import current_app

    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_user.is_authenticated or request.path.startswith("/notifications"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    seconds = int(current_app.config.get("HSTS_SECONDS") or 0)
    if seconds > 0:
        response.headers.setdefault("Strict-Transport-Security",
                                    f"max-age={seconds}; includeSubDomains")
    return response


ERROR_PAGES = {
    400: (_l("요청을 처리할 수 없습니다"),
          _l("요청이 올바르지 않거나 폼이 만료되었습니다. 페이지를 새로 고친 뒤 다시 시도해 "
             "주세요.")),
    403: (_l("볼 수 없는 페이지입니다"),
          _l("이 페이지를 볼 권한이 없습니다.")),
    404: (_l("페이지를 찾을 수 없습니다"),
          _l("주소가 잘못되었거나, 없거나, 볼 수 없는 페이지입니다.")),
    413: (_l("요청이 너무 큽니다"),
          _l("보낸 내용이 허용된 크기를 넘었습니다. 받는 사람 목록을 나누어 보내 주세요.")),
    405: (_l("허용되지 않는 요청입니다"),
          _l("이 주소는 이런 방식의 요청을 받지 않습니다.")),
    429: (_l("요청이 너무 많습니다"),
          _l("짧은 시간에 요청이 너무 많았습니다. 잠시 후 다시 시도해 주세요.")),
    500: (_l("서버 오류"),
          _l("요청을 처리하다 서버에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요. 문제가 "
             "계속되면 운영자에게 알려 주세요.")),
}


# Flask-Limiter describes a limit in English ("3 per 1 minute"): the 429 page says it in the
# reader's language.
PERIODS = {
    "second": lambda n: ngettext("%(num)s초", "%(num)s초", n),
    "minute": lambda n: ngettext("%(num)s분", "%(num)s분", n),
    "hour": lambda n: ngettext("%(num)s시간", "%(num)s시간", n),
    "day": lambda n: ngettext("%(num)s일", "%(num)s일", n),
}


def limit_words(description: str) -> str:
    """``3 per 1 minute`` → ``1분에 3번`` / ``3 per 1 minute``, read by ``limits``' own
    parser; anything else (or a period not named here) as it is."""
    try:
        item = parse_limit(description)
    except ValueError:
        return description
    period = PERIODS.get(item.GRANULARITY.name)
    if period is None:
        return description
    return _("%(period)s에 %(count)s번", period=period(item.multiples), count=item.amount)


def error_page(error: HTTPException) -> tuple[str, int]:
    """A page in the site's layout and the reader's language for the HTTP errors a reader
    meets (ERROR_PAGES), never Werkzeug's own nor a stack trace; a page that cannot be
    drawn (the layout asks the database who is signed in) leaves its title and message."""
    code = error.code if error.code in ERROR_PAGES else 500
    title, message = ERROR_PAGES[code]
    limit = limit_words(str(getattr(error, "description", ""))) if code == 429 else ""
    try:
        return render_template("errors/limit.html", title=title, message=message, code=code,
                               limit=limit), code
    except Exception:  # noqa: BLE001 (the error page must answer whatever broke)
        return f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>", code


def register(app: Flask) -> None:
    """Install the checks, the limiter, the headers and the error pages on ``app``."""
    check_secret_key(app)
    check_unsubscribe_secret(app)
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:  # the client's address as the proxy saw it: rate limits per real client
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore
    from app.redis_client import limits_storage

    init_limiter(app, *limits_storage(app.config))  # through Sentinel when it is set
    app.after_request(security_headers)
    for code in ERROR_PAGES:
        if code != 500:  # a 500 goes through app/errors.py (an outage is a 503)
            app.register_error_handler(code, error_page)
