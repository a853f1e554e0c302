"""Markdown from users, rendered to HTML that is safe to show.

markdown-it renders with raw HTML disabled; nh3 (the Ammonia sanitiser) then keeps only an
allowlist of tags and http(s)/mailto links, so neither Markdown nor smuggled HTML can inject script.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def _image_as_link(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image as a link to it, named by its alt text: the page loads nothing from elsewhere (no
    tracking pixel, no mixed content), and what the author wrote about the image stays readable."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env).strip() or "afbeelding"
    src = str(token.attrGet("src") or "")
    return f'<a href="{escapeHtml(src)}">{escapeHtml(f"Afbeelding: {alt}")}</a>'


_markdown.add_render_rule("image", _image_as_link)

_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_HEADING_DEMOTION = {"<h1>": "<h3>", "</h1>": "</h3>", "<h2>": "<h3>", "</h2>": "</h3>"}


def render_markdown(text: str) -> Markup:
    """Render Markdown to sanitised HTML. Headings start at h3: the page owns h1 and h2."""
    if not text:
        return Markup("")
    html = _markdown.render(text)
    for old, new in _HEADING_DEMOTION.items():
        html = html.replace(old, new)
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)
