"""The render processes (app/mail/renderpool.py), for real: a render past its deadline or its
memory limit is stopped and named, the process is replaced, and the next render works; a
batch goes on past a recipient whose render was stopped."""

from __future__ import annotations

import time

import pytest

from app.mail.render import RenderLimitExceeded
from app.mail.renderpool import MEMORY, TIME, RenderLimits, RenderPool
from app.mail.sandbox import LIMITS
from tests.support.procs import alive

SPIN = ("{% set s='x'*20000 %}{% if name == 'spin' %}{% for a in s[:2000] %}"
        "{% if s|sort|first %}.{% endif %}{% endfor %}{% endif %}{{ name }}")
GROW = "{% if name == 'grow' %}{{ [1]|batch(5*10**7, 0)|first|length }}{% endif %}{{ name }}"
# The sandbox's own budgets out of the way: the process limits alone.
LOOSE = RenderLimits(seconds=1.0, memory_mb=200, max_output=10**12, work_budget=10**15,
                     processes=2)


def template(body: str) -> dict[str, str | None]:
    return {"subject": "s", "body_text": body, "body_html": None}


@pytest.fixture
def pool() -> RenderPool:
    made = RenderPool(LOOSE)
    yield made
    made.close()


def test_a_render_past_its_deadline_is_killed_and_the_batch_goes_on(pool: RenderPool) -> None:
    started = time.monotonic()
    answers = pool.render(template(SPIN), [{"name": n} for n in ("a", "spin", "b")])
    took = time.monotonic() - started
    assert answers[0]["mail"]["text"] == "a" and answers[2]["mail"]["text"] == "b"
    assert answers[1] == {"limit": TIME}
    assert took < LOOSE.seconds + 5  # the deadline, then a new process for "b"
    assert pool.ask({"op": "fields", "template": template(SPIN)}) == {"fields": ["name"]}


def test_a_render_past_its_memory_limit_is_named(pool: RenderPool) -> None:
    answers = pool.render(template(GROW), [{"name": "grow"}, {"name": "c"}])
    assert answers == [{"limit": MEMORY}, {"mail": {"subject": "s", "text": "c", "html": None}}]


def test_the_killed_process_is_gone_and_idle_ones_are_reused(pool: RenderPool) -> None:
    pool.render(template("{{ name }}"), [{"name": "x"}])
    [first] = pool._idle
    pool.render(template("{{ name }}"), [{"name": "y"}])
    assert pool._idle == [first]  # the same process served both
    pool.render(template(SPIN), [{"name": "spin"}])
    assert not alive(first.process.pid)


def test_the_sandbox_limits_in_this_process_are_untouched() -> None:
    """The render process sets its limits from its command line, never the caller's."""
    assert (LIMITS.max_output, LIMITS.work_budget) == (200_000, 1_000_000)


def test_limit_errors_name_the_setting(app: object) -> None:
    from app.mail.render import render_mail

    with app.app_context():  # type: ignore[attr-defined]
        app.config.update(TEMPLATE_RENDER_SECONDS=1, TEMPLATE_WORK_BUDGET=10**15,  # type: ignore
                          TEMPLATE_MAX_OUTPUT=10**12)
        with pytest.raises(RenderLimitExceeded, match="TEMPLATE_RENDER_SECONDS"):
            render_mail(template(SPIN), {"name": "spin"})


def test_a_template_sent_once_is_rendered_by_its_key_even_after_the_process_let_it_go(
        pool: RenderPool) -> None:
    first = template("first {{ name }}")
    assert pool.render(first, [{"name": "a"}], key="k-first")[0]["mail"]["text"] == "first a"
    [process] = pool._idle
    assert "template" not in process.render_request(first, [], "k-first")  # the key alone
    for n in range(9):  # more than the process keeps compiled
        pool.render(template(f"other {n}"), [{"name": "x"}], key=f"k-{n}")
    assert pool._idle == [process]
    answers = pool.render(first, [{"name": "b"}, {"name": "c"}], key="k-first")
    assert [a["mail"]["text"] for a in answers] == ["first b", "first c"]
