"""The sandbox's messages in the reader's language. A problem travels from the render
process as Korean text (the catalogs' msgids, formatted) or as Jinja's own English message;
``localize`` turns either into the reader's words where it is shown (the app's process, in
a request: Flask-Babel's ``gettext``; elsewhere Korean). Jinja's messages are mapped to our
own sentences by pattern (``JINJA``), the names and lines in them kept; one we do not know
is wrapped in ``GENERIC`` by the render process (``known_or_generic``), the original after it.

Like the rest of this package it imports nothing of the app, nor Flask: the render process
loads it alone. ``gettext`` is Flask-Babel's when the process has loaded it."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable


def N_(message: str) -> str:  # noqa: N802 (the name pybabel extracts by default)
    """Marks ``message`` for the catalogs; returns it as it is."""
    return message


# How a problem says where it is: the part (rules.PARTS) and, when known, the line.
WHERE = N_("%(part)s %(line)s번째 줄")
# A syntax error: ours, then Jinja's own message (mapped when it is one we know).
SYNTAX = N_("문법 오류: %(detail)s")
# Whatever else stopped a render (a Python error inside a filter, a message of Jinja's we
# do not know): our sentence, then the original text.
GENERIC = N_("템플릿을 처리하지 못했습니다: %(detail)s")

# Our own messages with values in them (sandbox, and the render process's limits in
# app/mail/render.py), as msgids: a formatted one is matched back to its msgid.
FORMATTED = (
    WHERE, SYNTAX, GENERIC,
    N_("%(limit)s자를 넘을 수 없습니다."),
    N_("메일 템플릿에서는 %(what)s을(를) 쓸 수 없습니다."),
    N_("반복(for)은 %(depth)s겹까지만 쓸 수 있습니다."),
    N_("템플릿이 한 번에 할 수 있는 일의 양을 넘었습니다(반복과 글자 처리 %(units)s 단위)."),
    N_("결과가 너무 깁니다(%(limit)s자 초과)."),
    N_("range로 만드는 수는 한 번에 모두 %(limit)s개까지입니다."),
    N_("tojson의 들여쓰기는 0~%(limit)s칸만 쓸 수 있습니다."),
    N_("템플릿을 만드는 데 %(seconds)s초가 넘게 걸려 중단했습니다(TEMPLATE_RENDER_SECONDS)."),
    N_("템플릿이 메모리를 %(mb)sMiB 넘게 써서 중단했습니다(TEMPLATE_RENDER_MEMORY_MB)."),
)
# The render process's other message (app/mail/render.py), without values.
BUSY = N_("템플릿을 처리할 프로세스가 모두 바쁩니다. 잠시 후 다시 시도해 주세요.")

# Jinja's messages (3.1: lexer, parser, compiler, runtime, sandbox) → ours. A message of
# several sentences (an unclosed block) is read sentence by sentence.
_Q = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""  # a quoted repr, as Jinja writes them
JINJA: tuple[tuple[str, str], ...] = (
    (r"Unexpected end of template\.", N_("템플릿이 블록을 닫기 전에 끝났습니다.")),
    (rf"Encountered unknown tag (?P<tag>{_Q})\.", N_("알 수 없는 태그 %(tag)s이(가) 있습니다.")),
    (r"You probably made a nesting mistake\. Jinja is expecting this tag, but currently "
     r"looking for (?P<tags>.+?)\.",
     N_("블록이 잘못 겹쳐 있습니다. 지금은 %(tags)s이(가) 와야 합니다.")),
    (r"Jinja was looking for the following tags: (?P<tags>.+?)\.",
     N_("와야 하는 태그: %(tags)s.")),
    (rf"The innermost block that needs to be closed is (?P<block>{_Q})\.",
     N_("닫아야 할 가장 안쪽 블록: %(block)s.")),
    (rf"unexpected end of template, expected (?P<expected>{_Q})\.",
     N_("템플릿이 끝나기 전에 %(expected)s이(가) 와야 합니다.")),
    (rf"expected token (?P<expected>{_Q}), got (?P<got>{_Q})",
     N_("%(expected)s이(가) 와야 할 자리에 %(got)s이(가) 있습니다.")),
    (rf"unexpected char (?P<char>{_Q}) at (?P<pos>\d+)",
     N_("쓸 수 없는 글자 %(char)s이(가) 있습니다(%(pos)s번째 글자).")),
    (rf"unexpected (?P<got>{_Q}), expected (?P<expected>{_Q})",
     N_("%(expected)s이(가) 와야 할 자리에 %(got)s이(가) 있습니다.")),
    (rf"unexpected (?P<got>{_Q})", N_("여기에는 %(got)s이(가) 올 수 없습니다.")),
    (rf"Expected an expression, got (?P<got>{_Q})",
     N_("값이나 식이 와야 할 자리에 %(got)s이(가) 있습니다.")),
    (r"tag name expected", N_("태그 이름이 와야 합니다.")),
    (r"expected name or number", N_("점(.) 뒤에는 이름이나 숫자가 와야 합니다.")),
    (r"expected subscript expression", N_("대괄호([ ]) 안에 값이 와야 합니다.")),
    (r"invalid syntax for function call expression", N_("함수 호출의 문법이 잘못되었습니다.")),
    (r"Invalid character in identifier", N_("이름에 쓸 수 없는 글자가 있습니다.")),
    (rf"can't assign to (?P<what>{_Q})", N_("%(what)s에는 값을 넣을 수 없습니다.")),
    (r"Can't assign to special loop variable in for-loop target",
     N_("반복의 loop 변수에는 값을 넣을 수 없습니다.")),
    (r"You cannot chain multiple tests with is", N_("is 검사는 이어서 쓸 수 없습니다.")),
    (rf"No filter named (?P<name>{_Q})\.", N_("%(name)s라는 필터는 없습니다.")),
    (rf"No test named (?P<name>{_Q})\.", N_("%(name)s라는 검사(test)는 없습니다.")),
    (rf"(?P<name>{_Q}) is undefined",
     N_("%(name)s이(가) 정의되지 않았습니다. 받는 사람 필드나 변수의 이름을 확인하세요.")),
    (rf"(?P<value>{_Q}) has no attribute (?P<name>{_Q})",
     N_("%(value)s에는 %(name)s 속성이 없습니다.")),
    (r"(?P<value>.+?) has no element (?P<name>.+)",
     N_("%(value)s에는 %(name)s 항목이 없습니다.")),
    (rf"access to attribute (?P<name>{_Q}) of (?P<value>{_Q}) object is unsafe\.",
     N_("%(value)s 값의 %(name)s 속성에는 접근할 수 없습니다.")),
    (r"(?P<value>.+?) is not safely callable", N_("%(value)s은(는) 호출할 수 없습니다.")),
)
# Jinja's names for the tokens it expected or found (lexer.py), in our words.
TOKENS = {
    "begin of print statement": N_("출력 시작({{)"),
    "end of print statement": N_("출력 끝(}})"),
    "begin of statement block": N_("블록 시작({%)"),
    "end of statement block": N_("블록 끝(%})"),
    "begin of comment": N_("주석 시작({#)"),
    "end of comment": N_("주석 끝(#})"),
    "end of template": N_("템플릿의 끝"),
    "template data / text": N_("본문 글자"),
    "name": N_("이름"),
    "integer": N_("정수"),
    "float": N_("실수"),
    "string": N_("문자열"),
    # and its names for a value's type (runtime.object_type_repr)
    "str object": N_("글자(str)"),
    "int object": N_("정수(int)"),
    "float object": N_("실수(float)"),
    "list object": N_("목록(list)"),
    "tuple object": N_("튜플(tuple)"),
    "dict object": N_("사전(dict)"),
}
Gettext = Callable[[str], str]


def _pattern(msgid: str) -> re.Pattern[str]:
    """A formatted ``msgid`` as a regular expression (each ``%(name)s`` a named group)."""
    parts = re.split(r"%\((\w+)\)s", msgid)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)"
                              for i, p in enumerate(parts)), re.S)


@functools.cache
def _ours() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((_pattern(msgid), msgid) for msgid in FORMATTED)


@functools.cache
def _jinja() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern, re.S), msgid) for pattern, msgid in JINJA)


def _gettext() -> Gettext:
    """Flask-Babel's ``gettext`` when this process has it (the app's), else none: Korean."""
    babel = sys.modules.get("flask_babel")
    return babel.gettext if babel is not None else (lambda message: message)


def _token(value: str, gettext: Gettext) -> str:
    """A name in Jinja's message: a token's or a type's description in our words, else as
    it is (a tag, a variable's name); several (``'a' or 'b'``) as a list."""
    names = value.split(" or ") if value.startswith("'") else [value]
    said = []
    for name in names:
        quoted = len(name) > 1 and name[0] == name[-1] and name[0] in "'\""
        inner = name[1:-1] if quoted else name
        word = gettext(TOKENS[inner]) if inner in TOKENS else inner
        said.append(f"'{word}'" if quoted else word)
    return ", ".join(said)


def _jinja_text(text: str, gettext: Gettext) -> str | None:
    """Jinja's ``text`` (one or more sentences) in our words; None if a sentence is not
    one we know."""
    said, rest = [], text.strip()
    while rest:
        for pattern, msgid in _jinja():
            found = pattern.match(rest)
            if found and (found.end() == len(rest) or rest[found.end()] == " "):
                values = {k: _token(v, gettext) for k, v in found.groupdict().items()}
                said.append(gettext(msgid) % values if values else gettext(msgid))
                rest = rest[found.end():].lstrip()
                break
        else:
            return None
    return " ".join(said) if said else None


def localize(text: str, gettext: Gettext | None = None) -> str:
    """``text`` (a sandbox message: ours in Korean, or one of Jinja's) in the reader's
    language; anything else as it is."""
    if not text.strip():
        return text  # (gettext("") is the catalog's header)
    gettext = gettext or _gettext()
    for pattern, msgid in _ours():
        found = pattern.fullmatch(text)
        if found:
            return gettext(msgid) % {k: localize(v, gettext) for k, v in found.groupdict().items()}
    return _jinja_text(text, gettext) or gettext(text)


def describe(message: str, where: str, line: int | None) -> str:
    """A problem as the reader sees it: the part (``where``: its Korean word) and line,
    then the message, in the reader's language."""
    gettext = _gettext()
    said = localize(message, gettext)
    if not where:
        return said
    place = gettext(WHERE) % {"part": gettext(where), "line": line} if line else gettext(where)
    return f"{place}: {said}"


def known_or_generic(text: str) -> str:
    """What the render process reports for an error's ``text``: one of our formatted
    messages or one of Jinja's as it is (``localize`` knows them), anything else (a Python
    error inside a filter) after ``GENERIC``."""
    if any(p.fullmatch(text) for p, _ in _ours()) or _jinja_text(text, lambda m: m):
        return text
    return GENERIC % {"detail": text}
