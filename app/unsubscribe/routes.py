"""The unsubscribe pages a recipient reaches from a message."""

from __future__ import annotations

from flask import abort, render_template

from app.extensions import csrf
from app.mail.unsubscribe import read_token
from app.models import Suppression, User
from app.models.suppression import UNSUBSCRIBE
from app.unsubscribe import bp


def _token_or_404(token: str) -> tuple[str, str]:
    """``(owner, address)`` of a token we signed for an account that still exists; else 404."""
    found = read_token(token)
    if found is None or User.by_username(found[0]) is None:
        abort(404)
    return found


@bp.get("/unsubscribe/<token>")
def confirm(token: str) -> str:
    """Ask before unsubscribing: a link opened by a mail scanner must change nothing."""
    owner, address = _token_or_404(token)
    return render_template("unsubscribe/confirm.html", token=token, owner=owner,
                           address=address)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # a mailbox provider's one-click POST (RFC 8058) carries no CSRF token
def unsubscribe(token: str) -> str:
    """Put the token's address on its sender's suppression list; the confirm page's button
    and a provider's ``List-Unsubscribe=One-Click`` POST both land here."""
    owner, address = _token_or_404(token)
    Suppression.add(owner, [address], UNSUBSCRIBE)
    return render_template("unsubscribe/done.html", owner=owner, address=address)
