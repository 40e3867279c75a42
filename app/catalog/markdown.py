"""Markdown for catalog text, rendered safely: CommonMark without raw HTML, then sanitised with
an allow-list (nh3), so no script, handler, style or unsafe URL ever reaches a page."""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h3", "h4", "h5", "h6", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


@cache
def _parser() -> MarkdownIt:
    # "html": False turns raw HTML in the source into text; headings are shifted in render().
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render(text: str | None) -> Markup:
    """Return sanitised HTML for Markdown ``text`` (headings start at h3, inside a page's h2)."""
    if not text:
        return Markup("")
    html = _parser().render(text)
    for level in range(6, 0, -1):
        shifted = min(level + 2, 6)
        html = html.replace(f"<h{level}>", f"<h{shifted}>").replace(
            f"</h{level}>", f"</h{shifted}>"
        )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)
