"""Matching initiatives across provinces: which pairs to suggest, of which type, and why.

    engine = MatchEngine()                  # scored and typed by the shipped model (model.py)
    matches = engine.match_all(items)       # every suggested cross-province pair of `items`
    engine.match_one(item)                  # one changed initiative against the prepared rest

The modules, one concept each:

* `engine`: candidates (nearest neighbours in text and terms), scoring, types, incremental updates;
* `types`: the items, matches, scorers, documented weights and type labels every module shares;
* `features`: the explainable pair features and the type rules' facts;
* `terms`: the distinctive terms (TF-IDF) of the lexical feature;
* `space`: the semantic space the text vectors are compared in;
* `model`: the fitted pair and type models (`match_model.json`, `match_space.npy`);
* `reasons`: the Dutch sentences that say why a pair is suggested;
* `clusters`: three or more provinces on one purpose;
* `learning`: a scorer fitted on coordinators' decisions;
* `fingerprint`, `highlight`: when a rejected pair may come back, and the shared terms to mark.
"""

from .engine import DEFAULT_MIN_SCORE, DEFAULT_MIN_STANDOUT, MatchEngine, match_type
from .features import MATCH_TYPES
from .types import DIRECT_WEIGHTS, MATCH_TYPE_LABELS, Match, MatchItem, ScoreWeights

__all__ = [
    "DEFAULT_MIN_SCORE",
    "DEFAULT_MIN_STANDOUT",
    "DIRECT_WEIGHTS",
    "MATCH_TYPES",
    "MATCH_TYPE_LABELS",
    "Match",
    "MatchEngine",
    "MatchItem",
    "ScoreWeights",
    "match_type",
]
