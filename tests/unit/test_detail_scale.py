"""The task detail page at scale: its timeline is counted by the database (the same bars as
counting every row in Python), its recipients are searched by address and outcome (the
page, its pager and its live JSON alike), its CSV is streamed, and the progress writer of
a big send counts less often."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_user

from app.extensions import db
from app.filters import iso_local
from app.models import Delivery, Task, User
from app.tasks.progress import ProgressReporter
from app.tasks_ui import charts, detail, exports

T0 = datetime(2026, 12, 6, 3, 0, 0, 250_001, tzinfo=UTC)


def make_task(app: Flask, rows: list[dict[str, Any]], status: str = "finished") -> int:
    """alice's task with ``rows`` (Delivery values) in order."""
    with app.app_context():
        task = Task(name="t", description="big", username="alice", status=status,
                    recipient_count=len(rows))
        db.session.add(task)
        db.session.flush()
        db.session.execute(db.insert(Delivery), [
            {"task_id": task.id, "position": i, "status": "pending", **row}
            for i, row in enumerate(rows)])
        db.session.commit()
        return task.id


def served(moments: list[tuple[timedelta, str]]) -> list[dict[str, Any]]:
    return [{"recipient": f"r{i}@example.com", "status": kind, "updated_at": T0 + offset}
            for i, (offset, kind) in enumerate(moments)]


# -- the timeline, counted by the database ---------------------------------------------

def _same_bins(app: Flask, task_id: int) -> charts.Binned | None:
    with app.app_context():
        events = charts.task_events(task_id)
        in_sql = charts.task_bins(task_id)
        assert in_sql == charts.binned(events)
        word = str
        assert charts.timeline(in_sql, word) == charts.timeline(events, word)
        return in_sql


def test_epoch_micros_is_exact(app: Flask) -> None:
    moments = [T0, T0 + timedelta(microseconds=999_999), datetime(1999, 1, 1, tzinfo=UTC),
               T0.replace(microsecond=0)]
    task_id = make_task(app, [{"recipient": f"r{i}@x", "updated_at": m}
                              for i, m in enumerate(moments)])
    with app.app_context():
        got = db.session.scalars(db.select(charts.epoch_micros(Delivery.updated_at))
                                 .where(Delivery.task_id == task_id).order_by(Delivery.position))
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        assert list(got) == [(m - epoch) // timedelta(microseconds=1) for m in moments]


def test_sql_bins_equal_python_bins_at_the_edges(app: Flask) -> None:
    # 48.000003 s over 24 bins: spans of 2.000000125 s rounded to microseconds; events on
    # and next to the spans' edges, the last one at the very end; unserved rows left out.
    span = timedelta(seconds=2)
    moments = [(span * i + timedelta(microseconds=d), kind)
               for i in range(24) for d, kind in ((0, "delivered"), (-1, "refused"),
                                                  (1, "unknown"))
               if span * i + timedelta(microseconds=d) >= timedelta(0)]
    moments.append((timedelta(seconds=48, microseconds=3), "delivered"))
    rows = served(moments) + [
        {"recipient": "wait@example.com", "status": "pending"},
        {"recipient": "claim@example.com", "status": "sending", "updated_at": T0},
        {"recipient": "skip@example.com", "status": "suppressed",
         "updated_at": T0 + timedelta(days=1)}]
    made = _same_bins(app, make_task(app, rows))
    assert made is not None and made.total == len(moments) and len(made.counted) == 24


def test_sql_bins_equal_python_bins_at_random(app: Flask) -> None:
    rng = random.Random(7)
    moments = [(timedelta(microseconds=rng.randrange(0, 3_600_000_000)),
                rng.choice(("delivered", "delivered", "refused", "unknown")))
               for _ in range(500)]
    made = _same_bins(app, make_task(app, served(moments)))
    assert made is not None and made.total == 500


def test_sql_bins_of_one_moment_and_of_none(app: Flask) -> None:
    made = _same_bins(app, make_task(app, served([(timedelta(0), "delivered")] * 3)))
    assert made is not None and len(made.counted) == 1 and made.counted[0] == {"delivered": 3}
    assert _same_bins(app, make_task(app, [{"recipient": "a@x", "status": "pending"}])) is None


def test_the_detail_page_never_reads_every_served_row(app: Flask, signed_in: FlaskClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    task_id = make_task(app, served([(timedelta(seconds=s), "delivered") for s in range(5)]))

    def every_row(task_id: int) -> None:
        raise AssertionError("the page loaded every served recipient")

    monkeypatch.setattr(charts, "task_events", every_row)
    html = signed_in.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "처리된 받는 사람 5명" in html


# -- the search ------------------------------------------------------------------------

SEARCHED = [("Alice_1@Example.com", "delivered"), ("alice%2@example.com", "refused"),
            ("bob@example.com", "sending"), ("carol@example.com", "pending"),
            ("dave@example.com", "unknown"), ("eve@example.com", "suppressed"),
            ("aliceX1@example.com", "delivered")]


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-recipient="([^"]+)"', html)


