"""The explainable pair features of matching, each a number in [0, 1].

Topic: do the two work on the *same thing*?

* `semantic`: cosine of the text embeddings, rescaled so that the median of
  random cross-province pairs is 0 and identical texts are 1;
* `lexical`: cosine of the TF-IDF vectors over *distinctive* terms: stemmed
  Dutch, compounds also split into their parts, stop words, province names and
  terms in more than half of the initiatives dropped, at most 100 terms each;
* `themes`: Jaccard overlap of the themes;
* `suppliers`: 1 when they name a common supplier, in the suppliers field or, for one side's
  supplier, anywhere in the other's text (a terse row names its product in the summary);
* `technologies`: IDF-weighted Jaccard overlap of the technologies (sharing
  "ivri" says more than sharing "open data");
* `categories`: 1 when their technologies fall into a common product category
  (`PRODUCT_CATEGORIES`), such as a chatbot and a language model.

Context: is working together *actionable now*?

* `phase`: 1 when one is proven (*opgeschaald*/*implementatie*) and the other
  early (*idee*/*verkenning*/*pilot*);
* `timing`: 1 when both plan to tender within a year of each other or their
  periods overlap, falling to 0 at two years apart;
* `partners`: 1 when both seek partners or plan to tender, 0.5 when one does.

Relative: how far the pair stands out *in this corpus*, whatever the encoder and text length.

* `semantic_z`: the raw cosine of the pair, in standard deviations above each
  initiative's cosines with a fixed sample of other provinces' initiatives
  (averaged over the two sides), divided by 10 and capped to [0, 1]. Terse
  portfolio rows sit close to everything and long reports far from everything;
  the absolute cosine mixes that up with relatedness, the z-score does not.
* `semantic_gap`: the same, measured from each initiative's ten nearest
  neighbours of other provinces instead of the background (0.5 + gap / 10,
  capped to [0, 1]): in a large corpus every initiative has some neighbour
  far above the background by chance, a true twin also stands above the
  initiative's other near neighbours.

Language: what the encoder's cosine means depends on the languages compared.

* `languages_differ`: 1 when one text reads as English and the other as Dutch
  (`reads_as_english` on title and summary). A Dutch and an English text about
  one thing lie further apart than two Dutch ones, in the space too;
* `both_english`: 1 when both read as English. English texts lie closer to one
  another than their topics warrant.

Neither says the two belong together; the fitted model learns how far each moves
the bar (on the development sets, out of fold, they raised the mean AP from 0.642
to 0.673 and helped every corpus). They give no reason of their own.

And `corroboration`, computed by the engine from the direct scores of the
surrounding pairs: max over a third initiative c of min(direct(a, c),
direct(b, c)). See `search/matching/engine.py` for how they combine.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Literal, get_args

import numpy as np
from scipy import sparse

from ..dutch import STOP_WORDS, WORD_PATTERN, fold, stem, terms
from ..text import plain_text
from .terms import count_entries

TOPIC_FEATURES: tuple[str, ...] = ("semantic", "lexical", "themes", "suppliers", "technologies", "categories")
CONTEXT_FEATURES: tuple[str, ...] = ("phase", "timing", "partners")
#: Computed from the other pairs, after the direct features (see `search/matching/engine.py`).
CORROBORATION = "corroboration"
RELATIVE_FEATURES: tuple[str, ...] = ("semantic_z", "semantic_gap")
LANGUAGE_FEATURES: tuple[str, ...] = ("languages_differ", "both_english")
#: How many initiatives of other provinces the pair's two sides are compared with, and the semantic
#: features weighed by it. An initiative's nearest partner in a portfolio of three provinces stands out
#: above its other neighbours (`semantic_gap`) whether or not it is a twin; among two hundred it rarely
#: does unless it is one. The interactions let the pair model read the relative features by the size
#: of the crowd they were measured in (bench/results/sparse_portfolios.md).
CROWD = "crowd"
CROWD_OF: dict[str, str] = {"crowd_semantic": "semantic", "crowd_z": "semantic_z", "crowd_gap": "semantic_gap"}
CROWD_FEATURES: tuple[str, ...] = (CROWD, *CROWD_OF)
#: Where `crowd` (other provinces' initiatives with a vector) runs from 0 to 1 on a log scale: round
#: numbers around what the training corpora span (about 27 in a portfolio of 40 initiatives of three
#: provinces, 160-190 in a whole labelled set). It stays at 1 above, where the model has seen nothing
#: larger to extrapolate to.
CROWD_RANGE: tuple[float, float] = (10.0, 200.0)
DIRECT_FEATURES: tuple[str, ...] = (
    TOPIC_FEATURES + CONTEXT_FEATURES + RELATIVE_FEATURES + LANGUAGE_FEATURES + CROWD_FEATURES
)
FEATURES: tuple[str, ...] = DIRECT_FEATURES + (CORROBORATION,)

PROVEN_PHASES = frozenset({"opgeschaald", "implementatie"})
EARLY_PHASES = frozenset({"idee", "verkenning", "pilot"})
#: The phases from first idea to rolled out everywhere (`furthest_phase` reads a phase's place in it).
PHASE_ORDER: tuple[str, ...] = ("idee", "verkenning", "pilot", "implementatie", "opgeschaald")
#: The three kinds of match IDA follows up, in the order of `ItemFacts.leaning` and of every type model.
MatchType = Literal["joint_procurement", "scaling_up", "knowledge_exchange"]
MATCH_TYPES: tuple[MatchType, ...] = get_args(MatchType)
#: The leaning of a text the type model cannot read (no vector, or no model): no leaning at all.
NEUTRAL_LEANING: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)

#: Technology tags (folded) grouped into what a province would buy. Two
#: initiatives with different tags in one group still need the same product.
#: Maintained by hand like `synonyms_nl.txt`; generic tags such as "open data"
#: or "api" belong to no group on purpose.
PRODUCT_CATEGORIES: dict[str, frozenset[str]] = {
    "beeldherkenning": frozenset({"computer vision", "beeldherkenning", "camera", "cameravallen"}),
    "chatbots en taalmodellen": frozenset(
        {
            "chatbot",
            "taalmodel",
            "spraakherkenning",
            "generatieve ai",
            "digitale assistent",
            "virtuele assistent",
            "chatassistent",
        }
    ),
    "drones": frozenset({"drones", "drone", "fotogrammetrie"}),
    "verkeersregelinstallaties": frozenset({"ivri", "v2x", "verkeersregelinstallatie"}),
    "archivering en e-depot": frozenset(
        {"e-depot", "archivering", "records management", "archiefsysteem", "digitaal archief"}
    ),
    "documentmanagement": frozenset({"documentmanagement", "zaaksysteem", "zaakgericht werken"}),
    "GIS en kaartdiensten": frozenset({"gis", "kaartviewer", "webkaart"}),
    "3D-modellen en digital twins": frozenset({"digital twin", "3d-model", "hoogtemodel"}),
    "sensornetwerken": frozenset({"iot-sensoren", "lorawan", "edge computing"}),
    "dashboards en BI": frozenset({"power bi", "dashboard", "datawarehouse"}),
    "subsidiesystemen": frozenset({"subsidieportaal", "formulierenbouwer"}),
    "e-learning": frozenset({"e-learning", "leerplatform"}),
    "laadinfrastructuur": frozenset({"laadpaal", "laadpalen", "laadpunt", "laadinfrastructuur"}),
}
_CATEGORY_OF_TAG: dict[str, str] = {tag: name for name, tags in PRODUCT_CATEGORIES.items() for tag in tags}

_WORD = re.compile(WORD_PATTERN)
#: The category tags as words, the way `product_categories` reads a text ("e-depot" is "e depot").
_CATEGORY_OF_TAG_WORDS: dict[str, str] = {" ".join(_WORD.findall(tag)): name for tag, name in _CATEGORY_OF_TAG.items()}
#: The endings a tag may be named with in a text: as is, or in the plural.
_TAG_ENDINGS: tuple[str, ...] = ("", "s", "en")


def _categories_of_words() -> dict[str, frozenset[str]]:
    """Each word that names a one-word category tag (the tag with one of `_TAG_ENDINGS`) -> its categories."""
    found: dict[str, set[str]] = {}
    for tag, name in _CATEGORY_OF_TAG_WORDS.items():
        if " " not in tag:
            for ending in _TAG_ENDINGS:
                found.setdefault(tag + ending, set()).add(name)
    return {word: frozenset(names) for word, names in found.items()}


_CATEGORIES_OF_WORD = _categories_of_words()
#: Category tags of several words, looked for as phrases when their first word occurs: (first word, tag, category).
_CATEGORY_PHRASES: tuple[tuple[str, str, str], ...] = tuple(
    (tag.split()[0], tag, name) for tag, name in _CATEGORY_OF_TAG_WORDS.items() if " " in tag
)
#: The words whose presence `_categories_named_in` looks for first.
_CATEGORY_WORDS = frozenset(_CATEGORIES_OF_WORD) | {first for first, _, _ in _CATEGORY_PHRASES}

#: Terms in more than this share of the initiatives are not distinctive.
MAX_DOCUMENT_SHARE = 0.5
#: Distinctive terms kept per initiative (the highest TF-IDF weights).
TERMS_PER_ITEM = 100
#: Heaviest terms per initiative used to *find* lexical neighbours (fewer than
#: TERMS_PER_ITEM keeps the sparse products fast at 20k initiatives).
INDEX_TERMS_PER_ITEM = 30
#: Shortest stem that counts as a part of a compound.
COMPOUND_PART_MIN = 4
_TENDER_WINDOW_DAYS = 365.0
_TIMING_FADE_DAYS = 730.0


@lru_cache(maxsize=1 << 16)
def tag_key(tag: str) -> str:
    """How tags are compared: folded, single spaces (cached: every pair's reasons compare the tags again)."""
    return " ".join(fold(tag).split())


def product_categories(technologies: Iterable[str], text: str = "") -> frozenset[str]:
    """The product categories (`PRODUCT_CATEGORIES`) the given technology tags fall into, and those
    whose tags `text` names: a terse portfolio row often has no tags, only "chatbot" in its title."""
    found = frozenset(_CATEGORY_OF_TAG[key] for key in map(tag_key, technologies) if key in _CATEGORY_OF_TAG)
    return found | _categories_named_in(text) if text else found


def item_categories(technologies: Iterable[str], title: str, summary: str) -> frozenset[str]:
    """The product categories of an initiative: from its tags and as named in its title or summary."""
    return product_categories(technologies, f"{title}\n{summary}")


@lru_cache(maxsize=1 << 16)
def _categories_named_in(text: str) -> frozenset[str]:
    """The categories whose tags `text` names, a tag's words one after the other with one of
    `_TAG_ENDINGS` (cached: a rematch reads every unchanged text again); of an ASCII text split by
    `terms`, the same words faster."""
    words = terms(text) if text.isascii() else _WORD.findall(fold(text))
    found = _CATEGORY_WORDS.intersection(words)
    named = {name for word in found if word in _CATEGORIES_OF_WORD for name in _CATEGORIES_OF_WORD[word]}
    phrases = [(tag, name) for first, tag, name in _CATEGORY_PHRASES if first in found]
    if phrases:
        padded = f" {' '.join(words)} "
        named.update(name for tag, name in phrases if any(f" {tag}{end} " in padded for end in _TAG_ENDINGS))
    return frozenset(named)


class TermAnalyzer:
    """Dutch text to the stems TF-IDF counts, remembering a readable form of each stem.

    `stem` gives matching keys ("bom" for boom/bomen); `display` turns one
    back into the word most often written for it, for reasons. Compounds are
    split on the corpus's own vocabulary (`learn_parts`): "wegdekinspectie"
    also counts as "wegdek" and "inspectie", so it meets "visuele inspectie".
    """

    def __init__(self, extra_stop_words: Iterable[str] = ()) -> None:
        self.stop_words = STOP_WORDS | {fold(word) for word in extra_stop_words}
        self._keys: dict[str, str] = {}  # word -> stem, "" when the word does not count
        self._surface: Counter[str] = Counter()  # word -> how often it was written
        self._forms: dict[str, list[str]] = {}  # stem -> the words written for it
        self._known: frozenset[str] = frozenset()
        self._parts: dict[str, tuple[str, ...]] = {}

    def analyze(self, title: str, summary: str, body: str) -> list[str]:
        """Stems of the text; the title counts twice because it names the subject."""
        keys = self._keys
        words = _analyzed_words(title, summary, body)
        self._learn_words(set(words))
        self._surface.update(words)
        return list(filter(None, map(keys.__getitem__, words)))

    def _learn_words(self, words: Iterable[str]) -> None:
        """The stem of each word not seen before, and the word as a form of its stem."""
        keys = self._keys
        for word in set(words).difference(keys):
            key = keys[word] = self._key(word)
            if key:
                self._forms.setdefault(key, []).append(word)

    def count_corpus(self, texts: Sequence[tuple[str, str, str]]) -> tuple[sparse.csr_matrix, list[str]]:
        """The term counts of (title, summary, body) texts, columns in sorted term order, and the terms:
        what `TermWeights.fit` counts of `[with_parts(doc) for doc in docs]` after `docs = [analyze(*text)
        for text in texts]` and `learn_parts(docs)`, leaving this analyzer as those leave it.

        Every word occurrence is looked up once, as a number; stems, parts and counts are then numpy
        array operations instead of a pass over every occurrence for each step."""
        word_lists = [_analyzed_words(*text) for text in texts]
        vocabulary: defaultdict[str, int] = defaultdict()
        vocabulary.default_factory = vocabulary.__len__
        total = sum(map(len, word_lists))
        occurrences = np.fromiter(map(vocabulary.__getitem__, chain.from_iterable(word_lists)), np.int64, total)
        words = list(vocabulary)
        self._surface.update(dict(zip(words, np.bincount(occurrences, minlength=len(words)).tolist())))
        self._learn_words(words)
        stem_ids: defaultdict[str, int] = defaultdict()
        stem_ids.default_factory = stem_ids.__len__
        keys = self._keys
        stem_of_word = np.array([stem_ids[key] if (key := keys[word]) else -1 for word in words], dtype=np.int64)
        stems = list(stem_ids)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), [len(w) for w in word_lists])
        occurrence_stems = stem_of_word[occurrences]
        counted = occurrence_stems >= 0
        by_stem = count_entries(doc[counted], occurrence_stems[counted], (len(texts), len(stems)))
        self._learn_known(dict(zip(stems, np.bincount(by_stem.indices, minlength=len(stems)).tolist())))
        firsts, seconds = np.full(len(stems), -1, dtype=np.int64), np.full(len(stems), -1, dtype=np.int64)
        for at, key in enumerate(stems):
            parts = self._parts[key] = self._split(key)
            for column, part in zip((firsts, seconds), parts):
                column[at] = stem_ids[part]
        # Each stem's count also counts for its parts: whole numbers, summed in any order.
        entry_doc = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(by_stem.indptr))
        rows, columns, values = [entry_doc], [by_stem.indices.astype(np.int64)], [by_stem.data]
        for column in (firsts, seconds):
            part = column[by_stem.indices]
            has = part >= 0
            rows.append(entry_doc[has])
            columns.append(part[has])
            values.append(by_stem.data[has])
        place = np.empty(len(stems), dtype=np.int64)  # stem id -> column in sorted order
        place[sorted(range(len(stems)), key=stems.__getitem__)] = np.arange(len(stems))
        shape = (len(texts), len(stems))
        counts = sparse.csr_matrix(
            sparse.coo_matrix((np.concatenate(values), (np.concatenate(rows), place[np.concatenate(columns)])), shape)
        )
        counts.sum_duplicates()
        return counts, sorted(stems)

    def _key(self, word: str) -> str:
        folded = fold(word)
        keep = len(folded) >= 3 and folded not in self.stop_words and folded.isalpha()
        return stem(folded) if keep else ""

    def learn_parts(self, docs: Sequence[Sequence[str]]) -> None:
        """Remember the stems seen in at least two texts as possible compound parts."""
        self._learn_known(Counter(chain.from_iterable(map(set, docs))))

    def _learn_known(self, docs_with: Mapping[str, int]) -> None:
        """`learn_parts` from how many texts each stem occurs in."""
        self._known = frozenset(key for key, count in docs_with.items() if count >= 2 and len(key) >= COMPOUND_PART_MIN)
        self._parts = {}

    def with_parts(self, stems: Sequence[str]) -> list[str]:
        """`stems` plus the known parts of each compound among them."""
        parts = self._parts
        for key in set(stems).difference(parts):
            parts[key] = self._split(key)
        return [*stems, *chain.from_iterable(map(parts.__getitem__, stems))]

    def _split(self, key: str) -> tuple[str, ...]:
        """The longest known head and modifier of a compound stem (either may be missing)."""
        if len(key) < 2 * COMPOUND_PART_MIN:
            return ()
        parts: list[str] = []
        for end in range(len(key) - COMPOUND_PART_MIN, COMPOUND_PART_MIN - 1, -1):
            modifier = key[:end]
            if modifier in self._known:
                parts.append(modifier)
                break
            if modifier.endswith("s") and modifier[:-1] in self._known:  # verkeers|licht
                parts.append(modifier[:-1])
                break
        for start in range(COMPOUND_PART_MIN - 1, len(key) - COMPOUND_PART_MIN + 1):
            head = key[start:]
            if head in self._known:
                parts.append(head)
                break
        return tuple(parts)

    def display(self, key: str) -> str:
        """The form most often written for the stem `key` (the stem itself when never seen); of equally
        frequent forms the last in sort order."""
        forms = self._forms.get(key)
        if not forms:
            return key
        surface = self._surface
        return max((surface[word], word) for word in forms)[1]


