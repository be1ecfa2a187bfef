"""Audiences against the real stack (SPEC "The third contract — Audiences"): lists filled
by ``python worker.py`` from uploaded CSV files (UTF-8 with a BOM, CP949), sends and a
reservation to a list counted at the recording sink, one-click unsubscribe marking the
member, and an import killed part way (its work horse, or the whole worker) that ends
exact — on SQLite and on PostgreSQL."""

from __future__ import annotations

import math
import os
import re
import signal
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Worker
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import ImportRefusal, ListImport, Member, Suppression, Task
from tests.support import wait_until
from tests.support.faults import figure
from tests.support.flows import (
    csrf_token,
    ended,
    flashes,
    post_file,
    post_send,
    task,
    wait_for_task,
)
from tests.support.procs import alive, children, cmdline, kill_family

SEOUL = ZoneInfo("Asia/Seoul")
BASE = "https://mail.example.com"


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    """Mail to the sink; short reservations; quick retries of a killed horse; links in
    the mail under a public base URL (one-click unsubscribe)."""
    app_config.update(RESERVATION_MIN_LEAD_SECONDS=3, TASK_RETRY_INTERVALS="1,1",
                      PUBLIC_BASE_URL=BASE)
    return app_config


# -- steps -------------------------------------------------------------------------------

def post(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """A POST with the form's CSRF token, as the list pages post."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/lists/new")},
                       **kwargs)


def make_list(client: FlaskClient, name: str = "독자") -> int:
    response = post(client, "/lists/new", {"name": name})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = response.headers["Location"]
    assert re.search(r"/lists/\d+$", location), location
    return int(location.rsplit("/", 1)[1])


def upload(client: FlaskClient, list_id: int, data: bytes,
           filename: str = "members.csv") -> int:
    """Import ``data`` as the file ``members_file``; the import's task id."""
    response = post_file(client, f"/lists/{list_id}/import", "members_file", data, filename)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/lists/{list_id}")
    found = flashes(client)
    assert found and found[-1][0] == "success", found
    return newest_import_task(client.application, list_id)


def newest_import_task(app: Flask, list_id: int) -> int:
    with app.app_context():
        task_id = db.session.scalar(db.select(Task.id).where(
            Task.list_id == list_id, Task.name == "import_members").order_by(Task.id.desc()))
        assert task_id is not None
        return task_id


def the_import(app: Flask, task_id: int) -> ListImport:
    with app.app_context():
        row = db.session.scalar(db.select(ListImport).options(undefer(ListImport.data))
                                .where(ListImport.task_id == task_id))
        assert row is not None
        db.session.expunge(row)
        return row


def imported(app: Flask, task_id: int, timeout: float = 60) -> ListImport:
    """Wait for the import's task to end (finished, not failed); its import row."""
    done = wait_for_task(app, task_id, ended, timeout, "the import")
    assert (done.status, done.failed) == ("finished", False), done.log
    return the_import(app, task_id)


def refusals(app: Flask, import_id: int) -> list[tuple[int, str, str]]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            db.select(ImportRefusal.line, ImportRefusal.address, ImportRefusal.reason)
            .where(ImportRefusal.import_id == import_id).order_by(ImportRefusal.line))]


def members(app: Flask, list_id: int) -> dict[str, Member]:
    """The list's members by key."""
    with app.app_context():
        rows = list(db.session.scalars(db.select(Member).where(Member.list_id == list_id)))
        db.session.expunge_all()
    return {m.key: m for m in rows}


def set_status(app: Flask, list_id: int, key: str, status: str) -> None:
    with app.app_context():
        db.session.execute(db.update(Member).where(Member.list_id == list_id,
                                                   Member.key == key).values(status=status))
        db.session.commit()


def send_to_list(client: FlaskClient, list_id: int, **extra: str) -> int:
    """Send ``welcome`` to the list from the send form (no typed recipients); the task."""
    response = post_send(client, "", list_id=str(list_id), **extra)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    found = flashes(client)
    assert found and found[-1][0] == "success", found
    with client.application.app_context():
        task_id = db.session.scalar(db.select(Task.id).where(
            Task.name == "send_mail").order_by(Task.id.desc()))
    assert task_id is not None
    return task_id


