"""The fitted pair model that scores and types matches: logistic regressions shipped as JSON.

    model = load_match_model()            # search/matching/match_model.json, or None when absent
    scores = model.score(features)        # (pairs x FEATURES) -> probability of a true pair
    kind = model.type_of(type_features)   # "joint_procurement" | "scaling_up" | "knowledge_exchange"
    leaning = model.leaning(vector)       # what kind of initiative one text reads like (a type feature)

`bench/train_matching.py` fits both on labelled sets (the seed in three text
styles and the independent development set `bench/devset/`), chooses the
regularisation and the suggestion threshold by cross-validation grouped by
family, and writes this file with its cross-validated figures. The held-out
set (`bench/holdout/`) is never read there. Inference needs only numpy: the
file holds the standardisation, the coefficients and the threshold, so a
score is reproducible from the file alone.

Why a fitted model rather than hand-set weights: the hand-set weights were
chosen on the seed and held poorly on texts in other styles (short portfolio
rows, long reports, English); the model is fitted on several styles at once
and on corpus-relative features (`semantic_z`), and its figures are measured
on families it was not fitted on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .features import MATCH_TYPES, NEUTRAL_LEANING
from .space import SemanticSpace, SpaceBackground, load_semantic_space

MODEL_FILE = Path(__file__).resolve().parent / "match_model.json"
#: Logits closer than this (relative) are a tie that only `MatchModel.type_of` decides.
_TIE = 1e-9


@dataclass(frozen=True)
class _Logistic:
    """A standardised (multinomial or binary) logistic regression."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (classes or 1, features)
    intercept: np.ndarray

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Logistic:
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.atleast_2d(np.asarray(data["coef"], dtype=np.float64)),
            np.atleast_1d(np.asarray(data["intercept"], dtype=np.float64)),
        )

    def columns(self, names: Sequence[str]) -> np.ndarray:
        return np.array([list(names).index(f) for f in self.features], dtype=np.int64)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.coef.T + self.intercept)


