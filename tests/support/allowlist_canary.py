"""Not a test: a module that says when it is imported (``MAILROOM_CANARY`` names the file it
writes). A worker must never import a job function that is not on its allowlist."""

from __future__ import annotations

import os
from typing import Any

_CANARY = os.environ.get("MAILROOM_CANARY")
if _CANARY:
    with open(_CANARY, "a", encoding="utf-8") as _handle:
        _handle.write(f"imported by {os.getpid()}\n")


def run(*args: Any, **kwargs: Any) -> str:
    """What a job naming this module would call."""
    return "ran"
