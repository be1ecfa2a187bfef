"""The list pages: the user's lists, a new one, one list (members paged and searched, the
import form and its last report), the import, exports, removals."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.extensions import db, limiter
from app.lists import bp, members
from app.lists.importer import check_pasted, open_import, pasted_text
from app.lists.members import STATUS_WORDS
from app.models import ListImport, MailingList, Member
from app.models.audience import MEMBER_STATUSES
from app.security import per_user
from app.tasks.service import QUEUE_FULL, EnqueueError, QueueFull, TaskService
from app.utils.text import csv_chunks
from app.views import page_number

PER_PAGE = 50
REFUSALS_SHOWN = 100
NAME_MAX = 128


def _owned(list_id: int) -> MailingList:
    return MailingList.owned_or_404(list_id, current_user.username)


def _show(list_id: int) -> Response:
    return redirect(url_for("lists.show", list_id=list_id))


@bp.get("/lists")
def index() -> str:
    """The user's lists with their counts."""
    lists = MailingList.of_owner(current_user.username)
    rows = db.session.execute(
        db.select(Member.list_id, Member.status, db.func.count())
        .where(Member.list_id.in_([m.id for m in lists]))
        .group_by(Member.list_id, Member.status)).all()
    counts = {m.id: dict.fromkeys(MEMBER_STATUSES, 0) for m in lists}
    for list_id, status, n in rows:
        counts[list_id][status] = n
    return render_template("lists/index.html", lists=lists, counts=counts)


@bp.get("/lists/new")
def new() -> str:
    return render_template("lists/new.html", name="")


@bp.post("/lists/new")
def create() -> Response | tuple[str, int]:
    """A new empty list named ``name`` (unique among the user's)."""
    name = " ".join(request.form.get("name", "").split())
    problem = (_("목록 이름을 입력하세요.") if not name else
               _("목록 이름은 %(max)s자까지 쓸 수 있습니다.", max=NAME_MAX) if len(name) > NAME_MAX
               else None)
    if problem is None:
        mailing_list = MailingList(owner=current_user.username, name=name, columns=[])
        db.session.add(mailing_list)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            problem = _("같은 이름의 목록이 이미 있습니다: %(name)s", name=name)
    if problem is not None:
        flash(problem, "danger")
        return render_template("lists/new.html", name=name[:NAME_MAX], problem=problem), 400
    flash(_("목록 '%(name)s'을(를) 만들었습니다. 이제 받는 사람을 가져오세요.", name=name),
          "success")
    return _show(mailing_list.id)


@bp.get("/lists/<id:list_id>")
def show(list_id: int) -> str:
    """One list: counts, the import form and its last report, members paged (``q``
    searches the address and the fields, ``status`` narrows)."""
    mailing_list = _owned(list_id)
    q = request.args.get("q", "").strip()[:200]
    status = request.args.get("status", "")
    if status not in MEMBER_STATUSES:
        status = ""
    page = db.paginate(members.search(mailing_list, q, status), page=page_number(),
                       per_page=PER_PAGE, error_out=False)
    if page.page > 1 and not page.items:
        abort(404)
    job, task = members.last_import(mailing_list)
    shown = list(db.session.scalars(members.refusals(job).limit(REFUSALS_SHOWN))) if job else []
    return render_template(
        "lists/show.html", mailing_list=mailing_list, counts=mailing_list.counts(),
        page=page, q=q, status=status, statuses=MEMBER_STATUSES, status_words=STATUS_WORDS,
        job=job, import_task=task,
        refusals=shown, busy=members.busy(mailing_list))


def _import_limit() -> str:
    return current_app.config["RATELIMIT_IMPORT"]


def _upload() -> tuple[str, bytes]:
    """The file (or the pasted text) to import, as bytes with a name; ValueError if none
    or both."""
    upload = request.files.get("members_file")
    pasted = request.form.get("members", "").strip()
    if upload is not None and upload.filename:
        if pasted:
            raise ValueError(_("파일과 붙여 넣기 중 한 곳에만 넣으세요."))
        if not upload.filename.lower().endswith((".csv", ".txt")):
            raise ValueError(_("가져올 파일은 .csv 파일이어야 합니다."))
        return upload.filename, upload.read()
    if not pasted:
        raise ValueError(_("가져올 CSV 파일을 고르거나 주소를 붙여 넣으세요."))
    check_pasted(pasted, current_app.config["MAIL_MAX_RECIPIENTS"] * 200)
    return _("붙여 넣은 주소"), pasted_text(pasted).encode("utf-8")