def _analyzed_words(title: str, summary: str, body: str) -> list[str]:
    """The words `TermAnalyzer.analyze` stems, in order: the title twice, the body as plain text."""
    text = unicodedata.normalize("NFC", f"{title}\n{title}\n{summary}\n{plain_text(body)}").lower()
    return terms(text) if text.isascii() else _WORD.findall(text)  # the same words, faster


@dataclass
class ItemFacts:
    """The non-text facts of one initiative, in the shape the features need."""

    province: int
    phase: str | None
    themes: frozenset[str]
    technologies: frozenset[str]
    suppliers: frozenset[str]
    categories: frozenset[str]
    plans: bool  # seeks partners or has a tender date
    start: float  # days since 1970, nan when unknown
    end: float
    tender: float
    buying: float = 0.0  # how much the text speaks of buying: `buying_words`, capped to [0, 1]
    words: frozenset[str] = frozenset()  # the folded words of title, summary and body (`text_words`)
    english: bool = False  # title and summary read as English (`reads_as_english`)
    #: How much the text, on its own, reads like each type's kind of initiative (MATCH_TYPES order): a
    #: product or service to buy, an approach to spread, a problem to share. From the model's item
    #: classifier on the text's vector (`MatchModel.leaning`).
    leaning: tuple[float, float, float] = NEUTRAL_LEANING


