"""Reading the recipient field: split, trim, validate (only what our SMTP path can send:
ASCII local parts, domains in their IDNA ASCII form), de-duplicate; or, when its first line
is a header starting with ``email``, CSV whose other columns are each recipient's fields."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import (
    CASE_INSENSITIVE_MAILBOX_NAMES,
    EMAIL_MAX_LENGTH,
    LOCAL_PART_MAX_LENGTH,
)
from flask_babel import gettext as _

from app.i18n import N_
from app.mail.render import BUILTIN_VARIABLES

_SEPARATORS = re.compile(r"[,\n]")
TOO_MANY = N_("받는 사람은 한 번에 %(limit)s명까지 보낼 수 있습니다.")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# In a CSV cell: every C0 control but tab (NUL, ESC, a CR or LF inside quotes), DEL and C1.
_CELL_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")

# A plain dot-atom local part (RFC 5322), which email-validator takes as it is.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SIMPLE_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*\Z")


@lru_cache(maxsize=16384)
def _ascii_domain(domain: str) -> str:
    """The ASCII (IDNA) form of a domain email-validator accepts (EmailNotValidError if
    not): the slow part of a check (per character, UTS-46), done once per domain — a list
    of 100,000 addresses has a few thousand."""
    return validate_email(f"a@{domain}", check_deliverability=False,
                          allow_smtputf8=False).ascii_domain


def _simple(local: str, domain: str) -> str | None:
    """The sendable form of a plain address (dot-atom local part, a domain checked
    before), as email-validator would give it; None for anything else (the full check)."""
    if (len(local) > LOCAL_PART_MAX_LENGTH or not _SIMPLE_LOCAL.match(local)
            or local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES):
        return None
    try:
        address = f"{local}@{_ascii_domain(domain)}"
    except EmailNotValidError:
        return None
    return address if len(address) <= EMAIL_MAX_LENGTH else None


# email-validator's reasons (English whatever the reader's language) as ours: the first match.
_REASONS = [(re.compile(pattern), reason) for pattern, reason in (
    (r"^The domain name .* does not", N_("메일을 받을 수 없는 도메인입니다")),  # DNS (not asked)
    (r"must have an @-sign", N_("@ 기호가 없습니다")),
    (r"instead of a regular at-sign", N_("@ 대신 비슷하게 생긴 다른 문자를 썼습니다")),
    (r"something after the @-sign", N_("@ 뒤에 도메인이 없습니다")),
    (r"something before the @-sign", N_("@ 앞에 아무것도 없습니다")),
    (r"invalid characters.*'@'", N_("@ 기호가 두 번 이상 있습니다")),
    (r"characters.*(?:' '|SPACE)", N_("주소 안에 공백이 있습니다")),
    (r"too long|so many characters", N_("주소가 너무 깁니다")),
    (r"cannot start with a period", N_("주소가 점(.)으로 시작합니다")),
    (r"period immediately (?:before|after) the @", N_("@ 바로 앞이나 뒤에 점(.)이 있습니다")),
    (r"cannot end with a period", N_("주소가 점(.)으로 끝납니다")),
    (r"two periods in a row", N_("점(.)이 두 개 연달아 있습니다")),
    (r"hyphen|dashes", N_("도메인에서 하이픈(-)의 자리가 올바르지 않습니다")),
    (r"should have a period", N_("@ 뒤의 도메인에 점(.)이 없습니다")),
    (r"top-level domain", N_("도메인이 올바른 최상위 도메인(.com 등)으로 끝나지 않습니다")),
    (r"special-use or reserved", N_("메일을 받을 수 없는 예약된 도메인입니다")),
    (r"Quoting", N_("@ 앞부분에 따옴표를 쓸 수 없습니다")),
    (r"IP address|IPv|in brackets|literal", N_("도메인 자리에 IP 주소를 쓸 수 없습니다")),
    (r"angle|display name|anything after", N_("이름이나 꺾쇠(<>) 없이 주소만 입력하세요")),
    (r"invalid characters before the @", N_("@ 앞에 쓸 수 없는 문자가 있습니다: %(chars)s")),
    (r"after the @-sign contains invalid", N_("@ 뒤에 쓸 수 없는 문자가 있습니다: %(chars)s")),
    (r"character", N_("주소에 쓸 수 없는 문자가 있습니다")),
)]


def _reason(exc: EmailNotValidError) -> str:
    """Why email-validator refused an address, in the reader's language (never its English)."""
    text = str(exc)
    chars = ", ".join(a or b for a, b in re.findall(r"'(.)'|\"(.)\"", text))  # as repr() shows
    for pattern, reason in _REASONS:
        if pattern.search(text):
            if "%(chars)s" in reason and not chars:  # only names ("SPACE"): none to show
                return _("주소에 쓸 수 없는 문자가 있습니다")
            return _(reason, chars=chars)
    return _("주소 형식이 올바르지 않습니다")


