"""Where a match's shared terms occur in an initiative's text, for the side-by-side comparison.

`Match.shared_terms` are display forms ("wegdek", "scheuren"); the texts say
"Wegdekinspectie" or "scheur". A word is marked when its stem is the term's
stem (singular and plural meet) or, for terms of at least `COMPOUND_PART_MIN`
letters, when its stem contains the term's stem (a compound that has the term
as a part, as the lexical feature counted it). The caller escapes and wraps
the spans (e.g. in `<mark>`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from ..dutch import fold, stem, tokenize
from .features import COMPOUND_PART_MIN


def shared_term_spans(text: str, shared_terms: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) character offsets in `text` of the words that carry one of `shared_terms`.

    `text` is normalised to NFC first; pass NFC text (as `search.text.plain_text` returns) when the
    offsets must index the original string.
    """
    keys = {stem(fold(term).strip()) for term in shared_terms if term.strip()}
    if not keys:
        return []
    long_keys = [key for key in keys if len(key) >= COMPOUND_PART_MIN]
    spans = []
    for token in tokenize(unicodedata.normalize("NFC", text)):
        key = stem(token.term)
        if key in keys or any(part in key for part in long_keys):
            spans.append((token.start, token.end))
    return spans
