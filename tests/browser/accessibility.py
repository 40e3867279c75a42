"""axe-core in Playwright: inject it into a page or a frame, run the WCAG 2 A/AA rules and two
best practices, and fail readably on serious or critical violations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Frame, Page

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
_axe_source: list[str] = []
AXE_TAGS = ["wcag2a", "wcag2aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
# Beyond WCAG's tags, axe's best practices a screen reader user meets on every page (issue 28
# item 15): the outline of headings goes down one level at a time, and two landmarks of a kind
# (the workspace's asides) are told apart by their names.
BEST_PRACTICES = ["heading-order", "landmark-unique"]


def axe_violations(target: Page | Frame) -> list[dict[str, Any]]:
    """Inject axe-core into a page or a frame (iframes included, cross-origin too) and return the
    WCAG 2 A/AA violations in that document alone: frames are checked on their own."""
    if not target.evaluate("() => typeof window.axe !== 'undefined'"):
        if not _axe_source:
            _axe_source.append(AXE_JS.read_text(encoding="utf-8"))
        target.add_script_tag(content=_axe_source[0])
    options = {
        "runOnly": {"type": "tag", "values": AXE_TAGS},
        "rules": {rule: {"enabled": True} for rule in BEST_PRACTICES},
        "iframes": False,
        # Every rule still runs on every element; only the violations are listed whole (axe's
        # option for large pages). Passes and the rest would cross to Python for nothing: with
        # them, a run took ~3 times as long.
        "resultTypes": ["violations"],
    }
    result: dict[str, Any] = target.evaluate(
        """async (options) => {
            const result = await window.axe.run(document, options);
            return {violations: result.violations, passed: result.passes.length};
        }""",
        options,
    )
    # An empty document passes every rule by having nothing to check: make sure it checked.
    assert result["passed"] or result["violations"], f"axe checked nothing on {target.url}"
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v.get('impact')}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", []):
            target = json.dumps(node.get("target"))
            lines.append(f"    at {target}: {node.get('html', '')[:200]}")
            summary = (node.get("failureSummary") or "").strip().replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(target: Page | Frame, where: str) -> None:
    """Fail on serious or critical WCAG 2 A/AA violations and on the best practices above (axe
    calls them moderate), listing each with its elements."""
    blocking = [
        v
        for v in axe_violations(target)
        if v.get("impact") in BLOCKING_IMPACTS or v["id"] in BEST_PRACTICES
    ]
    assert not blocking, (
        f"axe found {len(blocking)} serious/critical accessibility "
        f"violation(s) on {where}:\n{describe(blocking)}"
    )


def assert_no_violations(target: Page | Frame, where: str) -> None:
    """Fail on any WCAG 2 A/AA violation, whatever its impact."""
    violations = axe_violations(target)
    assert not violations, (
        f"axe found {len(violations)} accessibility violation(s) on {where}:\n"
        f"{describe(violations)}"
    )
