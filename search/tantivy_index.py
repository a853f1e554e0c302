"""The embedded backend: a tantivy index in a directory, no server.

Layout of the directory::

    tantivy/       the tantivy index
    vectors.npz    embeddings, the base (see vectors.py)
    vectors.log    embeddings written since the base (see vectors.py)
    write.lock     serialises writers across processes (flock)
    VERSION        schema version; a mismatch rebuilds the index empty

Text is analysed in Python (`dutch.py`) and handed to tantivy as
space-separated terms, so index and query side cannot drift apart. Each
text is indexed three ways:

* exact:  folded words (`title`, `text`), boosted highest;
* stemmed: `dutch.stem` keys (`title_stem`, `text_stem`) for plurals;
* reversed stems (`rev`, no positions): only its term dictionary is used,
  to find compounds that *end* in a query word (fietspad → snelfietspad).

Compounds that *start* with a query word (stikstof → stikstofdepositie)
come from a prefix walk over the `text_stem` term dictionary. Typos are a
fuzzy term query on `text` (1 edit from 5 letters, 2 from 9), used only
for query words the index does not contain (as typed or as stem), so a
correctly spelled word is not diluted by its neighbours. Synonyms are
expanded at query time from `synonyms_nl.txt` (no reindex needed).

Every concept of the query must match (AND); a concept matches through
any of its variants (OR). Stop words are dropped from the query.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tantivy
from tantivy import Occur, Query

from .documents import FACET_FIELDS, SearchDocument, SearchHit, SearchQuery, SearchResults, Vector
from .dutch import Concept, Synonyms, default_synonyms, stem, stems, terms
from .fusion import FUSIONS
from .group_commit import GroupCommit
from .highlight import TermMatcher, crop, fuzzy_distance, highlight, snippet, within_distance
from .matching.space import SemanticSpace
from .text import plain_text
from .vectors import VectorStore

log = logging.getLogger(__name__)

SCHEMA_VERSION = "2"

#: Boosts per field for a term or phrase of the query.
EXACT_TITLE, STEM_TITLE, EXACT_TEXT, STEM_TEXT = 3.0, 2.0, 1.0, 0.8
#: Constant scores (no BM25) for looser matches.
COMPOUND_TITLE, COMPOUND_TEXT, FUZZY_TEXT = 1.0, 0.5, 0.3

PREFIX_MIN = 4  # shortest stem that is expanded to compounds starting with it
SUFFIX_MIN = 5  # shortest stem that is expanded to compounds ending in it
COMPOUND_MIN_EXTRA = 3  # a compound adds at least this many letters
MAX_EXPANSIONS = 64
CORRECTION_SCAN = 20_000  # indexed stems read to correct one typo (those with its first two letters)
MAX_TERM_LENGTH = 40

#: The name of the aggregation that counts the result set beside its facets (no field is called so).
_TOTAL = "__total"

#: The texts stored for highlighting, each in a `stored_<part>` field.
SOURCE_PARTS = ("title", "summary", "body")

SUMMARY_CHARS = 300
SNIPPET_CHARS = 220

#: Large enough that a write of 5000 documents is one segment (32 MB made several, then merged them).
_WRITER_HEAP = 128_000_000
_WRITER_RETRY_SECONDS = 30.0


@dataclass
class _KeywordPlan:
    """What query building found out, reused for highlighting."""

    compounds: set[str] = field(default_factory=set)
    typo_words: set[str] = field(default_factory=set)


#: The standout (`VectorStore.standouts`) a semantic neighbour must reach, and what the best neighbour
#: of a whole initiative or draft must reach; chosen on the seed's relevance queries, answerable and
#: unanswerable, for the most answerable queries at >= 90 % of the unanswerable ones finding nothing
#: (bench/relevance.py), when this was the gate for queries too.
DEFAULT_MIN_STANDOUT = 2.5
BEST_STANDOUT = 5.75
#: What a query none of whose words matched must show to be about something here: its best
#: neighbour's standout plus QUERY_MARGIN_WEIGHT times how much closer (in cosine) its nearest
#: document comes than its nearest background query. A query about a municipal errand or a hobby is
#: close to a background query; one in other words about a project is closer to that project.
#: Chosen on the four development sets' queries (bench/relevance.py --set seed/devset/devset4/devset5)
#: with the background of search/background_queries.txt: the lowest gate at which no development
#: set finds nothing for fewer of its unanswerable queries than under the gate before (6.375 with
#: the first 40 background queries).
QUERY_EVIDENCE = 4.5
QUERY_MARGIN_WEIGHT = 100.0
#: A query that found nothing but came this close (its evidence, as for QUERY_EVIDENCE) is shown its
#: RELATED_LIMIT nearest documents apart, as "Misschien verwant": paraphrases of a project often fall
#: between this and QUERY_EVIDENCE, and so do errands near a provincial task. Chosen on the four
#: development sets' queries (bench/relevance.py): the highest bar that still shows every answerable
#: query under the gate whose relevant initiative was among its three nearest (5 of 12 misses);
#: 12 of the 86 unanswerable queries then show the block too.
RELATED_EVIDENCE = 3.0
RELATED_LIMIT = 3
#: The standout a neighbour of a whole initiative or draft must reach ("Vergelijkbare initiatieven",
#: "Bestaat dit al?"): two descriptions are closer to each other than a query is to either, so the
#: same floor would let almost everything through; chosen on the seed families (bench/similar_floor.py).
SIMILAR_MIN_STANDOUT = 5.0
#: The same in the match model's semantic space (`VectorStore.space_standouts`), which `similar` uses
#: whenever the index has one for its vectors: there one purpose written in other words stands out.
#: Chosen on the development sets' distractors (bench/similar_floor.py): the lowest floor at which
#: an initiative without a twin is shown fewer than two neighbours on average in each of them.
SIMILAR_SPACE_STANDOUT = 3.0


#: How far a query's vector moves towards its best hit's before the semantic neighbours are taken
#: (Rocchio feedback): the other members of a family describe the same thing in other words, and
#: they sit closer to the best hit than to the query. Chosen on the seed's and the development set's
#: queries (recall@10 0.852 -> 0.875 and 0.708 -> 0.764, MRR -0.004 and -0.009; bench/relevance.py).
#: Only a keyword hit anchors it: moving a query without one towards its own nearest neighbour cost
#: recall@10 on three of the four development sets (devset 0.886 -> 0.872, devset4 0.790 -> 0.761,
#: devset5 0.653 -> 0.621; the seed 0.873 -> 0.881), and MRR on all four.
FEEDBACK_WEIGHT = 0.5

#: The best hits' families (`_with_family`): the other members of a family describe one purpose in
#: other words, so a query finds one of them and misses the rest. In the semantic space matching
#: compares in (`match_space.py`) they stand out next to the member that was found. So the first
#: FAMILY_ANCHORS results each bring up to FAMILY_SIZE documents that lie FAMILY_STANDOUT standard
#: deviations or more above the corpus next to them, placed after the first FAMILY_AFTER results,
#: which keep their places. Chosen on the seed, the development set and devset4 with the space of
#: the other two sets (bench/relevance.py), reported on the held-out set.
FAMILY_ANCHORS = 2
FAMILY_AFTER = 4
FAMILY_SIZE = 6
FAMILY_STANDOUT = 2.0


class TantivyIndex:
    """`SearchIndex` stored in `path`.

    `fusion` picks how hybrid search blends rankings ("rrf" or "score", see
    fusion.py). Semantic candidates are the `semantic_limit` nearest
    documents whose cosine similarity is at least `min_similarity`; once
    `set_background` gave it queries about nothing the corpus holds, also
    a standout of at least `min_standout` (`VectorStore.standouts`; for
    `similar`, `similar_min_standout`), and when no word of the query
    matched, the query must reach `QUERY_EVIDENCE` (for `similar`, the best
    neighbour `BEST_STANDOUT`). Keyword matches always
    count, so a query about nothing the platform holds finds nothing
    instead of the nearest noise, in a unit that carries over to another
    corpus or encoder. `feedback_weight` moves the query towards its best hit first (FEEDBACK_WEIGHT).
    With a `family_space` (the match model's, for the vectors it was fitted on) the best hits bring
    their families (FAMILY_ANCHORS), and `similar` compares in that space instead
    (SIMILAR_SPACE_STANDOUT).
    """

    def __init__(
        self,
        path: Path,
        *,
        synonyms: Synonyms | None = None,
        fusion: str = "rrf",
        semantic_limit: int = 100,
        min_similarity: float = 0.3,
        min_standout: float | None = DEFAULT_MIN_STANDOUT,
        similar_min_standout: float | None = SIMILAR_MIN_STANDOUT,
        feedback_weight: float = FEEDBACK_WEIGHT,
        family_space: SemanticSpace | None = None,
    ) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {sorted(FUSIONS)}")
        self.path = Path(path)
        self.synonyms = synonyms or default_synonyms()
        self.fusion = fusion
        self.semantic_limit = semantic_limit
        self.min_similarity = min_similarity
        self.min_standout = min_standout
        self.similar_min_standout = similar_min_standout
        self.feedback_weight = feedback_weight
        self._thread_lock = threading.Lock()
        self._meta_stamp: int | None = None
        self._expansion_cache: dict[str, frozenset[str]] = {}
        self._schema = _schema()
        self._vectors = VectorStore(self.path / "vectors.npz")
        self._vectors.set_space(family_space)
        self._index = self._open()
        self._index.config_reader("manual")
        self._upserts: GroupCommit[SearchDocument] = GroupCommit(self._write_upserts)

    # -- writing -------------------------------------------------------

    def upsert(self, docs: Iterable[SearchDocument]) -> None:
        """Store `docs`; threads upserting at the same time share one commit (group_commit.py)."""
        docs = list(docs)
        if not docs:
            return
        self._vectors.check_dimensions(doc.vector for doc in docs)
        self._upserts.submit(docs)

    def _write_upserts(self, docs: list[SearchDocument]) -> None:
        latest = {doc.id: doc for doc in docs}  # the last of one id wins, as in the order of the callers
        with self._writer() as writer:
            # Vectors first, then the documents with their content hashes: a crash in between leaves
            # the old hash (or no document) beside the new vector, which the next reindex sees as stale.
            # The other order left a new hash without its vector, which looked up to date for good.
            self._vectors.write({doc.id: doc.vector for doc in latest.values()})
            for doc in latest.values():
                writer.delete_documents_by_term("id", doc.id)
                writer.add_document(_to_tantivy(doc))
            writer.commit()

    def delete(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        if not ids:
            return
        with self._writer() as writer:
            # Documents first: a crash in between leaves only vectors without a document, which no
            # search returns and the next reindex removes.
            for doc_id in ids:
                writer.delete_documents_by_term("id", doc_id)
            writer.commit()
            self._vectors.write({}, deletes=ids)

    def clear(self) -> None:
        with self._writer() as writer:
            # Vectors first: a crash in between leaves documents without vectors, which reindex redoes.
            self._vectors.clear()
            writer.delete_all_documents()
            writer.commit()

    def close(self) -> None:
        """Nothing to release: writers are held only while writing."""

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        """Hold the cross-process write lock and a tantivy writer for one write."""
        with self._thread_lock, self._write_lock():
            writer = self._acquire_writer()
            try:
                yield writer
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()  # also releases tantivy's own lock
        self._index.reload()

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Exclusive across processes (and across instances in one process)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "write.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _acquire_writer(self) -> tantivy.IndexWriter:
        """Retry while a process that does not use our flock holds the writer."""
        deadline = time.monotonic() + _WRITER_RETRY_SECONDS
        while True:
            try:
                return self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
            except ValueError as error:
                if "LockBusy" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # -- reading -------------------------------------------------------

    def count(self) -> int:
        return self._searcher().num_docs

    def vector_ids(self) -> set[int]:
        """Ids that have a vector stored (beside the index, so they can disagree after a crash)."""
        ids, _ = self._vectors.snapshot()
        return {int(i) for i in ids}

    def hashes(self) -> dict[int, str]:
        searcher = self._searcher()
        if not searcher.num_docs:
            return {}
        result = searcher.search(Query.all_query(), limit=searcher.num_docs)
        found: dict[int, str] = {}
        for _, address in result.hits:
            doc = searcher.doc(address)
            found[int(doc.get_first("id") or 0)] = str(doc.get_first("content_hash"))
        return found

    def set_background(self, vectors: np.ndarray | None) -> None:
        self._vectors.set_background(vectors)

    def similar(
        self,
        vector: Vector,
        *,
        limit: int = 10,
        filters: Mapping[str, Sequence[str]] | None = None,
        exclude_ids: Iterable[int] = (),
    ) -> list[tuple[int, float]]:
        """Nearest neighbours of a whole text (an initiative, a draft): in the match model's semantic space
        when there is one for these vectors, where texts of one purpose stand out from the corpus
        (SIMILAR_SPACE_STANDOUT), else by cosine under `similar_min_standout`."""
        searcher = self._searcher()
        clauses, exclude = self._filter_clauses(filters or {}), set(exclude_ids)
        in_space = self._vectors.space_standouts(vector, exclude) if self.similar_min_standout is not None else None
        if in_space is not None:
            ids, scores, standouts = in_space
            keep = standouts >= SIMILAR_SPACE_STANDOUT
            return self._best_allowed(searcher, ids[keep], scores[keep], clauses, limit)
        return self._neighbours(searcher, vector, clauses, limit, exclude, min_standout=self.similar_min_standout)

    def search(self, query: SearchQuery) -> SearchResults:
        started = time.perf_counter()
        searcher = self._searcher()
        asked = self.synonyms.query_concepts(query.text)
        concepts = asked.required
        plan = _KeywordPlan()
        filters = self._filter_clauses(query.active_filters)
        if asked.excluded:  # NOT: a filter, so keyword hits, neighbours, facets and totals all leave them out
            unwanted = _any_of([self._concept_query(searcher, c, _KeywordPlan()) for c in asked.excluded])
            filters.append(Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, unwanted)]))
        keyword = _all_of([self._concept_query(searcher, c, plan) for c in concepts]) if concepts else None
        semantic: list[tuple[int, float]] = []
        maybe_related = False
        if query.vector is not None and query.uses_vector:
            # Words of the query found: it is about something here, and its neighbours in meaning count
            # from the floor. Found nothing: only a neighbour that stands out shows it is.
            best_keyword_hit = self._best_hit(searcher, _all_of([*filters, keyword])) if keyword is not None else None
            evidence = self._query_evidence(query.vector) if best_keyword_hit is None else None
            if evidence is None or evidence >= max(self.min_standout or 0.0, QUERY_EVIDENCE):
                semantic = self._semantic(searcher, query.vector, filters, best_keyword_hit)
            else:
                maybe_related = evidence >= RELATED_EVIDENCE and query.offset == 0

        # Only a query none of whose words matched reaches the block, so it is one that finds nothing.
        related = self._related(searcher, query.vector, filters) if maybe_related and query.vector else []
        matching = _matching(query, keyword, _id_query(self._schema, semantic))
        if matching is None:
            return SearchResults(0, [], {name: {} for name in query.facets}, _ms_since(started), related)
        result_set = _all_of([*filters, matching])
        if query.sort == "date" or (keyword is None and not semantic):
            ranked, total = self._by_date(searcher, result_set, query)
            facets = self._facet_counts(searcher, result_set, query.facets, count=False)[1] if query.facets else {}
        else:
            ranked, result_set = self._by_relevance(searcher, keyword, semantic, filters, result_set, query)
            if query.facets:  # one pass over the result set counts it and its facets
                total, facets = self._facet_counts(searcher, result_set, query.facets)
            else:
                total, facets = _count(searcher, result_set), {}

        matcher = TermMatcher(concepts, plan.compounds, plan.typo_words)
        sources = self._sources(searcher, [doc_id for doc_id, _ in ranked])
        hits = [
            SearchHit(doc_id, score, _highlights(source, matcher))
            for (doc_id, score), source in zip(ranked, sources, strict=True)
        ]
        return SearchResults(total, hits, facets, _ms_since(started), [] if total else related)

    def _related(self, searcher: tantivy.Searcher, vector: Vector, filters: list[Query]) -> list[SearchHit]:
        """The "Misschien verwant" block of a query that found nothing (RELATED_EVIDENCE)."""
        nearest = self._query_neighbours(searcher, vector, filters, RELATED_LIMIT)
        return [SearchHit(doc_id, score, {}) for doc_id, score in nearest]

    def _query_neighbours(
        self, searcher: tantivy.Searcher, vector: Vector, filters: list[Query], limit: int
    ) -> list[tuple[int, float]]:
        """The `limit` nearest documents of a query's vector, under the search's floors but not its gate
        (the caller has decided the query reaches it)."""
        return self._neighbours(
            searcher, vector, filters, limit, set(), self.min_similarity, self.min_standout, gated=False
        )

    def _best_hit(self, searcher: tantivy.Searcher, query: Query) -> int | None:
        """The best-ranked document `query` matches, or None when it matches none."""
        ids = _ids(searcher, searcher.search(query, limit=1).hits)
        return ids[0] if ids else None

    def _semantic(
        self, searcher: tantivy.Searcher, vector: Vector, filters: list[Query], best_keyword_hit: int | None
    ) -> list[tuple[int, float]]:
        """The semantic neighbours of the query, moved towards its best keyword hit (Rocchio feedback).
        A query none of whose words matched has no such anchor: its own nearest neighbour would be one,
        and where that is the wrong initiative the move drags the list into its surroundings (measured
        in FEEDBACK_WEIGHT). Then, without feedback, or without a stored vector for the best hit, the
        neighbours of the query itself."""
        stored = None
        if best_keyword_hit is not None and self.feedback_weight > 0:
            stored = self._vectors.vector_of(best_keyword_hit)
        if stored is None:
            return self._query_neighbours(searcher, vector, filters, self.semantic_limit)
        query = np.asarray(vector, dtype=np.float32)
        moved = query / np.linalg.norm(query) + self.feedback_weight * stored
        moved_vector = tuple(float(x) for x in moved / np.linalg.norm(moved))
        return self._query_neighbours(searcher, moved_vector, filters, self.semantic_limit)

    def _by_date(
        self, searcher: tantivy.Searcher, result_set: Query, query: SearchQuery
    ) -> tuple[list[tuple[int, float]], int]:
        found = searcher.search(
            result_set,
            limit=query.per_page,
            offset=query.offset,
            order_by_field="updated_at",
            order=tantivy.Order.Desc,
        )
        return [(doc_id, 0.0) for doc_id in _ids(searcher, found.hits)], _count_of(found)

    def _by_relevance(
        self,
        searcher: tantivy.Searcher,
        keyword: Query | None,
        semantic: list[tuple[int, float]],
        filters: list[Query],
        result_set: Query,
        query: SearchQuery,
    ) -> tuple[list[tuple[int, float]], Query]:
        """The page of the keyword ranking blended with the semantic one (deep enough to fill the page
        even if every semantic candidate outranks it), with the best hits' families when the query has a
        vector; the result set grows by the family members, so the total and the facets count them."""
        depth = query.offset + query.per_page
        if semantic:
            keyword_ranking: list[tuple[int, float]] = []
            if keyword is not None:
                found = searcher.search(_all_of([*filters, keyword]), limit=depth + len(semantic))
                keyword_ranking = _ranked(searcher, found.hits)
            pending = self._vectors.without_vector(doc_id for doc_id, _ in keyword_ranking)
            ranked = FUSIONS[self.fusion](keyword_ranking, semantic, query.semantic_ratio, pending)
        else:
            ranked = _ranked(searcher, searcher.search(result_set, limit=depth).hits)
        if query.vector is not None and query.uses_vector:
            ranked, members = self._with_family(searcher, ranked, filters)
            if members:
                result_set = _any_of([result_set, Query.term_set_query(self._schema, "id", members)])
        return ranked[query.offset : depth], result_set

    def _with_family(
        self, searcher: tantivy.Searcher, ranked: list[tuple[int, float]], filters: list[Query]
    ) -> tuple[list[tuple[int, float]], list[int]]:
        """`ranked` with the families of its first FAMILY_ANCHORS documents placed after its first
        FAMILY_AFTER, and those members that were not ranked at all."""
        found: dict[int, float] = {}
        for anchor, _ in ranked[:FAMILY_ANCHORS]:
            standing = self._vectors.family_standouts(anchor)
            if standing is None:
                continue
            ids, standouts = standing
            best = np.argsort(-standouts, kind="stable")[:FAMILY_SIZE]
            for p in best[standouts[best] >= FAMILY_STANDOUT].tolist():
                found[int(ids[p])] = max(found.get(int(ids[p]), -np.inf), float(standouts[p]))
        head = ranked[:FAMILY_AFTER]
        found = {doc_id: z for doc_id, z in found.items() if doc_id not in {i for i, _ in head}}
        if not found:
            return ranked, []
        allowed = self._existing(searcher, list(found), filters)
        family = sorted((doc_id for doc_id in found if doc_id in allowed), key=lambda i: -found[i])
        if not family:
            return ranked, []
        score = head[-1][1]
        in_family = set(family)
        rest = [(doc_id, s) for doc_id, s in ranked[FAMILY_AFTER:] if doc_id not in in_family]
        already = {doc_id for doc_id, _ in ranked}
        return [*head, *((doc_id, score) for doc_id in family), *rest], [i for i in family if i not in already]

    # -- query building --------------------------------------------------

    def _concept_query(self, searcher: tantivy.Searcher, concept: Concept, plan: _KeywordPlan) -> Query:
        clauses: list[Query] = []
        for phrase in concept.alternatives:
            if len(phrase) == 1:
                clauses.extend(self._word_clauses(searcher, phrase[0], plan))
            else:
                clauses.extend(self._phrase_clauses(phrase))
        return _any_of(clauses)

    def _word_clauses(self, searcher: tantivy.Searcher, word: str, plan: _KeywordPlan) -> list[Query]:
        schema, key = self._schema, stem(word)
        clauses = [
            Query.boost_query(Query.term_query(schema, "title", word), EXACT_TITLE),
            Query.boost_query(Query.term_query(schema, "title_stem", key), STEM_TITLE),
            Query.boost_query(Query.term_query(schema, "text", word), EXACT_TEXT),
            Query.boost_query(Query.term_query(schema, "text_stem", key), STEM_TEXT),
        ]
        compounds = sorted(self._expansions(searcher, key))
        plan.compounds.update(compounds)
        if compounds:
            clauses.append(
                Query.const_score_query(Query.term_set_query(schema, "title_stem", compounds), COMPOUND_TITLE)
            )
            clauses.append(Query.const_score_query(Query.term_set_query(schema, "text_stem", compounds), COMPOUND_TEXT))
        distance = fuzzy_distance(word)
        if distance and not searcher.doc_freq("text", word) and not searcher.doc_freq("text_stem", key):
            plan.typo_words.add(word)
            fuzzy = Query.fuzzy_term_query(schema, "text", word, distance=distance, transposition_cost_one=True)
            clauses.append(Query.const_score_query(fuzzy, FUZZY_TEXT))
            # The stems the typo may have meant, and their compounds: "wegdek inpsectie" must meet
            # "wegdekinspectie" as "wegdek inspectie" does, "natuurvergunnig" the plural's stem.
            meant = self._corrections(searcher, key, distance)
            spelled = sorted(meant.union(*(self._expansions(searcher, m) for m in meant)))
            if spelled:
                plan.compounds.update(spelled)
                clauses.append(Query.const_score_query(Query.term_set_query(schema, "text_stem", spelled), FUZZY_TEXT))
        return clauses

    def _corrections(self, searcher: tantivy.Searcher, key: str, distance: int) -> set[str]:
        """Indexed stems within `distance` edits of the stem `key`, among those sharing its first two
        letters (a typo seldom falls there, and the scan stays short)."""
        scanned = searcher.terms_with_prefix("text_stem", key[:2], limit=CORRECTION_SCAN)
        return {term for term, _ in scanned if term != key and within_distance(key, term, distance)}

    def _phrase_clauses(self, phrase: tuple[str, ...]) -> list[Query]:
        schema = self._schema
        words: list[str | tuple[int, str]] = list(phrase)
        stems: list[str | tuple[int, str]] = [stem(w) for w in phrase]
        return [
            Query.boost_query(Query.phrase_query(schema, "title", words), EXACT_TITLE),
            Query.boost_query(Query.phrase_query(schema, "title_stem", stems), STEM_TITLE),
            Query.boost_query(Query.phrase_query(schema, "text", words), EXACT_TEXT),
            Query.boost_query(Query.phrase_query(schema, "text_stem", stems), STEM_TEXT),
        ]

    def _expansions(self, searcher: tantivy.Searcher, key: str) -> frozenset[str]:
        """Indexed stems of compounds that start or end with `key`."""
        cached = self._expansion_cache.get(key)
        if cached is not None:
            return cached
        found: set[str] = set()
        if len(key) >= PREFIX_MIN:
            found.update(t for t, _ in searcher.terms_with_prefix("text_stem", key, limit=MAX_EXPANSIONS))
        if len(key) >= SUFFIX_MIN:
            found.update(t[::-1] for t, _ in searcher.terms_with_prefix("rev", key[::-1], limit=MAX_EXPANSIONS))
        result = frozenset(t for t in found if len(t) >= len(key) + COMPOUND_MIN_EXTRA)
        if len(self._expansion_cache) > 10_000:
            self._expansion_cache.clear()
        self._expansion_cache[key] = result
        return result

    def _filter_clauses(self, filters: Mapping[str, Sequence[str]]) -> list[Query]:
        unknown = set(filters) - set(FACET_FIELDS)
        if unknown:
            raise ValueError(f"unknown filter field(s): {', '.join(sorted(unknown))}")
        return [
            Query.term_set_query(self._schema, name, [str(v) for v in values])
            for name, values in filters.items()
            if values
        ]

    # -- vectors ---------------------------------------------------------

    def _query_evidence(self, vector: Vector) -> float | None:
        """How much a query with no matching word shows it is about something the corpus holds
        (QUERY_EVIDENCE); None without a background (or with too few documents to calibrate): then
        every query counts as one that is."""
        _, scores, standouts = self._vectors.standouts(vector)
        nearest_background = self._vectors.background_closeness(vector)
        if self.min_standout is None or standouts is None or not len(standouts) or nearest_background is None:
            return None
        return float(standouts.max()) + QUERY_MARGIN_WEIGHT * (float(scores.max()) - nearest_background)

    def _neighbours(
        self,
        searcher: tantivy.Searcher,
        vector: Vector,
        filters: list[Query],
        limit: int,
        exclude: set[int],
        min_similarity: float = -1.0,
        min_standout: float | None = None,
        gated: bool = True,
    ) -> list[tuple[int, float]]:
        """Top `limit` by cosine among indexed documents passing `filters`, none under the floor."""
        ids, scores, standouts = self._vectors.standouts(vector)
        keep = scores >= min_similarity
        if min_standout is not None and standouts is not None and len(standouts):
            if gated and standouts.max() < max(min_standout, BEST_STANDOUT):
                return []  # nothing stands out: the query is about something the corpus does not hold
            keep &= standouts >= min_standout
        if exclude:
            keep &= ~np.isin(ids, np.fromiter(exclude, dtype=np.int64))
        return self._best_allowed(searcher, ids[keep], scores[keep], filters, limit)

    def _best_allowed(
        self, searcher: tantivy.Searcher, ids: np.ndarray, scores: np.ndarray, filters: list[Query], limit: int
    ) -> list[tuple[int, float]]:
        """The `limit` best-scoring `ids` that pass `filters`, checked in growing batches so that a
        selective filter still fills the list."""
        result: list[tuple[int, float]] = []
        checked, wanted = 0, max(limit * 4, 64)
        while checked < len(ids) and len(result) < limit:
            wanted = min(wanted, len(ids))
            best = np.argpartition(-scores, wanted - 1)[:wanted]
            best = best[np.argsort(-scores[best], kind="stable")][checked:]
            allowed = self._existing(searcher, [int(i) for i in ids[best]], filters)
            result.extend((int(ids[p]), float(scores[p])) for p in best if int(ids[p]) in allowed)
            checked, wanted = wanted, wanted * 4
        return result[:limit]

    def _existing(self, searcher: tantivy.Searcher, ids: list[int], filters: list[Query]) -> set[int]:
        """Which of `ids` are in the index and pass `filters`."""
        found = searcher.search(_all_of([*filters, Query.term_set_query(self._schema, "id", ids)]), limit=len(ids))
        return set(_ids(searcher, found.hits))

    # -- results -----------------------------------------------------------

    def _sources(self, searcher: tantivy.Searcher, ids: list[int]) -> list[dict[str, str]]:
        if not ids:
            return []
        found = searcher.search(Query.term_set_query(self._schema, "id", ids), limit=len(ids))
        by_id: dict[int, dict[str, str]] = {}
        for (_, address), doc_id in zip(found.hits, _ids(searcher, found.hits), strict=True):
            stored = searcher.doc(address)
            by_id[doc_id] = {
                part: bytes(stored.get_first(f"stored_{part}") or b"").decode("utf-8", "surrogatepass")
                for part in SOURCE_PARTS
            }
        return [by_id.get(i, {"title": "", "summary": "", "body": ""}) for i in ids]

    def _facet_counts(
        self, searcher: tantivy.Searcher, result_set: Query, names: Sequence[str], *, count: bool = True
    ) -> tuple[int, dict[str, dict[str, int]]]:
        """How many documents `result_set` matches (0 unless `count`: a caller that has the total already),
        and its counts per value of each facet `names`."""
        aggregations: dict[str, Any] = {name: {"terms": {"field": name, "size": 10_000}} for name in names}
        if count:
            aggregations[_TOTAL] = {"value_count": {"field": "id"}}
        raw = searcher.aggregate(result_set, aggregations)
        facets = {
            name: {str(b["key"]): int(b["doc_count"]) for b in raw.get(name, {}).get("buckets", [])} for name in names
        }
        return int(raw.get(_TOTAL, {}).get("value") or 0), facets

    def _searcher(self) -> tantivy.Searcher:
        """A searcher that sees every commit so far, also from other processes."""
        try:
            stamp = os.stat(self.path / "tantivy" / "meta.json").st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp != self._meta_stamp:
            self._index.reload()
            self._expansion_cache = {}
            self._meta_stamp = stamp
        return self._index.searcher()

    def _open(self) -> tantivy.Index:
        """Open or create the index; under the write lock so that two
        processes creating it at once do not mistake each other's half-made
        directory for an old schema."""
        directory = self.path / "tantivy"
        version_file = self.path / "VERSION"
        with self._write_lock():
            if directory.exists() and (not version_file.exists() or version_file.read_text().strip() != SCHEMA_VERSION):
                log.warning("search index at %s has an old schema; starting empty (reindex needed)", self.path)
                shutil.rmtree(directory)
                self._vectors.discard_files()
            directory.mkdir(exist_ok=True)
            version_file.write_text(SCHEMA_VERSION + "\n")
            for stray in self._vectors.leftovers():
                log.warning("removing %s, left by an interrupted write", stray)
                stray.unlink(missing_ok=True)
            return tantivy.Index(self._schema, path=str(directory), reuse=True)


def _matching(query: SearchQuery, keyword: Query | None, semantic: Query | None) -> Query | None:
    """What a document must match, filters aside: anything when browsing
    (no text, no vector), else the keyword query or a semantic candidate."""
    if not query.text.strip() and not query.uses_vector:
        return Query.all_query()
    candidates = [q for q in (keyword, semantic) if q is not None]
    return _any_of(candidates) if candidates else None


def _highlights(source: dict[str, str], matcher: TermMatcher) -> dict[str, str]:
    highlights = {
        "title": highlight(source["title"], matcher),
        "summary": crop(source["summary"], matcher, SUMMARY_CHARS),
    }
    if matcher:
        body = snippet(source["body"], matcher, SNIPPET_CHARS)
        if body is not None:
            highlights["body"] = body
    return highlights


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in ("title", "title_stem", "text", "text_stem"):
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    builder.add_text_field("rev", tokenizer_name="whitespace", index_option="basic")
    for name in FACET_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True)
    builder.add_date_field("updated_at", indexed=True, fast=True)
    builder.add_text_field("content_hash", stored=True, tokenizer_name="raw")
    # Stored, not indexed (bytes): an indexed raw text field turns every whole text into one
    # giant term, which cost more than all the other fields together when indexing.
    for part in SOURCE_PARTS:
        builder.add_bytes_field(f"stored_{part}", stored=True, indexed=False)
    return builder.build()


def analyse(doc: SearchDocument) -> tuple[dict[str, str], str]:
    """The Dutch analysis of one document: (text field → space-separated terms as
    tantivy receives them, the body as plain text)."""
    body = plain_text(doc.body)
    extra = [
        doc.external_id,
        doc.province_name,
        doc.programme_line or "",
        *doc.themes,
        *doc.technologies,
        *doc.suppliers,
    ]
    title_terms = _index_terms(doc.title)
    text_terms = title_terms + _index_terms(" \n".join([doc.summary, body, *extra]))
    text_stems = stems(text_terms)
    fields = {
        "title": " ".join(title_terms),
        "title_stem": " ".join(stems(title_terms)),
        "text": " ".join(text_terms),
        "text_stem": " ".join(text_stems),
        "rev": " ".join(set(text_stems))[::-1],  # every stem reversed (their order is irrelevant)
    }
    return fields, body


def _to_tantivy(doc: SearchDocument) -> tantivy.Document:
    fields, body = analyse(doc)
    out = tantivy.Document()
    out.add_integer("id", doc.id)
    for name, analysed in fields.items():
        out.add_text(name, analysed)
    for name in FACET_FIELDS:
        for value in doc.facet_values(name):
            out.add_text(name, value)
    out.add_date("updated_at", doc.updated_at_utc)
    out.add_text("content_hash", doc.content_hash)
    for part, text in zip(SOURCE_PARTS, (_nfc(doc.title), _nfc(doc.summary), body), strict=True):
        out.add_bytes(f"stored_{part}", text.encode("utf-8", "surrogatepass"))
    return out


def _nfc(text: str) -> str:
    """Stored texts are highlighted later; offsets must match `dutch.tokenize`."""
    return unicodedata.normalize("NFC", text)


def _index_terms(text: str) -> list[str]:
    found = terms(text)
    if found and max(map(len, found)) > MAX_TERM_LENGTH:
        return [t for t in found if len(t) <= MAX_TERM_LENGTH]
    return found


def _all_of(queries: list[Query]) -> Query:
    if not queries:
        return Query.all_query()
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Must, q) for q in queries])


def _any_of(queries: list[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Should, q) for q in queries])


def _id_query(schema: tantivy.Schema, ranking: list[tuple[int, float]]) -> Query | None:
    """Matches the documents of `ranking` (the semantic candidates), scoring 0
    so they do not disturb keyword scores."""
    if not ranking:
        return None
    return Query.const_score_query(Query.term_set_query(schema, "id", [i for i, _ in ranking]), 0.0)


def _count(searcher: tantivy.Searcher, query: Query) -> int:
    """How many documents `query` matches."""
    return _count_of(searcher.search(query, limit=1))


def _count_of(result: tantivy.SearchResult) -> int:
    count: int = result.count  # type: ignore[attr-defined]  # tantivy's stubs leave out `count`
    return count


def _ranked(searcher: tantivy.Searcher, hits: list[tuple[float, Any]]) -> list[tuple[int, float]]:
    """(id, score) for tantivy's (score, address) hits."""
    return list(zip(_ids(searcher, hits), (score for score, _ in hits), strict=True))


def _ids(searcher: tantivy.Searcher, hits: list[tuple[float, Any]]) -> list[int]:
    if not hits:
        return []
    return [int(v) for v in searcher.fast_field_values("id", [address for _, address in hits])]  # type: ignore[arg-type]


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
