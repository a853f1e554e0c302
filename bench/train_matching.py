"""Fit the match model (`search/matching/match_model.json`) by cross-validation grouped by family.

    python bench/train_matching.py [--cache-dir data/bench-cache] [--check]

Training corpora: the seed in its three styles (full, short, bare; see
`bench/matching.py`) and the independent development set `bench/devset/` in
two (full, short). Each corpus is matched by the engine *without* a model
(`MatchEngine(model=None)`), which gives every candidate pair and its features;
a pair is positive when both members are in one family. So is every sparse
portfolio drawn from a corpus (`PORTFOLIOS`: 40 initiatives of three random
provinces, 80 of six), matched on its own: the pair model is fitted on the
candidates of both, so that it learns what the relative features mean where
twins are rare.

Chosen by 5-fold cross-validation grouped by family (a family's pairs, in every
style, are in the same fold; each pair outside a family is grouped with its
first member's family or with itself): the regularisation of the pair model, of
the type model and of the item model behind its `reads_as_*` features (one
member's vector -> its family's type, fitted per fold on the training families'
members only), and the suggestion threshold (the lowest probability at which
the pooled out-of-fold precision is still >= TARGET_PRECISION, both over the
whole corpora and over the portfolios). The pair model's regularisation is the
one with the best mean AP, averaged over the two. The final models are refitted
on everything. The figures written into the file's `report` are the out-of-fold
ones, per corpus, and pooled over the portfolios.

The held-out set `bench/holdout/` is never read here; `bench/matching.py`
reports the shipped model on it. `--check` refits and fails when the result
differs from the committed file (the file is reproducible from the data).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from matching import average_precision, labelled_pairs, print_out_of_fold, seed_items  # noqa: E402

from search.embeddings import DEFAULT_EMBEDDER  # noqa: E402
from search.matching import MatchEngine, MatchItem  # noqa: E402
from search.matching.features import (  # noqa: E402
    FEATURES,
    MATCH_TYPES,
    TYPE_FEATURES,
    allowed_types,
    type_features,
)
from search.matching.model import MODEL_FILE  # noqa: E402
from search.matching.space import (  # noqa: E402
    DEFAULT_REGULARISATION,
    SPACE_FILE,
    SemanticSpace,
    SpaceBackground,
    fit_semantic_space,
    load_semantic_space,
    save_semantic_space,
)

#: (data set, style) pairs the model is fitted on.
CORPORA: tuple[tuple[str, str], ...] = (
    ("seed", "full"),
    ("seed", "short"),
    ("seed", "bare"),
    ("devset", "full"),
    ("devset", "short"),
    ("devset2", "full"),
    ("devset2", "short"),
    ("devset3", "full"),
    ("devset3", "short"),
    ("devset4", "full"),
    ("devset4", "short"),
    ("devset5", "full"),
    ("devset5", "short"),
)
FOLDS = 5
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
#: Regularisation of the item model behind the type features `reads_as_*` (`fit_leaning`).
LEANING_C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
#: Coordinators would rather review three suggestions of which two are right than miss most true pairs;
#: the threshold keeps a small margin above the 0.6 the issue allows, since a new corpus differs from these.
TARGET_PRECISION = 0.65
#: Sparse portfolios drawn from every training corpus, as (initiatives, provinces, draws): a labelled
#: set has about half its initiatives in a cross-province family, a real portfolio of a few provinces
#: far fewer, and features relative to the corpus (`semantic_gap`) mean something else there. The
#: pair model, its calibration and the threshold see both (bench/sparse_portfolios.py).
PORTFOLIOS: tuple[tuple[int, int, int], ...] = ((40, 3, 4), (80, 6, 2))


def item_vectors(cache_dir: Path) -> dict[tuple[str, str], list[MatchItem]]:
    """The training corpora's items, embedded as the platform stores them (default encoder, documents)."""
    return {(dataset, style): seed_items(DEFAULT_EMBEDDER, cache_dir, dataset, style) for dataset, style in CORPORA}


