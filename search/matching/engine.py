"""Cross-province match suggestions with reasons: which initiatives should be done together.

    engine = MatchEngine()
    matches = engine.match_all(items)      # every pair worth suggesting
    changed = engine.match_one(item)       # after a save: that item's pairs only
    engine.remove(item_id)                 # after archiving or deleting

The engine knows nothing about the database: callers pass `MatchItem`s
(with their embedding) and persist the `Match`es they get back. It is not
thread-safe: serialise calls (one lock around the engine).

**Candidates.** For each initiative the `neighbours` (20) nearest initiatives of
*other* provinces by embedding, and the 20 nearest by distinctive terms
(TF-IDF). A pair is a candidate when either side is among the other's
neighbours. Same-province pairs are never candidates.

**Features** (all in [0, 1], see `search/matching/features.py`): semantic,
lexical, themes, suppliers, technologies, categories (topic: do they work on
the same thing?) and phase, timing, partners (context: is working together
actionable now?).

**Score** (`ScoreWeights`), in two steps:

* direct = topic x (0.7 + 0.3 context), with topic = 0.40 semantic +
  0.30 lexical + 0.05 themes + 0.10 suppliers + 0.10 technologies (weights
  renormalised to sum 1) and context = 0.4 phase + 0.3 timing + 0.3 partners.
  Topic decides whether two initiatives match at all; context reorders
  matches by how actionable they are and never lifts an unrelated pair.
  `categories` has weight 0: broad groups such as "sensornetwerken" tie
  unrelated initiatives together (see the ablation in the README), so it
  only serves the type rule and the reasons.
* score = max(0.8 direct, 0.5 direct + 0.5 corroboration), where
  corroboration is the strongest third initiative c (in another province
  again) that matches both directly: max over c of min(direct(a, c),
  direct(b, c)), counting only direct scores of at least
  `CORROBORATION_FLOOR`. Work that three or more provinces share is exactly
  what IDA looks for, and a pair that only resembles each other by accident
  rarely has such a witness; a pair of just two provinces keeps 80% of its
  direct score, so a strong match between two is still suggested.

**Suggested** is a pair whose score is at least `min_score` (0.20), *or*
that stands out for both initiatives: its **standout** is how far the pair's
own score (corroboration left out) lies above what each of the two shares
with the other provinces' initiatives in general, in standard deviations,
averaged over the two sides; `min_standout` (4.0) suffices. Every
initiative's background (mean and spread of its scores) is measured against
a fixed sample of `BACKGROUND_SIZE` reference initiatives of other
provinces. Short texts score lower on everything, a corpus of long reports
higher: the absolute floor alone suggested a tenth of the true pairs of a
set of terse portfolio rows, the standout is the same whether the rest of
the corpus is short, long, small or large. Both were chosen on the seed and
on shortened copies of it (see bench/matching.py) and are reported on a
held-out set nobody tuned on. Once enough coordinator decisions exist, a
fitted model replaces these weights (`search/matching/learning.py`);
corroboration still uses the direct score.

**Type** (`match_type`), as IDA uses the words; first rule that holds:

1. `scaling_up`: one is proven (*opgeschaald*/*implementatie*) and the other
   early (*idee*/*verkenning*/*pilot*), and it is the same thing: a common
   supplier or kind of product, both plan a tender, or
   descriptions this close (semantic >= 0.4 or lexical >= 0.3). "Gelderland
   runs the bike-sensor programme, Zeeland pilots it."
2. `joint_procurement`: the same product or service need, whatever the
   phases: a common supplier, a common kind of product (from the
   technologies or named in the title or summary: "chatbot", "e-depot"), or
   both plan a tender. That includes two provinces already using the same
   product: they can bundle the contracts at renewal or share a framework
   contract (*raamcontract*). Seeking partners alone is not buying.
3. `knowledge_exchange`: the same purpose by different means: related work
   worth a conversation. A proven and an early initiative that only share a
   purpose and a theme learn from each other here.

**Incremental.** The engine keeps the vector matrix, the TF-IDF state, per
initiative its nearest neighbours with a margin, and the graph of direct
scores. `match_one` updates one row and recomputes only the pairs of that
initiative, including those where it enters or leaves another initiative's
neighbour list, so its result equals a full recompute for that initiative.
Pairs of *other* initiatives keep their stored score until the next full
run, even when the changed one now corroborates them. The vocabulary, IDF
and semantic calibration are those of the last `match_all`/`prepare`;
terms a new text introduces count from the next full run (`kennisbank match`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import chain
from typing import Literal

import numpy as np
from scipy import sparse

from ..dutch import reads_as_english
from .features import (
    CONTEXT_FEATURES,
    CORROBORATION,
    CROWD_OF,
    EARLY_PHASES,
    FEATURES,
    INDEX_TERMS_PER_ITEM,
    MATCH_TYPES,
    MAX_DOCUMENT_SHARE,
    NEUTRAL_LEANING,
    PROVEN_PHASES,
    TERMS_PER_ITEM,
    TOPIC_FEATURES,
    ItemFacts,
    MatchType,
    TermAnalyzer,
    allowed_types,
    interval_days,
    item_categories,
    pair_features,
    tag_key,
    technology_idf,
    type_features_of_pairs,
    words_and_buying,
)
from .learning import Decision, LearningReport, learn_scorer
from .model import MatchModel, load_match_model
from .reasons import build_reasons
from .space import SemanticSpace, SpaceBackground
from .terms import TermWeights
from .types import (
    DEFAULT_CONTEXT_WEIGHTS,
    DEFAULT_TOPIC_WEIGHTS,
    DIRECT_WEIGHTS,
    MATCH_TYPE_LABELS,
    Match,
    MatchItem,
    Scorer,
    ScoreWeights,
)

#: Direct scores below this are not strong enough to corroborate another pair.
CORROBORATION_FLOOR = 0.2
DEFAULT_NEIGHBOURS = 20
DEFAULT_MIN_SCORE = 0.20
#: A pair this many standard deviations above both initiatives' backgrounds is suggested whatever its score.
DEFAULT_MIN_STANDOUT = 4.0
#: Reference initiatives every initiative's background is measured against (a fixed sample).
BACKGROUND_SIZE = 64
#: The smallest spread a background is given: an initiative that shares nothing with anyone has none.
_MIN_SPREAD = 0.02
#: An initiative's nearest neighbours of other provinces that the `semantic_gap` feature compares with.
LOCAL_NEIGHBOURS = 10
#: Below this many reference initiatives of other provinces an initiative's measured background (the
#: mean and spread of `semantic_z`) is blended with the space's (`SpaceBackground`), in proportion; and
#: below this many initiatives with a vector the semantic floor is too. A corpus of five initiatives
#: has no background of its own: measured on its four others, a twin lies one spread above "the
#: background" that it is half of. Every training corpus is above both, so the features the model was
#: fitted on are the measured ones. The nearest neighbours' mean (`semantic_gap`) stays measured: a
#: prior for it too cost most of the recall in sub-corpora of 6-20 initiatives of the development
#: sets (bench/small_corpora.py).
_MIN_BACKGROUND = 48
_FULL_CROWD = 80
#: Shared distinctive terms named in a reason (and offered for highlighting).
SHARED_TERMS_SHOWN = 5
#: Below this many pairs the lexical feature is computed pair by pair instead of on the stacked matrix.
_STACK_FOR_PAIRS = 2000
#: Pairs scored per slice of the pair arrays: bounds the temporary rows of vectors or tf-idf terms
#: that one slice gathers, whatever the number of pairs.
_PAIRS_PER_SLICE = 32768
#: Kept per neighbour list beyond `neighbours`, so that most incremental
#: updates can tell who drops out without recomputing the list.
_NEIGHBOUR_MARGIN = 10
#: Threads that compute blocks of a full run side by side (the machines have two cores).
_THREADS = 2
#: Below this many initiatives every term counts (a document-share cut would drop them all).
_MIN_ITEMS_FOR_DF_CUT = 40
#: Words that only say where an initiative is, not what it is about.
PROVINCE_WORDS: tuple[str, ...] = (
    "provincie",
    "provincies",
    "provinciale",
    "provinciaal",
    "groningen",
    "groningse",
    "fryslan",
    "friesland",
    "friese",
    "drenthe",
    "drentse",
    "overijssel",
    "overijsselse",
    "flevoland",
    "flevolandse",
    "gelderland",
    "gelderse",
    "utrecht",
    "utrechtse",
    "holland",
    "hollandse",
    "noord",
    "zuid",
    "zeeland",
    "zeeuwse",
    "brabant",
    "brabantse",
    "limburg",
    "limburgse",
)


#: "The same thing" for scaling up, without a common supplier: descriptions this close.
SAME_THING_SEMANTIC = 0.4
SAME_THING_LEXICAL = 0.3


def match_type(a: ItemFacts, b: ItemFacts, features: Mapping[str, float]) -> MatchType:
    """The type rules of the module docstring."""
    proven_and_early = (a.phase in PROVEN_PHASES and b.phase in EARLY_PHASES) or (
        b.phase in PROVEN_PHASES and a.phase in EARLY_PHASES
    )
    both_tender = not math.isnan(a.tender) and not math.isnan(b.tender)
    same_product = features["suppliers"] > 0 or features["categories"] > 0 or both_tender
    same_thing = (
        same_product or features["semantic"] >= SAME_THING_SEMANTIC or features["lexical"] >= SAME_THING_LEXICAL
    )
    if proven_and_early and same_thing:
        return "scaling_up"
    if same_product:
        return "joint_procurement"
    return "knowledge_exchange"


def _as_match_type(name: str) -> MatchType:
    if name not in MATCH_TYPES:
        raise ValueError(f"unknown match type {name!r}")
    return name


@dataclass
class _Neighbours:
    """Per row, the nearest rows of other provinces, best first, with a margin beyond `k`.

    `complete[r]` says the list holds *every* valid row (few exist), so
    removals can never leave it short of the truth.
    """

    ids: np.ndarray  # (n, width) int64, -1 padded
    sims: np.ndarray  # (n, width) float64, -inf padded
    length: np.ndarray  # (n,) int64
    complete: np.ndarray  # (n,) bool

    @classmethod
    def empty(cls, n: int, width: int) -> _Neighbours:
        return cls(
            np.full((n, width), -1, dtype=np.int64),
            np.full((n, width), -np.inf),
            np.zeros(n, dtype=np.int64),
            np.ones(n, dtype=bool),
        )

    def grow(self, n: int) -> None:
        extra = n - len(self.length)
        if extra > 0:
            width = self.ids.shape[1]
            self.ids = np.vstack([self.ids, np.full((extra, width), -1, dtype=np.int64)])
            self.sims = np.vstack([self.sims, np.full((extra, width), -np.inf)])
            self.length = np.concatenate([self.length, np.zeros(extra, dtype=np.int64)])
            self.complete = np.concatenate([self.complete, np.ones(extra, dtype=bool)])

    def set_row(self, row: int, sims: np.ndarray) -> None:
        """Fill row `row` from its similarities to every row (-inf where not allowed)."""
        self.set_block(np.array([row]), sims[None, :])

    def set_block(self, rows: np.ndarray, block: np.ndarray, least: float | None = None) -> None:
        """Fill `rows` from their similarity rows (values below `least` count as -inf); one code path for
        full and incremental runs.

        A list that ends in -inf holds every valid row: it is complete.
        """
        width = self.ids.shape[1]
        self.ids[rows], self.sims[rows] = _top_columns(block, width, least)
        self.length[rows] = (self.ids[rows] >= 0).sum(axis=1)
        self.complete[rows] = self.length[rows] < width

    def top(self, row: int, k: int) -> np.ndarray:
        return self.ids[row, : min(k, self.length[row])]


class MatchEngine:
    """Prepared matching state for a set of initiatives; see the module docstring."""

    _items: list[MatchItem | None]  # by row; None where an item was removed
    _row: dict[Hashable, int]
    _facts: list[ItemFacts]
    _tech_idf: dict[str, float]
    _edges: dict[int, dict[int, float]]  # direct scores of candidate pairs, both directions
    _semantic_nbrs: _Neighbours
    _lexical_nbrs: _Neighbours

    def __init__(
        self,
        *,
        neighbours: int = DEFAULT_NEIGHBOURS,
        min_score: float | None = None,
        min_standout: float | None = None,
        scorer: Scorer | None = None,
        model: MatchModel | None | Literal["shipped"] = "shipped",
        space: SemanticSpace | None | Literal["model"] = "model",
        block_size: int = 512,
    ) -> None:
        """`model` scores and types pairs (the shipped `search/matching/match_model.json` by default; None for the
        documented weights and type rules); an explicit `scorer` (learned from decisions) scores instead.
        `min_score` defaults to the model's threshold, else DEFAULT_MIN_SCORE; the standout rule
        (`min_standout`) applies only to the documented weights. Vectors are compared in `space`
        (`search/matching/space.py`), by default the model's, the one its features were fitted in."""
        if neighbours < 1:
            raise ValueError("neighbours must be at least 1")
        self.neighbours = neighbours
        self._shipped = load_match_model() if model == "shipped" else model
        self._space = (self._shipped.space if self._shipped is not None else None) if space == "model" else space
        self._explicit = (scorer, min_score, min_standout)
        self._use_model(True)
        self.block_size = block_size
        self._pending: tuple[Future[_Neighbours], Future[_Neighbours]] | None = None
        self._reset()

    def _use_model(self, with_vectors: bool) -> None:
        """Score with the fitted model when there is one and the corpus has vectors: it was fitted with
        embeddings, so with the encoder off (no vectors) the documented weights and type rules apply."""
        scorer, min_score, min_standout = self._explicit
        self.model: MatchModel | None = self._shipped if with_vectors else None
        fitted = self.model is not None and scorer is None
        self.scorer: Scorer = scorer or self.model or ScoreWeights()
        self.min_score = (
            min_score
            if min_score is not None
            else (self.model.threshold if fitted and self.model is not None else DEFAULT_MIN_SCORE)
        )
        self.min_standout = min_standout if min_standout is not None else (math.inf if fitted else DEFAULT_MIN_STANDOUT)

    # -- public API ------------------------------------------------------------------------------

    @property
    def items(self) -> dict[Hashable, MatchItem]:
        return {item.id: item for item in self._items if item is not None}

    def prepare(self, items: Iterable[MatchItem]) -> None:
        """Load `items` from scratch: vectors, vocabulary and IDF, semantic calibration; the neighbour
        lists are computed in the background, for the `match_all` or `load` that follows."""
        self._reset()
        items = list(items)
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        self._items = list[MatchItem | None](items)
        self._row = {item.id: row for row, item in enumerate(items)}
        self._province = np.array([self._province_code(item.province) for item in items], dtype=np.int64)
        self._vectors, self._has_vector = self._stack_vectors(items)
        self._use_model(bool(self._has_vector.any()) or not items)
        # Before the background starts: each leaning is a small BLAS product, and a BLAS call waits for
        # the one running in another thread (the neighbour lists' products kept these 20,000 waiting).
        leanings = [self._leaning(item) for item in items]
        # The neighbour lists are computed in the background while the text and the facts are read here
        # (numpy, BLAS and scipy release the GIL); `_build_neighbours` takes them.
        background = ThreadPoolExecutor(max_workers=2)
        semantic = background.submit(self._neighbour_lists, self._semantic_block)
        self._fit_text(items)
        lexical = background.submit(self._lexical_lists)
        background.shutdown(wait=False)
        self._pending = (semantic, lexical)
        self._facts = [self._item_facts(item, leaning) for item, leaning in zip(items, leanings)]
        self._tech_idf = technology_idf([f.technologies for f in self._facts])
        self._default_idf = math.log(1 + len(items)) + 1.0
        self._semantic_floor = self._calibrate_semantic()
        rng = np.random.default_rng(0)
        self._reference = np.sort(rng.choice(len(items), size=min(BACKGROUND_SIZE, len(items)), replace=False))
        self._neighbours_built = False

    def match_all(self, items: Iterable[MatchItem] | None = None) -> list[Match]:
        """Every suggested pair (score >= min_score), best first, from freshly computed neighbour lists.

        With `items`, prepare them first (new vocabulary, IDF and calibration); without, the
        current items are rematched on the prepared vocabulary.
        """
        if items is not None:
            self.prepare(items)
        self._build_neighbours()
        n = len(self._items)
        k = self.neighbours
        pairs: list[np.ndarray] = []
        for nbrs in (self._semantic_nbrs, self._lexical_nbrs):
            width = min(k, nbrs.ids.shape[1])
            cols = nbrs.ids[:, :width].reshape(-1)
            rows = np.repeat(np.arange(n, dtype=np.int64), width)
            keep = cols >= 0
            pairs.append(np.stack([rows[keep], cols[keep]], axis=1))
        a_rows, b_rows = self._canonical(np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64))
        features = self._direct_features(a_rows, b_rows)
        self._edges = {}
        self._set_edges(a_rows, b_rows, DIRECT_WEIGHTS.direct(features))
        self._measure_backgrounds(np.arange(n, dtype=np.int64))
        return self._finish(a_rows, b_rows, features, self.min_score)

    def load(self, items: Iterable[MatchItem]) -> None:
        """Prepare `items` and everything `match_one` needs (neighbour lists, the graph of direct scores,
        backgrounds) without scoring and explaining every pair: for a process whose suggestions are
        already stored (a server start), which then only rematches what changed."""
        self.prepare(items)
        self._build_neighbours()
        n = len(self._items)
        pairs: list[np.ndarray] = []
        for nbrs in (self._semantic_nbrs, self._lexical_nbrs):
            width = min(self.neighbours, nbrs.ids.shape[1])
            cols = nbrs.ids[:, :width].reshape(-1)
            rows = np.repeat(np.arange(n, dtype=np.int64), width)
            keep = cols >= 0
            pairs.append(np.stack([rows[keep], cols[keep]], axis=1))
        a_rows, b_rows = self._canonical(np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64))
        self._edges = {}
        self._set_edges(a_rows, b_rows, DIRECT_WEIGHTS.direct(self._direct_features(a_rows, b_rows)))
        self._measure_backgrounds(np.arange(n, dtype=np.int64))

    def match_one(self, item: MatchItem) -> list[Match]:
        """Add or replace `item` and return its suggested pairs, best first."""
        if not self._neighbours_built:
            self.match_all()
        row = self._upsert(item)
        partners, moved = self._refresh_neighbours(row)
        self._drop_edges(row)
        a_rows, b_rows = self._canonical(np.stack([np.full(len(partners), row, dtype=np.int64), partners], axis=1))
        features = self._direct_features(a_rows, b_rows)
        self._set_edges(a_rows, b_rows, DIRECT_WEIGHTS.direct(features))
        self._repair_edges(moved)
        self._refresh_backgrounds(row)
        return self._finish(a_rows, b_rows, features, self.min_score)

    def remove(self, item_id: Hashable) -> None:
        """Forget an initiative (archived or deleted): it leaves every neighbour list and the graph."""
        if item_id not in self._row:
            return
        if not self._neighbours_built:
            self.match_all()
        row = self._row.pop(item_id)
        self._items[row] = None
        self._province[row] = -1
        self._vectors[row] = 0.0
        self._has_vector[row] = False
        empty = sparse.csr_matrix((1, self._index.shape[1]))
        self._set_tfidf_row(row, (empty, empty))
        _, moved = self._refresh_neighbours(row)
        self._drop_edges(row)
        self._repair_edges(moved)
        self._refresh_backgrounds(row)

    def score_pair(self, a_id: Hashable, b_id: Hashable) -> Match:
        """The match record for any two initiatives of different provinces, candidate or not."""
        a, b = self._row[a_id], self._row[b_id]
        if self._province[a] == self._province[b]:
            raise ValueError("initiatives of the same province are never matched")
        a_rows, b_rows = self._canonical(np.array([[a, b]], dtype=np.int64))
        return self._finish(a_rows, b_rows, self._direct_features(a_rows, b_rows), -1.0)[0]

    def learn(self, decisions: Iterable[Decision]) -> LearningReport:
        """Score with a model fitted on coordinators' decisions when there are enough, else the weights."""
        scorer, report = learn_scorer(decisions)
        self._explicit = (scorer, *self._explicit[1:])
        self._use_model(bool(self._has_vector.any()) or not len(self._has_vector))
        return report

    # -- state -----------------------------------------------------------------------------------

    def _reset(self) -> None:
        if self._pending is not None:  # lists of the previous items, still being computed: let them finish
            wait(self._pending)
            self._pending = None
        self._items = []
        self._row = {}
        self._facts = []
        self._province_codes: dict[str, int] = {}
        self._province = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._has_vector = np.zeros(0, dtype=bool)
        self._analyzer = TermAnalyzer(PROVINCE_WORDS)
        self._term_weights: TermWeights | None = None
        # Distinctive terms per row (sorted term ids, weights), for the lexical feature and reasons: a
        # list, so that replacing one row costs nothing; `_tfidf` stacks them for full runs.
        self._term_rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._tfidf_stacked: sparse.csr_matrix | None = None
        self._index = sparse.csr_matrix((0, 0))  # fewer, heavier terms, for finding lexical neighbours
        self._tech_idf = {}
        self._default_idf = 1.0
        self._semantic_floor = 0.0
        self._prior: SpaceBackground | None = None  # the space's background, when vectors are in it
        self._reference = np.zeros(0, dtype=np.int64)
        self._background = np.zeros((0, 2))  # per row: mean and spread of its scores with the reference rows
        self._neighbours_built = False
        self._edges = {}
        width = self.neighbours + _NEIGHBOUR_MARGIN
        self._semantic_nbrs = _Neighbours.empty(0, width)
        self._lexical_nbrs = _Neighbours.empty(0, width)

    def _province_code(self, province: str) -> int:
        return self._province_codes.setdefault(province, len(self._province_codes))

    def _item_facts(self, item: MatchItem, leaning: tuple[float, float, float] | None = None) -> ItemFacts:
        """The facts of `item`; its `leaning` when the caller has it."""
        code = self._province_code(item.province)
        technologies = frozenset(map(tag_key, item.technologies))
        text = f"{item.title}\n{item.summary}\n{item.body}"
        words, buying = words_and_buying(text)
        return ItemFacts(
            province=code,
            phase=item.phase,
            themes=frozenset(map(tag_key, item.themes)),
            technologies=technologies,
            suppliers=frozenset(map(tag_key, item.suppliers)),
            categories=item_categories(item.technologies, item.title, item.summary),
            plans=bool(item.seeks_partners or item.tender_date is not None),
            start=interval_days(item.start_date),
            end=interval_days(item.end_date),
            tender=interval_days(item.tender_date),
            buying=buying,
            words=words,
            english=reads_as_english(f"{item.title}\n{item.summary}"),
            leaning=self._leaning(item) if leaning is None else leaning,
        )

    def _leaning(self, item: MatchItem) -> tuple[float, float, float]:
        """What the model's item classifier reads in the item's text; only vectors of the encoder the
        model was fitted with (those compared in its space) can be read."""
        if self.model is None:
            return NEUTRAL_LEANING
        readable = self.model.space is not None and self._space is self.model.space
        return self.model.leaning(item.vector if readable else None)

    def _stack_vectors(self, items: Sequence[MatchItem]) -> tuple[np.ndarray, np.ndarray]:
        dims = {len(item.vector) for item in items if item.vector is not None}
        if len(dims) > 1:
            raise ValueError(f"vectors of different dimensions: {sorted(dims)}")
        d = dims.pop() if dims else 1
        matrix = np.zeros((len(items), d), dtype=np.float32)
        for row, item in enumerate(items):
            if item.vector is not None:
                matrix[row] = self._checked(item.vector, d)
        matrix = self._in_space(matrix)
        has = np.linalg.norm(matrix, axis=1) > 0
        space = self._space
        self._prior = space.background if space is not None and d == space.dimensions else None
        return matrix, has

    @staticmethod
    def _checked(vector: Sequence[float] | np.ndarray, d: int) -> np.ndarray:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape[0] != d:
            raise ValueError(f"vector has {array.shape[0]} dimensions, the engine has {d}")
        return array

    def _in_space(self, matrix: np.ndarray) -> np.ndarray:
        """Unit rows, in the shipped model's semantic space when it has one for these vectors (see
        `search/matching/space.py`); a zero row (no vector) stays zero."""
        space = self._space
        if space is not None and matrix.shape[1] == space.dimensions:
            present = np.linalg.norm(matrix, axis=1) > 0
            out = np.zeros_like(matrix)
            out[present] = space.apply(matrix[present])
            return out
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return np.asarray(np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0))

    def _unit(self, vector: Sequence[float] | np.ndarray | None, d: int) -> np.ndarray | None:
        if vector is None:
            return None
        unit = self._in_space(self._checked(vector, d)[None, :])[0]
        return unit if unit.any() else None

    def _fit_text(self, items: Sequence[MatchItem]) -> None:
        counts, terms = self._analyzer.count_corpus([(item.title, item.summary, item.body) for item in items])
        max_df = MAX_DOCUMENT_SHARE if len(items) >= _MIN_ITEMS_FOR_DF_CUT else 1.0
        try:
            self._term_weights, raw = TermWeights.fit_counts(counts, terms, max_df)
        except ValueError:  # no terms at all
            self._term_weights = None
            self._index = sparse.csr_matrix((len(items), 1))
            self._term_rows = [_row_arrays(self._index, r) for r in range(len(items))]
            self._tfidf_stacked = None
            return
        self._terms = self._term_weights.terms
        features = _distinctive(raw, TERMS_PER_ITEM)
        self._term_rows = [_row_arrays(features, r) for r in range(features.shape[0])]
        self._tfidf_stacked = features
        self._index = _distinctive(raw, INDEX_TERMS_PER_ITEM)

    def _transform(self, item: MatchItem) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """(feature row, index row) of the text of `item`."""
        if self._term_weights is None:
            empty = sparse.csr_matrix((1, self._index.shape[1]))
            return empty, empty
        doc = self._analyzer.with_parts(self._analyzer.analyze(item.title, item.summary, item.body))
        raw = self._term_weights.transform([doc])
        return _distinctive(raw, TERMS_PER_ITEM), _distinctive(raw, INDEX_TERMS_PER_ITEM)

    def _set_tfidf_row(self, row: int, rows: tuple[sparse.csr_matrix, sparse.csr_matrix]) -> None:
        if row == len(self._term_rows):
            self._term_rows.append(_row_arrays(rows[0], 0))
        else:
            self._term_rows[row] = _row_arrays(rows[0], 0)
        self._tfidf_stacked = None
        self._index = _replace_row(self._index, row, rows[1])

    def _calibrate_semantic(self) -> float:
        """Median cosine of random cross-province pairs: the 0 of the semantic feature."""
        rows = np.flatnonzero(self._has_vector)
        if len(rows) < 2:
            return 0.0
        rng = np.random.default_rng(0)
        a = rng.choice(rows, size=min(5000, len(rows) * 4))
        b = rng.choice(rows, size=len(a))
        keep = self._province[a] != self._province[b]
        if not keep.any():
            return 0.0
        cos = np.einsum("ij,ij->i", self._vectors[a[keep]], self._vectors[b[keep]])
        median = float(np.median(cos))
        if self._prior is not None:  # a few initiatives' pairs are no sample of unrelated ones
            weight = min(1.0, len(rows) / _FULL_CROWD)
            median = weight * median + (1.0 - weight) * self._prior.mean
        return float(min(median, 0.99))

    def _upsert(self, item: MatchItem) -> int:
        if not self._items and self._term_weights is None:
            self.prepare([item])
            self._build_neighbours()
            return 0
        row = self._row.get(item.id)
        if row is None:
            row = len(self._items)
            self._items.append(item)
            self._row[item.id] = row
            self._facts.append(self._item_facts(item))
            self._province = np.append(self._province, self._facts[row].province)
            self._vectors = np.vstack([self._vectors, np.zeros((1, self._vectors.shape[1]), dtype=np.float32)])
            self._has_vector = np.append(self._has_vector, False)
            self._semantic_nbrs.grow(row + 1)
            self._lexical_nbrs.grow(row + 1)
        else:
            self._items[row] = item
            self._facts[row] = self._item_facts(item)
            self._province[row] = self._facts[row].province
        unit = self._unit(item.vector, self._vectors.shape[1])
        self._vectors[row] = unit if unit is not None else 0.0
        self._has_vector[row] = unit is not None
        self._set_tfidf_row(row, self._transform(item))
        return row

    # -- neighbours ------------------------------------------------------------------------------

    def _mask(self, rows: np.ndarray, sims: np.ndarray) -> None:
        """Set -inf where a row may not be matched: same province (itself included) or removed."""
        province = self._province
        block_province = province[rows]
        for code in np.unique(block_province).tolist():
            members = np.flatnonzero(block_province == code)
            columns = self._province_rows(code)
            sims[np.ix_(members, columns)] = -np.inf
        dead = self._province_rows(-1)
        if len(dead):
            sims[:, dead] = -np.inf

    def _province_rows(self, code: int) -> np.ndarray:
        return np.flatnonzero(self._province == code)

    def _semantic_block(self, rows: np.ndarray) -> np.ndarray:
        sims: np.ndarray = self._vectors[rows] @ self._vectors.T
        self._mask(rows, sims)
        if not self._has_vector.all():
            sims[:, ~self._has_vector] = -np.inf
            sims[~self._has_vector[rows]] = -np.inf
        return sims

    def _lexical_block(self, rows: np.ndarray, transposed: sparse.csr_matrix | None = None) -> np.ndarray:
        """Index-term cosines of `rows` with every row, -inf where nothing is shared. With `transposed` (the
        index transposed, for the blocks of a full run) 0 instead, which `_lexical_lists` leaves out as it
        does -inf: writing -inf over most of the block cost more than finding the lists in it."""
        if transposed is None:
            sims = np.asarray(self._index @ self._index[rows].toarray().T, dtype=np.float32).T.copy()
            sims[sims <= 0] = -np.inf
        else:
            product = sparse.csr_matrix(self._index[rows] @ transposed)
            product.data = product.data.astype(np.float32)
            sims = product.toarray()
        self._mask(rows, sims)
        return sims

    def _build_neighbours(self) -> None:
        """Fresh neighbour lists: those `prepare` computed in the background, else computed now."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._semantic_nbrs, self._lexical_nbrs = pending[0].result(), pending[1].result()
        else:
            self._semantic_nbrs, self._lexical_nbrs = self._neighbour_lists(self._semantic_block), self._lexical_lists()
        self._neighbours_built = True

    def _lexical_lists(self) -> _Neighbours:
        """The lexical lists from dense blocks of the sparse products, where only positive values count:
        the same lists as from blocks with -inf wherever nothing is shared, without writing them."""
        transposed = self._index.T.tocsr()
        return self._neighbour_lists(lambda rows: self._lexical_block(rows, transposed), _SMALLEST_POSITIVE)

    def _neighbour_lists(self, block: Callable[[np.ndarray], np.ndarray], least: float | None = None) -> _Neighbours:
        """Every row's list from `block` (the similarities of some rows with all; values below `least`
        count as -inf), blocks side by side in threads: each fills its own rows, and numpy, BLAS and
        scipy's sparse products release the GIL."""
        n = len(self._items)
        nbrs = _Neighbours.empty(n, self.neighbours + _NEIGHBOUR_MARGIN)

        def fill(start: int) -> None:
            rows = np.arange(start, min(n, start + self.block_size))
            nbrs.set_block(rows, block(rows), least)

        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            list(pool.map(fill, range(0, n, self.block_size)))
        return nbrs

    def _refresh_neighbours(self, row: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """After row `row` changed: recompute its lists and move it in everyone else's.

        Returns its partners (the rows it is now a candidate pair with) and the
        pairs of *other* rows that entered or left a top-`neighbours` list as a
        side effect, whose candidacy must be checked again.
        """
        partners: list[np.ndarray] = []
        moved: list[tuple[int, int]] = []
        rows = np.array([row])
        for nbrs, block in ((self._semantic_nbrs, self._semantic_block), (self._lexical_nbrs, self._lexical_block)):
            sims = block(rows)[0]
            nbrs.set_row(row, sims)
            partners.append(nbrs.top(row, self.neighbours))
            partners.append(self._move_in_lists(nbrs, row, sims, block, moved))
        if self._province[row] < 0:
            return np.zeros(0, dtype=np.int64), moved
        return np.unique(np.concatenate(partners)).astype(np.int64), moved

    def _move_in_lists(
        self,
        nbrs: _Neighbours,
        row: int,
        sims: np.ndarray,
        block: Callable[[np.ndarray], np.ndarray],
        moved: list[tuple[int, int]],
    ) -> np.ndarray:
        """Put `row` at its new place in every other list; the rows whose top `neighbours` now hold it."""
        k = self.neighbours
        width = nbrs.ids.shape[1]
        holds = (nbrs.ids == row).any(axis=1)
        last = np.where(
            nbrs.length > 0, nbrs.sims[np.arange(len(nbrs.length)), np.maximum(nbrs.length - 1, 0)], -np.inf
        )
        valid = sims > -np.inf
        affected = np.flatnonzero(holds | (valid & ((sims > last) | nbrs.complete)))
        entered: list[int] = []
        for other in affected.tolist():
            if other == row:
                continue
            before = set(nbrs.top(other, k).tolist())
            length = int(nbrs.length[other])
            ids = nbrs.ids[other, :length]
            values = nbrs.sims[other, :length]
            if holds[other]:
                keep = ids != row
                ids, values = ids[keep], values[keep]
            if valid[other]:
                value = sims[other]
                # An incomplete list is an exact prefix: `row` may only enter it above its last entry.
                if nbrs.complete[other] or (len(ids) and value > values[-1]):
                    at = _position(ids, values, row, value)
                    ids = np.insert(ids, at, row)
                    values = np.insert(values, at, value)
                    if len(ids) > width:
                        ids, values = ids[:width], values[:width]
                        nbrs.complete[other] = False
            if len(ids) <= k and not nbrs.complete[other]:
                nbrs.set_row(other, block(np.array([other]))[0])
            else:
                nbrs.ids[other] = -1
                nbrs.sims[other] = -np.inf
                nbrs.ids[other, : len(ids)] = ids
                nbrs.sims[other, : len(ids)] = values
                nbrs.length[other] = len(ids)
            after = set(nbrs.top(other, k).tolist())
            moved.extend((other, c) for c in (before ^ after) - {row})
            if row in after:
                entered.append(other)
        return np.array(entered, dtype=np.int64)

    def _is_candidate(self, a: int, b: int) -> bool:
        k = self.neighbours
        return any(b in nbrs.top(a, k) or a in nbrs.top(b, k) for nbrs in (self._semantic_nbrs, self._lexical_nbrs))

    # -- the graph of direct scores --------------------------------------------------------------

    def _set_edges(self, a_rows: np.ndarray, b_rows: np.ndarray, direct: np.ndarray) -> None:
        edges = self._edges
        for a, b, value in zip(a_rows.tolist(), b_rows.tolist(), direct.tolist()):
            if value >= CORROBORATION_FLOOR:
                edges.setdefault(a, {})[b] = value
                edges.setdefault(b, {})[a] = value
            else:
                edges.get(a, {}).pop(b, None)
                edges.get(b, {}).pop(a, None)

    def _drop_edges(self, row: int) -> None:
        for other in self._edges.pop(row, {}):
            self._edges.get(other, {}).pop(row, None)

    def _repair_edges(self, moved: Iterable[tuple[int, int]]) -> None:
        """Pairs whose candidacy may have changed: add or drop their edge as a full run would."""
        add: set[tuple[int, int]] = set()
        for a, b in moved:
            if self._province[a] < 0 or self._province[b] < 0:
                continue
            if self._is_candidate(a, b):
                add.add((min(a, b), max(a, b)))
            else:
                self._edges.get(a, {}).pop(b, None)
                self._edges.get(b, {}).pop(a, None)
        if add:
            pairs = np.array(sorted(add), dtype=np.int64)
            features = self._direct_features(pairs[:, 0], pairs[:, 1])
            self._set_edges(pairs[:, 0], pairs[:, 1], DIRECT_WEIGHTS.direct(features))

    def _witnesses(self, a_rows: np.ndarray, b_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`_witness` of each pair; for many pairs at once from a sparse matrix of the graph: the
        strongest of the elementwise minima of the two rows, of equally strong ones the lowest row."""
        if len(a_rows) < _STACK_FOR_PAIRS:
            found = [self._witness(a, b) for a, b in zip(a_rows.tolist(), b_rows.tolist())]
            return np.array([f[0] for f in found]), np.array([f[1] for f in found], dtype=np.int64)
        graph = self._graph()
        shared = sparse.csr_matrix(graph[a_rows].minimum(graph[b_rows]))  # no edge to itself: a and b drop out
        shared.sort_indices()
        strength = np.zeros(len(a_rows))
        witness = np.full(len(a_rows), -1, dtype=np.int64)
        counts = np.diff(shared.indptr)
        pairs = np.flatnonzero(counts)
        if len(pairs):
            strength[pairs] = np.maximum.reduceat(shared.data, shared.indptr[pairs])
            owner = np.repeat(np.arange(len(a_rows)), counts)
            hits = np.flatnonzero(shared.data == strength[owner])
            first_pairs, first = np.unique(owner[hits], return_index=True)
            witness[first_pairs] = shared.indices[hits[first]]
        return strength, witness

    def _graph(self) -> sparse.csr_matrix:
        """The graph of direct scores as a symmetric sparse matrix."""
        n = len(self._items)
        rows = np.repeat(
            np.fromiter(self._edges, dtype=np.int64), np.fromiter(map(len, self._edges.values()), np.int64)
        )
        cols = np.fromiter(chain.from_iterable(self._edges.values()), dtype=np.int64)
        values = np.fromiter(chain.from_iterable(row.values() for row in self._edges.values()), dtype=np.float64)
        return sparse.csr_matrix((values, (rows, cols)), shape=(n, n))

    def _witness(self, a: int, b: int) -> tuple[float, int]:
        """(corroboration, the row that gives it, or -1) of the pair (a, b)."""
        edges_a, edges_b = self._edges.get(a), self._edges.get(b)
        if not edges_a or not edges_b:
            return 0.0, -1
        if len(edges_b) < len(edges_a):
            edges_a, edges_b = edges_b, edges_a
        best, witness = 0.0, -1
        for c, value in edges_a.items():
            other = edges_b.get(c)
            if other is not None and c != a and c != b:
                strength = value if value < other else other
                if strength > best or (strength == best and witness >= 0 and c < witness):
                    best, witness = strength, c
        return best, witness

    # -- backgrounds -----------------------------------------------------------------------------

    def _own_scores(self, features: np.ndarray) -> np.ndarray:
        """The scorer's score from a pair's own features, corroboration left out."""
        own = features.copy()
        own[:, FEATURES.index(CORROBORATION)] = 0.0
        return self.scorer.score(own) if len(own) else np.zeros(0)

    def _measure_backgrounds(self, rows: np.ndarray) -> None:
        """Mean and spread of each row's own scores with the reference rows of other provinces."""
        n = len(self._items)
        if len(self._background) < n:
            self._background = np.vstack(
                [self._background, np.tile([0.0, _MIN_SPREAD], (n - len(self._background), 1))]
            )
        reference = self._reference[self._province[self._reference] >= 0]
        blocks = [rows[start : start + 2048] for start in range(0, len(rows), 2048)]
        if len(blocks) == 1:
            self._measure_block(blocks[0], reference)
            return
        self._tfidf  # noqa: B018 - stacked once here, not by each thread
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            list(pool.map(self._measure_block, blocks, [reference] * len(blocks)))

    def _measure_block(self, block: np.ndarray, reference: np.ndarray) -> None:
        a = np.repeat(block, len(reference))
        b = np.tile(reference, len(block))
        keep = (self._province[a] != self._province[b]) & (self._province[a] >= 0)
        sums = np.zeros(len(block))
        squares = np.zeros(len(block))
        counts = np.zeros(len(block))
        if keep.any():
            cosine = self._cosines(block, reference).reshape(-1)[keep]
            lexical = self._lexical_with(block, reference).reshape(-1)[keep] if keep.sum() >= _STACK_FOR_PAIRS else None
            scores = self._own_scores(self._direct_features(a[keep], b[keep], cosine, lexical))
            slot = np.repeat(np.arange(len(block)), len(reference))[keep]
            np.add.at(sums, slot, scores)
            np.add.at(squares, slot, scores**2)
            np.add.at(counts, slot, 1.0)
        mean = np.divide(sums, counts, out=np.zeros(len(block)), where=counts > 0)
        variance = np.divide(squares, counts, out=np.zeros(len(block)), where=counts > 0) - mean**2
        self._background[block, 0] = mean
        self._background[block, 1] = np.maximum(np.sqrt(np.maximum(variance, 0.0)), _MIN_SPREAD)

    def _refresh_backgrounds(self, row: int) -> None:
        """After `row` changed: its own background, and everyone's when it is a reference row."""
        if (self._reference == row).any():
            self._measure_backgrounds(np.arange(len(self._items), dtype=np.int64))
        else:
            self._measure_backgrounds(np.array([row], dtype=np.int64))

    def _standout(self, a_rows: np.ndarray, b_rows: np.ndarray, features: np.ndarray) -> np.ndarray:
        if len(self._background) < len(self._items):  # prepared, never matched
            self._measure_backgrounds(np.arange(len(self._background), len(self._items), dtype=np.int64))
        own = self._own_scores(features)
        background = self._background
        za = (own - background[a_rows, 0]) / background[a_rows, 1]
        zb = (own - background[b_rows, 0]) / background[b_rows, 1]
        return np.asarray((za + zb) / 2.0)

    # -- scoring ---------------------------------------------------------------------------------

    def _canonical(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Deduplicated (a_rows, b_rows), a < b, both alive and in different provinces."""
        if not len(pairs):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        base = len(self._items) + 1
        lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        keys = np.sort(lo * base + hi)  # np.unique's hashing took 1 s for the 760,000 keys of a full run
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
        a_rows, b_rows = keys // base, keys % base
        alive = (self._province[a_rows] >= 0) & (self._province[b_rows] >= 0)
        alive &= self._province[a_rows] != self._province[b_rows]
        return a_rows[alive], b_rows[alive]

    def _direct_features(
        self,
        a_rows: np.ndarray,
        b_rows: np.ndarray,
        cosine: np.ndarray | None = None,
        lexical: np.ndarray | None = None,
    ) -> np.ndarray:
        """The pairs' FEATURES (corroboration left 0); `cosine` and `lexical` when the caller has them."""
        if cosine is None:
            cosine = self._pair_cosine(a_rows, b_rows)
        floor = self._semantic_floor
        semantic = (cosine - floor) / (1.0 - floor)
        if lexical is None:
            lexical = self._pair_lexical(a_rows, b_rows)
        z, gap = self._relative_semantic(a_rows, b_rows, cosine)
        return pair_features(
            self._facts,
            a_rows,
            b_rows,
            semantic,
            lexical,
            self._tech_idf,
            self._default_idf,
            semantic_z=z,
            semantic_gap=gap,
            crowd=self._crowd(a_rows, b_rows),
        )

    def _crowd(self, a_rows: np.ndarray, b_rows: np.ndarray) -> np.ndarray:
        """Per pair, the mean number of initiatives with a vector in other provinces than each side's:
        how many the relative features of each side were measured among."""
        live = (self._province >= 0) & self._has_vector
        codes = self._province[live]
        per_province = np.bincount(codes, minlength=int(self._province.max(initial=0)) + 1)
        others = float(live.sum()) - per_province[np.maximum(self._province, 0)]
        return np.asarray((others[a_rows] + others[b_rows]) / 2.0, dtype=np.float64)

    def _relative_semantic(
        self, a_rows: np.ndarray, b_rows: np.ndarray, cosine: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per pair, in standard deviations of both sides' backgrounds (cosines with the reference rows):
        how far its cosine lies above those backgrounds (z), and above each side's own nearest
        neighbours of other provinces (gap: the mean of its top `LOCAL_NEIGHBOURS` cosines).

        z says "closer than usual", gap says "closer than this initiative's other best partners": in a
        large corpus every initiative has some neighbour far above the background by chance, but a
        true twin also stands above the initiative's other near neighbours. Both are computed afresh
        from the vectors and the neighbour lists, so an incremental update leaves nothing stale.
        """
        if not len(a_rows):
            return np.zeros(0), np.zeros(0)
        rows, inverse = np.unique(np.concatenate([a_rows, b_rows]), return_inverse=True)
        reference = self._reference[(self._province[self._reference] >= 0) & self._has_vector[self._reference]]
        mean = np.zeros(len(rows))
        spread = np.full(len(rows), _MIN_SPREAD)
        if len(reference):
            sims = self._vectors[rows] @ self._vectors[reference].T
            valid = self._province[rows][:, None] != self._province[reference][None, :]
            counts = valid.sum(axis=1)
            has = counts > 0
            mean[has] = np.where(valid, sims, 0.0).sum(axis=1)[has] / counts[has]
            squares = np.where(valid, sims**2, 0.0).sum(axis=1)
            variance = np.divide(squares, counts, out=np.zeros(len(rows)), where=has) - mean**2
            spread = np.maximum(np.sqrt(np.maximum(variance, 0.0)), _MIN_SPREAD)
            if self._prior is not None:
                mean, spread = self._with_prior(counts, mean, spread)
        elif self._prior is not None:
            mean, spread = self._with_prior(np.zeros(len(rows)), mean, spread)
        local = mean.copy()
        nbrs = self._semantic_nbrs
        if len(nbrs.length) >= len(self._items):
            top = nbrs.sims[rows, :LOCAL_NEIGHBOURS]
            finite = np.isfinite(top)
            count = finite.sum(axis=1)
            local = np.where(count > 0, np.where(finite, top, 0.0).sum(axis=1) / np.maximum(count, 1), mean)
        a, b = inverse[: len(a_rows)], inverse[len(a_rows) :]
        z = ((cosine - mean[a]) / spread[a] + (cosine - mean[b]) / spread[b]) / 2.0
        gap = ((cosine - local[a]) / spread[a] + (cosine - local[b]) / spread[b]) / 2.0
        return np.where(np.isfinite(z), z, 0.0), np.where(np.isfinite(gap), gap, -10.0)

    def _with_prior(self, counts: np.ndarray, mean: np.ndarray, spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Measured backgrounds (from `counts` reference initiatives each) blended with the space's."""
        assert self._prior is not None
        weight = np.minimum(1.0, counts / _MIN_BACKGROUND)
        blended = weight * mean + (1.0 - weight) * self._prior.mean
        variance = weight * spread**2 + (1.0 - weight) * self._prior.spread**2
        return blended, np.maximum(np.sqrt(variance), _MIN_SPREAD)

    def _finish(self, a_rows: np.ndarray, b_rows: np.ndarray, features: np.ndarray, threshold: float) -> list[Match]:
        """Add corroboration, score, keep score >= threshold and build the matches, best first."""
        features[:, FEATURES.index(CORROBORATION)], witnesses = self._witnesses(a_rows, b_rows)
        scores = self.scorer.score(features) if len(features) else np.zeros(0)
        standout = self._standout(a_rows, b_rows, features) if len(features) else np.zeros(0)
        chosen = np.flatnonzero((scores >= threshold) | (standout >= self.min_standout))
        chosen = chosen[np.lexsort((b_rows[chosen], a_rows[chosen], -scores[chosen]))]
        contributions = self.scorer.contributions(features[chosen]) if len(chosen) else np.zeros((0, len(FEATURES)))
        shared = self._shared_terms_of(a_rows[chosen], b_rows[chosen])
        named = [{name: round(value, 4) for name, value in zip(FEATURES, row)} for row in features[chosen].tolist()]
        kinds = self._types(a_rows[chosen], b_rows[chosen], named)
        return [
            self._match(
                int(a_rows[i]),
                int(b_rows[i]),
                float(scores[i]),
                named[j],
                kinds[j],
                contributions[j],
                int(witnesses[i]),
                float(standout[i]),
                shared[j],
            )
            for j, i in enumerate(chosen.tolist())
        ]

    def _types(self, a_rows: np.ndarray, b_rows: np.ndarray, named: Sequence[dict[str, float]]) -> list[MatchType]:
        """The type of each pair (its features rounded as `Match.features`), by the model for all at once
        (`MatchModel.types_of`) or by the rules. Both are symmetric in the two sides."""
        facts_a = [self._facts[a] for a in a_rows.tolist()]
        facts_b = [self._facts[b] for b in b_rows.tolist()]
        if self.model is None:
            return [match_type(fa, fb, f) for fa, fb, f in zip(facts_a, facts_b, named, strict=True)]
        allowed = [allowed_types(fa, fb, f) for fa, fb, f in zip(facts_a, facts_b, named, strict=True)]
        kinds = self.model.types_of(type_features_of_pairs(facts_a, facts_b, named), allowed)
        return [_as_match_type(kind) for kind in kinds]

    def _pair_cosine(self, a_rows: np.ndarray, b_rows: np.ndarray) -> np.ndarray:
        """Raw cosine of each pair; -inf where a side has no vector."""
        out = np.zeros(len(a_rows))
        for start in range(0, len(a_rows), _PAIRS_PER_SLICE):
            a, b = a_rows[start : start + _PAIRS_PER_SLICE], b_rows[start : start + _PAIRS_PER_SLICE]
            out[start : start + len(a)] = np.einsum("ij,ij->i", self._vectors[a], self._vectors[b])
        out[~(self._has_vector[a_rows] & self._has_vector[b_rows])] = -np.inf
        return out

    def _cosines(self, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
        """`_pair_cosine` of every row of `rows` with every row of `others` (rows x others), without
        gathering both vectors of each pair: einsum reduces over the dimensions with the same kernel."""
        out: np.ndarray = np.einsum("ij,kj->ik", self._vectors[rows], self._vectors[others]).astype(np.float64)
        out[~self._has_vector[rows]] = -np.inf
        out[:, ~self._has_vector[others]] = -np.inf
        return out

    @property
    def _tfidf(self) -> sparse.csr_matrix:
        if self._tfidf_stacked is None:
            rows = self._term_rows
            indptr = np.concatenate([[0], np.cumsum([len(cols) for cols, _ in rows])]).astype(np.int64)
            indices = np.concatenate([cols for cols, _ in rows]) if rows else np.zeros(0, dtype=np.int32)
            data = np.concatenate([vals for _, vals in rows]) if rows else np.zeros(0)
            self._tfidf_stacked = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), self._index.shape[1]))
        return self._tfidf_stacked

    def _pair_lexical(self, a_rows: np.ndarray, b_rows: np.ndarray) -> np.ndarray:
        out = np.zeros(len(a_rows))
        if len(a_rows) < _STACK_FOR_PAIRS:
            rows = self._term_rows
            for i, (a, b) in enumerate(zip(a_rows.tolist(), b_rows.tolist())):
                _, ia, ib = np.intersect1d(rows[a][0], rows[b][0], assume_unique=True, return_indices=True)
                out[i] = float(np.dot(rows[a][1][ia], rows[b][1][ib]))
            return out
        matrix = self._tfidf
        for start in range(0, len(a_rows), _PAIRS_PER_SLICE):
            a, b = a_rows[start : start + _PAIRS_PER_SLICE], b_rows[start : start + _PAIRS_PER_SLICE]
            out[start : start + len(a)] = np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1)).ravel()
        return out

    def _lexical_with(self, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
        """`_pair_lexical` of every row of `rows` with every row of `others` (rows x others, for many
        pairs), without gathering both term rows of each pair: each row's terms meet the few `others`
        that have them, and each pair's products are summed as `_pair_lexical` sums them (in term order,
        with `np.add.reduceat`)."""
        matrix = self._tfidf
        mine = sparse.csr_matrix(matrix[rows])
        mine.sort_indices()
        theirs = sparse.csr_matrix(matrix[others].T)  # term -> the `others` that have it, in order
        theirs.sort_indices()
        entry_row = np.repeat(np.arange(len(rows)), np.diff(mine.indptr))
        starts = theirs.indptr[mine.indices]
        counts = theirs.indptr[mine.indices + 1] - starts
        entry = np.repeat(np.arange(len(mine.indices)), counts)
        at = starts[entry] + np.arange(len(entry)) - np.repeat(np.cumsum(counts) - counts, counts)
        products = mine.data[entry] * theirs.data[at]
        pair = entry_row[entry] * len(others) + theirs.indices[at]
        order = np.argsort(pair, kind="stable")  # stable: a pair's products stay in term order
        pair, products = pair[order], products[order]
        out = np.zeros(len(rows) * len(others))
        if len(pair):
            first = np.flatnonzero(np.diff(pair, prepend=-1))
            out[pair[first]] = np.add.reduceat(products, first)
        return out.reshape(len(rows), len(others))

    def _shared_terms_of(self, a_rows: np.ndarray, b_rows: np.ndarray) -> list[tuple[str, ...]]:
        """Per pair, the shared distinctive terms that weigh most in its lexical feature, heaviest first
        (ties in term order), at most SHARED_TERMS_SHOWN, readable."""
        if len(a_rows) < _STACK_FOR_PAIRS:  # an incremental run: stacking every row would cost more
            return [self._shared_terms(a, b) for a, b in zip(a_rows.tolist(), b_rows.tolist())]
        matrix = self._tfidf
        products = sparse.csr_matrix(matrix[a_rows].multiply(matrix[b_rows]))
        products.sort_indices()
        display = self._analyzer.display
        shown: dict[int, str] = {}
        out: list[tuple[str, ...]] = []
        indptr, indices, data = products.indptr, products.indices, products.data
        for row in range(len(a_rows)):
            lo, hi = indptr[row], indptr[row + 1]
            if lo == hi:
                out.append(())
                continue
            order = np.argsort(-data[lo:hi], kind="stable")[:SHARED_TERMS_SHOWN]
            terms = []
            for column in indices[lo:hi][order].tolist():
                term = shown.get(column)
                if term is None:
                    term = shown[column] = display(str(self._terms[column]))
                terms.append(term)
            out.append(tuple(terms))
        return out

    def _shared_terms(self, a: int, b: int) -> tuple[str, ...]:
        cols_a, vals_a = self._term_rows[a]
        cols_b, vals_b = self._term_rows[b]
        shared, ia, ib = np.intersect1d(cols_a, cols_b, assume_unique=True, return_indices=True)
        if not len(shared):
            return ()
        order = np.argsort(-(vals_a[ia] * vals_b[ib]), kind="stable")[:SHARED_TERMS_SHOWN]
        return tuple(self._analyzer.display(str(self._terms[shared[i]])) for i in order)

    def _match(
        self,
        a: int,
        b: int,
        score: float,
        named: dict[str, float],
        kind: MatchType,
        contributions: np.ndarray,
        witness: int,
        standout: float,
        shared: tuple[str, ...],
    ) -> Match:
        item_a, item_b = self._items[a], self._items[b]
        assert item_a is not None and item_b is not None
        if _sort_key(item_b.id) < _sort_key(item_a.id):
            a, b, item_a, item_b = b, a, item_b, item_a
        witness_item = self._items[witness] if witness >= 0 else None
        reasons = build_reasons(
            item_a,
            item_b,
            (self._facts[a], self._facts[b]),
            named,
            _folded_crowd(dict(zip(FEATURES, contributions.tolist()))),
            shared,
            kind,
            witness_item,
            standout=standout if standout >= self.min_standout else None,
        )
        return Match(
            a=item_a.id,
            b=item_b.id,
            score=round(score, 4),
            type=kind,
            reasons=reasons,
            features=named,
            shared_terms=shared,
            witness=witness_item.id if witness_item else None,
            standout=round(standout, 2),
        )


def _folded_crowd(contributions: dict[str, float]) -> dict[str, float]:
    """Contributions with each crowd interaction's added to the feature it weighs (`CROWD_OF`): a reason
    speaks of the similarity, not of how many initiatives it was measured among."""
    for name, base in CROWD_OF.items():
        contributions[base] = contributions.get(base, 0.0) + contributions.pop(name, 0.0)
    return contributions


def _sort_key(value: Hashable) -> tuple[str, object]:
    return (type(value).__name__, value)


#: Columns per group whose maximum `_top_columns` reads first.
_GROUP = 16


#: The smallest positive float32: the `least` of a block where only positive values count.
_SMALLEST_POSITIVE = float(np.nextafter(np.float32(0), np.float32(1)))


def _top_columns(block: np.ndarray, width: int, least: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `block`, the columns of its `width` highest finite values of at least `least` (any
    finite value when None) ordered by (-value, column), -1 padded, and those values, -inf padded.

    The columns fall into disjoint groups (every `n / _GROUP`-th column; the few left over alone); the
    `width`-th highest group maximum is a floor that at least `width` values reach, so only the few
    values at or above it are sorted, instead of partitioning every row.
    """
    n_rows, n_cols = block.shape
    step = n_cols // _GROUP
    maxima = block[:, :step].copy()
    for k in range(1, _GROUP):
        np.maximum(maxima, block[:, k * step : (k + 1) * step], out=maxima)
    maxima = np.concatenate([maxima, block[:, _GROUP * step :]], axis=1)
    groups = maxima.shape[1]
    floor = np.full(n_rows, -np.inf, dtype=block.dtype)
    if groups > width:
        floor = np.partition(maxima, groups - width, axis=1)[:, groups - width]
    # never below `least`, never -inf: the lists hold finite values only
    floor = np.maximum(floor, np.finfo(block.dtype).min if least is None else block.dtype.type(least))
    flat = np.flatnonzero(block >= floor[:, None])
    rows, cols = flat // n_cols, flat % n_cols
    values = block[rows, cols]
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    keep = rank < width
    ids = np.full((n_rows, width), -1, dtype=np.int64)
    sims = np.full((n_rows, width), -np.inf)
    ids[rows[keep], rank[keep]] = cols[keep]
    sims[rows[keep], rank[keep]] = values[keep]
    return ids, sims


def _position(ids: np.ndarray, values: np.ndarray, row: int, value: float) -> int:
    """Where `row` goes in a list ordered by (-value, id), the order of `_Neighbours.set_block`."""
    at = int(np.searchsorted(-values, -value, side="left"))
    while at < len(ids) and values[at] == value and ids[at] < row:
        at += 1
    return at


def _row_arrays(matrix: sparse.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted column ids, values) of one row."""
    lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
    cols, vals = matrix.indices[lo:hi], matrix.data[lo:hi]
    order = np.argsort(cols, kind="stable")
    return cols[order].copy(), vals[order].astype(np.float64)


def _replace_row(matrix: sparse.csr_matrix, row: int, vector: sparse.csr_matrix) -> sparse.csr_matrix:
    """`matrix` with row `row` replaced by (or, at the end, appended as) the one-row `vector`."""
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    n = matrix.shape[0]
    lo, hi = (indptr[row], indptr[row + 1]) if row < n else (indptr[-1], indptr[-1])
    size = vector.indptr[1] - vector.indptr[0]
    new_indptr = np.concatenate([indptr[: row + 1], indptr[row + 1 :] - (hi - lo) + size])
    if row == n:
        new_indptr = np.append(indptr, indptr[-1] + size)
    new_indices = np.concatenate([indices[:lo], vector.indices, indices[hi:]])
    new_data = np.concatenate([data[:lo], vector.data, data[hi:]])
    return sparse.csr_matrix((new_data, new_indices, new_indptr), shape=(max(n, row + 1), matrix.shape[1]))


def _distinctive(raw: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Keep each row's `keep` heaviest terms and scale the row to unit length."""
    raw = raw.tocsr()
    raw.sort_indices()
    indptr, indices, data = raw.indptr, raw.indices, raw.data
    rows, cols, vals = [], [], []
    for r in range(raw.shape[0]):
        lo, hi = indptr[r], indptr[r + 1]
        if hi - lo > keep:
            top = lo + np.argpartition(-data[lo:hi], keep - 1)[:keep]
        else:
            top = np.arange(lo, hi)
        values = data[top]
        norm = float(np.sqrt((values**2).sum()))
        if norm > 0:
            rows.append(np.full(len(top), r))
            cols.append(indices[top])
            vals.append(values / norm)
    if not rows:
        return sparse.csr_matrix(raw.shape)
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=raw.shape)


__all__ = [
    "CONTEXT_FEATURES",
    "CORROBORATION_FLOOR",
    "DEFAULT_CONTEXT_WEIGHTS",
    "DEFAULT_MIN_SCORE",
    "DEFAULT_TOPIC_WEIGHTS",
    "DIRECT_WEIGHTS",
    "FEATURES",
    "MATCH_TYPES",
    "MATCH_TYPE_LABELS",
    "Match",
    "MatchEngine",
    "MatchItem",
    "MatchType",
    "ScoreWeights",
    "Scorer",
    "TOPIC_FEATURES",
    "match_type",
]
