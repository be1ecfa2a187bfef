"""The body of ``POST /api/v1/sends`` read into the send form's own plan (``SendPlan``):
the same template lookup, the same address checks, the same list rules; and ``send_at``,
RFC 3339 with an offset (none is refused, never guessed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from app.api.problems import Problem
from app.i18n import N_
from app.mail.recipients import _CELL_CONTROL as CONTROL  # the CSV reader's rule, once
from app.mail.recipients import RecipientList, check_row, header_columns
from app.mail.render import fields_used
from app.mail_ui.plan import FieldError, SendPlan, list_plan, owned_list, template_named

# RFC 3339 date-time: a date, "T" (or a space, as its note allows), a time, an offset.
RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?"
                     r"([Zz]|[+-]\d\d:\d\d)?")
NO_OFFSET = N_("send_at에 시간대 오프셋이 없습니다(예: 2026-12-24T09:00:00+09:00 또는 …Z). "
                "오프셋 없는 시각은 추측하지 않습니다.")


def invalid(detail: str, field: str | None = None) -> Problem:
    """A 422 naming the field it concerns."""
    return Problem("invalid-request", detail, **({"field": field} if field else {}))


def send_at(raw: Any) -> datetime | None:
    """``send_at`` as an aware UTC time rounded up to the whole second (RQ's scheduler keeps
    whole seconds: never early); None when absent."""
    if raw is None:
        return None
    match = RFC3339.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        raise invalid(_("send_at은 RFC 3339 시각이어야 합니다(예: 2026-12-24T09:00:00+09:00)."),
                      "send_at")
    if match.group(8) is None:
        raise invalid(_(NO_OFFSET), "send_at")
    text = raw[:10] + "T" + raw[11:19] + match.group(8).upper().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        raise invalid(_("send_at의 날짜나 시각이 올바르지 않습니다."), "send_at") from None
    fraction = match.group(7)
    return moment + timedelta(seconds=1) if fraction and int(fraction[1:]) else moment


def _cell(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(_("필드 '%(name)s'의 값은 문자열이나 숫자여야 합니다.", name=name[:50]))
    if CONTROL.search(str(value)) or CONTROL.search(name):
        raise ValueError(_("필드 '%(name)s'에 줄바꿈이나 제어 문자(탭 제외)를 넣을 수 "
                           "없습니다.", name=name[:50]))
    return str(value)


def _rows(items: list[Any]) -> tuple[list[str], list[list[str]]]:
    """The recipients as the CSV reader's header columns and rows (each checked)."""
    if not all(isinstance(item, dict) for item in items):
        raise ValueError(_('받는 사람마다 %(shape)s 객체여야 합니다.',
                           shape='{"email": ..., "fields": {...}}'))
    if not all(isinstance(item.get("fields") or {}, dict) for item in items):
        raise ValueError(_("fields는 객체여야 합니다."))
    names = sorted({name for item in items for name in item.get("fields") or {}})
    columns = header_columns(["email", *names])
    rows = [[item.get("email") if isinstance(item.get("email"), str) else "",
             *(_cell((item.get("fields") or {}).get(name, ""), name) for name in columns)]
            for item in items]
    return columns, rows


def read_recipients(items: Any, limit: int) -> RecipientList:
    """``recipients`` checked as the send form checks a CSV: sendable addresses, no
    repeats, fields within bounds. ValueError naming the position of the first problem."""
    if not isinstance(items, list) or not items:
        raise ValueError(_("recipients는 받는 사람이 한 명 이상인 배열이어야 합니다."))
    if len(items) > limit:
        raise ValueError(_("받는 사람은 한 번에 %(limit)s명까지 보낼 수 있습니다.", limit=limit))
    columns, rows = _rows(items)
    result = RecipientList(addresses=[], columns=columns, fields=[])
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        try:
            address, fields = check_row(row, columns)
        except ValueError as exc:
            raise ValueError(f"recipients[{index}]: {exc}") from None
        if (earlier := seen.setdefault(address.lower(), index)) != index:
            raise ValueError(_("recipients[%(index)s]: %(address)s은(는) recipients[%(earlier)s]에 "
                               "이미 있습니다.", index=index, address=address, earlier=earlier))
        result.addresses.append(address)
        result.fields.append(fields)  # type: ignore[union-attr]
    return result


def plan(body: dict[str, Any], username: str) -> SendPlan:
    """The checked plan of a JSON send, or a 422 naming the field."""
    name = body.get("template")
    if not isinstance(name, str) or not name:
        raise invalid(_("template(템플릿 이름)이 필요합니다."), "template")
    try:
        template = template_named(name, username)
        if body.get("list_id") is not None:
            if body.get("recipients"):
                raise FieldError("list_id", _("list_id와 recipients는 함께 쓸 수 없습니다."))
            return list_plan(owned_list(str(body["list_id"]), username), template)
        recipients = read_recipients(body.get("recipients"),
                                     current_app.config["MAIL_MAX_RECIPIENTS"])
        recipients.check_fields(fields_used(template.snapshot()))
    except FieldError as exc:
        field = "template" if exc.field == "template_name" else exc.field
        raise invalid(str(exc), field) from None
    except ValueError as exc:
        raise invalid(str(exc), "recipients") from None
    return SendPlan(template, recipients, count=len(recipients.addresses))
