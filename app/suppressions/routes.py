"""The suppression list page: see, add (paste many), remove (not what a recipient chose)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.mail.recipients import parse_recipients
from app.models import Member, Suppression
from app.models.suppression import BOUNCE, MANUAL
from app.suppressions import bp
from app.views import page_number

PER_PAGE = 50


@bp.get("/suppressions")
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


@bp.post("/suppressions")
def add() -> Response | str:
    """Add the pasted addresses (commas or new lines); if one is bad, none is added and the
    page comes back with the text kept."""
    raw = request.form.get("addresses", "")
    try:
        addresses = parse_recipients(raw, current_app.config["MAIL_MAX_RECIPIENTS"])
    except ValueError as exc:
        flash(_("수신 거부 목록에 추가하지 못했습니다. %(reason)s", reason=exc), "danger")
        return _page(raw)
    added = Suppression.add(current_user.username, addresses, MANUAL)
    known = len(addresses) - added
    if known:
        flash(_("수신 거부 목록에 주소 %(added)s개를 추가했습니다. (%(known)s개는 이미 목록에 "
                "있습니다.)", added=added, known=known), "success")
    else:
        flash(_("수신 거부 목록에 주소 %(added)s개를 추가했습니다.", added=added), "success")
    return redirect(url_for("suppressions.index"))


@bp.post("/suppressions/<id:entry_id>/delete")
def delete(entry_id: int) -> Response:
    """Take one address off the user's list (another user's entry: 404); a recipient's own
    unsubscribe stays: only the recipient may ask for mail again."""
    entry = Suppression.owned_or_404(entry_id, current_user.username)
    address, source = entry.address, entry.source
    if not entry.sender_may_remove:
        flash(_("%(address)s은(는) 수신자가 직접 수신을 거부한 주소라 목록에서 뺄 수 없습니다. "
                "수신자만 다시 받겠다고 할 수 있습니다.", address=address), "danger")
    elif Suppression.remove(current_user.username, address):
        if source == BOUNCE:  # lifted: the saved lists' bounced member is active again
            Member.unbounce(current_user.username, address)
            db.session.commit()
        flash(_("%(address)s을(를) 수신 거부 목록에서 뺐습니다.", address=address), "success")
    return redirect(url_for("suppressions.index"))