def text_words(text: str) -> frozenset[str]:
    """The folded words of `text`, for finding a supplier named in it (`supplier_mentions`); of an ASCII
    text split by `terms`, the same words faster."""
    return frozenset(terms(text) if text.isascii() else _WORD.findall(fold(text)))


def supplier_mentions(suppliers: Iterable[str], words: frozenset[str]) -> list[str]:
    """The `suppliers` (as spelled there) whose every word occurs in `words`: named in that text."""
    return [name for name in suppliers if (parts := _name_words(name)) and words.issuperset(parts)]


@lru_cache(maxsize=1 << 16)
def _name_words(name: str) -> tuple[str, ...]:
    """The folded words of a supplier's name (cached: every pair with that supplier asks again)."""
    return tuple(_WORD.findall(fold(name)))


def _mentioned_suppliers(facts: Sequence[ItemFacts], suppliers: Iterable[str]) -> list[frozenset[str]]:
    """Per initiative, which of `suppliers` its text names (`supplier_mentions`), found through an index of
    the names' words instead of pair by pair."""
    by_word: dict[str, list[str]] = {}
    for name in suppliers:
        for word in set(_name_words(name)):
            by_word.setdefault(word, []).append(name)
    name_words = frozenset(by_word)
    out = []
    for f in facts:
        hits = f.words & name_words
        names = {name for word in hits for name in by_word[word]}
        out.append(frozenset(supplier_mentions(names, f.words)) if names else frozenset())
    return out


