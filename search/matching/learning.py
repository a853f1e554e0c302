"""Learning the score from coordinators' decisions on suggested pairs.

Each accepted or rejected pair is one example: its feature vector (as stored
with the match) and the decision. Pairs on hold teach nothing and are left out
by the caller.

A model is fitted only when there are at least `MIN_DECISIONS` (30) decisions
with at least `MIN_PER_CLASS` (10) accepted *and* 10 rejected: with fewer, a
9-feature logistic regression mostly learns noise, and the documented weights
of `ScoreWeights` are the better bet. The model is a class-balanced logistic
regression on the feature values (all already in [0, 1], so the coefficients
are comparable); its predicted probability that a coordinator accepts the pair
becomes the score. The classes are not re-weighted, so that probability keeps
its meaning and `min_score` stays a sensible floor ("at least a 20% chance of
being accepted").

Its quality is reported by stratified k-fold cross-validation (k = 5, fewer
when a class is smaller): ROC AUC and average precision of out-of-fold
predictions, next to the same measures for the documented weights on the same
decisions, so coordinators can see whether learning helps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .features import FEATURES
from .types import ScoreWeights

if TYPE_CHECKING:  # scikit-learn is imported where a model is fitted: it takes most of a second,
    # which a server start would otherwise spend before it answers
    from sklearn.linear_model import LogisticRegression

MIN_DECISIONS = 30
MIN_PER_CLASS = 10
CV_FOLDS = 5


@dataclass(frozen=True)
class Decision:
    """A reviewed pair: its features and whether it was accepted."""

    features: Mapping[str, float]
    accepted: bool


@dataclass(frozen=True)
class LearningReport:
    """What learning did, for the coordinators' clusters/settings page and the CLI."""

    used_model: bool
    decisions: int
    accepted: int
    rejected: int
    message: str  # Dutch, shown to coordinators
    roc_auc: float | None = None
    average_precision: float | None = None
    weights_roc_auc: float | None = None
    weights_average_precision: float | None = None
    folds: int = 0
    coefficients: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LearnedScorer:
    """A fitted logistic regression used as the engine's scorer."""

    def __init__(self, model: LogisticRegression) -> None:
        self.model = model

    def score(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        return np.asarray(self.model.predict_proba(features)[:, 1])

    def contributions(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features * self.model.coef_[0][None, :])

    @property
    def coefficients(self) -> dict[str, float]:
        return {name: round(float(c), 4) for name, c in zip(FEATURES, self.model.coef_[0])}


def _dutch_number(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _matrix(decisions: list[Decision]) -> tuple[np.ndarray, np.ndarray]:
    rows = [[float(d.features.get(name, 0.0)) for name in FEATURES] for d in decisions]
    x = np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))
    y = np.array([bool(d.accepted) for d in decisions], dtype=int)
    return x, y


def _new_model() -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=1000)


def learn_scorer(decisions: Iterable[Decision]) -> tuple[LearnedScorer | None, LearningReport]:
    """Fit a scorer when there are enough decisions; otherwise (None, why not)."""
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    decisions = list(decisions)
    x, y = _matrix(decisions)
    accepted, rejected = int(y.sum()), int(len(y) - y.sum())
    if len(y) < MIN_DECISIONS or min(accepted, rejected) < MIN_PER_CLASS:
        message = (
            f"Te weinig beoordelingen om van te leren ({accepted} geaccepteerd, {rejected} afgewezen; "
            f"nodig: minstens {MIN_DECISIONS} met elk minstens {MIN_PER_CLASS}). "
            "De score blijft de standaardscore (het meegeleverde model, of de vaste gewichten zonder embeddings)."
        )
        return None, LearningReport(
            used_model=False, message=message, decisions=len(y), accepted=accepted, rejected=rejected
        )
    folds = min(CV_FOLDS, accepted, rejected)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    out_of_fold = cross_val_predict(_new_model(), x, y, cv=splitter, method="predict_proba")[:, 1]
    fixed = ScoreWeights().score(x)
    model = _new_model().fit(x, y)
    scorer = LearnedScorer(model)
    auc, ap = float(roc_auc_score(y, out_of_fold)), float(average_precision_score(y, out_of_fold))
    message = (
        f"Score geleerd uit {len(y)} beoordelingen; kruisvalidatie ({folds}-voudig): "
        f"ROC AUC {_dutch_number(auc)}, gemiddelde precisie {_dutch_number(ap)}."
    )
    report = LearningReport(
        used_model=True,
        message=message,
        roc_auc=round(auc, 4),
        average_precision=round(ap, 4),
        weights_roc_auc=round(float(roc_auc_score(y, fixed)), 4),
        weights_average_precision=round(float(average_precision_score(y, fixed)), 4),
        folds=folds,
        coefficients=scorer.coefficients,
        decisions=len(y),
        accepted=accepted,
        rejected=rejected,
    )
    return scorer, report


def evaluate_learning(decisions: Iterable[Decision]) -> LearningReport:
    """The report of `learn_scorer` without keeping the model."""
    return learn_scorer(decisions)[1]