def item_key(dataset: str, item_id: str, family_of: dict[str, str]) -> str:
    """An item's fold group: its family, or itself when it is in none."""
    return f"{dataset}:{family_of.get(item_id) or item_id}"


def pair_key(dataset: str, a: str, b: str, family_of: dict[str, str]) -> str:
    """A pair's fold group: that of its first member in a family (a pair outside families, its first)."""
    return item_key(dataset, a if a in family_of or b not in family_of else b, family_of)


def fit_space(
    items: dict[tuple[str, str], list[MatchItem]], keys: set[str] | None, regularisation: float = DEFAULT_REGULARISATION
) -> SemanticSpace:
    """The semantic space from every corpus's vectors and the families in `keys` (all when None); one
    family's members in every style are one class, so style is among what the space learns to ignore."""
    rows, members = [], {}
    for (dataset, _style), corpus_items in items.items():
        family_of = _family_of(dataset)
        for item in corpus_items:
            key = item_key(dataset, item.id, family_of)
            if item.id in family_of and (keys is None or key in keys):
                members.setdefault(key, []).append(len(rows))
            rows.append(np.asarray(item.vector, dtype=np.float32))
    return fit_semantic_space(np.stack(rows), list(members.values()), regularisation)


def space_background(items: dict[tuple[str, str], list[MatchItem]], space: SemanticSpace) -> SpaceBackground:
    """How unrelated texts lie in `space`, averaged over every corpus's initiatives: the mean and spread
    of each one's cosines with the other provinces' initiatives of its corpus (`SpaceBackground`)."""
    means, spreads = [], []
    for corpus_items in items.values():
        unit = space.apply(np.stack([np.asarray(item.vector, dtype=np.float32) for item in corpus_items]))
        provinces = np.array([item.province for item in corpus_items])
        cosines = unit @ unit.T
        for row in range(len(corpus_items)):
            others = cosines[row, provinces != provinces[row]]
            means.append(float(others.mean()))
            spreads.append(float(others.std()))
    return SpaceBackground(mean=round(float(np.mean(means)), 4), spread=round(float(np.mean(spreads)), 4))


@lru_cache(maxsize=None)
def _family_of(dataset: str) -> dict[str, str]:
    """{initiative: its family} of a labelled set (read once: every item's fold group asks for it)."""
    truth, _ = labelled_pairs(dataset)
    return {member: family for pair, (family, _) in truth.items() for member in pair}


def portfolios(dataset: str, style: str, items: list[MatchItem]) -> list[list[MatchItem]]:
    """`PORTFOLIOS` random draws from one corpus: so many initiatives of so many random provinces (the
    same draws on every run: the generator is seeded by the corpus's name)."""
    rng = random.Random(f"{dataset}/{style}")
    provinces = sorted({item.province for item in items})
    draws = []
    for size, count, times in PORTFOLIOS:
        for _ in range(times):
            chosen = set(rng.sample(provinces, count))
            pool = [item for item in items if item.province in chosen]
            draws.append(pool if size >= len(pool) else rng.sample(pool, size))
    return draws