#: Words of buying and contracts (Dutch and English): a product or service bought from the market is
#: what joint procurement bundles, an approach proven in-house is what scaling up spreads.
_BUYING_WORDS = re.compile(
    r"\b(?:inkoop\w*|inkopen|ingekocht|aanbested\w*|aanbesteding\w*|\w*contract\w*|leverancier\w*|licentie\w*|"
    r"marktpartij\w*|marktconsultatie|uitvraag|tender\w*|procurement|supplier\w*|vendor\w*|abonnement\w*|saas|"
    r"softwarepakket\w*|pakket|concessie\w*|dienstverlener\w*|verlenging|verlengen|purchas\w*|aanschaf\w*|"
    r"gunning|gegund|offerte\w*|bestek|framework|licen[cs]e\w*)\b"
)
#: Buying words that saturate the `buying` fact.
_BUYING_SATURATION = 4


def buying_words(text: str) -> float:
    """How much `text` speaks of buying a product or service, in [0, 1]."""
    return min(len(_BUYING_WORDS.findall(fold(text))), _BUYING_SATURATION) / _BUYING_SATURATION


def words_and_buying(text: str) -> tuple[frozenset[str], float]:
    """`text_words` and `buying_words` of `text`. An ASCII text without underscores is split once for
    both: its words are then exactly the runs the buying pattern matches whole, so counting the words
    that match it counts what `buying_words` finds."""
    if not text.isascii() or "_" in text:
        return text_words(text), buying_words(text)
    counts = Counter(terms(text))
    found = sum(map(counts.__getitem__, _BUYING_VOCABULARY.among(counts.keys())))
    return frozenset(counts), min(found, _BUYING_SATURATION) / _BUYING_SATURATION


