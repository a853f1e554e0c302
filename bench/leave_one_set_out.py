"""Leave one writer's set out: each development set scored by a model fitted on the others.

    python bench/leave_one_set_out.py [--cache-dir data/bench-cache] [--without devset5] [SET ...]

A new province's portfolio is written by someone none of the training sets was written by; so each
labelled development set (the seed, devset 1-5) is scored by the model `bench/train_matching.py` fits
on the *other* sets (its own family-grouped CV choices included), in its full and short style. With
`--without NAME` every set is also scored by a model fitted without NAME, to see whether adding a set
helps on the others. Prints AP over all candidates, precision and recall at the fitted threshold, and
the type accuracy of the suggested labelled pairs. The held-out set is never read.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from matching import average_precision, labelled_pairs, seed_items  # noqa: E402
from train_matching import train  # noqa: E402

from search.embeddings import DEFAULT_EMBEDDER  # noqa: E402
from search.matching import MatchEngine  # noqa: E402
from search.matching.features import FEATURES, TYPE_FEATURES  # noqa: E402
from search.matching.model import MatchModel, match_model_from_dict  # noqa: E402
from search.matching.space import save_semantic_space  # noqa: E402

SETS = ("seed", "devset", "devset2", "devset3", "devset4", "devset5")


def fitted(cache_dir: Path, sets: tuple[str, ...]) -> MatchModel:
    model, space = train(cache_dir, sets)
    folder = Path(tempfile.mkdtemp(prefix="kennisbank-loso-"))
    model["space"]["sha256"] = save_semantic_space(space, folder / "match_space.npy")
    return match_model_from_dict(json.loads(json.dumps(model)), FEATURES, TYPE_FEATURES, folder)


def scored(model: MatchModel, cache_dir: Path, dataset: str, style: str) -> tuple[float, float, float, float]:
    items = seed_items(DEFAULT_EMBEDDER, cache_dir, dataset, style)
    truth, _ = labelled_pairs(dataset)
    candidates = sorted(MatchEngine(model=model, min_score=0.0).match_all(items), key=lambda m: -m.score)
    ap = average_precision([(m.a, m.b) in truth for m in candidates], len(truth))
    suggested = [m for m in candidates if m.score >= model.threshold]
    true = [m for m in suggested if (m.a, m.b) in truth]
    typed = [m for m in suggested if truth.get((m.a, m.b), ("", ""))[1]]
    types = float(np.mean([m.type == truth[(m.a, m.b)][1] for m in typed])) if typed else float("nan")
    return ap, len(true) / max(1, len(suggested)), len(true) / len(truth), types


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=REPO / "data" / "bench-cache")
    parser.add_argument("--without", default=None, help="also score with models fitted without this set")
    parser.add_argument("sets", nargs="*", default=list(SETS))
    args = parser.parse_args()
    print("| scored set | fitted on | AP | precision | recall | type accuracy |")
    print("|---|---|---|---|---|---|")
    for test in args.sets:
        others = tuple(s for s in SETS if s != test)
        variants = [others]
        if args.without and args.without != test:
            variants.append(tuple(s for s in others if s != args.without))
        for sets in variants:
            model = fitted(args.cache_dir, sets)
            for style in ("full", "short"):
                ap, precision, recall, types = scored(model, args.cache_dir, test, style)
                print(
                    f"| {test}/{style} | {', '.join(sets)} | {ap:.3f} | {precision:.3f} | {recall:.3f} | {types:.3f} |"
                )


if __name__ == "__main__":
    main()
