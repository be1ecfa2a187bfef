"""Mail that comes back: VERP envelope senders (verp.py), the parser over flufl.bounce
(parse.py), the one handler (handle.py) fed by the SMTP receiver (receiver.py, jobs.py),
the mailbox poller (mailbox.py) and provider webhooks (webhooks.py); ``/bounces`` lists
what came back to the signed-in user."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("bounces", __name__)

# The webhooks are called by providers, not people: no login there (each checks its own
# signature); everything else of this blueprint is the signed-in user's.
PUBLIC_ENDPOINTS = frozenset({"bounces.webhook"})


@bp.before_request
def _login_unless_webhook() -> object:
    from flask import request

    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return require_login()


from app.bounces import routes, webhooks  # noqa: E402,F401
