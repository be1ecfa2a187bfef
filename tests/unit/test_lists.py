"""Lists in the app alone (SQLite, fakeredis, the job run in this process by RQ's
SimpleWorker): a list made, a CSV imported with bad rows reported by line, members merged
and searched, a send to the list taking its members when its run starts."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from rq import SimpleWorker

from app.extensions import db
from app.models import ImportRefusal, ListImport, MailingList, Member, Suppression, Task
from app.models.audience import sendable_count, take_members
from app.queue import SERIALIZER, queues
from tests.support.flows import csrf_token, post_file


def run_jobs(app: Flask) -> None:
    with app.app_context():
        queue_set = queues()
        SimpleWorker(queue_set.ordered(), connection=queue_set.connection,
                     serializer=SERIALIZER).work(burst=True)


def post(client: FlaskClient, path: str, data: dict, **kwargs):
    """A POST with the form's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/lists/new")},
                       **kwargs)


def make_list(client: FlaskClient, name: str = "독자") -> int:
    response = post(client, "/lists/new", {"name": name})
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


CSV = ("email,name,city\n"
       "a@example.com,김하나,서울\n"
       "not-an-address,둘,부산\n"
       "B@example.com,박둘,대구\n"
       "a@EXAMPLE.com,다시,인천\n"
       "c@example.com,셋\n"
       "\n"
       "d@example.com,넷,광주\n")


def import_file(client: FlaskClient, list_id: int, text: str, encoding: str = "utf-8"):
    return post_file(client, f"/lists/{list_id}/import", "members_file",
                     text.encode(encoding))


def test_import_reports_bad_rows_by_line_and_keeps_the_rest(app: Flask,
                                                             signed_in: FlaskClient) -> None:
    list_id = make_list(signed_in)
    response = import_file(signed_in, list_id, CSV)
    assert response.status_code == 302
    run_jobs(app)
    with app.app_context():
        job = db.session.scalar(db.select(ListImport))
        assert (job.added, job.updated, job.refused, job.done) == (3, 0, 3, True)
        assert job.data is None
        lines = dict(db.session.execute(db.select(ImportRefusal.line, ImportRefusal.reason)).all())
        assert sorted(lines) == [3, 5, 6]
        assert "2번째 줄" in lines[5]
        assert "열이 2개" in lines[6]
        task = db.session.get(Task, job.task_id)
        assert task.status == "finished" and not task.failed and task.recipient_count == 0
        members = {m.key: m for m in db.session.scalars(db.select(Member))}
        assert set(members) == {"a@example.com", "b@example.com", "d@example.com"}
        assert members["b@example.com"].address == "B@example.com"
    page = signed_in.get(f"/lists/{list_id}")
    assert 'data-added="3"' in page.text and 'data-refused="3"' in page.text
    assert 'data-line="5"' in page.text
    found = signed_in.get(f"/lists/{list_id}?q=대구")
    assert 'data-member="B@example.com"' in found.text
    assert 'data-member="a@example.com"' not in found.text
    by_name = signed_in.get(f"/lists/{list_id}?q=city")  # a field's name is not its value
    assert 'data-member="' not in by_name.text


def test_a_second_import_merges_fields_and_keeps_an_unsubscribe(app: Flask,
                                                                signed_in: FlaskClient) -> None:
    list_id = make_list(signed_in)
    import_file(signed_in, list_id, "email,name\na@example.com,하나\nb@example.com,둘\n")
    run_jobs(app)
    with app.app_context():
        db.session.execute(db.update(Member).where(Member.key == "b@example.com")
                           .values(status="unsubscribed"))
        db.session.commit()
    import_file(signed_in, list_id, "email,city\na@example.com,서울\nb@example.com,부산\n"
                "c@example.com,대구\n".encode().decode("utf-8").encode("cp949").decode("cp949"),
                encoding="cp949")
    run_jobs(app)
    with app.app_context():
        job = db.session.scalar(db.select(ListImport).order_by(ListImport.id.desc()))
        assert (job.added, job.updated, job.unchanged, job.refused) == (1, 2, 0, 0)
        members = {m.key: m for m in db.session.scalars(db.select(Member))}
        assert members["a@example.com"].fields == {"name": "하나", "city": "서울"}
        assert members["b@example.com"].status == "unsubscribed"
        assert db.session.get(MailingList, list_id).columns == ["name", "city"]


def test_a_file_without_a_header_is_refused_at_the_door(app: Flask,
                                                        signed_in: FlaskClient) -> None:
    list_id = make_list(signed_in)
    response = import_file(signed_in, list_id, "a@example.com\nb@example.com\n")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Task)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(ListImport)) == 0


def test_pasted_addresses_without_a_header(app: Flask, signed_in: FlaskClient) -> None:
    list_id = make_list(signed_in)
    post(signed_in, f"/lists/{list_id}/import", {"members": "x@example.com, y@example.com"})
    run_jobs(app)
    with app.app_context():
        assert sorted(db.session.scalars(db.select(Member.key))) == ["x@example.com",
                                                                     "y@example.com"]


