"""Matching in small corpora: the same families among a few initiatives and among many.

    python bench/small_corpora.py [--set holdout] [--samples 20] [--cache-dir data/bench-cache]

A province that starts with a handful of initiatives has no background of its own: measured on four
others, a twin lies one spread above a "background" it is half of. The engine then compares with
the background of the space (`SpaceBackground`, measured by `bench/train_matching.py` on the
training corpora). This draws random sub-corpora of the labelled set — k families whole, plus k
initiatives in no family — and reports the precision and recall of the suggestions within each,
with the space's background and without it (the corpus's own, as before), in one run.
The held-out set is the default: nothing fitted saw it.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from matching import labelled_pairs, seed_items  # noqa: E402

from search.embeddings import DEFAULT_EMBEDDER  # noqa: E402
from search.matching import MatchEngine, MatchItem  # noqa: E402

FAMILIES_PER_SAMPLE = (1, 2, 4, 8, 16)


def figures(engine: MatchEngine, items: list[MatchItem], truth: set[tuple[str, str]]) -> tuple[int, int, int]:
    """(suggested, true among them, true pairs) in `items`."""
    ids = {item.id for item in items}
    relevant = {pair for pair in truth if pair[0] in ids and pair[1] in ids}
    suggested = {tuple(sorted((str(m.a), str(m.b)))) for m in engine.match_all(items)}
    return len(suggested), len(suggested & relevant), len(relevant)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="holdout")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--cache-dir", type=Path, default=REPO / "data" / "bench-cache")
    args = parser.parse_args()
    items = {item.id: item for item in seed_items(DEFAULT_EMBEDDER, args.cache_dir, args.set, "full")}
    pairs, _ = labelled_pairs(args.set)
    truth = set(pairs)
    families: dict[str, set[str]] = {}
    for (a, b), (family, _) in pairs.items():
        families.setdefault(family, set()).update((a, b))
    in_family = set().union(*families.values())
    loners = sorted(set(items) - in_family)
    shipped = MatchEngine()
    assert shipped._space is not None and shipped._space.background is not None, "the model has no background"
    print(f"set={args.set} samples={args.samples} per size; the model's space background {shipped._space.background}")
    print()
    print("| families | initiatives | background | suggested | true among them | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    rng = random.Random(0)
    for k in FAMILIES_PER_SAMPLE:
        samples = []
        for _ in range(args.samples):
            chosen = rng.sample(sorted(families), min(k, len(families)))
            ids = sorted(set().union(*(families[f] for f in chosen)) | set(rng.sample(loners, min(k, len(loners)))))
            samples.append([items[i] for i in ids])
        for label in ("the space's", "the corpus's own"):
            totals = [0, 0, 0]
            for sample in samples:
                engine = MatchEngine()
                if label != "the space's" and engine._space is not None:
                    engine._space = replace(engine._space, background=None)
                for n, value in enumerate(figures(engine, sample, truth)):
                    totals[n] += value
            suggested, right, relevant = totals
            size = sum(len(s) for s in samples) / len(samples)
            print(
                f"| {k} | {size:.0f} | {label} | {suggested} | {right} | "
                f"{right / suggested if suggested else 0:.3f} | {right / relevant if relevant else 0:.3f} |"
            )


if __name__ == "__main__":
    main()