def corpus(dataset: str, style: str, items: list[MatchItem], space: SemanticSpace) -> dict:
    """Candidates of one corpus with features (computed in `space`), labels, groups and type rows."""
    ids = {item.id for item in items}
    truth = {pair: value for pair, value in labelled_pairs(dataset)[0].items() if pair[0] in ids and pair[1] in ids}
    engine = MatchEngine(model=None, space=space, min_score=0.0)
    candidates = engine.match_all(items)
    family_of = _family_of(dataset)
    facts = {item.id: engine._facts[engine._row[item.id]] for item in items}
    x = np.array([[m.features[f] for f in FEATURES] for m in candidates], dtype=np.float64).reshape(-1, len(FEATURES))
    y = np.array([(m.a, m.b) in truth for m in candidates], dtype=bool)
    groups = np.array([pair_key(dataset, m.a, m.b, family_of) for m in candidates])
    typed, type_labels, type_groups = [], [], []
    for m in candidates:
        family, expected = truth.get((m.a, m.b), ("", ""))
        if expected:
            typed.append((facts[m.a], facts[m.b], dict(m.features), m.a, m.b))
            type_labels.append(expected)
            type_groups.append(f"{dataset}:{family}")
    _, family_types = labelled_pairs(dataset)
    members = [
        (item_key(dataset, item.id, family_of), family_types[family_of[item.id]], item.id, _unit(item.vector))
        for item in items
        if item.id in family_of and family_types.get(family_of[item.id])
    ]
    allowed = [
        allowed_types(facts[m.a], facts[m.b], dict(m.features))
        for m in candidates
        if truth.get((m.a, m.b), ("", ""))[1]
    ]
    return {
        "name": f"{dataset}/{style}",
        "x": x,
        "y": y,
        "groups": groups,
        "positives": len(truth),
        "typed": typed,
        "vectors": {item.id: _unit(item.vector) for item in items},
        "members": members,
        "ty": np.array(type_labels),
        "tgroups": np.array(type_groups),
        "allowed": allowed,
    }


def _unit(vector) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float64)
    return v / np.linalg.norm(v)


def fit_leaning(corpora: list[dict], families: set[str] | None, c: float) -> LogisticRegression:
    """The item model of `MatchModel.leaning`: one member's unit vector -> its family's type, fitted on
    the members (in every corpus and style) of `families` (all when None)."""
    rows = [(v, t) for k in corpora for g, t, _id, v in k["members"] if families is None or g in families]
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(np.stack([v for v, _ in rows]), np.array([t for _, t in rows]))
    return model


def neutral_leaning(corpora: list[dict], leaning: LogisticRegression) -> np.ndarray:
    """The mean leaning over every corpus's texts: what a text the item model cannot read is given."""
    order = [list(leaning.classes_).index(t) for t in MATCH_TYPES]
    vectors = np.stack([v for k in corpora for v in k["vectors"].values()])
    return np.asarray(leaning.predict_proba(vectors)[:, order].mean(axis=0))


def with_type_rows(corpora: list[dict], leaning: LogisticRegression) -> list[dict]:
    """The corpora with their type rows ("tx"), each side's `leaning` read by the item model."""
    order = [list(leaning.classes_).index(t) for t in MATCH_TYPES]
    out = []
    for k in corpora:
        ids = list(k["vectors"])
        probabilities = leaning.predict_proba(np.stack([k["vectors"][i] for i in ids]))[:, order]
        lean = {i: tuple(float(x) for x in row) for i, row in zip(ids, probabilities)}
        rows = [
            type_features(replace(fa, leaning=lean[a]), replace(fb, leaning=lean[b]), named)
            for fa, fb, named, a, b in k["typed"]
        ]
        out.append({**k, "tx": np.array(rows).reshape(-1, len(TYPE_FEATURES))})
    return out


def _standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[LogisticRegression, np.ndarray, np.ndarray]:
    mean, scale = _standardiser(x)
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit((x - mean) / scale, y)
    return model, mean, scale


