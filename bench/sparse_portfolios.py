"""Matching where few initiatives have a twin: the queue's size and precision on random portfolios.

    python bench/sparse_portfolios.py [--set holdout devset4 ...] [--runs 10] [--cache-dir data/bench-cache]

The labelled sets are dense in twins: about half their initiatives belong to a family with members in
other provinces. A real portfolio of a few provinces is not: draw 40 initiatives of three provinces
from a set and most have no twin among them. This draws random portfolios of 40 (three provinces),
80 (six) and 160 (all twelve) initiatives, plus the whole set, matches each with the shipped engine
(terse rows: the *short* style of `bench/matching.py`) and prints how many pairs are suggested per
initiative, how many of them are true, and how many true pairs the portfolio holds. The queue should
shrink with the true pairs; session 21 found it does not (about 0.8 per initiative at every size).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from matching import labelled_pairs, seed_items  # noqa: E402

from search.embeddings import DEFAULT_EMBEDDER  # noqa: E402
from search.matching import MatchEngine  # noqa: E402

#: Portfolio sizes and how many provinces each is drawn from.
PORTFOLIOS = ((40, 3), (80, 6), (160, 12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="+", default=["holdout"])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cache-dir", type=Path, default=REPO / "data" / "bench-cache")
    args = parser.parse_args()
    print(
        "| set | initiatives | provinces | suggested per initiative | suggested | true among them | true pairs | precision |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in args.set:
        items = seed_items(DEFAULT_EMBEDDER, args.cache_dir, name, "short")
        truth = set(labelled_pairs(name)[0])
        provinces = sorted({item.province for item in items})
        rng = random.Random(0)
        draws = [(size, count, args.runs) for size, count in PORTFOLIOS if size < len(items)]
        draws.append((len(items), len(provinces), 1))
        for size, count, runs in draws:
            totals = [0, 0, 0, 0]
            for _ in range(runs):
                chosen = set(rng.sample(provinces, count))
                pool = [item for item in items if item.province in chosen]
                sample = pool if size >= len(pool) else rng.sample(pool, size)
                ids = {str(item.id) for item in sample}
                relevant = {pair for pair in truth if pair[0] in ids and pair[1] in ids}
                suggested = {tuple(sorted((str(m.a), str(m.b)))) for m in MatchEngine().match_all(sample)}
                for at, value in enumerate((len(sample), len(suggested), len(suggested & relevant), len(relevant))):
                    totals[at] += value
            n, suggested_n, right, relevant_n = (value / runs for value in totals)
            print(
                f"| {name} | {n:.0f} | {count} | {suggested_n / n:.2f} | {suggested_n:.1f} | {right:.1f} | "
                f"{relevant_n:.1f} | {right / suggested_n if suggested_n else 0:.2f} |"
            )


if __name__ == "__main__":
    main()