def test_a_list_send_takes_the_active_unsuppressed_members_when_it_runs(
        app: Flask, signed_in: FlaskClient) -> None:
    list_id = make_list(signed_in)
    import_file(signed_in, list_id, "email\na@example.com\nb@example.com\nc@example.com\n")
    run_jobs(app)
    response = post(signed_in, "/send_mail", {"list_id": str(list_id),
                                             "template_name": "welcome"})
    assert response.status_code == 302
    with app.app_context():
        task = db.session.scalar(db.select(Task).where(Task.name == "send_mail"))
        assert task.list_id == list_id and task.recipients_taken_at is None
        assert task.charged == 0 and task.charged_at is None
        db.session.execute(db.update(Member).where(Member.key == "b@example.com")
                           .values(status="unsubscribed"))
        Suppression.add("alice", ["c@example.com"], "manual")
        assert sendable_count(db.session.get(MailingList, list_id)) == 1
        assert take_members(task) == 1
        db.session.commit()
        assert take_members(task) == 0  # once


def test_a_list_send_needs_the_template_fields_and_no_typed_recipients(
        app: Flask, signed_in: FlaskClient) -> None:
    list_id = make_list(signed_in)
    import_file(signed_in, list_id, "email\na@example.com\n")
    run_jobs(app)
    both = post(signed_in, "/send_mail", {"list_id": str(list_id), "template_name": "welcome",
                                          "recipient": "z@example.com"})
    assert both.status_code == 302
    other = post(signed_in, "/send_mail", {"list_id": "999", "template_name": "welcome"})
    assert other.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Task).where(
            Task.name == "send_mail")) == 0


def test_one_click_unsubscribe_marks_the_member_in_each_list_of_the_sender(
        app: Flask, signed_in: FlaskClient) -> None:
    from app.mail.unsubscribe import unsubscribe_links

    first, second = make_list(signed_in, "하나"), make_list(signed_in, "둘")
    for list_id in (first, second):
        import_file(signed_in, list_id, "email\nA@example.com\nb@example.com\n")
    run_jobs(app)
    with app.app_context(), app.test_request_context():
        link, _ = unsubscribe_links("alice", "A@example.com")
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert signed_in.post("/" + path).status_code == 200
    with app.app_context():
        states = sorted(db.session.execute(db.select(Member.key, Member.status)).all())
        assert states == [("a@example.com", "unsubscribed"), ("a@example.com", "unsubscribed"),
                          ("b@example.com", "active"), ("b@example.com", "active")]


def test_set_quota_raises_one_account_and_the_admin_view_shows_it(app: Flask) -> None:
    from app.cli import create_user
    from app.tasks.quota import recipients_per_day

    runner = app.test_cli_runner()
    with app.app_context():
        create_user("bob", "a long enough password 1")
        assert recipients_per_day("bob") == app.config["QUOTA_RECIPIENTS_PER_DAY"]
    result = runner.invoke(args=["users", "set-quota", "bob", "--recipients-per-day", "150000"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert recipients_per_day("bob") == 150000
    assert runner.invoke(args=["users", "set-quota", "bob", "--default"]).exit_code == 0
    with app.app_context():
        assert recipients_per_day("bob") == app.config["QUOTA_RECIPIENTS_PER_DAY"]
    assert runner.invoke(args=["users", "set-quota", "nobody", "--default"]).exit_code != 0
    assert runner.invoke(args=["users", "set-quota", "bob"]).exit_code != 0


def test_the_same_file_again_changes_nothing(app: Flask, signed_in: FlaskClient) -> None:
    list_id = make_list(signed_in)
    text = "email,name\na@example.com,하나\nB@example.com,둘\n"
    import_file(signed_in, list_id, text)
    run_jobs(app)
    import_file(signed_in, list_id, text.replace("B@example.com", "b@example.com"))
    run_jobs(app)
    with app.app_context():
        job = db.session.scalar(db.select(ListImport).order_by(ListImport.id.desc()))
        assert (job.added, job.updated, job.unchanged, job.refused) == (0, 0, 2, 0)
        assert db.session.scalar(db.select(Member.fields).where(
            Member.key == "a@example.com")) == {"name": "하나"}


def test_only_the_import_takes_a_body_past_one_mebibyte(app: Flask, signed_in: FlaskClient) -> None:
    list_id = make_list(signed_in)
    app.config["LIST_IMPORT_MAX_BYTES"] = 3 * 1024 * 1024
    two = "email\n" + "".join(f"u{i}@example.com\n" for i in range(140_000))
    assert 1024 * 1024 < len(two) < 3 * 1024 * 1024
    assert import_file(signed_in, list_id, two).status_code == 302
    assert import_file(signed_in, list_id, two * 2).status_code == 413
    over = post(signed_in, "/suppressions", {"addresses": "x" * (1024 * 1024 + 10)})
    assert over.status_code == 413
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ListImport)) == 1
