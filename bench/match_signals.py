"""How well the text vectors alone rank true pairs, raw and in the semantic space, out of fold.

    python bench/match_signals.py [--cache-dir data/bench-cache]

For each development corpus (the seed in three styles, each development set in two) every
cross-province pair is ranked by one cosine of the platform's stored vectors (default encoder,
`passage:` of the whole text): raw, centred, and in the semantic space of `search/matching/space.py`
for a grid of regularisations. The space is fitted by family-grouped 5-fold cross-validation (the
folds of `bench/train_matching.py`), and each pair is scored by the space of the fold that did not
see its family. Prints AP per corpus. The held-out set is never read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from matching import labelled_pairs  # noqa: E402
from train_matching import _ap, _family_of, _folds, fit_space, item_key, item_vectors, pair_key  # noqa: E402

REGULARISATIONS = (0.1, 0.3, 1.0, 3.0, 10.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=REPO / "data" / "bench-cache")
    args = parser.parse_args()
    items = item_vectors(args.cache_dir)
    folds = _folds([item_key(d, i.id, _family_of(d)) for (d, _), its in items.items() for i in its])
    names = [f"{d}/{s}" for d, s in items]
    print("| signal | " + " | ".join(names) + " | mean |")
    print("|---" * (len(names) + 2) + "|")
    variants: list[tuple[str, float | None]] = [("raw cosine", None), ("centred cosine", 0.0)]
    variants += [(f"semantic space, λ = {r}", r) for r in REGULARISATIONS]
    for label, regularisation in variants:
        spaces = [
            None if regularisation is None else fit_space(items, set(train), regularisation or 1.0)
            for train, _test in folds
        ]
        aps = []
        for (dataset, _style), corpus_items in items.items():
            truth, _ = labelled_pairs(dataset)
            family_of = _family_of(dataset)
            ids = [i.id for i in corpus_items]
            raw = np.stack([np.asarray(i.vector, dtype=np.float32) for i in corpus_items])
            province = np.array([i.province for i in corpus_items])
            a, b = np.triu_indices(len(ids), 1)
            keep = province[a] != province[b]
            a, b = a[keep], b[keep]
            labels = np.array([tuple(sorted((ids[x], ids[y]))) in truth for x, y in zip(a, b)])
            groups = np.array([pair_key(dataset, ids[x], ids[y], family_of) for x, y in zip(a, b)])
            scores = np.zeros(len(a))
            for space, (_train, test) in zip(spaces, folds):
                v = raw / np.linalg.norm(raw, axis=1, keepdims=True)
                if space is not None:
                    v = (v - space.mean) if regularisation == 0.0 else space.apply(v)
                    v = v / np.linalg.norm(v, axis=1, keepdims=True)
                mask = np.isin(groups, test)
                scores[mask] = np.einsum("ij,ij->i", v[a[mask]], v[b[mask]])
            aps.append(_ap(scores, labels, len(truth)))
        print(f"| {label} | " + " | ".join(f"{x:.3f}" for x in aps) + f" | {np.mean(aps):.3f} |")


if __name__ == "__main__":
    main()
