"""The unsubscribe pages a recipient reaches from a message. They name the sender as the
mail did (its From display name), never the sending account, and know an address that
already unsubscribed: it is told so, not asked again."""

from __future__ import annotations

from flask import abort, make_response, render_template

from app.extensions import csrf, db
from app.mail.render import sender_name
from app.mail.unsubscribe import read_token
from app.models import Member, Suppression, User
from app.models.suppression import READ_ONLY_SOURCES, UNSUBSCRIBE
from app.unsubscribe import bp
from app.webhooks_out.events import unsubscribed


def _token_or_404(token: str) -> tuple[str, str]:
    """``(owner, address)`` of a token we signed for an account that still exists; else 404
    with a page that tells the recipient what to do, in their browser's language (one page
    for every case: nothing says whether an account exists)."""
    found = read_token(token)
    if found is None or User.by_username(found[0]) is None:
        abort(make_response(render_template("unsubscribe/invalid.html"), 404))
    return found


def already_unsubscribed(owner: str, address: str) -> bool:
    """True when the recipient (not the sender) already took ``address`` off ``owner``'s
    mail: an unsubscribe, or a complaint."""
    return db.session.scalar(db.select(Suppression.id).where(
        Suppression.owner == owner, Suppression.address == address.strip().lower(),
        Suppression.source.in_(READ_ONLY_SOURCES)).limit(1)) is not None


@bp.get("/unsubscribe/<token>")
def confirm(token: str) -> str:
    """Ask before unsubscribing: a link opened by a mail scanner must change nothing. An
    address already unsubscribed is told so, with nothing to press."""
    owner, address = _token_or_404(token)
    if already_unsubscribed(owner, address):
        return render_template("unsubscribe/done.html", sender=sender_name(owner),
                               address=address, already=True)
    return render_template("unsubscribe/confirm.html", token=token, sender=sender_name(owner),
                           address=address)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # a mailbox provider's one-click POST (RFC 8058) carries no CSRF token
def unsubscribe(token: str) -> str:
    """Put the token's address on its sender's suppression list; the confirm page's button
    and a provider's ``List-Unsubscribe=One-Click`` POST both land here."""
    owner, address = _token_or_404(token)
    already = already_unsubscribed(owner, address)
    if not already:
        Suppression.add(owner, [address], UNSUBSCRIBE)
        unsubscribed(owner, address)  # the sender's webhooks (app/webhooks_out)
    # In the sender's saved lists the address stays, unsubscribed: an import never brings
    # it back (done even when the suppression was there before, from another path).
    Member.unsubscribe(owner, address)
    db.session.commit()
    return render_template("unsubscribe/done.html", sender=sender_name(owner), address=address,
                           already=already)
