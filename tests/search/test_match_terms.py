"""The matching engine's TF-IDF (search/matching/terms.py) equals scikit-learn's, bit for bit."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

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