@dataclass(frozen=True)
class MatchModel:
    """Pair score (probability that a coordinator would call the pair a match) and type."""

    pair: _Logistic
    pair_columns: np.ndarray  # where the pair model's features sit in the FEATURES matrix
    threshold: float  # suggest a pair whose probability reaches this (chosen by grouped CV)
    type_model: _Logistic
    type_columns: np.ndarray  # where the type model's features sit in TYPE_FEATURES
    type_classes: tuple[str, ...]
    report: dict[str, Any]  # what it was fitted on and its cross-validated figures
    space: SemanticSpace | None = None  # where the semantic features are computed (`search/matching/space.py`)
    calibration: tuple[float, float] = (1.0, 0.0)  # Platt (slope, offset) on the pair logit, fitted out of fold
    item_type: _Logistic | None = None  # one text's vector -> its family's type (`leaning`)
    item_type_order: tuple[int, ...] = ()  # the item model's class index for each of MATCH_TYPES
    #: The leaning of a text the item model cannot read: its mean over the texts it was fitted on, so that
    #: the `reads_as_*` type features push towards no type.
    neutral_leaning: tuple[float, float, float] = NEUTRAL_LEANING

    def score(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        logits = self.pair.logits(features[:, self.pair_columns])[:, 0]
        slope, offset = self.calibration
        return 1.0 / (1.0 + np.exp(-(slope * logits + offset)))

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per feature, its standardised push towards a match (orders the reasons)."""
        out = np.zeros_like(features, dtype=np.float64)
        if len(features):
            pushes = (features[:, self.pair_columns] - self.pair.mean) / self.pair.scale * self.pair.coef[0]
            out[:, self.pair_columns] = np.maximum(pushes, 0.0)
        return out

    def leaning(self, vector: Sequence[float] | np.ndarray | None) -> tuple[float, float, float]:
        """How much one initiative's text reads like each type's kind of initiative (MATCH_TYPES order).

        A product or service bought from the market, an approach proven in-house, a problem many share:
        the text says which, whatever the phase fields say. The item model was fitted on the unit
        vectors of labelled families' members, each labelled with its family's type; a vector the
        model cannot read (none, another encoder's, of other dimensions) leans nowhere: pass None for a
        vector from an encoder other than the one the model was fitted with."""
        if self.item_type is None or vector is None or len(vector) != self.item_type.coef.shape[1]:
            return self.neutral_leaning
        v = np.asarray(vector, dtype=np.float64)
        norm = float(np.linalg.norm(v))
        if not norm:
            return self.neutral_leaning
        logits = self.item_type.logits((v / norm)[None, :])[0]
        p = np.exp(logits - logits.max())
        p /= p.sum()
        first, second, third = (float(p[i]) for i in self.item_type_order)
        return (first, second, third)

    def types_of(self, type_features: np.ndarray, allowed: Sequence[Sequence[str]]) -> list[str]:
        """`type_of` of many pairs (rows of TYPE_FEATURES) at once. The logits of a matrix and of one row
        may differ in the last bits; a pair whose best allowed logit lies within `_TIE` of another allowed
        one is typed by `type_of` itself, so every type is the one `type_of` gives."""
        if not len(type_features):
            return []
        logits = self.type_model.logits(type_features[:, self.type_columns])
        order = np.argsort(-logits, axis=1, kind="stable").tolist()
        classes = self.type_classes
        out = []
        for pair, (row, ranked, permitted) in enumerate(zip(logits.tolist(), order, allowed, strict=True)):
            open_ = [index for index in ranked if classes[index] in permitted]
            if len(open_) > 1 and row[open_[0]] - row[open_[1]] <= _TIE * max(1.0, abs(row[open_[0]])):
                out.append(self.type_of(type_features[pair], permitted))
            elif open_:
                out.append(classes[open_[0]])
            else:
                raise ValueError("no allowed type")
        return out

    def type_of(self, type_features: np.ndarray, allowed: Sequence[str] | None = None) -> str:
        """The most likely type among `allowed` (all when None)."""
        logits = self.type_model.logits(type_features[self.type_columns][None, :])[0]
        for index in np.argsort(-logits, kind="stable").tolist():
            if allowed is None or self.type_classes[int(index)] in allowed:
                return str(self.type_classes[int(index)])
        raise ValueError("no allowed type")


def match_model_from_dict(
    data: dict[str, Any],
    feature_names: Sequence[str],
    type_feature_names: Sequence[str],
    folder: Path = MODEL_FILE.parent,
) -> MatchModel:
    """The model `data` describes; its semantic space, when it names one, is read from `folder`."""
    pair = _Logistic.from_dict(data["pair"])
    type_model = _Logistic.from_dict(data["type"])
    space = data.get("space")
    calibration = data.get("calibration", {"slope": 1.0, "offset": 0.0})
    item_type = data.get("item_type")
    return MatchModel(
        pair=pair,
        pair_columns=pair.columns(feature_names),
        threshold=float(data["threshold"]),
        type_model=type_model,
        type_columns=type_model.columns(type_feature_names),
        type_classes=tuple(data["type"]["classes"]),
        report=data.get("report", {}),
        space=_space_of(space, folder) if space else None,
        calibration=(float(calibration["slope"]), float(calibration["offset"])),
        item_type=_Logistic.from_dict(item_type) if item_type else None,
        item_type_order=tuple(item_type["classes"].index(t) for t in MATCH_TYPES) if item_type else (),
        neutral_leaning=_three(item_type["neutral"]) if item_type else NEUTRAL_LEANING,
    )


def _space_of(data: dict[str, Any], folder: Path) -> SemanticSpace:
    """The space file `data` names (checked against its SHA-256), with the background measured in it."""
    space = load_semantic_space(data["sha256"], folder / data["file"])
    background = data.get("background")
    return replace(space, background=SpaceBackground.from_dict(background)) if background else space


def _three(values: Sequence[float]) -> tuple[float, float, float]:
    first, second, third = (float(v) for v in values)
    return (first, second, third)


@lru_cache(maxsize=4)
def load_match_model(path: Path = MODEL_FILE) -> MatchModel | None:
    """The shipped model, or None when the file is absent (the documented weights then apply)."""
    from .features import FEATURES, TYPE_FEATURES

    if not path.exists():
        return None
    return match_model_from_dict(json.loads(path.read_text(encoding="utf-8")), FEATURES, TYPE_FEATURES, path.parent)


def shipped_space_for(embedder_name: str) -> SemanticSpace | None:
    """The shipped model's semantic space when it was fitted on the vectors `embedder_name` gives,
    else None (another encoder's vectors mean nothing in it, even at the same width)."""
    from ..embeddings import is_multilingual_e5_small

    model = load_match_model()
    return model.space if model is not None and is_multilingual_e5_small(embedder_name) else None
