"""The types every matching module shares: items, matches, scorers, the documented weights and the type labels.

They live apart from the engine (`search/matching/engine.py`) so that the modules the engine uses — reasons,
learning, clusters — can import them without importing the engine.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol

import numpy as np

from .features import CORROBORATION, FEATURES, MatchType

MATCH_TYPE_LABELS: dict[str, str] = {
    "joint_procurement": "Gezamenlijke inkoop",
    "scaling_up": "Opschalen",
    "knowledge_exchange": "Kennisuitwisseling",
}

DEFAULT_TOPIC_WEIGHTS: dict[str, float] = {
    "semantic": 0.40,
    "lexical": 0.30,
    "themes": 0.05,
    "suppliers": 0.10,
    "technologies": 0.10,
    "categories": 0.0,
}
DEFAULT_CONTEXT_WEIGHTS: dict[str, float] = {"phase": 0.4, "timing": 0.3, "partners": 0.3}
DEFAULT_CONTEXT_SHARE = 0.3
DEFAULT_CORROBORATION_SHARE = 0.5
DEFAULT_UNCORROBORATED_SHARE = 0.8


@dataclass(frozen=True)
class MatchItem:
    """One initiative as the matcher sees it. `id` is any hashable, sortable key (the database id)."""

    id: Hashable
    province: str  # ISO 3166-2 code: pairs with equal codes are never matched
    province_name: str  # for reasons: "Gelderland heeft dit opgeschaald"
    kind: str
    phase: str | None
    themes: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    suppliers: tuple[str, ...] = ()
    seeks_partners: bool = False
    tender_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    title: str = ""
    summary: str = ""
    body: str = ""
    vector: Sequence[float] | np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Match:
    """A suggested pair. `a` sorts before `b`; `features` are what `search/matching/learning.py` learns from."""

    a: Hashable
    b: Hashable
    score: float
    type: MatchType
    reasons: tuple[str, ...]
    features: Mapping[str, float]
    shared_terms: tuple[str, ...] = ()
    witness: Hashable | None = None  # the third initiative that corroborates the pair
    standout: float = 0.0  # standard deviations above both initiatives' backgrounds

    @property
    def pair(self) -> tuple[Hashable, Hashable]:
        return (self.a, self.b)


class Scorer(Protocol):
    """Turns a (pairs x FEATURES) matrix into scores in [0, 1]."""

    def score(self, features: np.ndarray) -> np.ndarray: ...

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per pair and feature, how much that feature added (orders the reasons)."""
        ...


@dataclass(frozen=True)
class ScoreWeights:
    """The documented weights (see the module docstring); used until a model is learned."""

    topic: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TOPIC_WEIGHTS))
    context: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CONTEXT_WEIGHTS))
    context_share: float = DEFAULT_CONTEXT_SHARE
    corroboration_share: float = DEFAULT_CORROBORATION_SHARE
    uncorroborated_share: float = DEFAULT_UNCORROBORATED_SHARE

    def _vectors(self) -> tuple[np.ndarray, np.ndarray, float]:
        topic_total = sum(self.topic.values()) or 1.0
        context_total = sum(self.context.values())
        topic = np.array([self.topic.get(f, 0.0) / topic_total for f in FEATURES])
        context = np.array([self.context.get(f, 0.0) / (context_total or 1.0) for f in FEATURES])
        return topic, context, (self.context_share if context_total else 0.0)

    def direct(self, features: np.ndarray) -> np.ndarray:
        """The score from the pair's own features (corroboration ignored)."""
        topic, context, share = self._vectors()
        return np.asarray(np.clip((features @ topic) * (1.0 - share + share * (features @ context)), 0.0, 1.0))

    def score(self, features: np.ndarray) -> np.ndarray:
        beta = self.corroboration_share
        direct = self.direct(features)
        corroborated = (1.0 - beta) * direct + beta * features[:, FEATURES.index(CORROBORATION)]
        return np.clip(np.maximum(self.uncorroborated_share * direct, corroborated), 0.0, 1.0)

    def contributions(self, features: np.ndarray) -> np.ndarray:
        topic, context, share = self._vectors()
        beta = self.corroboration_share
        weights = (1.0 - beta) * (topic * (1.0 - share) + share * context)
        weights[FEATURES.index(CORROBORATION)] = beta
        return features * weights

    def without(self, feature: str) -> ScoreWeights:
        """The same rule with one feature left out (the others renormalised): for the ablation."""
        if feature not in FEATURES:
            raise ValueError(f"unknown feature {feature!r}")
        if feature == CORROBORATION:
            return replace(self, corroboration_share=0.0, uncorroborated_share=1.0)
        return replace(
            self,
            topic={k: v for k, v in self.topic.items() if k != feature},
            context={k: v for k, v in self.context.items() if k != feature},
        )


#: What corroboration is computed from, whatever scorer ranks the matches.
DIRECT_WEIGHTS = ScoreWeights()