def _folds(universe: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fold membership by group (`set:family`, or `set:item` outside families) across corpora: a family's
    pairs in every style stay together. `universe` holds every group, whatever the candidates are."""
    families = np.array(sorted(set(universe)))
    splitter = GroupKFold(n_splits=FOLDS)
    return [(families[train], families[test]) for train, test in splitter.split(families, groups=families)]


def _out_of_fold(
    by_fold: list[list[dict]], folds, x_key: str, y_key: str, group_key: str, c: float, predict
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per corpus, (predictions, labels) of the rows in each fold's test families, each fold's corpora
    computed in a space fitted without them, by a model fitted on the other families."""
    outputs: list[list[np.ndarray]] = [[] for _ in by_fold[0]]
    labels: list[list[np.ndarray]] = [[] for _ in by_fold[0]]
    for corpora, (train_families, test_families) in zip(by_fold, folds):
        train = [np.isin(k[group_key], train_families) for k in corpora]
        x = np.vstack([k[x_key][m] for k, m in zip(corpora, train)])
        y = np.concatenate([k[y_key][m] for k, m in zip(corpora, train)])
        model, mean, scale = _fit(x, y, c)
        for i, k in enumerate(corpora):
            test = np.isin(k[group_key], test_families)
            if test.any():
                outputs[i].append(np.asarray(predict(model, (k[x_key][test] - mean) / scale, k, test)))
                labels[i].append(k[y_key][test])
    return [
        (np.concatenate(o) if o else np.zeros(0), np.concatenate(lab) if lab else np.zeros(0))
        for o, lab in zip(outputs, labels)
    ]


def out_of_fold_pairs(by_fold: list[list[dict]], folds, c: float) -> list[tuple[np.ndarray, np.ndarray]]:
    out = _out_of_fold(by_fold, folds, "x", "y", "groups", c, lambda model, x, k, test: model.predict_proba(x)[:, 1])
    return [(p.astype(np.float64), y.astype(bool)) for p, y in out]


def _allowed_argmax(probabilities: np.ndarray, classes: np.ndarray, allowed: list[tuple[str, ...]]) -> np.ndarray:
    """Per pair the most probable class among its allowed types (as the engine decides)."""
    probabilities = probabilities.copy()
    for row, types in enumerate(allowed):
        probabilities[row, [c not in types for c in classes]] = -1.0
    return classes[np.argmax(probabilities, axis=1)]


def out_of_fold_types(by_fold: list[list[dict]], folds, c: float) -> list[tuple[np.ndarray, np.ndarray]]:
    return _out_of_fold(
        by_fold,
        folds,
        "tx",
        "ty",
        "tgroups",
        c,
        lambda model, x, k, test: _allowed_argmax(
            model.predict_proba(x), model.classes_, [k["allowed"][i] for i in np.flatnonzero(test)]
        ),
    )


def _ap(scores: np.ndarray, labels: np.ndarray, positives: int) -> float:
    order = np.argsort(-scores, kind="stable")
    return average_precision(labels[order].tolist(), positives)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def fit_calibration(predictions: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """Platt scaling of the pooled out-of-fold logits: (slope, offset) so that the shipped score is the
    share of true pairs among pairs scored alike on families the model did not see. A strongly
    regularised fit squeezes its probabilities towards the base rate; this undoes that."""
    logits = _logit(np.concatenate([p for p, _ in predictions]))[:, None]
    labels = np.concatenate([y for _, y in predictions])
    platt = LogisticRegression(C=1e6, max_iter=5000).fit(logits, labels)
    return float(platt.coef_[0, 0]), float(platt.intercept_[0])


def calibrated(p: np.ndarray, calibration: tuple[float, float]) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(calibration[0] * _logit(p) + calibration[1])))