class _WordClass:
    """Which words fullmatch a pattern, remembered: the words of a text that do are then found with two
    set operations instead of a lookup per word (150 distinct words in each of 20,000 texts)."""

    def __init__(self, pattern: re.Pattern[str], remember: int = 1 << 18) -> None:
        self._pattern = pattern
        self._remember = remember
        self._seen: set[str] = set()
        self._matching: set[str] = set()

    def among(self, words: Iterable[str]) -> set[str]:
        """The words that match."""
        words = set(words)
        unseen = words.difference(self._seen)
        if unseen:
            if len(self._seen) + len(unseen) > self._remember:  # a bound on what a long-running process keeps
                self._seen.clear()
                self._matching.clear()
                unseen = words
            self._seen.update(unseen)
            self._matching.update(word for word in unseen if self._pattern.fullmatch(word))
        return self._matching.intersection(words)


_BUYING_VOCABULARY = _WordClass(_BUYING_WORDS)


def interval_days(value: object) -> float:
    """A date as days since 1970-01-01, or nan."""
    if value is None:
        return math.nan
    return float(value.toordinal() - 719163)  # type: ignore[attr-defined]


def technology_idf(tag_sets: Sequence[frozenset[str]]) -> dict[str, float]:
    """Smoothed IDF of each technology tag over the initiatives."""
    counts: Counter[str] = Counter(tag for tags in tag_sets for tag in tags)
    n = len(tag_sets)
    return {tag: math.log((1 + n) / (1 + count)) + 1.0 for tag, count in counts.items()}


