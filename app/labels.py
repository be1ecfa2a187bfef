"""The words the pages show for task statuses, recipient outcomes, a stop under way and the
time left before a reservation fires, in one place. Templates read them through the
filters (app/filters.py); the page scripts get the same words from ``for_js()``, which
base.html puts on <body> as ``data-labels`` (static/js/mailroom.js reads it). Each is
marked for the catalogs and lazy: read in the reader's language when shown (Korean outside
a request: the worker, the CLI)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

# A task's status (SPEC: reserved, queued, running, paused, canceled, finished).
STATUS_LABELS = {
    "reserved": _l("예약됨"),
    "queued": _l("대기 중"),
    "running": _l("전송 중"),
    "paused": _l("일시 중지"),
    "canceled": _l("취소됨"),
    "finished": _l("완료"),
}
# A finished task that failed (status finished, failed true).
FAILED_LABEL = _l("실패")
# The history filter's choice that narrows nothing.
ANY_STATUS_LABEL = _l("모두")
# The order the history filter offers them in (``failed`` is a filter of its own).
_FILTER_ORDER = ("reserved", "queued", "running", "paused", "finished", "failed", "canceled")

# One recipient's outcome (SPEC: the detail page's data-outcome).
OUTCOME_LABELS = {
    "pending": _l("대기"),
    "delivered": _l("전송"),
    "refused": _l("거부"),
    "unknown": _l("알 수 없음"),
    "suppressed": _l("수신 거부로 건너뜀"),
    "bounced": _l("반송"),
}

# A refused recipient whose message could not be made (a template error, a render limit):
# its reason is shown after these words, apart from the receiving servers' replies.
NOT_BUILT_LABEL = _l("메일을 만들지 못함")
# The detail page's column of reasons (server replies and the rest).
REASON_HEADING = _l("사유")

# A pause or cancel asked for and not yet heard by the job, and how it ended.
STOP_TEXTS = {
    "pausing": _l("일시 중지 중…"),
    "canceling": _l("취소 중…"),
    "paused": _l("일시 중지됨"),
    "canceled": _l("취소됨"),
}

# The time left before a reservation fires: ``3분 20초 남음``; at zero, ``곧 전송``.
REMAIN_UNITS = ((_l("일"), 86400), (_l("시간"), 3600), (_l("분"), 60), (_l("초"), 1))
REMAIN_SUFFIX = _l("남음")
DUE_TEXT = _l("곧 전송")

# What the send page says while the server cannot answer its polls.
POLL_TROUBLE = _l("잠시 연결할 수 없습니다. 다시 시도합니다…")

# What a send's own alert says of it ({delivered}, {total}, {log} filled in by the page).
SEND_WORDS = {
    "queued": _l("대기열에 넣었습니다. 차례가 오면 보내기 시작합니다."),
    "finished": _l("{total}명에게 모두 보냈습니다."),
    "finished_partly": _l("{total}명 중 {delivered}명에게 보냈습니다."),
    "failed": _l("실패: {log}"),
    "canceled": _l("취소됨: {total}명 중 {delivered}명에게 보낸 뒤 멈췄습니다."),
    "paused": _l("일시 중지됨: {total}명 중 {delivered}명에게 보냈습니다."),
}
# The same for a list's import (its alert shows lines, not recipients: the task's log).
IMPORT_WORDS = {
    "queued": _l("대기열에 넣었습니다. 차례가 오면 가져오기 시작합니다."),
    "finished": _l("가져오기를 마쳤습니다."),
    "finished_partly": _l("가져오기를 마쳤습니다."),
    "failed": _l("실패: {log}"),
    "canceled": _l("취소됨: 그때까지 읽은 줄은 목록에 반영되었습니다."),
    "paused": _l("일시 중지됨: 다시 시작하면 멈춘 줄 다음부터 가져옵니다."),
}
# The step before a cancel that cannot be undone (a send under way).
CONFIRM_WORDS = {
    "question": _l("보내는 중인 메일을 취소할까요? 이미 보낸 메일은 되돌릴 수 없습니다."),
    "yes": _l("확인"),
    "no": _l("돌아가기"),
}

# The send page's and the alerts' own words in the scripts (progress.js, controls.js,
# preview.js).
SCRIPT_WORDS = {
    "count": _l("{delivered}/{total}명"),
    "close": _l("닫기"),
    "preview_failed": _l("미리보기를 만들지 못했습니다."),
    "preview_failed_status": _l("미리보기를 만들지 못했습니다 ({status})."),
    "unreachable": _l("서버에 연결할 수 없습니다."),
}


def status_text(status: str, failed: bool = False) -> str:
    """The words for a task's status (a failed finish reads 실패; an unknown one as is)."""
    if status == "finished" and failed:
        return str(FAILED_LABEL)
    return str(STATUS_LABELS.get(status, status))


def outcome_text(outcome: str) -> str:
    """The words for one recipient's outcome (an unknown one as is)."""
    return str(OUTCOME_LABELS.get(outcome, outcome))


def remaining_text(seconds: int) -> str:
    """``1일 2시간 3분 4초 남음`` for whole ``seconds`` (units that are zero left out);
    ``곧 전송`` at zero or below."""
    if seconds <= 0:
        return str(DUE_TEXT)
    parts = []
    for name, size in REMAIN_UNITS:
        value, seconds = divmod(seconds, size)
        if value:
            parts.append(f"{value}{name}")
    return " ".join(parts) + " " + REMAIN_SUFFIX


def status_choices() -> list[tuple[str, str]]:
    """The history filter's choices: (value, words), 모두 first."""
    words = {**STATUS_LABELS, "failed": FAILED_LABEL}
    return [("", str(ANY_STATUS_LABEL)), *((value, str(words[value])) for value in _FILTER_ORDER)]


def for_js() -> dict[str, Any]:
    """Every word the page scripts show, as one JSON-ready dict (in the reader's language)."""
    return _plain({
        "status": STATUS_LABELS,
        "failed": FAILED_LABEL,
        "outcome": OUTCOME_LABELS,
        "stop": STOP_TEXTS,
        "remain": {"units": [list(unit) for unit in REMAIN_UNITS],
                   "suffix": REMAIN_SUFFIX, "due": DUE_TEXT},
        "poll_trouble": POLL_TROUBLE,
        "send": SEND_WORDS,
        "import": IMPORT_WORDS,
        "confirm": CONFIRM_WORDS,
        "script": SCRIPT_WORDS,
    })


def _plain(words: Any) -> Any:
    """``words`` with every lazy string made text, in the reader's language."""
    if isinstance(words, dict):
        return {key: _plain(value) for key, value in words.items()}
    if isinstance(words, (list, tuple)):
        return [_plain(value) for value in words]
    return words if isinstance(words, (int, float)) else str(words)
