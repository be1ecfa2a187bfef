"""``/settings/webhooks``: the URLs that hear of the user's events, each with its signing
secret (shown once) and the log of its last deliveries."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import Webhook, WebhookDelivery
from app.models.types import utcnow
from app.settings import bp
from app.webhooks_out import EVENTS
from app.webhooks_out.jobs import enqueue
from app.webhooks_out.signing import new_secret
from app.webhooks_out.targets import TargetRefused, check_url

LOG_SHOWN = 10  # deliveries shown per hook
STUCK = timedelta(minutes=10)
MAX_HOOKS = 20


def retryable(delivery: WebhookDelivery) -> bool:
    """A delivery that gave up, or one never tried for ``STUCK`` (its job was never queued:
    Redis was away when the event came). Deliveries are at least once either way."""
    if delivery.status == "failed":
        return True
    return (delivery.status == "pending" and delivery.attempts == 0
            and utcnow() - delivery.created_at > STUCK)


def _log(hook: Webhook) -> list[WebhookDelivery]:
    return list(db.session.scalars(
        db.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.id.desc()).limit(LOG_SHOWN)))


def _page(secret: str | None = None, url: str = "", chosen: tuple[str, ...] = EVENTS,
          problem: str | None = None, status: int = 200) -> tuple[str, int]:
    hooks = Webhook.of_user(current_user.username)
    return render_template("settings/webhooks.html", hooks=[(h, _log(h)) for h in hooks],
                           events=EVENTS, secret=secret, url=url, chosen=chosen,
                           problem=problem, retryable=retryable), status


@bp.get("/webhooks")
def webhooks() -> tuple[str, int]:
    """The user's hooks with their delivery logs, and the form for a new one."""
    return _page()


@bp.post("/webhooks")
def create_webhook() -> tuple[str, int]:
    """Add a hook for ``url`` and the checked ``events``; its secret is shown this once."""
    url = (request.form.get("url") or "").strip()
    chosen = tuple(e for e in EVENTS if e in request.form.getlist("events"))
    try:
        url = check_url(url, bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"]))
        if not chosen:
            raise TargetRefused(_("받을 이벤트를 하나 이상 고르세요."))
        if len(Webhook.of_user(current_user.username)) >= MAX_HOOKS:
            raise TargetRefused(_("웹훅은 %(max)s개까지 둘 수 있습니다.", max=MAX_HOOKS))
    except TargetRefused as exc:
        return _page(url=url[:2048], chosen=chosen, problem=str(exc), status=422)
    secret = new_secret()
    db.session.add(Webhook(username=current_user.username, url=url, events=list(chosen),
                           secret=secret))
    db.session.commit()
    return _page(secret=secret)


@bp.post("/webhooks/<id:hook_id>/delete")
def delete_webhook(hook_id: int) -> Response:
    """Remove one of the user's hooks and its log (another user's: 404)."""
    hook = Webhook.owned_or_404(hook_id, current_user.username)
    db.session.delete(hook)
    db.session.commit()
    flash(_("웹훅 %(url)s을(를) 지웠습니다.", url=hook.url), "success")
    return redirect(url_for("settings.webhooks"))


@bp.post("/webhooks/<id:hook_id>/deliveries/<id:delivery_id>/retry")
def retry_delivery(hook_id: int, delivery_id: int) -> Response:
    """Try a failed (or stuck) delivery of one of the user's hooks again (it keeps its tries
    so far)."""
    hook = Webhook.owned_or_404(hook_id, current_user.username)
    delivery = db.one_or_404(db.select(WebhookDelivery).filter_by(id=delivery_id,
                                                                  webhook_id=hook.id))
    if not retryable(delivery):
        flash(_("실패했거나 오래 대기 중인 전달만 다시 보낼 수 있습니다."), "warning")
    else:
        delivery.status = "pending"
        db.session.commit()
        enqueue(delivery.id)
        flash(_("%(event)s 전달을 다시 보냅니다.", event=delivery.event), "success")
    return redirect(url_for("settings.webhooks"))
