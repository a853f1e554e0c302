"""Matching measured on the path users take: import, `kennisbank match`, the stored suggestions.

    python bench/matching_platform.py [--set seed|devset|holdout|all] [--model e5-small-ct2]

`bench/matching.py` runs the engine on vectors it embeds itself; this benchmark instead loads a
labelled set into a throw-away database with the platform's importer, runs the full rematch that
`kennisbank match` runs (the platform's own embeddings, published initiatives only) and scores the
suggestions `kennisbank matches` would list, best first:

- precision and recall of the suggestions against the families' cross-province pairs;
- AP of the suggestion list (precision at each true pair, summed over all true pairs: a true pair
  that is not suggested counts as missed), the figure the issue quotes;
- type accuracy on the labelled true pairs among the suggestions (pairs of two followers in a
  scaling-up family have no label).

Pairs involving an initiative that is not published are left out of the truth, since the platform
never suggests those.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from matching import DATASETS, labelled_pairs  # noqa: E402

from kennisbank.db import database  # noqa: E402
from kennisbank.initiatives.importing import import_file  # noqa: E402
from kennisbank.matching.service import Matcher  # noqa: E402
from kennisbank.models import Initiative, MatchSuggestion, Status  # noqa: E402
from kennisbank.searching.indexing import open_embedder  # noqa: E402
from kennisbank.settings import DEFAULT_EMBEDDER, Settings  # noqa: E402


async def evaluate(dataset: str, model: str) -> dict:
    folder, pattern, _ = DATASETS[dataset]
    truth, _types = labelled_pairs(dataset)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), embedding_model=model)
        async with database(settings):
            for path in sorted(folder.glob(pattern)):
                await import_file(path)
            await Matcher(open_embedder(settings)).rematch_all()
            names = {
                i: f"{p}/{e}" for i, p, e in await Initiative.all().values_list("id", "province_id", "external_id")
            }
            published = {
                names[i] for i in await Initiative.filter(status=Status.GEPUBLICEERD).values_list("id", flat=True)
            }
            rows = (
                await MatchSuggestion.filter(current=True)
                .order_by("-score")
                .values_list("a_id", "b_id", "score", "type")
            )
    truth = {pair: label for pair, label in truth.items() if set(pair) <= published}
    suggested = [(tuple(sorted((names[a], names[b]))), score, kind) for a, b, score, kind in rows]
    hits, precision_sum, typed = 0, 0.0, []
    for rank, (pair, _score, kind) in enumerate(suggested, 1):
        if pair in truth:
            hits += 1
            precision_sum += hits / rank
            expected = truth[pair][1]
            if expected:
                typed.append(kind == expected)
    return {
        "set": dataset,
        "model": model,
        "true_pairs": len(truth),
        "suggested": len(suggested),
        "true_suggested": hits,
        "precision": hits / len(suggested) if suggested else 0.0,
        "recall": hits / len(truth) if truth else 0.0,
        "ap": precision_sum / len(truth) if truth else 0.0,
        "type_accuracy": sum(typed) / len(typed) if typed else 0.0,
        "typed_pairs": len(typed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--model", default=DEFAULT_EMBEDDER)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    names = list(DATASETS) if args.set == "all" else [args.set]
    reports = [asyncio.run(evaluate(name, args.model)) for name in names]
    if args.json:
        print(json.dumps(reports, indent=2))
        return
    print(f"model={args.model}\n")
    print("| set | true pairs | suggested | true among them | precision | recall | AP | type accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    for r in reports:
        print(
            f"| {r['set']} | {r['true_pairs']} | {r['suggested']} | {r['true_suggested']} | {r['precision']:.3f} | "
            f"{r['recall']:.3f} | {r['ap']:.3f} | {r['type_accuracy']:.3f} ({r['typed_pairs']}) |"
        )


if __name__ == "__main__":
    main()
