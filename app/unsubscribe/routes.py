"""The unsubscribe pages a recipient reaches from a message, and the suppression list page."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import csrf, db
from app.history.routes import page_number
from app.mail.recipients import parse_recipients
from app.mail.unsubscribe import read_token
from app.models import Suppression, User
from app.models.suppression import MANUAL, UNSUBSCRIBE
from app.unsubscribe import bp, suppressions_bp

PER_PAGE = 50


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


@suppressions_bp.get("/suppressions")
def index() -> str:
    """The user's suppression list, newest first, paged."""
    return _page()


def _page(addresses: str = "") -> str:
    """The list page (a page past the last is a 404, page 1 never); ``addresses`` refills
    the paste box after a refusal."""
    query = (db.select(Suppression).where(Suppression.owner == current_user.username)
             .order_by(Suppression.created_at.desc(), Suppression.id.desc()))
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    if page.page > 1 and not page.items:
        abort(404)
    return render_template("suppressions/index.html", page=page, addresses=addresses)


@suppressions_bp.post("/suppressions")
def add() -> Response | str:
    """Add the pasted addresses (commas or new lines); if one is bad, none is added and the
    page comes back with the text kept."""
    raw = request.form.get("addresses", "")
    try:
        addresses = parse_recipients(raw, current_app.config["MAIL_MAX_RECIPIENTS"])
    except ValueError as exc:
        flash(f"수신 거부 목록에 추가하지 못했습니다. {exc}", "danger")
        return _page(raw)
    added = Suppression.add(current_user.username, addresses, MANUAL)
    known = len(addresses) - added
    flash(f"수신 거부 목록에 주소 {added}개를 추가했습니다."
          + (f" ({known}개는 이미 목록에 있습니다.)" if known else ""), "success")
    return redirect(url_for("suppressions.index"))


@suppressions_bp.post("/suppressions/<id:entry_id>/delete")
def delete(entry_id: int) -> Response:
    """Take one address off the user's list (another user's entry: 404); a recipient's own
    unsubscribe stays: only the recipient may ask for mail again."""
    entry = Suppression.owned_or_404(entry_id, current_user.username)
    address = entry.address
    if not entry.sender_may_remove:
        flash(f"{address}은(는) 수신자가 직접 수신을 거부한 주소라 목록에서 뺄 수 없습니다. "
              "수신자만 다시 받겠다고 할 수 있습니다.", "danger")
    elif Suppression.remove(current_user.username, address):
        flash(f"{address}을(를) 수신 거부 목록에서 뺐습니다.", "success")
    return redirect(url_for("suppressions.index"))