@pytest.fixture
def searchable(app: Flask) -> int:
    return make_task(app, [{"recipient": r, "status": s} for r, s in SEARCHED], "running")


@pytest.mark.parametrize(("query", "expected"), [
    ("q=alice_", ["Alice_1@Example.com"]),  # ``_`` is no wildcard, the case does not count
    ("q=%25", ["alice%2@example.com"]),
    ("q=+EXAMPLE.COM+&outcome=delivered", ["Alice_1@Example.com", "aliceX1@example.com"]),
    ("outcome=pending", ["bob@example.com", "carol@example.com"]),
    ("outcome=unknown", ["dave@example.com"]),
    ("outcome=suppressed", ["eve@example.com"]),
    ("outcome=refused&q=alice", ["alice%2@example.com"]),
    ("q=nobody", []),
])
def test_search_narrows_the_page_and_its_live_json(signed_in: FlaskClient, searchable: int,
                                                   query: str, expected: list[str]) -> None:
    html = signed_in.get(f"/tasks/{searchable}?{query}").get_data(as_text=True)
    assert listed(html) == expected
    live = re.search(r'data-live-url="([^"]+)"', html)
    assert live
    answer = signed_in.get(live.group(1).replace("&amp;", "&")).get_json()
    assert [r["recipient"] for r in answer["recipients"]] == expected
    direct = signed_in.get(f"/tasks/{searchable}/recipients.json?{query}").get_json()
    assert direct == answer


def test_the_search_form_and_an_unknown_outcome(signed_in: FlaskClient,
                                                searchable: int) -> None:
    html = signed_in.get(f"/tasks/{searchable}?outcome=bogus").get_data(as_text=True)
    assert listed(html) == [r for r, _ in SEARCHED]
    assert "알 수 없는 결과입니다: bogus" in html
    form = re.search(r'<form method="get"[^>]*id="recipient-search".*?</form>', html, re.S)
    assert form
    assert '<label class="form-label small" for="recipient-q">찾기</label>' in form.group(0)
    assert 'id="recipient-q" name="q"' in form.group(0)
    assert 'id="recipient-outcome" name="outcome"' in form.group(0)
    for value, words in (("pending", "대기"), ("delivered", "전송"), ("suppressed",
                                                                     "수신 거부로 건너뜀")):
        assert f'<option value="{value}">{words}</option>' in form.group(0)
    assert ">찾기</button>" in form.group(0)
    json_answer = signed_in.get(f"/tasks/{searchable}/recipients.json?outcome=bogus")
    assert json_answer.status_code == 200
    kept = signed_in.get(f"/tasks/{searchable}?outcome=unknown&q=dave").get_data(as_text=True)
    assert '<option value="unknown" selected>' in kept and 'value="dave"' in kept