def pair_features(
    facts: Sequence[ItemFacts],
    a_rows: np.ndarray,
    b_rows: np.ndarray,
    semantic: np.ndarray,
    lexical: np.ndarray,
    tech_idf: dict[str, float],
    default_idf: float,
    semantic_z: np.ndarray | None = None,
    semantic_gap: np.ndarray | None = None,
    crowd: np.ndarray | None = None,
) -> np.ndarray:
    """The (pairs x FEATURES) matrix for the pairs (a_rows[i], b_rows[i]), corroboration left 0.

    `semantic` (already rescaled), `lexical`, `semantic_z` and `semantic_gap`
    (in standard deviations) and `crowd` (per pair, the mean number of other provinces' initiatives
    its two sides were compared with) come from the engine, which computed them anyway; everything
    else is read from `facts`.
    """
    m = len(a_rows)
    out = np.zeros((m, len(FEATURES)), dtype=np.float64)
    out[:, 0] = np.clip(semantic, 0.0, 1.0)
    out[:, 1] = np.clip(lexical, 0.0, 1.0)
    if semantic_z is not None:
        out[:, FEATURES.index("semantic_z")] = np.clip(semantic_z / 10.0, 0.0, 1.0)
    if semantic_gap is not None:
        out[:, FEATURES.index("semantic_gap")] = np.clip(0.5 + semantic_gap / 10.0, 0.0, 1.0)
    if crowd is not None:
        low, high = CROWD_RANGE
        scaled = np.clip(np.log(np.maximum(crowd, 1.0) / low) / np.log(high / low), 0.0, 1.0)
        out[:, FEATURES.index(CROWD)] = scaled
        for name, base in CROWD_OF.items():
            out[:, FEATURES.index(name)] = scaled * out[:, FEATURES.index(base)]
    if not m:
        return out
    rows, inverse = np.unique(np.concatenate([a_rows, b_rows]), return_inverse=True)
    local = [facts[r] for r in rows.tolist()]
    a, b = inverse[:m], inverse[m:]
    themes = _TagBits([f.themes for f in local])
    shared = themes.shared(a, b)
    union = themes.size[a] + themes.size[b] - shared
    out[:, 2] = np.divide(shared, union, out=np.zeros(m), where=shared > 0)
    suppliers = _TagBits([f.suppliers for f in local])
    mentioned = suppliers.masks_of(_mentioned_suppliers(local, suppliers.bit))
    out[:, 3] = (suppliers.shared(a, b) > 0) | suppliers.any_in(a, mentioned, b) | suppliers.any_in(b, mentioned, a)
    # The technology overlap is summed in Python, pair by pair, so it stays exactly what it always was;
    # only the (few) pairs that share a technology get there.
    for i in np.flatnonzero(_TagBits([f.technologies for f in local]).shared(a, b) > 0).tolist():
        out[i, 4] = _technology_overlap(local[a[i]].technologies, local[b[i]].technologies, tech_idf, default_idf)
    out[:, 5] = _TagBits([f.categories for f in local]).shared(a, b) > 0
    proven = np.array([f.phase in PROVEN_PHASES for f in local])
    early = np.array([f.phase in EARLY_PHASES for f in local])
    out[:, 6] = (proven[a] & early[b]) | (proven[b] & early[a])
    out[:, 7] = _timing_of_pairs(local, a, b)
    plans = np.array([f.plans for f in local], dtype=np.float64)
    out[:, 8] = (plans[a] + plans[b]) / 2.0
    english = np.array([f.english for f in local], dtype=bool)
    out[:, FEATURES.index("languages_differ")] = english[a] != english[b]
    out[:, FEATURES.index("both_english")] = english[a] & english[b]
    return out