def choose_threshold(predictions: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The lowest probability (to four decimals) at which the pooled out-of-fold precision of the pairs
    at or above it still reaches TARGET_PRECISION: the largest suggestion list that target allows."""
    scores = np.round(np.concatenate([p for p, _ in predictions]), 4)
    labels = np.concatenate([y for _, y in predictions])
    order = np.argsort(-scores, kind="stable")
    precision = np.cumsum(labels[order]) / np.arange(1, len(order) + 1)
    last = np.flatnonzero(scores[order][:-1] != scores[order][1:])  # the end of each run of equal scores
    ends = np.append(last, len(order) - 1)
    meeting = ends[precision[ends] >= TARGET_PRECISION]
    return float(scores[order][meeting[-1]]) if len(meeting) else 0.5


def suggestion_figures(scores: np.ndarray, labels: np.ndarray, positives: int, threshold: float) -> dict:
    chosen = scores >= threshold
    hits = int(labels[chosen].sum())
    return {
        "ap": round(_ap(scores, labels, positives), 3),
        "suggested": int(chosen.sum()),
        "true": hits,
        "precision": round(hits / chosen.sum(), 3) if chosen.any() else 0.0,
        "recall": round(hits / positives, 3),
    }


def train(
    cache_dir: Path, sets: tuple[str, ...] = ("seed", "devset", "devset2", "devset3", "devset4", "devset5")
) -> tuple[dict, SemanticSpace]:
    """The fitted model (as written to `match_model.json`, without the space's checksum) and its space."""
    chosen = [(dataset, style) for dataset, style in CORPORA if dataset in sets]
    items = {key: value for key, value in item_vectors(cache_dir).items() if key in chosen}
    universe = [
        item_key(dataset, item.id, _family_of(dataset))
        for (dataset, _), corpus_items in items.items()
        for item in corpus_items
    ]
    folds = _folds(universe)
    spaces = [fit_space(items, set(train_keys)) for train_keys, _test in folds]
    by_fold = [[corpus(dataset, style, items[dataset, style], space) for dataset, style in chosen] for space in spaces]
    drawn = [
        (dataset, style, sample)
        for dataset, style in chosen
        for sample in portfolios(dataset, style, items[dataset, style])
    ]
    sparse_by_fold = [[corpus(dataset, style, sample, space) for dataset, style, sample in drawn] for space in spaces]
    names = [f"{dataset}/{style}" for dataset, style in chosen]
    positives = [by_fold[0][i]["positives"] for i in range(len(chosen))]
    sparse_positives = [k["positives"] for k in sparse_by_fold[0]]
    whole = len(chosen)
    by_c = {}
    for c in C_GRID:
        predictions = out_of_fold_pairs([a + b for a, b in zip(by_fold, sparse_by_fold)], folds, c)
        aps = [_ap(p, y, n) for (p, y), n in zip(predictions, positives + sparse_positives)]
        by_c[c] = ((np.mean(aps[:whole]) + np.mean(aps[whole:])) / 2, predictions)
    pair_c = max(C_GRID, key=lambda c: (round(by_c[c][0], 3), -c))
    calibration = fit_calibration(by_c[pair_c][1])
    predictions = [(calibrated(p, calibration), y) for p, y in by_c[pair_c][1]]
    sparse_predictions = predictions[whole:]
    predictions = predictions[:whole]
    threshold = max(choose_threshold(predictions), choose_threshold(sparse_predictions))
    type_scores = {}
    for leaning_c in LEANING_C_GRID:
        typed_by_fold = [
            with_type_rows(corpora, fit_leaning(corpora, set(train_keys), leaning_c))
            for corpora, (train_keys, _test) in zip(by_fold, folds)
        ]
        for c in C_GRID:
            types = out_of_fold_types(typed_by_fold, folds, c)
            correct = sum(int((t == y).sum()) for t, y in types)
            type_scores[leaning_c, c] = (correct / max(1, sum(len(y) for _, y in types)), types)
    leaning_c, type_c = max(type_scores, key=lambda key: (round(type_scores[key][0], 3), -key[0], -key[1]))
    types = type_scores[leaning_c, type_c][1]

    space = fit_space(items, None)
    corpora = [corpus(dataset, style, items[dataset, style], space) for dataset, style in chosen]
    drawn_corpora = [corpus(dataset, style, sample, space) for dataset, style, sample in drawn]
    x = np.vstack([k["x"] for k in corpora + drawn_corpora])
    y = np.concatenate([k["y"] for k in corpora + drawn_corpora])
    pair_model, pair_mean, pair_scale = _fit(x, y, pair_c)
    leaning = fit_leaning(corpora, None, leaning_c)
    corpora = with_type_rows(corpora, leaning)
    tx = np.vstack([k["tx"] for k in corpora])
    ty = np.concatenate([k["ty"] for k in corpora])
    type_model, type_mean, type_scale = _fit(tx, ty, type_c)

    figures = {}
    for name, n, (p, labels), (t, expected) in zip(names, positives, predictions, types):
        row = suggestion_figures(p, labels, n, threshold)
        row["type_accuracy"] = round(float((t == expected).mean()), 3) if len(t) else None
        row["typed_pairs"] = int(len(t))
        figures[name] = row
    pooled = (np.concatenate([p for p, _ in sparse_predictions]), np.concatenate([y for _, y in sparse_predictions]))
    sparse_row = suggestion_figures(*pooled, sum(sparse_positives), threshold)
    sparse_row["ap"] = round(
        float(np.mean([_ap(p, y, n) for (p, y), n in zip(sparse_predictions, sparse_positives)])), 3
    )
    sparse_row["portfolios"] = len(drawn)
    model = {
        "pair": {
            "features": list(FEATURES),
            "mean": _r(pair_mean),
            "scale": _r(pair_scale),
            "coef": _r(pair_model.coef_[0]),
            "intercept": _r(pair_model.intercept_),
        },
        "calibration": {"slope": round(calibration[0], 6), "offset": round(calibration[1], 6)},
        "threshold": threshold,
        "type": {
            "features": list(TYPE_FEATURES),
            "classes": [str(c) for c in type_model.classes_],
            "mean": _r(type_mean),
            "scale": _r(type_scale),
            "coef": [_r(row) for row in type_model.coef_],
            "intercept": _r(type_model.intercept_),
        },
        "item_type": {
            "features": ["vector"],
            "classes": [str(c) for c in leaning.classes_],
            "mean": [0.0],
            "scale": [1.0],
            "coef": [_r(row) for row in leaning.coef_],
            "intercept": _r(leaning.intercept_),
            "neutral": _r(neutral_leaning(corpora, leaning)),
        },
        "space": {
            "file": SPACE_FILE.name,
            "sha256": "",
            "encoder": DEFAULT_EMBEDDER,
            "vectors": "passage",
            "regularisation": DEFAULT_REGULARISATION,
            "background": space_background(items, space).to_dict(),
        },
        "report": {
            "fitted_on": [f"{d}/{s}" for d, s in chosen],
            "folds": FOLDS,
            "grouped_by": "family",
            "pair_c": pair_c,
            "type_c": type_c,
            "item_type_c": leaning_c,
            "target_precision": TARGET_PRECISION,
            "positives": int(sum(positives)),
            "out_of_fold": figures,
            "portfolios": [list(p) for p in PORTFOLIOS],
            "out_of_fold_portfolios": sparse_row,
            "space_fitted_per_fold": True,
        },
    }
    return model, space


def _r(values) -> list[float] | float:
    array = np.asarray(values, dtype=np.float64)
    return np.round(array, 6).tolist()


def print_report(model: dict) -> None:
    report = model["report"]
    print(
        f"pair model C={report['pair_c']}, type model C={report['type_c']} (item model C={report['item_type_c']}), threshold {model['threshold']} "
        f"(pooled out-of-fold precision >= {report['target_precision']})"
    )
    print_out_of_fold(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=REPO / "data" / "bench-cache")
    parser.add_argument("--check", action="store_true", help="fail when the fit differs from the committed file")
    parser.add_argument(
        "--sets",
        default="seed,devset,devset2,devset3,devset4,devset5",
        help="the labelled sets to fit on (never holdout)",
    )
    args = parser.parse_args()
    sets = tuple(args.sets.split(","))
    if "holdout" in sets:
        sys.exit("the held-out set is for measuring only")
    model, space = train(args.cache_dir, sets)
    print_report(model)
    if args.check:
        committed = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
        shipped = load_semantic_space(committed["space"]["sha256"], SPACE_FILE)
        committed["space"]["sha256"] = ""
        if committed != json.loads(json.dumps(model)) or not np.allclose(
            shipped.to_array(), space.to_array(), atol=1e-4
        ):
            sys.exit(f"{MODEL_FILE} or {SPACE_FILE} differs from a fresh fit")
        print("the committed model equals a fresh fit")
        return
    model["space"]["sha256"] = save_semantic_space(space, SPACE_FILE)
    MODEL_FILE.write_text(json.dumps(model, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {MODEL_FILE} and {SPACE_FILE}")


if __name__ == "__main__":
    main()
