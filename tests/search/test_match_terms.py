"""The matching engine's TF-IDF (search/matching/terms.py) equals scikit-learn's, bit for bit."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from search.matching.features import TermAnalyzer
from search.matching.terms import TermWeights


def _identity(terms: list[str]) -> list[str]:
    return terms


def _canonical(matrix: sparse.csr_matrix) -> tuple[list[int], list[int], list[float]]:
    matrix = sparse.csr_matrix(matrix, dtype=np.float64)
    matrix.sort_indices()
    return matrix.indptr.tolist(), matrix.indices.tolist(), matrix.data.tolist()


def _docs(rng: random.Random, count: int) -> list[list[str]]:
    vocabulary = [f"term{i}" for i in range(300)] + ["zeldzaam", "élan", "ijs"]
    weights = [1.0 / (i + 3) for i in range(len(vocabulary))]
    return [rng.choices(vocabulary, weights, k=rng.randint(0, 60)) for _ in range(count)]


@pytest.mark.parametrize(("count", "max_df"), [(5, 1.0), (60, 0.5), (400, 0.5), (400, 0.05)])
def test_fit_and_transform_equal_scikit_learn(count, max_df):
    rng = random.Random(count)
    docs = _docs(rng, count)
    reference = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, max_df=max_df, norm=None)
    expected = reference.fit_transform(docs)
    weights, got = TermWeights.fit(docs, max_df)
    assert weights.terms.tolist() == reference.get_feature_names_out().tolist()
    assert _canonical(got) == _canonical(expected)
    new = _docs(rng, 3) + [["onbekend", "term1", "term1"]]
    assert _canonical(weights.transform(new)) == _canonical(reference.transform(new))


def test_no_terms_at_all_or_none_left_raise_like_scikit_learn():
    with pytest.raises(ValueError):
        TermWeights.fit([[], []], 1.0)
    with pytest.raises(ValueError):
        TermWeights.fit([["overal"]] * 50, 0.5)


def _texts(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """Dutch-looking texts with compounds, stop words, accents, Markdown and empty parts."""
    words = "wegdek inspectie wegdekinspectie verkeerslicht verkeers licht fietspad fietspaden bomen boom de het"
    words += " een élan Fryslân ijs provincie data datalab datalabs drone drones [link](http://x.nl) **vet** 2026"
    vocabulary = words.split()
    return [
        tuple(" ".join(rng.choices(vocabulary, k=rng.randint(0, n))) for n in (6, 20, 80))  # type: ignore[misc]
        for _ in range(count)
    ]


@pytest.mark.parametrize("count", [0, 1, 7, 300])
def test_the_analyzer_counts_a_corpus_as_analyze_learn_parts_with_parts_and_fit_do(count):
    """`TermAnalyzer.count_corpus` with `TermWeights.fit_counts`: the same terms, TF-IDF and analyzer
    state (stems, forms, surface counts, compound parts) as analysing text by text, bit for bit."""
    texts = _texts(random.Random(count), count) + [("", "", ""), ("de het", "een", "")]
    expected, got = TermAnalyzer(["provincie"]), TermAnalyzer(["provincie"])
    docs = [expected.analyze(*text) for text in texts]
    expected.learn_parts(docs)
    docs = [expected.with_parts(doc) for doc in docs]
    counts, terms = got.count_corpus(texts)
    if count == 0:
        with pytest.raises(ValueError):
            TermWeights.fit(docs, 1.0)
        with pytest.raises(ValueError):
            TermWeights.fit_counts(counts, terms, 1.0)
        return
    max_df = 0.5 if count > 40 else 1.0
    weights, raw = TermWeights.fit(docs, max_df)
    got_weights, got_raw = TermWeights.fit_counts(counts, terms, max_df)
    assert got_weights.terms.tolist() == weights.terms.tolist()
    assert got_weights.idf.tolist() == weights.idf.tolist()
    assert _canonical(got_raw) == _canonical(raw)
    assert got._keys == expected._keys and got._surface == expected._surface and got._known == expected._known
    assert {k: sorted(v) for k, v in got._forms.items()} == {k: sorted(v) for k, v in expected._forms.items()}
    assert {k: got._parts[k] for k in expected._parts} == expected._parts
    assert any(expected._parts.values()) or count < 7
