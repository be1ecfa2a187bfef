"""``/templates``: list, new, edit, duplicate, delete. A user sees the built-ins and their
own templates; another user's template answers 404, a built-in cannot be changed. A
template is checked when saved (app/mail/render.py): a syntax error, a sandbox escape or a
render error is a form error naming the part and line, never a 500. Tasks keep a snapshot,
so an edit or a delete never changes a send already made."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db, limiter
from app.i18n import N_
from app.mail.render import BUILTIN_VARIABLES, TemplateProblem, check
from app.mail_templates import bp
from app.mail_templates.forms import TemplateForm
from app.models import MailTemplate
from app.security import per_user

NAME_TAKEN = N_("같은 이름의 템플릿이 이미 있습니다: %(name)s")


def _limit() -> str:
    return current_app.config["RATELIMIT_TEMPLATES"]


@bp.get("/templates")
def index() -> str:
    """The templates the user can send with."""
    return render_template("mail_templates/index.html",
                           templates=MailTemplate.visible_to(current_user.username))


def _own(template_id: int) -> MailTemplate:
    """The user's own template; a built-in may be looked at but not changed (403)."""
    template = MailTemplate.owned_or_404(template_id, current_user.username)
    if template.builtin:
        abort(403)
    return template


def _name_free(name: str, template: MailTemplate | None) -> bool:
    """No other template the user sees (built-ins included) is called ``name``."""
    other = MailTemplate.named(name, current_user.username)
    return other is None or (template is not None and other.id == template.id)


def _save(form: TemplateForm, template: MailTemplate | None) -> MailTemplate | None:
    """Check and store the form; None (with the errors on the form) when it is not right."""
    if not form.validate_on_submit():
        return None
    name = form.name.data.strip()
    values = {"name": name, "subject": form.subject.data.strip(),
              "body_text": form.body_text.data.replace("\r\n", "\n"),
              "body_html": (form.body_html.data or "").replace("\r\n", "\n").strip() or None}
    if not _name_free(name, template):
        form.name.errors.append(_(NAME_TAKEN, name=name))
        return None
    try:
        check(values)
    except TemplateProblem as exc:
        getattr(form, exc.part or "body_text").errors.append(str(exc))
        return None
    if template is None:
        template = MailTemplate(owner=current_user.username)
        db.session.add(template)
    for key, value in values.items():
        setattr(template, key, value)
    db.session.commit()
    return template


def _editor(form: TemplateForm, template: MailTemplate | None) -> str:
    return render_template("mail_templates/edit.html", form=form, template=template,
                           builtins=sorted(BUILTIN_VARIABLES))


@bp.route("/templates/new", methods=["GET", "POST"])
@limiter.limit(_limit, key_func=per_user, methods=["POST"])
def new() -> str | Response:
    """Write a new template."""
    form = TemplateForm()
    saved = _save(form, None)
    if saved is None:
        return _editor(form, None)
    flash(_("템플릿 [%(name)s]을(를) 저장하였습니다.", name=saved.name), "success")
    return redirect(url_for("mail_templates.index"))


@bp.route("/templates/<id:template_id>/edit", methods=["GET", "POST"])
@limiter.limit(_limit, key_func=per_user, methods=["POST"])
def edit(template_id: int) -> str | Response:
    """Change one of the user's templates (a built-in is shown read-only)."""
    template = MailTemplate.owned_or_404(template_id, current_user.username)
    if template.builtin:
        shown = TemplateForm(data={"name": template.name, **template.words()})
        return render_template("mail_templates/edit.html", form=shown, template=template,
                               builtins=sorted(BUILTIN_VARIABLES), readonly=True)
    form = TemplateForm(obj=template)
    saved = _save(form, template)
    if saved is None:
        return _editor(form, template)
    flash(_("템플릿 [%(name)s]을(를) 저장하였습니다. 이미 만든 전송과 예약은 만들 때의 "
            "내용으로 나갑니다.", name=saved.name), "success")
    return redirect(url_for("mail_templates.index"))


@bp.post("/templates/<id:template_id>/duplicate")
@limiter.limit(_limit, key_func=per_user)
def duplicate(template_id: int) -> Response:
    """A copy of a template the user can change (a built-in's in the reader's language)."""
    source = MailTemplate.owned_or_404(template_id, current_user.username)
    name = _copy_name(source.name)
    copy = MailTemplate(owner=current_user.username, name=name, **source.words())
    db.session.add(copy)
    db.session.commit()
    flash(_("템플릿 [%(source)s]을(를) [%(name)s](으)로 복제하였습니다.", source=source.name,
            name=name), "success")
    return redirect(url_for("mail_templates.edit", template_id=copy.id))


def _copy_name(name: str) -> str:
    for n in range(1, 1000):
        candidate = (_("%(name)s 사본", name=name[:54]) if n == 1 else
                     _("%(name)s 사본 %(n)s", name=name[:54], n=n))
        if MailTemplate.named(candidate, current_user.username) is None:
            return candidate
    abort(409)


@bp.post("/templates/<id:template_id>/delete")
def delete(template_id: int) -> Response:
    """Delete one of the user's templates (sends already made keep their snapshot)."""
    template = _own(template_id)
    db.session.delete(template)
    db.session.commit()
    flash(_("템플릿 [%(name)s]을(를) 삭제하였습니다.", name=template.name), "success")
    return redirect(url_for("mail_templates.index"))
