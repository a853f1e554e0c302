"""Markdown to plain text, for indexing and snippets.

Only the markup that would otherwise leak into snippets or into the
index as nonsense terms is removed; this is not a Markdown renderer.
"""

from __future__ import annotations

import re
import unicodedata

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"```[^\n]*\n?"), ""),  # code fences (keep the code)
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images → alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links → link text
    (re.compile(r"<https?://[^>]+>"), ""),  # autolinks
    (re.compile(r"^\s{0,3}(#{1,6}|>+|[-*+]|\d+[.)])\s+", re.M), ""),  # headings, quotes, list markers
    (re.compile(r"^\s*([-*_]\s*){3,}$", re.M), ""),  # horizontal rules
    (re.compile(r"^[\s|:-]*-{3,}[\s|:-]*$", re.M), ""),  # table separator rows
    (re.compile(r"(\*\*|__|\*|`|~~)"), ""),  # emphasis and code spans
    (re.compile(r"(?<!\w)_(\S(?:.*?\S)?)_(?!\w)"), r"\1"),  # _emphasis_
    (re.compile(r"\s*\|\s*"), " "),  # table pipes
    (re.compile(r"[ \t]+"), " "),
    (re.compile(r"\n{3,}"), "\n\n"),
)


def plain_text(markdown: str) -> str:
    """Strip Markdown markup, keeping the words a reader sees (NFC-normalised)."""
    text = unicodedata.normalize("NFC", markdown)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.strip()
