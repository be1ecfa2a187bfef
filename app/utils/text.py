"""Text helpers the pages share: a LIKE pattern for a search, and CSV for a spreadsheet
(formula cells quoted, written a chunk at a time for a streamed download)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

CHUNK = 64 * 1024  # characters of CSV a streamed download sends at once


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's own characters escaped (``escape="\\\\"``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def csv_chunks(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV text a chunk at a time, a BOM first (Excel on a Korean Windows reads it right),
    every cell quoted against formulas: constant memory whatever the rows."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([safe_cell(v) for v in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        if out.tell() > CHUNK:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