@bp.post("/lists/<id:list_id>/import")
@limiter.limit(_import_limit, key_func=per_user)
def import_members(list_id: int) -> Response:
    """Start importing the file (or pasted text) into the list in the background; a file
    that cannot be read at all is refused here, a bad row is reported by the job."""
    mailing_list = _owned(list_id)
    if (running := members.running_import(mailing_list)) is not None:
        flash(_("이 목록의 가져오기가 아직 진행 중입니다(작업 #%(id)s). 끝난 뒤에 다시 "
                "가져오세요.", id=running.id), "warning")
        return _show(list_id)
    try:
        filename, data = _upload()
        job = open_import(mailing_list, filename, data)
        task = TaskService(current_user.username).start_import(job, mailing_list.name)
    except ValueError as exc:
        db.session.rollback()
        flash(_("가져오지 못했습니다. %(reason)s", reason=exc), "danger")
    except EnqueueError:
        flash(_("가져오기를 시작하지 못했습니다(작업 대기열에 연결할 수 없습니다)."), "danger")
    except QueueFull:
        flash(_("가져오기를 접수했습니다. %(reason)s", reason=QUEUE_FULL), "warning")
    else:
        lines = f"{job.lines:,}"
        flash(_("%(file)s을(를) 가져오기 시작했습니다(%(lines)s줄, 작업 #%(id)s). 이 화면에서 "
                "진행을 볼 수 있습니다.", file=filename, lines=lines, id=task.id), "success")
    return _show(list_id)


@bp.post("/lists/<id:list_id>/members/<id:member_id>/delete")
def delete_member(list_id: int, member_id: int) -> Response:
    """Take one member off the list."""
    mailing_list = _owned(list_id)
    member = members.member_or_404(mailing_list, member_id)
    address = member.address
    db.session.delete(member)
    db.session.commit()
    flash(_("%(address)s을(를) 목록에서 뺐습니다.", address=address), "success")
    return redirect(url_for("lists.show", list_id=list_id, **_kept_args()))


def _kept_args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in ("q", "status", "page") and v}


@bp.get("/lists/<id:list_id>/members.csv")
def members_csv(list_id: int) -> Response:
    """Every member, streamed as CSV: email (the column an import starts with), status,
    each field column, added at; the headers and statuses in the reader's language."""
    mailing_list = _owned(list_id)
    header = ["email", _("상태"), *(mailing_list.columns or []), _("추가한 때")]
    words = {status: str(word) for status, word in STATUS_WORDS.items()}
    body = csv_chunks(header, members.export_rows(mailing_list, words))
    return Response(stream_with_context(body), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="list-{list_id}-members.csv"'})


@bp.get("/lists/<id:list_id>/imports/<id:import_id>/refused.csv")
def refused_csv(list_id: int, import_id: int) -> Response:
    """Every refused line of one import: line, what was written, why."""
    mailing_list = _owned(list_id)
    job = db.one_or_404(db.select(ListImport).filter_by(id=import_id, list_id=mailing_list.id))
    rows = ([str(r.line), r.address, r.reason] for r in
            db.session.scalars(members.refusals(job).execution_options(yield_per=1000)))
    header = [_("줄"), "email", _("이유")]
    return Response(stream_with_context(csv_chunks(header, rows)),
                    mimetype="text/csv", headers={
                        "Content-Disposition":
                        f'attachment; filename="list-{list_id}-import-{import_id}-refused.csv"'})


@bp.post("/lists/<id:list_id>/delete")
def delete(list_id: int) -> Response:
    """Delete the list and its members, unless a send or an import of it is unfinished."""
    mailing_list = _owned(list_id)
    if (task := members.busy(mailing_list)) is not None:
        flash(_("이 목록을 쓰는 작업(작업 #%(id)s)이 아직 끝나지 않아 지울 수 없습니다. "
                "예약이면 취소한 뒤에 지우세요.", id=task.id), "danger")
        return _show(list_id)
    name = mailing_list.name
    mailing_list.remove()
    db.session.commit()
    flash(_("목록 '%(name)s'을(를) 지웠습니다.", name=name), "success")
    return redirect(url_for("lists.index"))
