"""The catalogs hold every marked word (issue 21): ``pybabel extract`` over the code, as
``make messages`` runs it, and each message must have a non-empty, non-fuzzy translation in
every language of app/i18n.py (``en`` and ``ko``: 100 % both ways); a catalog holds nothing
the code no longer marks."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from app.i18n import LANGUAGES
from scripts.messages import extract
from tests.support import ROOT


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    """What ``make messages`` extracts (scripts/messages.py, the same keywords)."""
    return extract()


def _catalog(lang: str) -> Catalog:
    path = Path(ROOT) / "app" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def _keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    """(context, msgid) of every message (a plural's by its singular)."""
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}


def _translated(message: Message) -> bool:
    string = message.string
    return all(string) if isinstance(string, tuple) else bool(string)


def test_the_code_marks_words(extracted: Catalog) -> None:
    assert len(_keys(extracted)) > 50  # the extraction saw Python and the templates
    sources = {loc for m in extracted for loc, _ in m.locations}
    assert any(s.endswith(".html") for s in sources) and any(s.endswith(".py") for s in sources)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_marked_word_is_translated(extracted: Catalog, lang: str) -> None:
    catalog = _catalog(lang)
    missing = []
    for context, msgid in sorted(_keys(extracted), key=str):
        message = catalog.get(msgid, context=context)
        if message is None or not _translated(message) or message.fuzzy:
            missing.append(f"{context + ': ' if context else ''}{msgid}")
    assert not missing, f"{lang}: {len(missing)} without a translation: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_stale_or_fuzzy_entries(extracted: Catalog, lang: str) -> None:
    catalog = _catalog(lang)
    assert not catalog.fuzzy, f"{lang}: the catalog's header is marked fuzzy"
    stale = _keys(catalog) - _keys(extracted)
    assert not stale, f"{lang}: entries no code marks any more: {sorted(stale, key=str)}"
    assert not [m.id for m in catalog if m.id and m.fuzzy]


def test_korean_maps_each_word_to_itself(extracted: Catalog) -> None:
    catalog = _catalog("ko")
    differ = [m.id for m in catalog if m.id and m.string != (
        m.id if isinstance(m.id, str) else (m.id[0],))]  # a plural: Korean's one form
    assert not differ, differ


def test_placeholders_survive_translation() -> None:
    import re

    pattern = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    catalog = _catalog("en")
    def forms(text: str | tuple[str, ...]) -> list[str]:
        return [text] if isinstance(text, str) else list(text)

    wrong = [m.id for m in catalog if m.id
             for msgid, string in zip(forms(m.id), forms(m.string), strict=True)
             if sorted(pattern.findall(msgid)) != sorted(pattern.findall(string))]
    assert not wrong, wrong
