"""How the semantic floor treats "Vergelijkbare initiatieven" and the "Bestaat dit al?" hint.

    python bench/similar_floor.py [--set seed|devset|...|holdout|all] [--cache-dir data/rel-cache]

Loads a labelled set as bench/relevance.py does and ranks, for every initiative, every other one as
`SearchIndex.similar` (the call behind both) does: by cosine with a floor on `VectorStore.standouts`
(how it was until session 23, and still without a semantic space for the encoder), and in the match
model's semantic space with a floor on `VectorStore.space_standouts` (the default since). A neighbour
is right when both are in one family of the set's families.json. Printed per floor, of the five
shown: for the initiatives in a family, the share of their family members (up to five) that is
shown; for those in no family, how many neighbours are still shown (fewer is better: they have no
twin). The development sets chose `SIMILAR_SPACE_STANDOUT` by their distractors (the space was
fitted on their families, so their family figures flatter it); holdout and devset6 are only reported.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from matching import labelled_pairs  # noqa: E402
from relevance import SETS  # noqa: E402

from kennisbank.db import database  # noqa: E402
from kennisbank.initiatives.importing import import_file  # noqa: E402
from kennisbank.models import Initiative  # noqa: E402
from kennisbank.searching.indexing import open_embedder, reindex  # noqa: E402
from kennisbank.settings import DEFAULT_EMBEDDER, Settings  # noqa: E402
from search.matching.model import shipped_space_for  # noqa: E402
from search.semantic_floor import background_vectors  # noqa: E402
from search.tantivy_index import BEST_STANDOUT, SIMILAR_MIN_STANDOUT, SIMILAR_SPACE_STANDOUT, TantivyIndex  # noqa: E402

FLOORS = (None, 4.0, SIMILAR_MIN_STANDOUT, 6.0, 7.0)
SPACE_FLOORS = (2.0, 2.5, SIMILAR_SPACE_STANDOUT, 3.5, 4.0)
Ranked = list[tuple[str, list[tuple[str, float]]]]


async def neighbours(set_name: str, cache_dir: Path | None) -> tuple[Ranked, Ranked]:
    """Per initiative: every other initiative with its standout, nearest first, by cosine and in the space."""
    files, _ = SETS[set_name]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=(cache_dir / set_name) if cache_dir else Path(tmp), embedding_model=DEFAULT_EMBEDDER
        )
        async with database(settings):
            for path in files:
                await import_file(path)
            embedder = open_embedder(settings)
            assert embedder is not None
            index = TantivyIndex(Path(tmp) / "index", family_space=shipped_space_for(embedder.name))
            index.set_background(background_vectors(embedder))
            await reindex(index, embedder)
            keys = {i: f"{p}/{e}" for i, p, e in await Initiative.all().values_list("id", "province_id", "external_id")}
            ids, matrix = index._vectors.snapshot()
            by_cosine, in_space = [], []
            for row, doc_id in enumerate(ids.tolist()):
                _, cosines, standouts = index._vectors.standouts(matrix[row])
                assert standouts is not None
                order = np.argsort(-cosines)
                by_cosine.append((keys[doc_id], [(keys[int(ids[j])], float(standouts[j])) for j in order if j != row]))
                spaced = index._vectors.space_standouts(matrix[row], {doc_id})
                assert spaced is not None, "no semantic space for the default encoder"
                others, cosines, standouts = spaced
                order = np.argsort(-cosines)
                in_space.append((keys[doc_id], [(keys[int(others[j])], float(standouts[j])) for j in order]))
            index.close()
    return by_cosine, in_space


def shown(found: Ranked, family: dict[str, str], floor: float | None, best_floor: float) -> tuple[float, float]:
    """(share of family members shown, neighbours shown for initiatives in no family) under `floor`."""
    recall, shown_alone = [], []
    for key, ranked in found:
        best = max(z for _, z in ranked)
        gated = floor is not None and best < best_floor
        kept = [] if gated else [k for k, z in ranked[:5] if floor is None or z >= floor]
        if key in family:
            members = [k for k, _ in ranked if family.get(k) == family[key]]
            recall.append(sum(family.get(k) == family[key] for k in kept) / min(5, len(members)))
        else:
            shown_alone.append(len(kept))
    return float(np.mean(recall)), float(np.mean(shown_alone))


def report(set_name: str, cache_dir: Path | None) -> None:
    truth, _ = labelled_pairs(set_name)
    family = {member: f for pair, (f, _) in truth.items() for member in pair}
    by_cosine, in_space = asyncio.run(neighbours(set_name, cache_dir))
    print(
        f"\n## {set_name}\n\n| ranking | floor | family members shown (of up to 5) | shown for initiatives in no family |"
        "\n|---|---|---|---|"
    )
    for floor in FLOORS:
        recall, alone = shown(by_cosine, family, floor, max(floor or 0.0, BEST_STANDOUT))
        label = "none" if floor is None else f"{floor:.1f}" + (" (before)" if floor == SIMILAR_MIN_STANDOUT else "")
        print(f"| cosine | {label} | {recall:.3f} | {alone:.2f} |")
    for floor in SPACE_FLOORS:
        recall, alone = shown(in_space, family, floor, floor)
        label = f"{floor:.1f}" + (" (default)" if floor == SIMILAR_SPACE_STANDOUT else "")
        print(f"| semantic space | {label} | {recall:.3f} | {alone:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--cache-dir", type=Path, default=REPO / "data" / "rel-cache")
    args = parser.parse_args()
    for name in list(SETS) if args.set == "all" else [args.set]:
        report(name, args.cache_dir)


if __name__ == "__main__":
    main()