def detail_outcomes(client: FlaskClient, task_id: int) -> dict[str, str]:
    """``/tasks/<id>``'s table #recipients: address -> data-outcome."""
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    table = re.search(r'<table[^>]*id="recipients".*?</table>', html, re.S)
    assert table, "no table#recipients on the detail page"
    rows = {}
    for tag in re.findall(r"<tr\b[^>]*data-recipient=[^>]*>", table.group(0)):
        recipient = re.search(r'data-recipient="([^"]+)"', tag)
        outcome = re.search(r'data-outcome="([^"]+)"', tag)
        assert recipient and outcome, tag
        rows[recipient.group(1)] = outcome.group(1)
    return rows


def sink_counts(sink: Any) -> Counter[str]:
    return Counter(sink.handler.recipients())


def page_attrs(client: FlaskClient, list_id: int) -> str:
    return client.get(f"/lists/{list_id}").get_data(as_text=True)


# -- a. a CSV with errors, then a CP949 one ----------------------------------------------

FIRST = ("email,name,city\n"
         "a@example.com,김하나,서울\n"       # 2 added
         "not-an-address,둘,부산\n"          # 3 refused: not an address
         "B@example.com,박둘,대구\n"          # 4 added
         "a@EXAMPLE.com,다시,인천\n"          # 5 refused: line 2 had it (other case)
         "c@example.com,셋\n"                # 6 refused: two columns of three
         "\n"                                # 7 blank: skipped, not refused
         "d@example.com,넷,광주\n")           # 8 added

SECOND = ("email,city,grade\n"
          "b@example.com,대구,골드\n"          # 2 updated: grade merged in (B@ in the list)
          "d@example.com,광주,실버\n"          # 3 updated
          "e@example.com,울산,브론즈\n"        # 4 added
          "f@@example.com,수원,없음\n"         # 5 refused
          "a@example.com,서울,\n")             # 6 updated: empty grade merged


def test_import_with_errors_then_a_cp949_file_merges(app: Flask, signed_in: FlaskClient,
                                                     start_worker: Any) -> None:
    start_worker()
    list_id = make_list(signed_in)
    first = imported(app, upload(signed_in, list_id, FIRST.encode("utf-8-sig")))
    assert (first.added, first.updated, first.unchanged, first.refused, first.done) == \
        (3, 0, 0, 3, True)
    assert first.encoding.replace("-", "_").startswith("utf_8") and first.data is None
    refused = refusals(app, first.id)
    assert [(line, address) for line, address, _ in refused] == [
        (3, "not-an-address"), (5, "a@EXAMPLE.com"), (6, "c@example.com")]
    assert "2번째 줄" in refused[1][2] and "열이 2개" in refused[2][2]
    assert set(members(app, list_id)) == {"a@example.com", "b@example.com", "d@example.com"}

    second = imported(app, upload(signed_in, list_id, SECOND.encode("cp949"), "회원.csv"))
    assert second.encoding.lower().replace("-", "") == "cp949"
    assert (second.added, second.updated, second.unchanged, second.refused, second.done) == \
        (1, 3, 0, 1, True)
    assert [line for line, _, _ in refusals(app, second.id)] == [5]
    found = members(app, list_id)
    assert set(found) == {f"{c}@example.com" for c in "abde"}
    assert found["a@example.com"].fields == {"name": "김하나", "city": "서울", "grade": ""}
    assert found["b@example.com"].fields == {"name": "박둘", "city": "대구", "grade": "골드"}
    assert found["d@example.com"].fields == {"name": "넷", "city": "광주", "grade": "실버"}
    assert found["e@example.com"].fields == {"city": "울산", "grade": "브론즈"}
    assert all(m.status == "active" for m in found.values())
    with app.app_context():  # each address once whatever its case
        assert db.session.scalar(db.select(db.func.count()).select_from(Member)) == 4

    html = page_attrs(signed_in, list_id)
    report = re.search(r'<div id="import-report"[^>]*>', html)
    assert report, "no #import-report"
    for name, value in (("added", 1), ("updated", 3), ("unchanged", 0), ("refused", 1)):
        assert f'data-{name}="{value}"' in report.group(0)
    assert 'data-done="true"' in report.group(0)
    assert re.findall(r'<tr data-line="(\d+)"', html) == ["5"]
    assert 'data-status="active" data-count="4"' in html
    searched = signed_in.get(f"/lists/{list_id}?q=브론즈").get_data(as_text=True)
    assert re.findall(r'data-member="([^"]+)"', searched) == ["e@example.com"]


