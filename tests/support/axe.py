"""axe-core (vendored, tests/support/vendor/axe.min.js) run on a Playwright page.

The app's CSP (``script-src 'self'``) refuses inline scripts, so ``page.add_script_tag(
content=...)`` would be blocked (and logged as a console error, which fails the e2e
``page`` fixture). ``page.evaluate`` runs through the DevTools protocol, which the page's
CSP does not govern: axe is loaded and run that way, leaving the page's policy untouched.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

AXE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor", "axe.min.js")

# WCAG 2.0/2.1/2.2 A and AA plus axe's best practices (headings, landmarks, skip link).
DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@cache
def axe_source() -> str:
    """The vendored axe-core script."""
    with open(AXE_PATH, encoding="utf-8") as handle:
        return handle.read()


def inject(page: Any) -> None:
    """Define ``window.axe`` in the page (once per document), bypassing the page's CSP."""
    if page.evaluate("() => typeof window.axe === 'object'"):
        return
    # Wrapped as a function body: the minified file is an IIFE that sets window.axe.
    page.evaluate("() => {\n" + axe_source() + "\n;return typeof window.axe;}")


def violations(page: Any, exclude: list[str] | None = None,
               tags: list[str] | None = None) -> list[dict[str, Any]]:
    """axe's violations on the page as it stands: ``[{id, impact, help, nodes: [{target,
    html, summary}]}]``. ``exclude`` lists CSS selectors axe should skip."""
    inject(page)
    context = {"exclude": [[sel] for sel in exclude]} if exclude else {"include": [["html"]]}
    options = {"runOnly": {"type": "tag", "values": tags or DEFAULT_TAGS},
               "resultTypes": ["violations"]}
    return page.evaluate(
        """async ([context, options]) => {
            const result = await window.axe.run(context, options);
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 200),
                                          summary: n.failureSummary})),
            }));
        }""",
        [context, options],
    )


def report(found: list[dict[str, Any]]) -> str:
    """A readable account of ``violations(...)`` for an assertion message."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {json.dumps(node['target'])}: {node['html']}")
    return "\n".join(lines)


def assert_no_violations(page: Any, where: str = "", exclude: list[str] | None = None) -> None:
    """Fail with axe's report when the page has any violation."""
    found = violations(page, exclude=exclude)
    assert found == [], f"axe on {where or page.url}:\n{report(found)}"
