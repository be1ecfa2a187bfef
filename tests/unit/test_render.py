"""The template sandbox (app/mail/sandbox.py): what a template may do, and that every way of
running away with memory or time is refused, with the part and line."""

from __future__ import annotations

import re

import pytest

from app.mail.recipients import read_recipients
from app.mail.sandbox import TemplateProblem, check, compile_mail, fields_used


def text_template(body: str, **parts: str) -> dict[str, str]:
    return {"subject": "제목", "body_text": body, **parts}


def doubling(statement: str, times: int) -> str:
    """A template that doubles a value ``times`` times, one statement each."""
    return "".join(statement.format(i=i, prev=i - 1) for i in range(1, times + 1))


@pytest.mark.parametrize("body,message", [
    ("{{ ''.__class__ }}", "밑줄(_)"),
    ("{{ email['__class__'] }}", "밑줄(_)"),
    ("{{ email|attr('__class__') }}", "밑줄(_)"),
    ("{{ email|map(attribute='__doc__')|list }}", "밑줄(_)"),
    ("{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f(email) }}", "매크로"),
    ("{% include 'x' %}", "include"),
    ("{% for c in email recursive %}{{ loop(c) }}{% endfor %}", "재귀"),
    ("{% for a in email %}{% for b in email %}{% for c in email %}{% endfor %}"
     "{% endfor %}{% endfor %}", "2겹"),
    ("{{ '{:>999999999}'.format(1) }}", "호출할 수 없습니다"),
    ("{{ lipsum(100000) }}", "호출할 수 없습니다"),
    ("{% set ns = namespace(s='x') %}", "호출할 수 없습니다"),
    ("{{ '%999999999s' % 1 }}", "% 서식"),
    ("{{ 9 ** 9 ** 9 }}", "거듭제곱"),
    ("{{ 'x' * 1000000000 }}", "너무 깁니다"),
    ("{% for i in range(100000) %}{% endfor %}", "10,000개"),
    ("{% for a in range(200) %}{% for b in range(200) %}{% endfor %}{% endfor %}", "10,000개"),
    ("{{ email|center(1000000000) }}", "너무 깁니다"),
    ("{{ email|indent(1000000000) }}", "너무 깁니다"),
    ("{{ email" + "|replace('', 'xxxxxxxxxxxxxxxxxxxx')" * 4 + " }}", "너무 깁니다"),
    ("{{ email" + "|tojson" * 40 + " }}", "너무 깁니다"),
    ("{% set v0 = email %}" + doubling("{{% set v{i} = v{prev} ~ v{prev} %}}", 30), "너무 깁니다"),
    ("{% set v0 = email %}" + doubling("{{% set v{i} = v{prev} + v{prev} %}}", 30), "너무 깁니다"),
    ("{% set v0 %}{{ email }}{% endset %}"
     + doubling("{{% set v{i} %}}{{{{ v{prev} }}}}{{{{ v{prev} }}}}{{% endset %}}", 30),
     "너무 깁니다"),
    ("{% for i in range(5000) %}" + "x" * 100 + "{% endfor %}", "너무 깁니다"),
    ("{{ email|nope }}", "문법 오류"),
    ("{% if email %}", "문법 오류"),
    ("{{ 1 / 0 }}", "division by zero"),
    ("{{ email.nope }}", "'nope' 속성이 없습니다"),
])
def test_refused_with_a_reason(body: str, message: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        check(text_template(body))
    assert message in str(caught.value)
    assert str(caught.value).startswith("텍스트 본문")  # the line too, where there is one


def test_the_line_is_named() -> None:
    with pytest.raises(TemplateProblem, match="HTML 본문 3번째 줄"):
        check(text_template("ok", body_html="<p>\n{{ name }}\n{{ ''.__class__ }}</p>"))


def test_what_a_mail_template_needs_works() -> None:
    template = text_template(
        "{{ 이름 }}님 ({{ email|upper }})\n"
        "{% for item in items.split(',') %}- {{ loop.index }}. {{ item|trim }}\n{% endfor %}"
        "{{ '%d' if false else '' }}{{ (amount|int * 2) }}",
        subject="{{ 이름 }}님께 {{ sender_name }}",
        body_html="<p>{{ 이름 }}</p>{% if vip == 'y' %}<b>VIP</b>{% endif %}")
    assert fields_used(template) == ["amount", "items", "vip", "이름"]
    check(template)
    mail = compile_mail(template).render({
        "email": "kim@example.com", "sender_name": "alice", "이름": "<김>",
        "items": "사과, 배", "amount": "21", "vip": "y"})
    assert mail.subject == "<김>님께 alice"
    assert mail.text == "<김>님 (KIM@EXAMPLE.COM)\n- 1. 사과\n- 2. 배\n42"
    assert mail.html == "<p>&lt;김&gt;</p><b>VIP</b>"


def test_subject_is_one_line() -> None:
    mail = compile_mail({"subject": "a\n{{ x }}\r\nb", "body_text": "t"}).render({"x": "y"})
    assert mail.subject == "a y b"
    assert mail.html is None


@pytest.mark.parametrize("raw,message", [
    ("email,name\na@example.com,1\nnope,2\n", "3번째 줄: 올바르지 않은"),
    ("email,name\n\na@example.com,1\n\nA@EXAMPLE.com,2\n", "5번째 줄: A@example.com은(는) 3번째"),
    ("email,name\na@example.com,1,2\n", "2번째 줄: 열이 3개"),
    ("email,name,name\na@example.com,1,2\n", "같은 이름의 열"),
    ("email,sender_name\na@example.com,1\n", "예약된 이름"),
    ("email,name\n\"a@example.com\",\"" + "x" * 1001 + "\"\n", "1000자"),
    ("email,name\n", "한 명 이상"),
])
def test_csv_errors_name_the_line(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        read_recipients(raw, 10)


def test_csv_quoting_tabs_and_limit() -> None:
    got = read_recipients('\ufeffEmail,name\n"a@example.com","Kim, ""K"""\n', 10)
    assert (got.addresses, got.fields) == (["a@example.com"], [{"name": 'Kim, "K"'}])
    pasted = read_recipients("email\tname\na@example.com\t김\n", 10)
    assert pasted.fields == [{"name": "김"}]
    assert read_recipients("email@example.com\nb@example.com", 10).fields is None
    with pytest.raises(ValueError, match="2명까지"):
        read_recipients("email\na@example.com\nb@example.com\nc@example.com", 2)


# Issue 17: the payloads of the second security review, and what the shrunk sandbox refuses
# before any process limit is needed.
CPU = "{% set s='x'*20000 %}{% for a in s[:2000] %}{% if s|sort|first %}…{% endif %}{% endfor %}"


@pytest.mark.parametrize("body,message", [
    (CPU, "일의 양을 넘었습니다"),
    ("{% for a in email * 10000 %}{% for b in email * 50 %}{% endfor %}{% endfor %}",
     "일의 양을 넘었습니다"),
    ("{{ [1]|batch(5*10**7, 0)|first|length }}", "너무 깁니다"),
    ("{{ [1]|slice(10**7)|list|length }}", "너무 깁니다"),
    ("{{ range(1000)|join('x' * 1000) }}", "너무 깁니다"),
    ("{{ email|wordwrap(1, true, 'x' * 10000) }}", "너무 깁니다"),
    ("{{ [1]|tojson(10**6) }}", "들여쓰기"),
    ("{{ [[1]]|sum(start=[]) }}", "시작값"),
    ("{% set v = 10**60 %}{{ v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v"
     "*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v"
     "*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v"
     "*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v"
     "*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v*v"
     " }}", "곱한 수가 너무 큽니다"),
    ("{% set s = 'x' * 150000 %}{{ ([s] * 2)|length }}", "너무 깁니다"),  # nested size
    ("{% set s = 'x' * 150000 %}{{ [s, s]|length }}", "너무 깁니다"),
    ("{{ dict }}", "그대로 쓸 수 없습니다"),
    ("{{ email.upper }}", "그대로 쓸 수 없습니다"),
    ("{{ [1, 2] }}", "그대로 쓸 수 없습니다"),
    ("{{ _secret }}", "밑줄(_)로 시작하는 이름"),
    ("{{" + "(" * 300 + "1" + ")" * 300 + "}}", "너무 깊게"),
    ("{{ " + "[" * 300 + "]" * 300 + " }}", "너무 깊게"),
])
def test_the_reviews_payloads_are_refused_quickly(body: str, message: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        check(text_template(body))
    assert message in str(caught.value)


def test_text_and_numbers_are_printed_none_as_nothing() -> None:
    mail = compile_mail(text_template("{{ none }}|{{ 1.5 }}|{{ 3 }}|{{ 'a' }}|"
                                      "{{ [1, 2]|join(',') }}")).render({})
    assert mail.text == "|1.5|3|a|1,2"


def test_a_budget_is_per_render() -> None:
    """Every recipient gets the whole budget: a send of many is not cut short by the sum."""
    mail = compile_mail(text_template("{% for c in email * 100 %}.{% endfor %}"))
    for _ in range(50):
        assert len(mail.render({"email": "x" * 1000}).text) == 100_000
