"""Dutch text analysis shared by the search backends.

The same functions prepare text at index time and query time, so both
sides always agree on what a "term" is:

* `fold` lowercases and strips diacritics (Fryslân → fryslan, café → cafe);
* `tokenize` splits on anything that is not a letter or digit and keeps
  character offsets into the original text (used for highlighting);
* `stem` is a deliberately light plural normaliser. Snowball's Dutch
  stemmer (what tantivy ships) maps wegen → weeg but weg → weg, fietspaden →
  fietspaad but fietspad → fietspad, and woningen/wonen/gemeente all to
  short stems that collide. We only need singular and plural to meet, and
  a wrong stem is harmless as long as both forms get the *same* one;
* `STOP_WORDS` are dropped from queries (not from the index, so phrases
  such as "internet of things" still match);
* `Synonyms` expands a query into concepts with alternative phrasings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Any

from babel.dates import format_date

_WORD = re.compile(r"[^\W_]+")
#: The locale of every date and number shown (Babel's CLDR data): match reasons, pages and mail.
DUTCH_LOCALE = "nl_NL"
WORD_PATTERN = _WORD.pattern
_SPECIAL_FOLDS = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d"})
_VOWELS = frozenset("aeiouy")


def dutch_date(value: date, pattern: str = "d MMMM y") -> str:
    """A date as Dutch writes it, by a CLDR pattern: "1 maart 2026", or "maart 2026" for ``MMMM y``."""
    return format_date(value, pattern, locale=DUTCH_LOCALE)


@dataclass(frozen=True)
class Token:
    """A folded term and where it sits in the original text (character offsets)."""

    term: str
    start: int
    end: int


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lowercase and strip diacritics: "Fryslân" → "fryslan", "ĳs" → "ijs"."""
    if text.isascii():  # nothing to decompose: most Dutch text, and far faster on long texts
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_SPECIAL_FOLDS))
    combining = {ord(ch): None for ch in set(decomposed) if unicodedata.combining(ch)}
    return decomposed.translate(combining) if combining else decomposed


def _single_char_fold(ch: str) -> str:
    folded = fold(ch)
    return folded[0] if folded else ch


#: Latin letters with diacritics, each folded to exactly one character.
_SAME_LENGTH = {cp: _single_char_fold(chr(cp)) for cp in range(0xC0, 0x250)}


def fold_same_length(text: str) -> str | None:
    """`fold` that keeps every character at its offset (ß → s, not ss), for
    finding matches in long texts quickly. None when that is impossible."""
    folded = text.translate(_SAME_LENGTH).lower()
    return folded if len(folded) == len(text) else None


class _Memo(dict[str, str]):
    """A per-key cache that is cheaper per lookup than `lru_cache` (used as
    `map(memo.__getitem__, words)`). A text has far fewer distinct words than
    tokens, so analysing each distinct word once is what makes indexing fast.
    Emptied when full, so a long-running process holds at most ~15 MB per memo."""

    def __init__(self, compute: Callable[[str], Any], max_size: int = 100_000) -> None:
        super().__init__()
        self._compute = compute
        self._max_size = max_size

    def __missing__(self, key: str) -> Any:
        if len(self) >= self._max_size:
            self.clear()
        value = self[key] = self._compute(key)
        return value


