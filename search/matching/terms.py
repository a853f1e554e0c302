"""TF-IDF of analysed texts, the weights of matching's lexical feature: (1 + log count) x smoothed IDF.

    weights, matrix = TermWeights.fit(docs, max_df=0.5)   # docs: lists of terms (TermAnalyzer)
    row = weights.transform([doc])                        # a new text, on the fitted vocabulary

The same numbers as scikit-learn's `TfidfVectorizer(analyzer=..., sublinear_tf=True, max_df=max_df,
norm=None)`, with the same operations in the same order (tests/search/test_match_terms.py compares
them bit for bit). Counting the terms of 20,000 texts with numpy instead of term by term in Python,
and not importing scikit-learn, takes seconds off a full rematch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import chain

import numpy as np
from scipy import sparse


class TermWeights:
    """A fitted vocabulary (terms in sorted order) and the IDF of each term."""

    def __init__(self, terms: Sequence[str], idf: np.ndarray) -> None:
        self.terms = np.array(terms, dtype=object)
        self.idf = idf
        self._column = {term: column for column, term in enumerate(terms)}

    @classmethod
    def fit(cls, docs: Sequence[Sequence[str]], max_df: float) -> tuple[TermWeights, sparse.csr_matrix]:
        """The weights of the terms in at most `max_df` (a share) of `docs`, and the docs' TF-IDF rows.

        Raises ValueError when no term remains, as scikit-learn does."""
        provisional: defaultdict[str, int] = defaultdict()
        provisional.default_factory = provisional.__len__
        ids = np.fromiter(map(provisional.__getitem__, chain.from_iterable(docs)), dtype=np.int64)
        if not provisional:
            raise ValueError("empty vocabulary")
        terms = sorted(provisional)
        place = np.empty(len(terms), dtype=np.int64)  # provisional id -> column in sorted order
        place[np.fromiter(map(provisional.__getitem__, terms), dtype=np.int64)] = np.arange(len(terms))
        return cls.fit_counts(_count_rows(docs, place[ids], len(terms)), terms, max_df)

    @classmethod
    def fit_counts(
        cls, counts: sparse.csr_matrix, terms: Sequence[str], max_df: float
    ) -> tuple[TermWeights, sparse.csr_matrix]:
        """`fit` from the docs' term counts (float64, sorted indices, columns in the sorted order of
        `terms`, every term in some doc): a caller that counted the terms itself skips listing them."""
        if not len(terms):
            raise ValueError("empty vocabulary")
        n_docs = counts.shape[0]
        df = np.bincount(counts.indices, minlength=len(terms))
        kept = np.flatnonzero(df <= max_df * n_docs)
        if not len(kept):
            raise ValueError("no terms remain under max_df")
        counts = sparse.csr_matrix(counts[:, kept])
        df_kept = df[kept].astype(np.float64)
        df_kept += 1.0
        idf = np.full_like(df_kept, fill_value=n_docs + 1, dtype=np.float64)
        idf /= df_kept
        np.log(idf, out=idf)
        idf += 1.0
        weights = cls([terms[i] for i in kept.tolist()], idf)
        return weights, weights._weigh(counts)

    def transform(self, docs: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """TF-IDF rows of `docs`; terms outside the vocabulary are left out."""
        column = self._column.get
        known = [[c for c in map(column, doc) if c is not None] for doc in docs]
        ids = np.fromiter(chain.from_iterable(known), dtype=np.int64)
        return self._weigh(_count_rows(known, ids, len(self.terms)))

    def _weigh(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        data = counts.data
        np.log(data, out=data)
        data += 1.0
        data *= self.idf[counts.indices]
        return counts


def _count_rows(docs: Sequence[Sequence[object]], columns: np.ndarray, width: int) -> sparse.csr_matrix:
    """How often each column occurs in each doc (float64), given the columns of all docs' terms in order."""
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    return count_entries(np.repeat(np.arange(len(docs), dtype=np.int64), lengths), columns, (len(docs), width))


def count_entries(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """How often each (row, column) occurs among the entries (float64, sorted indices), in any order:
    the counts are whole numbers, so the order they are summed in changes nothing."""
    counts = sparse.coo_matrix((np.ones(len(columns)), (rows, columns)), shape=shape).tocsr()
    counts.sum_duplicates()
    return counts
