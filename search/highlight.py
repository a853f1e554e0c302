"""HTML-safe highlighting: escape everything, wrap matches in <mark>.

Backends that highlight themselves (Meilisearch) hand us text with
sentinel tags (`from_sentinels`); the embedded backend decides per word
with a `TermMatcher` that mirrors how the query matched.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from .dutch import STOP_WORDS, WORD_PATTERN, Concept, fold_same_length, stem, tokenize

_WORD = re.compile(WORD_PATTERN)
_WORD_START = re.compile(rf"(?<!{WORD_PATTERN[:-1]}){WORD_PATTERN[:-1]}")

MARK_OPEN = "<mark>"
MARK_CLOSE = "</mark>"
ELLIPSIS = "…"


def fuzzy_distance(term: str) -> int:
    """Edits tolerated for a query term: 1 from 5 letters, 2 from 9 letters."""
    if len(term) >= 9:
        return 2
    if len(term) >= 5:
        return 1
    return 0


def within_distance(a: str, b: str, limit: int) -> bool:
    """Optimal-string-alignment distance (a transposition costs 1) ≤ `limit`."""
    if abs(len(a) - len(b)) > limit:
        return False
    if limit <= 1:
        return a == b or (limit == 1 and _one_edit_apart(a, b))
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


def _one_edit_apart(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or adjacent transposition."""
    if len(a) > len(b):
        a, b = b, a
    prefix = 0
    while prefix < len(a) and a[prefix] == b[prefix]:
        prefix += 1
    if len(a) == len(b):
        rest_a, rest_b = a[prefix + 1 :], b[prefix + 1 :]
        if rest_a == rest_b:
            return True  # substitution (or equal)
        return a[prefix : prefix + 2] == b[prefix : prefix + 2][::-1] and a[prefix + 2 :] == b[prefix + 2 :]
    return a[prefix:] == b[prefix + 1 :]  # insertion into a


class TermMatcher:
    """Decides whether a folded document word matches the query: same word,
    same stem, a compound the index expanded to (`expansions`, stems), or
    within typo distance of one of `typo_words`."""

    def __init__(
        self, concepts: Iterable[Concept], expansions: Iterable[str] = (), typo_words: Iterable[str] = ()
    ) -> None:
        words = {
            word for concept in concepts for phrase in concept.alternatives for word in phrase if word not in STOP_WORDS
        }
        self._words = frozenset(words)
        self._stems = frozenset(stem(w) for w in words) | frozenset(expansions)
        self._fuzzy = tuple((w, fuzzy_distance(w)) for w in typo_words if fuzzy_distance(w))
        self._seen: dict[str, bool] = {}
        self.candidates = self._candidate_pattern()

    def __bool__(self) -> bool:
        return bool(self._words)

    def __call__(self, term: str) -> bool:
        known = self._seen.get(term)
        if known is None:
            known = self._seen[term] = self._decide(term)
        return known

    def _candidate_pattern(self) -> re.Pattern[str] | None:
        """Words that can match start like a query word or stem (stemming
        only touches the end), unless a typo word is involved: then any
        word can, and None means "check every word"."""
        if self._fuzzy or not self._stems:
            return None
        prefixes = sorted({w[:3] for w in self._words | self._stems}, key=len, reverse=True)
        alternatives = "|".join(re.escape(p) for p in prefixes)
        return re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*")

    def _decide(self, term: str) -> bool:
        if term in self._words or stem(term) in self._stems:
            return True
        return any(within_distance(term, w, d) for w, d in self._fuzzy)


Span = tuple[int, int]


def match_spans(text: str, matches: TermMatcher) -> list[Span]:
    """Character ranges of the words in `text` that `matches` accepts.

    Decides once per distinct candidate word and lets the regex engine find
    the occurrences, which keeps long bodies cheap to highlight.
    """
    folded = fold_same_length(text)
    if folded is None:
        return [(t.start, t.end) for t in tokenize(text) if matches(t.term)]
    words = (matches.candidates or _WORD).findall(folded)
    hits = {word for word in set(words) if matches(word)}
    if not hits:
        return []
    alternatives = "|".join(re.escape(w) for w in sorted(hits, key=len, reverse=True))
    pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")
    return [m.span() for m in pattern.finditer(folded)]


def highlight(text: str, matches: TermMatcher) -> str:
    """All of `text`, escaped, with matching words marked."""
    return _render(text, match_spans(text, matches), 0, len(text))


def snippet(text: str, matches: TermMatcher, max_chars: int = 220) -> str | None:
    """The window of about `max_chars` with the most matches, or None when
    nothing in `text` matches."""
    spans = match_spans(text, matches)
    if not spans:
        return None
    best_first, best_count, last = 0, 0, 0
    for first, (span_start, _) in enumerate(spans):
        last = max(last, first)
        while last + 1 < len(spans) and spans[last + 1][1] - span_start <= max_chars:
            last += 1
        if last - first + 1 > best_count:
            best_first, best_count = first, last - first + 1
    start = _word_start_after(text, spans[best_first][0] - max_chars // 5)
    end = _word_end_before(text, start + max_chars)
    return _render(text, spans, start, end)


def crop(text: str, matches: TermMatcher, max_chars: int) -> str:
    """`highlight` for short texts, `snippet` (or the opening) for long ones."""
    if len(text) <= max_chars:
        return highlight(text, matches)
    found = snippet(text, matches, max_chars)
    if found is not None:
        return found
    return _render(text, [], 0, _word_end_before(text, max_chars))


def from_sentinels(text: str, open_tag: str, close_tag: str) -> str:
    """Escape text a backend highlighted with sentinel tags, then turn the
    sentinels into <mark> (the backend itself does not escape)."""
    escaped = html.escape(text, quote=True)
    return escaped.replace(html.escape(open_tag), MARK_OPEN).replace(html.escape(close_tag), MARK_CLOSE)


def _word_start_after(text: str, position: int) -> int:
    """The start of the first whole word at or after `position`."""
    if position <= 0:
        return 0
    found = _WORD_START.search(text, position)
    return found.start() if found else position


def _word_end_before(text: str, position: int) -> int:
    """The end of the last whole word before `position` (the text's end if it fits)."""
    if position >= len(text):
        return len(text)
    cut = position
    while cut > 0 and _is_word_char(text[cut - 1]) and _is_word_char(text[cut]):
        cut -= 1
    return cut if cut > 0 else position


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def _render(text: str, spans: list[Span], start: int, end: int) -> str:
    parts = [ELLIPSIS] if start > 0 else []
    cursor = start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        parts.append(html.escape(text[cursor:span_start]))
        parts.append(MARK_OPEN + html.escape(text[span_start:span_end]) + MARK_CLOSE)
        cursor = span_end
    parts.append(html.escape(text[cursor:end]))
    if end < len(text.rstrip()):
        parts.append(ELLIPSIS)
    return "".join(parts).strip()
