"""The words of app/labels.py: statuses, outcomes and the time left, written once for the
templates, the JSON answers and (through ``for_js``) the page scripts."""

from __future__ import annotations

import json

import pytest

from app.labels import (
    ANY_STATUS_LABEL,
    CONFIRM_WORDS,
    DUE_TEXT,
    FAILED_LABEL,
    OUTCOME_LABELS,
    REMAIN_SUFFIX,
    REMAIN_UNITS,
    SEND_WORDS,
    STATUS_LABELS,
    STOP_TEXTS,
    for_js,
    outcome_text,
    remaining_text,
    status_choices,
    status_text,
)

DAY, HOUR, MINUTE = 86400, 3600, 60


# -- remaining_text ----------------------------------------------------------------------

@pytest.mark.parametrize("seconds", [0, -1, -DAY, -10**12])
def test_nothing_left_is_due(seconds: int) -> None:
    assert remaining_text(seconds) == DUE_TEXT == "곧 전송"


@pytest.mark.parametrize(("seconds", "expected"), [
    (1, "1초 남음"),
    (59, "59초 남음"),
    (MINUTE, "1분 남음"),
    (MINUTE + 1, "1분 1초 남음"),
    (HOUR - 1, "59분 59초 남음"),
    (HOUR, "1시간 남음"),
    (HOUR + 1, "1시간 1초 남음"),
    (DAY - 1, "23시간 59분 59초 남음"),
    (DAY, "1일 남음"),
    (DAY + 5, "1일 5초 남음"),
    (DAY + 2 * HOUR + 3 * MINUTE + 4, "1일 2시간 3분 4초 남음"),
    (30 * DAY, "30일 남음"),
    (400 * DAY + HOUR, "400일 1시간 남음"),
])
def test_remaining_text_at_each_unit_boundary(seconds: int, expected: str) -> None:
    assert remaining_text(seconds) == expected


def test_the_units_run_largest_first_and_add_up() -> None:
    assert [name for name, _ in REMAIN_UNITS] == ["일", "시간", "분", "초"]
    sizes = [size for _, size in REMAIN_UNITS]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
    assert remaining_text(7 * DAY + 7).endswith(" " + REMAIN_SUFFIX)


# -- statuses and outcomes ---------------------------------------------------------------

def test_status_text() -> None:
    assert status_text("running") == STATUS_LABELS["running"] == "전송 중"
    assert status_text("finished") == "완료"
    assert status_text("finished", failed=True) == FAILED_LABEL == "실패"
    assert status_text("canceled", failed=True) == "취소됨"  # only a finish reads as failed
    assert status_text("mystery") == "mystery"


def test_outcome_text() -> None:
    assert outcome_text("delivered") == "전송"
    assert outcome_text("suppressed") == OUTCOME_LABELS["suppressed"]
    assert outcome_text("mystery") == "mystery"


def test_status_choices() -> None:
    choices = status_choices()
    assert choices[0] == ("", ANY_STATUS_LABEL)
    assert [value for value, _ in choices] == [
        "", "reserved", "queued", "running", "paused", "finished", "failed", "canceled"]
    words = dict(choices)
    assert words["failed"] == FAILED_LABEL
    assert all(words[status] == label for status, label in STATUS_LABELS.items())
    assert len(set(words.values())) == len(words)  # no two choices read alike


# -- for_js ------------------------------------------------------------------------------

def test_for_js_holds_every_word_the_scripts_read() -> None:
    words = for_js()
    assert set(words) >= {"status", "failed", "outcome", "stop", "remain", "poll_trouble",
                          "send", "confirm"}
    assert words["send"] == SEND_WORDS and words["confirm"] == CONFIRM_WORDS
    assert words["status"] == STATUS_LABELS and words["failed"] == FAILED_LABEL
    assert words["outcome"] == OUTCOME_LABELS and words["stop"] == STOP_TEXTS
    assert set(words["remain"]) == {"units", "suffix", "due"}
    assert words["remain"]["units"] == [[name, size] for name, size in REMAIN_UNITS]
    assert words["remain"]["suffix"] == REMAIN_SUFFIX and words["remain"]["due"] == DUE_TEXT
    assert words["poll_trouble"]
    assert json.loads(json.dumps(words, ensure_ascii=False)) == words  # what <body> carries
