"""Send-page views."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user

from app.mail_ui import bp
from app.mail_ui.forms import SendMailForm
from app.models import Task
from app.models.task import IN_PROGRESS, RESERVED


def _form() -> SendMailForm:
    form = SendMailForm()
    from app.mail.catalog import TEMPLATES

    form.template_name.choices = [(name, t.label) for name, t in TEMPLATES.items()]
    if not form.timezone.data:
        form.timezone.data = current_app.config["APP_TIMEZONE"]
    return form


@bp.get("/send_mail")
def send_mail() -> str:
    """The send form and the user's live tasks."""
    username = current_user.username
    return render_template(
        "mail_ui/send_mail.html",
        form=_form(),
        in_progress=Task.of_user(username, IN_PROGRESS),
        reserved=Task.of_user(username, (RESERVED,)),
    )