# -- b. a list send: suppressed and unsubscribed members left out ------------------------

LIST_OF_FIVE = "email,name\n" + "".join(f"{c}@example.com,{c.upper()}\n" for c in "abcde")


def test_list_send_mails_the_active_unsuppressed_members_once(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    start_worker()
    list_id = make_list(signed_in)
    imported(app, upload(signed_in, list_id, LIST_OF_FIVE.encode()))
    with app.app_context():
        Suppression.add("alice", ["C@example.com"], "manual")
    set_status(app, list_id, "d@example.com", "unsubscribed")

    task_id = send_to_list(signed_in, list_id)
    done = wait_for_task(app, task_id, ended, 60, "the list send")
    assert (done.status, done.failed) == ("finished", False), done.log
    assert done.list_id == list_id and done.recipients_taken_at is not None
    expected = ["a@example.com", "b@example.com", "e@example.com"]
    assert sink_counts(smtp_sink) == dict.fromkeys(expected, 1)
    assert (done.recipient_count, done.delivered_count) == (3, 3)
    assert detail_outcomes(signed_in, task_id) == dict.fromkeys(expected, "delivered")


def test_one_click_unsubscribe_from_a_list_send_marks_the_member(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    start_worker()
    list_id = make_list(signed_in)
    imported(app, upload(signed_in, list_id, LIST_OF_FIVE.encode()))
    first = send_to_list(signed_in, list_id)
    wait_for_task(app, first, ended, 60, "the list send")
    [mail] = [m for m in smtp_sink.handler.messages if m.rcpt_tos == ["b@example.com"]]
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.search(r"<(https://[^>]+)>", str(mail.message["List-Unsubscribe"]))
    assert link and link.group(1).startswith(BASE + "/unsubscribe/")
    provider = app.test_client()  # a mailbox provider: no session, no CSRF token
    answer = provider.post(link.group(1).removeprefix(BASE),
                           data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200

    assert members(app, list_id)["b@example.com"].status == "unsubscribed"
    html = page_attrs(signed_in, list_id)
    assert 'data-member="b@example.com" data-status="unsubscribed"' in html
    assert 'data-status="unsubscribed" data-count="1"' in html
    second = send_to_list(signed_in, list_id)
    wait_for_task(app, second, ended, 60, "the second list send")
    counts = sink_counts(smtp_sink)
    assert counts["b@example.com"] == 1 and sum(counts.values()) == 9


# -- c. a reservation takes the list as it is when it fires ------------------------------

def seoul_wall(moment: datetime) -> str:
    """``moment`` as a Seoul browser's datetime-local field gives it."""
    return moment.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M:%S")


def test_reservation_to_a_list_takes_the_members_when_it_fires(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    start_worker()
    list_id = make_list(signed_in)
    imported(app, upload(signed_in, list_id, b"email\na@example.com\nb@example.com\n"
                                             b"c@example.com\n"))
    fire = datetime.fromtimestamp(math.ceil(time.time()) + 8, UTC)
    task_id = send_to_list(signed_in, list_id, is_scheduled="y",
                           scheduled_time=seoul_wall(fire))
    row = task(app, task_id)
    assert row.status == "reserved" and row.recipients_taken_at is None

    # Before it fires: one member added by a second import, one taken off the list.
    imported(app, upload(signed_in, list_id, b"email\nd@example.com\na@example.com\n"))
    member_b = members(app, list_id)["b@example.com"]
    answer = post(signed_in, f"/lists/{list_id}/members/{member_b.id}/delete", {})
    assert answer.status_code == 302
    assert set(members(app, list_id)) == {"a@example.com", "c@example.com", "d@example.com"}
    assert time.time() < fire.timestamp() - 0.5, "the changes came too late to test this"
    assert task(app, task_id).status == "reserved" and smtp_sink.handler.count() == 0

    done = wait_for_task(app, task_id, ended, 60, "the reservation")
    assert (done.status, done.failed) == ("finished", False), done.log
    taken = done.recipients_taken_at
    assert taken is not None
    assert (taken if taken.tzinfo else taken.replace(tzinfo=UTC)) >= fire
    expected = ["a@example.com", "c@example.com", "d@example.com"]
    assert sink_counts(smtp_sink) == dict.fromkeys(expected, 1)
    assert min(m.at for m in smtp_sink.handler.messages) >= fire.timestamp()
    assert detail_outcomes(signed_in, task_id) == dict.fromkeys(expected, "delivered")


# -- d. an import killed part way ends exact ---------------------------------------------

ROWS = 30_000
BAD_EVERY = 997  # a bad address on every 997th row: refusals in every batch


def big_csv() -> tuple[bytes, int, int]:
    """A CSV of ``ROWS`` rows, some refused; the bytes, the valid and the refused."""
    lines, bad = ["email,name,n"], 0
    for n in range(1, ROWS + 1):
        if n % BAD_EVERY == 0:
            lines.append(f"bad-{n}-at-example.com,나쁜,{n}")
            bad += 1
        else:
            lines.append(f"m{n:05d}@example.com,회원{n},{n}")
    return ("\n".join(lines) + "\n").encode(), ROWS - bad, bad


def horses_of(app: Flask) -> set[int]:
    """The forked work horses of the test's RQ workers (not their render processes)."""
    conn = Redis.from_url(app.config["REDIS_URL"])
    try:
        pids = {w.pid for w in Worker.all(connection=conn) if w.pid and alive(w.pid)}
    finally:
        conn.close()
    return {p for pid in pids for p in children(pid) if "render_child" not in cmdline(p)}


def part_way(app: Flask, task_id: int) -> ListImport | None:
    row = the_import(app, task_id)
    return row if 0 < row.line and not row.done else None


@pytest.mark.parametrize("victim", ["horse", "worker"])
def test_import_killed_part_way_resumes_exactly(app: Flask, signed_in: FlaskClient,
                                                start_worker: Any, victim: str) -> None:
    data, valid, bad = big_csv()
    doomed = start_worker()
    list_id = make_list(signed_in)
    task_id = upload(signed_in, list_id, data, "big.csv")
    started = time.monotonic()
    at_kill = wait_until(lambda: part_way(app, task_id), 60, "the import to be part way")
    if victim == "horse":
        horses = wait_until(lambda: horses_of(app), 10, "the work horse")
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not any(alive(p) for p in horses), 10, "the horse to die")
    else:
        kill_family(doomed.pid)  # supervisor, worker, scheduler, horse: no one stops cleanly
    killed = the_import(app, task_id)
    assert 0 < killed.line < killed.lines and not killed.done, "the kill came too late"
    if victim == "worker":
        start_worker()  # the new scheduler's reconciler hands the task back

    done = wait_for_task(app, task_id, ended, 120, "the resumed import")
    row = the_import(app, task_id)
    figure(f"import of {ROWS:,} killed ({victim}) at line {killed.line:,} "
           f"(seen {at_kill.line:,}); ended {done.status} failed={done.failed} "
           f"after {time.monotonic() - started:.1f} s, attempts {done.attempts}")
    with app.app_context():
        count = db.session.scalar(db.select(db.func.count()).select_from(Member)
                                  .where(Member.list_id == list_id))
        keys = db.session.scalar(db.select(db.func.count(db.distinct(Member.key)))
                                 .where(Member.list_id == list_id))
        refused_rows = db.session.scalar(db.select(db.func.count()).select_from(ImportRefusal)
                                         .where(ImportRefusal.import_id == row.id))
        refused_lines = db.session.scalar(
            db.select(db.func.count(db.distinct(ImportRefusal.line)))
            .where(ImportRefusal.import_id == row.id))
    # Never half-applied unsaid: whatever it wrote, the report counts exactly.
    assert count == keys == row.added
    assert refused_rows == refused_lines == row.refused
    assert row.updated == 0 and row.unchanged == 0
    if done.failed:  # it could not go on: it must say how far it got
        assert not row.done and str(row.line) in (done.log or "").replace(",", ""), done.log
        pytest.fail(f"the killed import did not resume: {done.status}, {done.log!r}, "
                    f"{row.line}/{row.lines} lines")
    assert (done.status, row.done, row.data) == ("finished", True, None)
    assert (row.added, row.refused) == (valid, bad)
    html = page_attrs(signed_in, list_id)
    assert f'data-status="active" data-count="{valid}"' in html
    assert f'data-added="{valid}"' in html and f'data-refused="{bad}"' in html