def _sendable(address: str) -> str:
    """``address`` validated and in the ASCII form our SMTP path sends (IDNA domain).

    Raises ValueError with a message for the user when it cannot be sent.
    """
    if _CONTROL.search(address):
        raise ValueError(_("받는 사람 주소에 줄바꿈이나 제어 문자를 넣을 수 없습니다."))
    local, at, domain = address.rpartition("@")
    if at and not local.isascii():
        # Such a mailbox needs SMTPUTF8 end to end; we send plain ASCII envelopes.
        raise ValueError(_("@ 앞부분에 영문·숫자·기호(ASCII) 이외의 문자가 있는 주소로는 보낼 "
                           "수 없습니다: %(address)s", address=address[:100]))
    if at and (simple := _simple(local, domain)) is not None:
        return simple
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(_("올바르지 않은 이메일 주소입니다: %(address)s (%(reason)s)",
                           address=address[:100], reason=_reason(exc))) from exc
    return valid.ascii_email or valid.normalized


def parse_recipients(raw: str | None, limit: int) -> list[str]:
    """The addresses in ``raw`` (commas or new lines), normalized and de-duplicated.

    Raises ValueError with a message for the user on the first bad address.
    """
    text = (raw or "").replace("\r\n", "\n")
    found: dict[str, str] = {}
    for token in _SEPARATORS.split(text):
        address = token.strip(" \t")
        if not address:
            continue
        normalized = _sendable(address)
        found.setdefault(normalized.lower(), normalized)
        if len(found) > limit:
            raise ValueError(_(TOO_MANY, limit=limit))
    if not found:
        raise ValueError(_("받는 사람을 한 명 이상 입력하세요."))
    return list(found.values())


MAX_FIELD = 1000  # characters in one CSV cell
RESERVED_COLUMNS = BUILTIN_VARIABLES - {"email"}  # a column must not hide a built-in


@dataclass
class RecipientList:
    """Who a send goes to: the addresses, and (from CSV) each one's own fields."""

    addresses: list[str]
    columns: list[str] = field(default_factory=list)  # CSV columns but ``email``
    fields: list[dict[str, str]] | None = None  # one per address, in order

    def check_fields(self, used: Iterable[str]) -> None:
        """ValueError naming the fields a template uses that the list does not give."""
        missing = sorted(set(used) - set(self.columns))
        if not missing:
            return
        names = ", ".join(missing)
        if self.fields is None:
            raise ValueError(_("템플릿이 받는 사람 필드(%(names)s)를 씁니다. 받는 사람을 "
                               "'%(header)s' 머리줄로 시작하는 CSV로 입력하세요.", names=names,
                               header="email," + ",".join(missing)))
        raise ValueError(_("1번째 줄: 템플릿이 쓰는 필드(%(names)s)가 CSV 머리줄에 없습니다.",
                           names=names))


def csv_delimiter(raw: str | None) -> str | None:
    """The delimiter when the text's first line is a header whose first column is ``email``
    (comma; tab as a spreadsheet pastes; semicolon as some exports write), else None."""
    for line in (raw or "").lstrip("\ufeff").splitlines():
        if line.strip():
            head = line.strip().lower()
            if head == "email":
                return ","
            if head.startswith("email") and head[5:6] in (",", "\t", ";"):
                return head[5]
            return None
    return None


def header_columns(row: list[str]) -> list[str]:
    names = [name.strip() for name in row]
    for name in names[1:]:
        if not name:
            raise ValueError(_("1번째 줄: 머리줄에 이름이 없는 열이 있습니다."))
        if name.lower() == "email" or name in RESERVED_COLUMNS:
            raise ValueError(_("1번째 줄: 열 이름 '%(name)s'은(는) 쓸 수 없습니다(%(reserved)s는 "
                               "예약된 이름).", name=name[:50],
                               reserved=", ".join(["email", *sorted(RESERVED_COLUMNS)])))
    if len(set(names)) != len(names):
        raise ValueError(_("1번째 줄: 머리줄에 같은 이름의 열이 두 번 있습니다."))
    return names[1:]


def _csv_problem(exc: csv.Error) -> str:
    """What a csv.Error means, for the user (in their language: not the csv module's)."""
    text = str(exc)
    if "field limit" in text:  # csv's own cap (131,072 characters), far above ours
        return _("한 칸은 %(max)s자를 넘을 수 없습니다.", max=MAX_FIELD)
    if "end of data" in text:
        return _("따옴표(\")로 시작한 칸이 끝까지 닫히지 않았습니다.")
    if "expected after" in text:
        return _("닫는 따옴표(\") 바로 뒤에는 구분 문자나 줄바꿈이 와야 합니다.")
    return _("CSV 형식이 올바르지 않습니다.")


