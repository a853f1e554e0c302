"""Blending a keyword ranking with a vector ranking.

Both functions take best-first lists of (id, score) and a `semantic_ratio`
(0 = keyword only, 1 = vector only) and return one best-first list. Which
one ranks better for Kennisbank is an empirical question, so the embedded
backend takes the name as a parameter (`fusion="rrf"` or `"score"`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

Ranking = Sequence[tuple[int, float]]
Fusion = Callable[[Ranking, Ranking, float, Collection[int]], list[tuple[int, float]]]

RRF_K = 60


def reciprocal_rank_fusion(
    keyword: Ranking, semantic: Ranking, semantic_ratio: float, unvectored: Collection[int] = frozenset()
) -> list[tuple[int, float]]:
    """Weighted RRF: each list contributes weight / (k + rank). Ignores the
    raw scores, so it is robust to BM25's unbounded scale, but it also
    ignores how *much* better the first hit is than the second.

    A keyword hit in `unvectored` has no vector yet (its embedding is pending): its semantic share
    is taken at its keyword rank, so it is neither pushed down for lacking one nor lifted."""
    fused: dict[int, float] = {}
    for weight, ranking in ((1.0 - semantic_ratio, keyword), (semantic_ratio, semantic)):
        for rank, (doc_id, _) in enumerate(ranking, 1):
            fused[doc_id] = fused.get(doc_id, 0.0) + weight / (RRF_K + rank)
    for rank, (doc_id, _) in enumerate(keyword, 1):
        if doc_id in unvectored:
            fused[doc_id] += semantic_ratio / (RRF_K + rank)
    return _best_first(fused)


def score_fusion(
    keyword: Ranking, semantic: Ranking, semantic_ratio: float, unvectored: Collection[int] = frozenset()
) -> list[tuple[int, float]]:
    """Convex combination of normalised scores: BM25 divided by the best
    BM25 of this query, cosine clipped to [0, 1] (already comparable across
    queries, so it is not rescaled per query). A keyword hit in `unvectored`
    (no vector yet) takes its normalised keyword score for its semantic share."""
    fused: dict[int, float] = {}
    best = max((score for _, score in keyword), default=0.0)
    if best > 0:
        for doc_id, score in keyword:
            share = 1.0 if doc_id in unvectored else 1.0 - semantic_ratio
            fused[doc_id] = share * score / best
    for doc_id, cosine in semantic:
        fused[doc_id] = fused.get(doc_id, 0.0) + semantic_ratio * max(cosine, 0.0)
    return _best_first(fused)


FUSIONS: dict[str, Fusion] = {"rrf": reciprocal_rank_fusion, "score": score_fusion}


def _best_first(scores: dict[int, float]) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
