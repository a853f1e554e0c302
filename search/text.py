"""Markdown to plain text, for indexing and snippets.

Only the markup that would otherwise leak into snippets or into the
index as nonsense terms is removed; this is not a Markdown renderer.
"""

from __future__ import annotations

import re
import unicodedata

#: (substrings a match needs, pattern, replacement). A rule none of whose
#: substrings occurs cannot match and is skipped: most texts have no tables,
#: code or underscores, and skipping is what keeps indexing 20k texts fast.
_RULES: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    (("```",), re.compile(r"```[^\n]*\n?"), ""),  # code fences (keep the code)
    (("![",), re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images → alt text
    (("](",), re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links → link text
    (("<",), re.compile(r"<https?://[^>]+>"), ""),  # autolinks
    ((), re.compile(r"^\s{0,3}(#{1,6}|>+|[-*+]|\d+[.)])\s+", re.M), ""),  # headings, quotes, list markers
    (("-", "*", "_"), re.compile(r"^\s*([-*_]\s*){3,}$", re.M), ""),  # horizontal rules
    (("---",), re.compile(r"^[\s|:-]*-{3,}[\s|:-]*$", re.M), ""),  # table separator rows
    (("*", "__", "`", "~~"), re.compile(r"(\*\*|__|\*|`|~~)"), ""),  # emphasis and code spans
    (("_",), re.compile(r"(?<!\w)_(\S(?:.*?\S)?)_(?!\w)"), r"\1"),  # _emphasis_
    (("|",), re.compile(r"\s*\|\s*"), " "),  # table pipes
    (("  ", "\t"), re.compile(r"(?: |\t)[ \t]+|\t"), " "),  # runs of blanks (a single space stays)
    (("\n\n\n",), re.compile(r"\n{3,}"), "\n\n"),
)


def plain_text(markdown: str) -> str:
    """Strip Markdown markup, keeping the words a reader sees (NFC-normalised)."""
    text = unicodedata.normalize("NFC", markdown)
    for needs, pattern, replacement in _RULES:
        if not needs or any(map(text.__contains__, needs)):
            text = pattern.sub(replacement, text)
    return text.strip()