def records(raw: str, delimiter: str = ",") -> Iterator[tuple[int, list[str] | None, str | None]]:
    """``(line, row, None)`` for each non-blank CSV record with the line it starts on (any
    line ends: CRLF, LF, CR), or ``(line, None, problem)`` for one that cannot be read — and
    the reading goes on (an import reports the line; the send form stops at the first).
    A quote left open is a problem naming its line, not a cell that swallows the lines
    after it."""
    reader = csv.reader(io.StringIO(raw.lstrip("\ufeff"), newline=""), delimiter=delimiter,
                        strict=True)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, None, _csv_problem(exc)
            continue
        if any(_CELL_CONTROL.search(cell) for cell in row):
            yield line, None, _("칸 안에 줄바꿈이나 제어 문자(탭 제외)를 넣을 수 없습니다. "
                                "따옴표(\")가 제대로 닫혔는지 확인하세요.")
        elif any(cell.strip() for cell in row):
            yield line, row, None


def check_row(row: list[str], columns: list[str]) -> tuple[str, dict[str, str]]:
    """One CSV record under the header's ``columns``: its sendable address and fields.
    ValueError (a message for the user, without the line) when the row is wrong."""
    if len(row) != len(columns) + 1:
        raise ValueError(_("열이 %(found)s개입니다(머리줄은 %(wanted)s개).", found=len(row),
                           wanted=len(columns) + 1))
    address = _sendable(row[0].strip())
    if any(len(cell) > MAX_FIELD for cell in row):
        raise ValueError(_("한 칸은 %(max)s자를 넘을 수 없습니다.", max=MAX_FIELD))
    return address, dict(zip(columns, (cell.strip() for cell in row[1:]), strict=True))


def parse_csv(raw: str, limit: int, delimiter: str = ",") -> RecipientList:
    """A CSV recipient list (header ``email,...``), every row checked.

    Raises ValueError naming the line of the first problem: broken CSV, a control
    character, a bad address, a row with another number of columns than the header, a
    repeated address, a cell too long.
    """
    columns: list[str] | None = None
    seen: dict[str, int] = {}
    result = RecipientList(addresses=[], fields=[])
    for line, row, problem in records(raw, delimiter):
        if row is None:
            raise ValueError(_("%(line)s번째 줄: %(problem)s", line=line, problem=problem))
        if columns is None:
            columns = result.columns = header_columns(row)
            continue
        try:
            address, fields = check_row(row, columns)
        except ValueError as exc:
            raise ValueError(_("%(line)s번째 줄: %(problem)s", line=line, problem=exc)) from None
        if (earlier := seen.setdefault(address.lower(), line)) != line:
            raise ValueError(_("%(line)s번째 줄: %(address)s은(는) %(earlier)s번째 줄에 이미 "
                               "있습니다.", line=line, address=address, earlier=earlier))
        if len(seen) > limit:
            raise ValueError(_(TOO_MANY, limit=limit))
        result.addresses.append(address)
        assert result.fields is not None
        result.fields.append(fields)
    if not result.addresses:
        raise ValueError(_("받는 사람을 한 명 이상 입력하세요(CSV 머리줄 다음 줄부터)."))
    return result


def read_recipients(raw: str | None, limit: int) -> RecipientList:
    """The recipient field as the send form takes it: CSV with a header, else addresses."""
    if delimiter := csv_delimiter(raw):
        return parse_csv(raw or "", limit, delimiter)
    return RecipientList(addresses=parse_recipients(raw, limit))


UPLOAD_ENCODINGS = ("utf-8-sig", "cp949")  # what spreadsheets here save CSV as


def decode_upload(data: bytes) -> tuple[str, str]:
    """An uploaded CSV's text and the encoding it was in (UTF-8 with or without a BOM, or
    CP949); ValueError (a message for the user) when it is neither."""
    for encoding in UPLOAD_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ValueError(_("CSV 파일을 읽을 수 없습니다. UTF-8로 저장해 주세요."))


def display(recipients: list[str], shown: int = 3, total: int | None = None) -> str:
    """A short form for messages: ``a@x, b@x, c@x 외 7명`` (English ``… and 7 more``;
    ``total``: how many there are when ``recipients`` are only the first of them)."""
    head = ", ".join(recipients[:shown])
    rest = (len(recipients) if total is None else total) - min(shown, len(recipients))
    return _("%(head)s 외 %(rest)s명", head=head, rest=rest) if rest > 0 else head