def tokenize(text: str) -> list[Token]:
    """Split `text` (NFC, see `terms`) into folded terms with offsets into `text`."""
    return [Token(fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


#: UTF-8 bytes: ASCII letters and digits lowercased, other ASCII bytes (never
#: part of a word) to spaces, non-ASCII bytes untouched.
_ASCII_WORD_BYTES = bytes((ord(chr(b).lower()) if chr(b).isalnum() else 0x20) if b < 0x80 else b for b in range(256))


def _chunk_terms(chunk: str) -> tuple[str, ...]:
    """The folded terms of a chunk that holds no ASCII separator."""
    if chunk.isascii():
        return (chunk,)
    return tuple(fold(word) for word in _WORD.findall(chunk))


_CHUNK_TERMS = _Memo(_chunk_terms)


def terms(text: str) -> list[str]:
    """The folded terms of `text`, in order (stop words included).

    NFC first: in decomposed text ("a" + combining accent) the accent
    would otherwise split the word. Same result as folding every match of
    `WORD_PATTERN`, but splits on ASCII separators with byte operations
    first (the bulk of the work when indexing) and only looks up each
    distinct chunk that holds non-ASCII letters.
    """
    text = unicodedata.normalize("NFC", text)
    chunks = text.encode("utf-8", "surrogatepass").translate(_ASCII_WORD_BYTES).decode("utf-8", "surrogatepass").split()
    if text.isascii():
        return chunks
    return list(chain.from_iterable(map(_CHUNK_TERMS.__getitem__, chunks)))


@lru_cache(maxsize=65536)
def stem(term: str) -> str:
    """Map a folded Dutch word to a key shared by its singular and plural.

    datalabs → datalab, wegen → weg, fietspaden → fietspad, bomen/boom → bom,
    huizen → huis, processen/proces → proc, mogelijkheden → mogelijkheid.
    The result is a matching key, not a dictionary word.
    """
    if len(term) < 3 or not term.isalpha():
        return term
    word = term
    if word.endswith("heden"):
        return word[:-5] + "heid"
    if word.endswith("en") and len(word) >= 5:
        word = _undouble(word[:-2])
        if word.endswith("z"):
            word = word[:-1] + "s"  # huizen → huis
        elif word.endswith("v"):
            word = word[:-1] + "f"  # brieven → brief
    if len(word) >= 4 and word.endswith("s") and _is_plural_s(word):
        word = word[:-1]
    word = _undouble(word)
    if len(word) >= 4 and word[-1] == "e" and word[-2] not in _VOWELS:
        word = word[:-1]  # gemeente(n) → gemeent, drone(s) → dron
    return _shorten_long_vowel(word)


_STEMS = _Memo(stem)


def stems(words: Iterable[str]) -> list[str]:
    """`stem` of each folded word, in order (memoised per distinct word)."""
    return list(map(_STEMS.__getitem__, words))


def _is_plural_s(word: str) -> bool:
    """-s plurals follow a vowel, -el/-em/-er/-je, or (loanwords) most
    consonants; kans, mens, huis, bus, prijs are singulars."""
    if word.endswith(("is", "us", "ss", "ijs")):
        return False
    if word[-2] in _VOWELS or word.endswith(("ers", "els", "ems", "jes")):
        return True
    return word[-2] not in "nrlsj"


def _undouble(word: str) -> str:
    """katt → kat, process → proces."""
    if len(word) >= 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        return word[:-1]
    return word


def _shorten_long_vowel(word: str) -> str:
    """boom → bom, so that it meets bomen → bom (open syllables drop the double vowel)."""
    if (
        len(word) >= 4
        and word[-1] not in _VOWELS
        and word[-2] == word[-3]
        and word[-2] in "aeou"
        and word[-4] not in _VOWELS
    ):
        return word[:-2] + word[-1]
    return word


#: Dutch function words. Only removed from queries: the index keeps them.
STOP_WORDS: frozenset[str] = frozenset(
    """
    aan al alle alles als altijd andere ben bij daar dan dat de der deze die dit doch doen door
    dus een eens en er ge geen geweest haar had heb hebben heeft hem het hier hij hoe hun iemand
    iets ik in is ja je kan kon kunnen maar me meer men met mij mijn moet na naar niet niets nog
    nu of om omdat onder ons ook op over reeds te tegen toch toen tot u uit uw van veel voor
    want waren was wat we wel werd wezen wie wij wil worden wordt zal ze zelf zich zij zijn zo
    zonder zou
    """.split()
)

#: English function words a query does not require, as it does not require Dutch ones: the platform
#: holds English texts and is searched in English, and "road inspection with cameras" must not need
#: "with". Not "it" (IT, in Dutch) nor words Dutch shares.
QUERY_STOP_WORDS: frozenset[str] = STOP_WORDS | frozenset(
    "the a an and or not of to for with on at by from are be this that these our into about".split()
)

#: Function words that tell an English text from a Dutch one (`reads_as_english`); words of both
#: languages ("we", "is", "in") are left out, since they count for neither.
_ENGLISH_MARKERS = frozenset("the and of to for with are on a an our by from that this be as at".split())
_DUTCH_MARKERS = frozenset("de het een en van voor met zijn op door uit dat dit te bij als aan".split())


def reads_as_english(text: str) -> bool:
    """Whether `text` holds more English than Dutch function words: a text in English (or mostly so)
    among the Dutch ones. Function words decide because content words are shared ("data", "pilot")."""
    words = terms(text)
    return sum(w in _ENGLISH_MARKERS for w in words) > sum(w in _DUTCH_MARKERS for w in words)


Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Concept:
    """One thing the user asked for, with every way it may be phrased.

    `alternatives[0]` is what the user typed (folded). A document matches
    the concept when it contains any alternative.
    """

    alternatives: tuple[Phrase, ...]

    @property
    def typed(self) -> Phrase:
        return self.alternatives[0]


@dataclass(frozen=True)
class QueryConcepts:
    """What a query asks for (`Synonyms.query_concepts`): every concept of `required`, none of `excluded`."""

    required: list[Concept]
    excluded: list[Concept]


#: The operators a query may use, written in capitals as web search has them (`Synonyms.query_concepts`).
_OPERATORS = frozenset({"AND", "OR", "NOT"})


class Synonyms:
    """Groups of interchangeable phrases, matched on stems so that
    "digitale tweelingen" still hits the group of "digitale tweeling"."""

    def __init__(self, groups: Iterable[Iterable[str]]) -> None:
        self.groups: tuple[tuple[str, ...], ...] = tuple(
            tuple(p.strip() for p in group if p.strip()) for group in groups
        )
        self._by_stems: dict[Phrase, list[Phrase]] = {}
        for group in self.groups:
            phrases = [tuple(terms(p)) for p in group]
            for phrase in phrases:
                key = tuple(stem(t) for t in phrase)
                others = self._by_stems.setdefault(key, [])
                others.extend(p for p in phrases if p not in others)
        self.longest = max((len(k) for k in self._by_stems), default=0)

    @classmethod
    def from_file(cls, path: Path | str) -> Synonyms:
        """Read one group per line, phrases separated by commas; `#` starts a comment."""
        return cls.parse(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def parse(cls, text: str) -> Synonyms:
        groups = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                groups.append(line.split(","))
        return cls(groups)

    def alternatives(self, phrase: Phrase) -> list[Phrase]:
        """All phrases interchangeable with `phrase` (including itself), or []."""
        return list(self._by_stems.get(tuple(stem(t) for t in phrase), ()))

    def concepts(self, text: str) -> list[Concept]:
        """Split a query into concepts: synonym phrases are matched greedily
        (longest first), stop words outside a phrase are dropped."""
        words = terms(text)
        return list(self._concepts(words))

    def query_concepts(self, text: str) -> QueryConcepts:
        """The concepts a query requires and those it excludes, reading the operators of web search.

        Upper-case ``AND``, ``OR`` and ``NOT`` standing alone, and a minus before a word: AND is what a
        query does anyway, OR joins the concepts on either side into one that either phrasing matches,
        NOT or ``-`` excludes the concept after it. Read as words they required "and", "or" and "not",
        which no Dutch text holds, so the query found nothing. An operator with nothing to work on is
        dropped."""
        required: list[Concept] = []
        excluded: list[Concept] = []
        operator: str | None = None  # the one before `run`
        run: list[str] = []

        def flush() -> None:
            nonlocal operator
            found = self.concepts(" ".join(run))
            run.clear()
            if not found:
                return  # "NOT de water": the operator waits for a concept
            if operator == "NOT":
                excluded.append(found.pop(0))
            elif operator == "OR" and required:
                either = required[-1].alternatives
                required[-1] = Concept((*either, *(a for a in found.pop(0).alternatives if a not in either)))
            required.extend(found)
            operator = None

        for token in text.split():
            if token in _OPERATORS:
                flush()
                operator = token
            elif token.startswith("-") and len(token) > 1 and token[1].isalnum():
                flush()
                operator = "NOT"
                run.append(token[1:])
            else:
                run.append(token)
        flush()
        return QueryConcepts(required, excluded)

    def _concepts(self, words: list[str]) -> Iterator[Concept]:
        i = 0
        while i < len(words):
            for size in range(min(self.longest, len(words) - i), 0, -1):
                typed = tuple(words[i : i + size])
                others = self.alternatives(typed)
                if others:
                    yield Concept((typed, *(p for p in others if p != typed)))
                    i += size
                    break
            else:
                if words[i] not in QUERY_STOP_WORDS:
                    yield Concept(((words[i],),))
                i += 1


@lru_cache(maxsize=1)
def default_synonyms() -> Synonyms:
    """The maintained list in `synonyms_nl.txt` next to this module."""
    text = resources.files(__package__).joinpath("synonyms_nl.txt").read_text(encoding="utf-8")
    return Synonyms.parse(text)