#: What the type model (`search/matching/model.py`) reads of a pair.
TYPE_FEATURES: tuple[str, ...] = (
    "proven_and_early",
    "both_proven",
    "both_early",
    "common_supplier",
    "suppliers_named",
    "common_category",
    "tenders",
    "buying_least",
    "buying_most",
    "semantic_z",
    "lexical",
    "technologies",
    "furthest_phase",
    "reads_as_procurement",
    "reads_as_scaling_up",
    "reads_as_exchange",
)


def type_features(fa: ItemFacts, fb: ItemFacts, features: dict[str, float]) -> np.ndarray:
    """The TYPE_FEATURES of a pair, from its facts and its pair features."""
    proven_a, proven_b = fa.phase in PROVEN_PHASES, fb.phase in PROVEN_PHASES
    early_a, early_b = fa.phase in EARLY_PHASES, fb.phase in EARLY_PHASES
    return np.array(
        [
            float((proven_a and early_b) or (proven_b and early_a)),
            float(proven_a and proven_b),
            float(early_a and early_b),
            float(features.get("suppliers", 0.0) > 0),
            (bool(fa.suppliers) + bool(fb.suppliers)) / 2.0,
            float(features.get("categories", 0.0) > 0),
            (0.0 if math.isnan(fa.tender) else 0.5) + (0.0 if math.isnan(fb.tender) else 0.5),
            min(fa.buying, fb.buying),
            max(fa.buying, fb.buying),
            features.get("semantic_z", 0.0),
            features.get("lexical", 0.0),
            features.get("technologies", 0.0),
            max(_phase_place(fa.phase), _phase_place(fb.phase)),
            *((x + y) / 2.0 for x, y in zip(fa.leaning, fb.leaning, strict=True)),
        ],
        dtype=np.float64,
    )


def type_features_of_pairs(
    facts_a: Sequence[ItemFacts], facts_b: Sequence[ItemFacts], features: Sequence[Mapping[str, float]]
) -> np.ndarray:
    """`type_features` of many pairs, one row each: the same operations on arrays, so the same numbers."""
    m = len(features)
    out = np.zeros((m, len(TYPE_FEATURES)), dtype=np.float64)
    if not m:
        return out

    def column(values: Iterable[object]) -> np.ndarray:
        return np.fromiter(values, dtype=np.float64, count=m)

    proven_a, proven_b = (column(f.phase in PROVEN_PHASES for f in side) > 0 for side in (facts_a, facts_b))
    early_a, early_b = (column(f.phase in EARLY_PHASES for f in side) > 0 for side in (facts_a, facts_b))
    out[:, 0] = (proven_a & early_b) | (proven_b & early_a)
    out[:, 1] = proven_a & proven_b
    out[:, 2] = early_a & early_b
    out[:, 3] = column(f.get("suppliers", 0.0) for f in features) > 0
    out[:, 4] = (column(bool(f.suppliers) for f in facts_a) + column(bool(f.suppliers) for f in facts_b)) / 2.0
    out[:, 5] = column(f.get("categories", 0.0) for f in features) > 0
    tender_a, tender_b = (column(0.0 if math.isnan(f.tender) else 0.5 for f in side) for side in (facts_a, facts_b))
    out[:, 6] = tender_a + tender_b
    buying_a, buying_b = column(f.buying for f in facts_a), column(f.buying for f in facts_b)
    out[:, 7] = np.minimum(buying_a, buying_b)
    out[:, 8] = np.maximum(buying_a, buying_b)
    for at, name in ((9, "semantic_z"), (10, "lexical"), (11, "technologies")):
        out[:, at] = column(f.get(name, 0.0) for f in features)
    place_a, place_b = (column(_phase_place(f.phase) for f in side) for side in (facts_a, facts_b))
    out[:, 12] = np.maximum(place_a, place_b)
    leaning_a = np.array([f.leaning for f in facts_a], dtype=np.float64)
    leaning_b = np.array([f.leaning for f in facts_b], dtype=np.float64)
    out[:, 13:16] = (leaning_a + leaning_b) / 2.0
    return out


