"""Draw the sample catalog's badge images and embed them in ``catalog.json``.

Run it from the repository root after changing a credential or an organisation of the sample:

    python -m app.catalog.sample.make_badges

Each credential gets a rounded hexagon in its stack's colour with its initials (or a glyph) and a
short label on a ribbon; the milestone credential gets a gold rim and a star. Each organisation
gets a round seal with its initials. The SVG is written by hand here, in exactly the form the
sanitiser writes (``app.catalog.images``), so importing the sample stores these bytes unchanged
and the sample round-trips; the script checks that before it writes anything.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from app.catalog.images import SVG, check_image

CATALOG = Path(__file__).with_name("catalog.json")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
GOLD = "#c9961a"

# Each stack has a colour; a credential takes its stack's (dark enough for white text, 4.5:1+).
FORMATIVE, MATHS, INCLUSIVE, FAMILY = "#1f4e8c", "#5a3590", "#1d6b5a", "#8f2a5d"


@dataclass(frozen=True)
class Design:
    mark: str
    """The initials or glyph in the middle."""
    label: str
    """A word or two on the ribbon."""
    colour: str
    milestone: bool = False


CREDENTIALS = {
    "questioning-to-check-for-understanding": Design("QCU", "Questioning", FORMATIVE),
    "feedback-that-moves-learning-forward": Design("FB", "Feedback", FORMATIVE),
    "data-informed-small-group-instruction": Design("DSG", "Small Groups", FORMATIVE),
    "formative-assessment-practitioner": Design("FA", "Practitioner", "#173a66", milestone=True),
    "productive-math-discourse-talk-moves": Design("TM", "Talk Moves", MATHS),
    "fraction-number-line-reasoning": Design("\N{VULGAR FRACTION ONE HALF}", "Fractions", MATHS),
    "designing-for-learner-variability": Design("UDL", "Inclusive Design", INCLUSIVE),
    "computational-thinking-elementary": Design("CT", "Computing", INCLUSIVE),
    "digital-citizenship-in-practice": Design("DC", "Citizenship", INCLUSIVE),
    "family-partnership-communication": Design("FP", "Families", FAMILY),
}
ORGANISATIONS = {
    "lakemont-itl": Design("ITL", "Lakemont", "#1f4e8c"),
    "riverbend-pln": Design("RPLN", "Riverbend", "#1d6b5a"),
}


def _points(radius: float, centre: float = 100.0) -> str:
    """A pointy-topped hexagon's corners."""
    corners = []
    for k in range(6):
        angle = math.radians(60 * k - 90)
        x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
        corners.append(f"{x:.1f},{y:.1f}")
    return " ".join(corners)


def _star(cx: float, cy: float, outer: float, inner: float) -> str:
    corners = []
    for k in range(10):
        radius = outer if k % 2 == 0 else inner
        angle = math.radians(36 * k - 90)
        corners.append(f"{cx + radius * math.cos(angle):.1f},{cy + radius * math.sin(angle):.1f}")
    return " ".join(corners)


def _text(x: float, y: float, size: float, fill: str, text: str, extra: str = "") -> str:
    return (
        f'<text x="{x:g}" y="{y:g}" text-anchor="middle" font-family={quoteattr(FONT)} '
        f'font-size="{size:g}" font-weight="700" fill="{fill}"{extra}>{escape(text)}</text>'
    )


def _mark_size(mark: str) -> float:
    return {1: 64, 2: 52, 3: 44}.get(len(mark), 36)


def _label_size(label: str) -> float:
    return 15 if len(label) <= 12 else 12.5


def credential_svg(title: str, design: Design) -> str:
    """A credential's badge: hexagon, mark, ribbon."""
    rim = GOLD if design.milestone else design.colour
    parts = [
        f"<title>{escape(title)}</title>",
        f'<polygon points="{_points(86)}" fill="{design.colour}" stroke="{rim}" '
        'stroke-width="14" stroke-linejoin="round"/>',
        f'<polygon points="{_points(72)}" fill="none" stroke="#ffffff" stroke-opacity="0.5" '
        'stroke-width="2.5" stroke-linejoin="round"/>',
    ]
    mark_y = 102
    if design.milestone:
        parts.append(f'<polygon points="{_star(100, 52, 13, 5.5)}" fill="{GOLD}"/>')
        mark_y = 106
    parts.append(_text(100, mark_y, _mark_size(design.mark), "#ffffff", design.mark))
    parts += [
        f'<path d="M10 124 H190 L180 139 L190 154 H10 L20 139 Z" fill="#ffffff" '
        f'stroke="{rim}" stroke-width="3" stroke-linejoin="round"/>',
        _text(
            100,
            144.5,
            _label_size(design.label),
            design.colour,
            design.label.upper(),
            ' letter-spacing="0.5"',
        ),
    ]
    return _svg(parts)


def organisation_svg(name: str, design: Design) -> str:
    """An organisation's seal: a circle with its initials and a short name."""
    parts = [
        f"<title>{escape(name)}</title>",
        f'<circle cx="100" cy="100" r="94" fill="{design.colour}"/>',
        '<circle cx="100" cy="100" r="82" fill="none" stroke="#ffffff" stroke-opacity="0.6" '
        'stroke-width="3"/>',
        _text(100, 108, _mark_size(design.mark), "#ffffff", design.mark),
        _text(100, 142, 15, "#ffffff", design.label.upper(), ' letter-spacing="1"'),
    ]
    return _svg(parts)


def _svg(parts: list[str]) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" '
        'viewBox="0 0 200 200">' + "".join(parts) + "</svg>"
    )


def _embedded(svg: str) -> dict[str, str]:
    data = svg.encode("utf-8")
    checked = check_image(data)
    if checked.data != data:
        raise SystemExit(f"the sanitiser changed a sample badge:\n{svg}\n{checked.data!r}")
    return {"media_type": SVG, "data": base64.b64encode(data).decode("ascii")}


def _with_image(
    item: dict[str, Any], image: dict[str, str], after: tuple[str, ...]
) -> dict[str, Any]:
    """The item with its image placed where an export puts it (after the given keys)."""
    out = {k: v for k, v in item.items() if k in after}
    out["image"] = image
    out.update({k: v for k, v in item.items() if k not in after and k != "image"})
    return out


def main() -> None:
    catalog = json.loads(CATALOG.read_text("utf-8"))
    catalog["organisations"] = [
        _with_image(
            org,
            _embedded(organisation_svg(org["name"], ORGANISATIONS[org["slug"]])),
            ("slug", "name", "url", "email", "description"),
        )
        for org in catalog["organisations"]
    ]
    for credential in catalog["credentials"]:
        design = CREDENTIALS[credential["slug"]]
        credential["versions"] = [
            _with_image(
                version,
                _embedded(credential_svg(version["title"], design)),
                ("number", "status", "published_at", "retired_at"),
            )
            for version in credential["versions"]
        ]
    CATALOG.write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"Badges embedded in {CATALOG}.")


if __name__ == "__main__":
    main()