def test_the_pager_keeps_the_search(app: Flask, signed_in: FlaskClient) -> None:
    rows = [{"recipient": f"user{i:03d}@example.com", "status": "delivered"}
            for i in range(2 * detail.PER_PAGE + 5)]
    task_id = make_task(app, rows + [{"recipient": "other@example.com", "status": "refused"}])
    html = signed_in.get(f"/tasks/{task_id}?q=user&outcome=delivered").get_data(as_text=True)
    assert "1쪽" in html  # a search counts no total
    nxt = re.search(r'<a class="page-link" href="([^"]+)">다음</a>', html)
    assert nxt
    link = nxt.group(1).replace("&amp;", "&")
    assert "page=2" in link and "q=user" in link and "outcome=delivered" in link
    second = signed_in.get(link).get_data(as_text=True)
    assert listed(second)[0] == f"user{detail.PER_PAGE:03d}@example.com"
    assert "2쪽" in second
    last = signed_in.get(link.replace("page=2", "page=3")).get_data(as_text=True)
    assert len(listed(last)) == 5 and ">다음</a>" not in last
    assert signed_in.get(link.replace("page=2", "page=4")).status_code == 404


# -- the CSV ---------------------------------------------------------------------------

def _as_before(client: FlaskClient, task_id: int) -> bytes:
    """The CSV as the buffered view wrote it, from the page's own rows."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["email", "outcome", "at", "message_id", "reply", "reason_kind"])
    with client.application.test_request_context():
        login_user(db.session.scalar(db.select(User).filter_by(username="alice")))
        for d in db.session.scalars(db.select(Delivery).where(Delivery.task_id == task_id)
                                    .order_by(Delivery.position, Delivery.id)):
            values = (d.recipient, exports.outcome(d), iso_local(d.updated_at),
                      d.message_id or "", exports.reason(d), d.reason_kind or "")
            writer.writerow(["'" + v if v[:1] in "=+-@" and v else v for v in values])
    return out.getvalue().encode("utf-8")


def test_the_csv_is_streamed_with_the_same_content(app: Flask, signed_in: FlaskClient) -> None:
    rows = [{"recipient": f"r{i:04d}@example.com", "status": "delivered",
             "updated_at": T0 + timedelta(seconds=i), "message_id": f"<m{i}@example.com>"}
            for i in range(2500)]
    rows += [{"recipient": "=cmd@example.com", "status": "refused", "error": "-550 no",
              "reason_kind": "not_built", "updated_at": T0},
             {"recipient": "wait@example.com", "status": "sending"},
             {"recipient": "q\"uote@example.com", "status": "refused",
              "error": "@line1\nline2, with comma"}]
    task_id = make_task(app, rows)
    response = signed_in.get(f"/tasks/{task_id}/recipients.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="task-{task_id}-recipients.csv"')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf") and body == _as_before(signed_in, task_id)
    parsed = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(parsed) == 2503 and parsed[2500]["email"] == "'=cmd@example.com"
    assert parsed[2500]["reply"] == "메일을 만들지 못함: -550 no"
    assert parsed[2501]["outcome"] == "pending" and parsed[2502]["reply"].startswith("'@")


# -- the progress writer ---------------------------------------------------------------

@pytest.mark.parametrize(("total", "interval"), [
    (0, 0.25), (1, 0.25), (12_500, 0.25), (50_000, 1.0), (75_000, 1.5), (100_000, 2.0),
    (1_000_000, 2.0)])
def test_progress_writes_less_often_for_big_sends(total: int, interval: float) -> None:
    assert ProgressReporter(1, total).interval == interval


def test_an_explicit_progress_interval_is_kept() -> None:
    assert ProgressReporter(1, 1_000_000, interval=0).interval == 0
    assert ProgressReporter(1, 10, interval=3600).interval == 3600
