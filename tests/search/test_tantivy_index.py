"""Behaviour specific to the embedded backend: files, processes, options."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from test_contract import BY_ID, CORPUS, doc, topic

from search.documents import SearchQuery
from search.index import SearchIndex, open_index
from search.matching.space import SemanticSpace
from search.tantivy_index import (
    FAMILY_AFTER,
    FEEDBACK_WEIGHT,
    QUERY_EVIDENCE,
    RELATED_EVIDENCE,
    RELATED_LIMIT,
    TantivyIndex,
)

REPO = Path(__file__).resolve().parents[2]


def test_open_index_picks_the_embedded_backend(tmp_path):
    index = open_index(tmp_path, None, None, "kennisbank")
    assert isinstance(index, TantivyIndex) and isinstance(index, SearchIndex)
    assert index.path == tmp_path / "kennisbank"
    with pytest.raises(ValueError):
        open_index(None, None, None, "kennisbank")


def test_writes_from_another_process_are_seen_without_reopening(tmp_path):
    reader = TantivyIndex(tmp_path)
    reader.upsert(CORPUS[:3])
    assert reader.search(SearchQuery(text="Waddenzee")).total == 0
    script = (
        "import sys; from pathlib import Path\n"
        "from test_contract import CORPUS\n"
        "from search.tantivy_index import TantivyIndex\n"
        "TantivyIndex(Path(sys.argv[1])).upsert(CORPUS[7:9])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(Path(__file__).parent)])}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, check=True, timeout=60)
    assert [h.id for h in reader.search(SearchQuery(text="Waddenzee")).hits] == [8]
    assert reader.similar(BY_ID[9].vector, limit=1)[0][0] == 9


def test_concurrent_writers_do_not_trip_over_the_lock(tmp_path):
    errors: list[BaseException] = []

    def write(batch):
        try:
            index = TantivyIndex(tmp_path)
            for doc in batch:
                index.upsert([doc])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(CORPUS[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    index = TantivyIndex(tmp_path)
    assert index.count() == len(CORPUS)
    assert set(index.hashes()) == {d.id for d in CORPUS}
    ids, _ = index._vectors.snapshot()
    assert set(ids.tolist()) == {d.id for d in CORPUS}


def test_schema_change_starts_an_empty_index(tmp_path):
    TantivyIndex(tmp_path).upsert(CORPUS)
    (tmp_path / "VERSION").write_text("0\n")
    reopened = TantivyIndex(tmp_path)
    assert reopened.count() == 0
    assert reopened.hashes() == {}
    assert reopened.similar(topic(data=1.0)) == []


@pytest.mark.parametrize("fusion", ["rrf", "score"])
def test_both_fusions_find_semantic_and_keyword_matches(tmp_path, fusion):
    index = TantivyIndex(tmp_path, fusion=fusion)
    index.upsert(CORPUS)
    vector = topic(mobility=1.0, data=0.55)
    assert index.search(SearchQuery(text="traffic congestion", vector=vector, semantic_ratio=0.5)).hits[0].id == 20
    keyword_first = index.search(SearchQuery(text="datalab", vector=vector, semantic_ratio=0.2))
    assert {h.id for h in keyword_first.hits[:2]} == {1, 2}
    semantic_first = index.search(SearchQuery(text="datalab", vector=vector, semantic_ratio=1.0))
    assert semantic_first.hits[0].id == 20


@pytest.mark.parametrize("fusion", ["rrf", "score"])
def test_a_document_whose_vector_is_pending_keeps_its_keyword_place(tmp_path, fusion):
    """Right after an import the new rows have no vector yet: the best keyword match came after
    weaker ones that had one, because its semantic share counted as nothing."""
    index = TantivyIndex(tmp_path, fusion=fusion)
    common = dict(province="NL-GE", kind="best_practice", themes=("water",), phase="pilot", year=2024)
    pending = doc(
        501,
        title="Dijkmonitoring met glasvezel",
        summary="Glasvezel in de dijk meet of de dijk droog wordt.",
        body="Dijkmonitoring.",
        vector=None,
        **common,
    )
    mentions = [
        doc(
            502 + n,
            title=f"Waterbeheer in polder {n}",
            summary="Peilbeheer met sensoren.",
            body="Ook dijkmonitoring met glasvezel komt aan bod, naast veel ander waterbeheer en peilbeheer.",
            vector=topic(water=1.0, nature=0.1 * n),
            **common,
        )
        for n in range(3)
    ]
    index.upsert([*CORPUS, pending, *mentions])
    query = SearchQuery(text="dijkmonitoring glasvezel", vector=topic(water=1.0), semantic_ratio=0.5)
    keyword_only = [h.id for h in index.search(dataclasses.replace(query, semantic_ratio=0.0)).hits]
    assert keyword_only == [501, 502, 503, 504]
    assert [h.id for h in index.search(query).hits][:4] == keyword_only  # was [502, 503, 504, 501]


def test_unknown_fusion_is_rejected(tmp_path):
    with pytest.raises(ValueError):
        TantivyIndex(tmp_path, fusion="magic")


def test_vector_dimension_mismatch_is_an_error(tmp_path):
    index = TantivyIndex(tmp_path)
    index.upsert(CORPUS[:2])
    with pytest.raises(ValueError):
        index.upsert([dataclasses.replace(CORPUS[2], vector=(1.0, 0.0))])
    assert index.count() == 2  # nothing written
    with pytest.raises(ValueError):
        index.similar((1.0, 0.0))


def test_empty_text_with_vector_ranks_semantically(tmp_path):
    index = TantivyIndex(tmp_path)
    index.upsert(CORPUS)
    found = index.search(SearchQuery(vector=topic(energy=1.0), semantic_ratio=1.0))
    assert found.hits[0].id == 18


def _unit(vector: np.ndarray) -> tuple[float, ...]:
    return tuple(float(x) for x in vector / np.linalg.norm(vector))


def _calibrated_index(tmp_path) -> tuple[TantivyIndex, np.ndarray, np.ndarray]:
    """60 documents "document 0" … "document 59" (ids 100 on) with random vectors, and a background of 20
    random queries: (index, document vectors, background vectors)."""
    rng = np.random.default_rng(7)
    documents, background = rng.normal(size=(60, 64)), rng.normal(size=(20, 64))
    index = TantivyIndex(tmp_path)
    index.upsert(
        dataclasses.replace(
            CORPUS[0], id=100 + n, external_id=f"X-{n}", title=f"document {n}", summary="", body="", vector=_unit(row)
        )
        for n, row in enumerate(documents)
    )
    index.set_background(np.array([_unit(row) for row in background], dtype=np.float32))
    return index, documents, background


def test_a_query_without_matching_words_must_come_closer_to_a_document_than_to_the_background(tmp_path):
    """The evidence gate: a query that stands out among the documents but sits closer to a background
    query (an errand, a hobby) finds nothing; one closer to a document than to any background finds it."""
    index, documents, background = _calibrated_index(tmp_path)

    def found(vector: tuple[float, ...]) -> list[int]:
        return [hit.id for hit in index.search(SearchQuery(text="zzqx", vector=vector, semantic_ratio=1.0)).hits]

    near_a_document = _unit(
        documents[7] / np.linalg.norm(documents[7]) + 0.6 * background[3] / np.linalg.norm(background[3])
    )
    near_the_background = _unit(
        0.6 * documents[7] / np.linalg.norm(documents[7]) + background[3] / np.linalg.norm(background[3])
    )
    _, _, standouts = index._vectors.standouts(near_the_background)
    assert standouts is not None and standouts.max() > QUERY_EVIDENCE  # the standout alone would let it through
    assert found(near_the_background) == []
    assert found(near_a_document)[0] == 107


def test_a_query_that_came_close_without_enough_evidence_gets_related_documents_apart(tmp_path):
    """Under the evidence gate but above RELATED_EVIDENCE: no hits, no total, and the nearest documents
    as "Misschien verwant"; further from the corpus: nothing at all; with hits: no such block."""
    index, documents, background = _calibrated_index(tmp_path)
    doc, errand = (v / np.linalg.norm(v) for v in (documents[7], background[3]))
    mixtures = {share: _unit(share * doc + (1 - share) * errand) for share in np.linspace(0.3, 0.7, 801)}
    evidence = {share: index._query_evidence(vector) for share, vector in mixtures.items()}
    between = [s for s, e in evidence.items() if e is not None and RELATED_EVIDENCE <= e < QUERY_EVIDENCE]
    below = [s for s, e in evidence.items() if e is not None and e < RELATED_EVIDENCE]
    assert between and below  # the premise: the mixtures cross both bars

    def search(vector: tuple[float, ...], text: str = "zzqx"):
        return index.search(SearchQuery(text=text, vector=vector, semantic_ratio=1.0, facets=("province",)))

    maybe = search(mixtures[between[len(between) // 2]])
    assert (maybe.total, maybe.hits) == (0, [])
    assert maybe.related[0].id == 107 and len(maybe.related) <= RELATED_LIMIT
    assert maybe.related[0].highlights == {}
    far = search(mixtures[below[0]])
    assert (far.total, far.hits, far.related) == (0, [], [])
    found = search(mixtures[between[0]], text="document")  # words of the query match: hits, no block
    assert found.hits and found.related == []
    # A query of no word at all ("%", an emoji) means nothing, whatever its vector: no block either.
    for no_word in ("%", "🙂", '"'):
        assert search(mixtures[between[len(between) // 2]], text=no_word).related == []
        assert search(documents[7].tolist(), text=no_word).hits == []


def test_feedback_from_the_best_hit_brings_its_family_up(tmp_path):
    """Another member of the best hit's family shares no word with the query and little of its meaning;
    moving the query towards the best hit (FEEDBACK_WEIGHT) ranks it above what only resembles the query."""
    rng = np.random.default_rng(11)
    a, b_only, query_only = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 64)))
    member = _unit(a + 0.6 * b_only)
    docs = [
        dataclasses.replace(
            CORPUS[0],
            id=1,
            external_id="A",
            title="Fietstellers langs provinciale wegen",
            summary="",
            body="",
            vector=_unit(a + 0.3 * query_only),
        ),
        dataclasses.replace(
            CORPUS[0],
            id=2,
            external_id="B",
            title="Sensoren tellen verkeer op de N-weg",
            summary="",
            body="",
            vector=member,
        ),
    ]
    docs += [
        dataclasses.replace(
            CORPUS[0],
            id=10 + n,
            external_id=f"D-{n}",
            title=f"Onderwerp {n}",
            summary="",
            body="",
            vector=_unit(query_only + 0.9 * rng.normal(size=64) / 8),
        )
        for n in range(25)
    ]
    query = SearchQuery(text="fietstellers", vector=_unit(a + query_only), semantic_ratio=0.5)

    def rank_of_member(weight: float) -> int:
        index = TantivyIndex(tmp_path / str(weight), feedback_weight=weight)
        index.upsert(docs)
        ids = [hit.id for hit in index.search(query).hits]
        index.close()
        return ids.index(2) + 1 if 2 in ids else 99

    assert rank_of_member(FEEDBACK_WEIGHT) <= 3 < rank_of_member(0.0)


def test_the_best_hits_family_in_the_matching_space_follows_the_first_results(tmp_path):
    """A family member written in another style (its raw vector far from the query and the best hit)
    is found through the best hit in the semantic space, placed after the first FAMILY_AFTER results,
    which keep their places; a filter still applies to it, and the total counts it."""
    rng = np.random.default_rng(5)
    style, purpose = np.zeros((2, 64)), np.zeros((2, 64))
    style[:, :32], purpose[:, 32:] = rng.normal(size=(2, 32)), rng.normal(size=(2, 32))
    unit = [v / np.linalg.norm(v) for v in (*style, *purpose)]
    first_style, other_style, shared_purpose, query_only = unit[0], unit[1], unit[2], unit[3]
    # The space drops the style half: there the best hit and its family member coincide.
    space = SemanticSpace(
        mean=np.zeros(64, dtype=np.float32), transform=np.diag([0.01] * 32 + [1.0] * 32).astype(np.float32)
    )

    def initiative(doc_id: int, title: str, vector: np.ndarray, province: str = "NL-GE"):
        return dataclasses.replace(
            CORPUS[0],
            id=doc_id,
            external_id=f"E-{doc_id}",
            title=title,
            summary="",
            body="",
            province=province,
            vector=_unit(vector),
        )

    docs = [
        initiative(1, "Fietstellers langs provinciale wegen", shared_purpose + 0.3 * first_style + 0.3 * query_only),
        initiative(2, "Telpunten voor tweewielers", 0.3 * shared_purpose + other_style, province="NL-LI"),
    ]
    docs += [initiative(10 + n, f"Onderwerp {n}", query_only + rng.normal(size=64) / 4) for n in range(25)]
    query = SearchQuery(
        text="fietstellers", vector=_unit(shared_purpose + 0.3 * first_style + query_only), semantic_ratio=0.5
    )

    def found(family_space: SemanticSpace | None, query: SearchQuery = query) -> tuple[list[int], int]:
        index = TantivyIndex(
            tmp_path / str(family_space is not None) / str(len(query.active_filters)), family_space=family_space
        )
        index.upsert(docs)
        result = index.search(query)
        return [hit.id for hit in result.hits], result.total

    plain, plain_total = found(None)
    assert 2 not in plain and plain[0] == 1 and len(plain) == 10  # the premise: its raw vector is too far
    with_family, total = found(space)
    assert with_family[:FAMILY_AFTER] == plain[:FAMILY_AFTER]
    assert with_family[FAMILY_AFTER] == 2
    assert total == plain_total + 1
    filtered = dataclasses.replace(query, filters={"province": ("NL-GE",)})
    assert 2 not in found(space, filtered)[0]


def test_concurrent_upserts_each_return_once_their_document_is_searchable(tmp_path):
    index = TantivyIndex(tmp_path)
    written: list[int] = []
    write = index._write_upserts

    def counting(docs):
        written.extend(doc.id for doc in docs)
        write(docs)

    index._upserts = type(index._upserts)(counting)
    seen_at_return: dict[int, bool] = {}

    def save(doc):
        index.upsert([doc])
        reader = TantivyIndex(tmp_path)  # a fresh reader, as another process would open
        seen_at_return[doc.id] = doc.id in {h.id for h in reader.search(SearchQuery(per_page=100)).hits}

    threads = [threading.Thread(target=save, args=(doc,)) for doc in CORPUS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert seen_at_return == {doc.id: True for doc in CORPUS}
    assert sorted(written) == sorted(doc.id for doc in CORPUS), "each document written exactly once"
    assert index.count() == len(CORPUS)


def test_a_query_without_a_keyword_hit_is_not_moved_towards_its_own_nearest_neighbour(tmp_path):
    """No word of the query matches, so its nearest neighbour is only a guess. Here it is the wrong one,
    with a crowd around it; moving the query towards it would push the right initiative, second by
    meaning, under that crowd."""
    rng = np.random.default_rng(5)
    basis = np.linalg.qr(rng.normal(size=(64, 64)))[0].T  # orthonormal rows
    query_dir, wrong_side, right_side = basis[0], basis[1], basis[2]

    def unit(vector: np.ndarray) -> np.ndarray:
        return vector / np.linalg.norm(vector)

    query_vector = query_dir
    wrong = unit(0.7 * query_dir + 0.714 * wrong_side)
    right = unit(0.65 * query_dir + 0.76 * right_side)
    crowd = [unit(0.55 * query_dir + 0.835 * wrong_side + basis[3:].T @ rng.normal(size=61) / 50) for _ in range(25)]

    def doc(doc_id: int, vector: np.ndarray) -> object:
        return dataclasses.replace(
            CORPUS[0],
            id=doc_id,
            external_id=f"X-{doc_id}",
            title=f"Onderwerp {doc_id}",
            summary="",
            body="",
            vector=tuple(vector.tolist()),
        )

    # What the test relies on: the right one is second for the query, and last but the crowd for the
    # query moved halfway towards the wrong one.
    moved = unit(query_vector + FEEDBACK_WEIGHT * wrong)
    assert float(query_vector @ right) > max(float(query_vector @ c) for c in crowd)
    assert float(moved @ right) < min(float(moved @ c) for c in crowd)

    index = TantivyIndex(tmp_path / "index", semantic_limit=20)
    index.upsert([doc(1, wrong), doc(2, right), *(doc(10 + n, c) for n, c in enumerate(crowd))])
    found = index.search(SearchQuery(text="qxzwv", vector=tuple(query_vector.tolist()), semantic_ratio=0.5))
    index.close()
    assert [hit.id for hit in found.hits][:2] == [1, 2]


def test_capital_operators_as_in_web_search(tmp_path):
    """AND, OR, NOT and a minus, which users type from habit, were words the query required: no
    initiative holds "and", so "datalab AND open" found nothing."""
    index = TantivyIndex(tmp_path / "index")
    index.upsert(CORPUS)

    def found(text: str) -> set[int]:
        return {hit.id for hit in index.search(SearchQuery(text=text, per_page=50)).hits}

    datalabs = found("datalab")
    assert datalabs >= {1, 2}
    assert found("datalab AND open") == found("datalab open") and 1 in found("datalab open")
    assert found("datalab NOT regionale") == found("datalab -regionale") == datalabs - found("regionale") != datalabs
    assert found("datalab OR fietspad") == datalabs | found("fietspad") and 4 in found("fietspad")
    results = index.search(SearchQuery(text="datalab NOT regionale", facets=("province",)))
    assert results.total == len(datalabs - found("regionale"))
    index.close()


def test_a_typo_meets_compounds_and_plurals_as_the_right_spelling_does(tmp_path):
    """A web trial: "wegdek inpsectie" found nothing while "wegdek inspectie" found the road
    inspection, and "natuurvergunnig" missed the initiative about natuurvergunningen. The typo's
    fuzzy match reached whole words only, not the compounds and stems the right word meets."""

    def doc(doc_id: int, title: str) -> object:
        return dataclasses.replace(CORPUS[0], id=doc_id, external_id=f"T-{doc_id}", title=title, summary="", body="")

    index = TantivyIndex(tmp_path / "index")
    index.upsert(
        [
            doc(1, "Wegdekinspectie met camera's op lijnbussen"),
            doc(2, "Inspectie van bruggen met drones"),
            doc(3, "Natuurvergunningen digitaal behandelen"),
            doc(4, "Wegdek van fietspaden vernieuwen"),
        ]
    )

    def found(text: str) -> list[int]:
        return [hit.id for hit in index.search(SearchQuery(text=text)).hits]

    assert found("wegdek inpsectie") == found("wegdek inspectie") == [1]
    assert found("natuurvergunnig") == found("natuurvergunning") == [3]
    assert "<mark>" in index.search(SearchQuery(text="wegdek inpsectie")).hits[0].highlights["title"]
    index.close()
