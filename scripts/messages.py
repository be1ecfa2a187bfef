"""Bring the catalogs up to the code: extract every marked word (Python and Jinja), merge
it into each language of app/translations, give Korean each word as itself (the msgids
are Korean), take English words from translation files a translator hands over, drop
what no code marks any more, and compile.

    python scripts/messages.py                      # what ``make messages`` runs
    python scripts/messages.py --from words.po ...  # and fill empty entries from these

A ``--from`` file is an ordinary .po (msgid Korean, msgstr the translation); it fills
only entries still empty, so a translation already in a catalog is never overwritten.
Prints what is still untranslated, per language."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
KEYWORDS = ("_l", "lazy_gettext", "lazy_pgettext:1c,2")  # tests/unit/test_i18n_catalog.py too
SOURCE_LANGUAGE = "ko"


def extract() -> Catalog:
    """Every marked word of the code, as ``pybabel extract`` sees it."""
    with tempfile.TemporaryDirectory() as scratch:
        pot = Path(scratch) / "messages.pot"
        keywords = [arg for word in KEYWORDS for arg in ("-k", word)]
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
                        "-F", "babel.cfg", *keywords, "--omit-header", "-o", str(pot), "."],
                       cwd=ROOT, check=True)
        with pot.open("rb") as handle:
            return read_po(handle)


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


Key = tuple[str | None, str | tuple[str, ...]]  # (context, msgid: a plural's is a tuple)
Words = str | tuple[str, ...]


def _done(string: Words) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def donors(paths: list[Path]) -> dict[Key, Words]:
    """(context, msgid) → translation from the handed-over files, later files winning."""
    words: dict[Key, Words] = {}
    for path in paths:
        for message in read(path):
            if message.id and _done(message.string):
                words[(message.context, message.id)] = message.string
    return words


def update(lang: str, template: Catalog, words: dict[Key, Words]) -> list[str]:
    """Merge ``template`` into ``lang``'s catalog, fill it, write .po and .mo; returns the
    ids still without a translation."""
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    catalog = read(folder / "messages.po", locale=lang)
    created = catalog.creation_date  # kept: a run that changes no word changes no file
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.creation_date = created
    catalog.obsolete.clear()
    missing = []
    for message in catalog:
        if not message.id:
            continue
        message.flags.discard("fuzzy")
        if lang == SOURCE_LANGUAGE:  # a plural's forms: Korean has one, the msgid
            message.string = message.id if isinstance(message.id, str) else \
                (message.id[0],) * catalog.num_plurals
        elif not _done(message.string):
            message.string = words.get((message.context, message.id), message.string)
        if not _done(message.string):
            missing.append(str(message.id))
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="donors", nargs="*", type=Path, default=[],
                        help=".po files whose translations fill empty entries")
    args = parser.parse_args()
    template = extract()
    words = donors(args.donors)
    untranslated = 0
    for folder in sorted(p for p in TRANSLATIONS.iterdir() if p.is_dir()):
        missing = update(folder.name, template, words)
        untranslated += len(missing)
        for msgid in missing:
            print(f"{folder.name}: untranslated: {msgid}")
    print(f"{len(template)} words; {untranslated} untranslated entries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