def _phase_place(phase: str | None) -> float:
    """Where `phase` lies between idea (0) and rolled out everywhere (1); unknown in the middle."""
    return PHASE_ORDER.index(phase) / (len(PHASE_ORDER) - 1) if phase in PHASE_ORDER else 0.5


def allowed_types(fa: ItemFacts, fb: ItemFacts, features: dict[str, float]) -> tuple[str, ...]:
    """The types IDA's definitions leave open for a pair; the type model chooses among them.

    Scaling up needs one side that has done it (implementatie/opgeschaald) and one that has not.
    When it cannot be scaling up, a common supplier or kind of product makes it joint procurement:
    the same product or service need, whether still to be bought or already in use.
    """
    one_proven = (fa.phase in PROVEN_PHASES) != (fb.phase in PROVEN_PHASES)
    if one_proven:
        return ("joint_procurement", "scaling_up", "knowledge_exchange")
    if features.get("suppliers", 0.0) > 0 or features.get("categories", 0.0) > 0:
        return ("joint_procurement",)
    return ("joint_procurement", "knowledge_exchange")


def _technology_overlap(a: frozenset[str], b: frozenset[str], tech_idf: dict[str, float], default_idf: float) -> float:
    """IDF-weighted Jaccard overlap of two technology sets."""
    idf = tech_idf.get
    return sum(idf(t, default_idf) for t in a & b) / sum(idf(t, default_idf) for t in a | b)


class _TagBits:
    """Tag sets as bit masks (one bit per distinct tag among them), so overlaps of many pairs are counted
    with numpy instead of with Python sets."""

    def __init__(self, tag_sets: Sequence[frozenset[str]]) -> None:
        self.bit: dict[str, int] = {}
        for tags in tag_sets:
            for tag in tags:
                self.bit.setdefault(tag, len(self.bit))
        self.masks = self.masks_of(tag_sets)
        self.size = np.array([len(tags) for tags in tag_sets], dtype=np.int64)

    def masks_of(self, tag_sets: Sequence[Iterable[str]]) -> np.ndarray:
        """The bit masks of `tag_sets` in this bit assignment (tags it has no bit for are left out)."""
        rows: list[int] = []
        bits: list[int] = []
        for row, tags in enumerate(tag_sets):
            for tag in tags:
                if (bit := self.bit.get(tag)) is not None:
                    rows.append(row)
                    bits.append(bit)
        masks = np.zeros((len(tag_sets), max(1, -(-len(self.bit) // 64))), dtype=np.uint64)
        at = np.array(bits, dtype=np.uint64)
        np.bitwise_or.at(masks, (np.array(rows, dtype=np.int64), (at // 64).astype(np.int64)), np.uint64(1) << at % 64)
        return masks

    def shared(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """How many tags each pair (a[i], b[i]) has in common."""
        counts: np.ndarray = np.bitwise_count(self.masks[a] & self.masks[b]).sum(axis=1, dtype=np.int64)
        return counts

    def any_in(self, a: np.ndarray, other: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each row a[i] has a tag among the tags `other[b[i]]` (masks from `masks_of`)."""
        hits: np.ndarray = (self.masks[a] & other[b]).any(axis=1)
        return hits


def _timing_of_pairs(facts: Sequence[ItemFacts], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The `timing` feature of each pair; `_timing` for many pairs at once."""
    tender = np.array([f.tender for f in facts])
    start = np.array([f.start for f in facts])
    end = np.array([math.inf if math.isnan(f.end) else f.end for f in facts])
    both_tender = ~np.isnan(tender[a]) & ~np.isnan(tender[b])
    both_start = ~both_tender & ~np.isnan(start[a]) & ~np.isnan(start[b])
    with np.errstate(invalid="ignore"):
        gap = np.where(
            both_tender,
            np.abs(tender[a] - tender[b]) - _TENDER_WINDOW_DAYS,
            np.maximum(start[a], start[b]) - np.minimum(end[a], end[b]),
        )
        timing = np.where(gap <= 0, 1.0, np.maximum(0.0, 1.0 - gap / _TIMING_FADE_DAYS))
    return np.where(both_tender | both_start, timing, 0.0)
