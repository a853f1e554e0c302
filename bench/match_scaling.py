"""Scaling benchmark of the matching engine: full and incremental rematch of 20,000 initiatives.

    python bench/match_scaling.py [--items 20000] [--dims 384] [--runs 30] [--naive-subset 1500]

The initiatives are generated: topics with their own vector direction,
pseudo-Dutch vocabulary, technologies and suppliers, spread over the twelve
provinces (about ten initiatives per topic), plus Zipf-distributed filler
words. Vectors are random (no encoder runs: the platform caches embeddings),
so the figures are about speed, not quality.

Baselines, timed in the same run with the engine's own feature code:

* **naive full**: score every cross-province pair (no candidate search).
  That is 183 million pairs at 20,000 initiatives, so it runs on a random
  subset of `--naive-subset` initiatives and is extrapolated quadratically;
  the output says so.
* **naive incremental**: score the changed initiative against all others,
  measured at full size.
* **previous engine** (`--baseline REF`, default the commit before the
  vectorised features of issue 12): the package `search/` as it was at that
  git revision, imported under another name and run on the same initiatives
  in the same process; the output says whether both engines suggest exactly
  the same matches (scores, types, reasons, features, shared terms).
  `--baseline none` skips it.
"""

from __future__ import annotations

import argparse
import importlib
import io
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from search.matching import DIRECT_WEIGHTS, MatchEngine, MatchItem  # noqa: E402

PROVINCES = [
    ("NL-GR", "Groningen"),
    ("NL-FR", "Fryslân"),
    ("NL-DR", "Drenthe"),
    ("NL-OV", "Overijssel"),
    ("NL-FL", "Flevoland"),
    ("NL-GE", "Gelderland"),
    ("NL-UT", "Utrecht"),
    ("NL-NH", "Noord-Holland"),
    ("NL-ZH", "Zuid-Holland"),
    ("NL-ZE", "Zeeland"),
    ("NL-NB", "Noord-Brabant"),
    ("NL-LI", "Limburg"),
]
PHASES = ["idee", "verkenning", "pilot", "implementatie", "opgeschaald"]
THEMES = [
    "mobiliteit",
    "data en AI",
    "stikstof",
    "energietransitie",
    "water",
    "wonen",
    "open overheid",
    "dienstverlening",
    "bedrijfsvoering",
    "natuur en biodiversiteit",
    "landbouw",
    "klimaatadaptatie",
]
SYLLABLES = (
    "ver be ge ont in uit over onder land water weg werk plan data net huis stad dorp bos veld kant raad zorg"
    " meet slim kaart licht stroom brug dijk zand veen akker wind zon warmte lucht groen".split()
)
GLUE = "de het een van en in op met voor door naar bij als dat die we zijn wordt".split()


def pseudo_words(rng: random.Random, count: int) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < count:
        words["".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))] = None
    return list(words)


def generate(n: int, dims: int, seed: int = 7) -> list[MatchItem]:
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    topics = max(1, n // 10)
    vocabulary = pseudo_words(rng, 30_000)
    filler, topic_words = vocabulary[:5_000], vocabulary[5_000:]
    filler_weights = 1.0 / (np.arange(len(filler)) + 10.0)
    filler_weights /= filler_weights.sum()
    technologies = [f"techniek {w}" for w in pseudo_words(rng, 300)]
    suppliers = [f"{w.capitalize()} BV" for w in pseudo_words(rng, 800)]
    topic_vectors = np_rng.standard_normal((topics, dims)).astype(np.float32)
    topic_terms = [rng.sample(topic_words, 12) for _ in range(topics)]
    topic_tech = [rng.sample(technologies, 3) for _ in range(topics)]
    topic_supplier = [rng.sample(suppliers, 2) for _ in range(topics)]
    topic_themes = [rng.sample(THEMES, 2) for _ in range(topics)]
    items = []
    for i in range(n):
        t = rng.randrange(topics)
        code, name = rng.choice(PROVINCES)

        def sentence(length: int, t: int = t) -> str:
            fillers = np_rng.choice(len(filler), size=length, p=filler_weights)
            topical = np_rng.random(length) < 0.3
            words = [rng.choice(topic_terms[t]) if topical[k] else filler[fillers[k]] for k in range(length)]
            return " ".join(w if k % 4 else f"{w} {rng.choice(GLUE)}" for k, w in enumerate(words))

        start = date(2019, 1, 1) + timedelta(days=rng.randrange(2500))
        vector = topic_vectors[t] + 0.9 * np_rng.standard_normal(dims).astype(np.float32)
        items.append(
            MatchItem(
                id=i,
                province=code,
                province_name=name,
                kind=rng.choice(["best_practice", "living_lab", "portfolio_project"]),
                phase=rng.choice(PHASES),
                themes=tuple(rng.sample(topic_themes[t], rng.randint(1, 2))),
                technologies=tuple(rng.sample(topic_tech[t], rng.randint(1, 3))),
                suppliers=tuple(rng.sample(topic_supplier[t], 1)) if rng.random() < 0.5 else (),
                seeks_partners=rng.random() < 0.4,
                tender_date=start + timedelta(days=rng.randrange(900)) if rng.random() < 0.3 else None,
                start_date=start,
                end_date=start + timedelta(days=rng.randrange(200, 1500)) if rng.random() < 0.7 else None,
                title=sentence(8),
                summary=sentence(25),
                body=sentence(120),
                vector=vector,
            )
        )
    return items


def naive_all_pairs(engine: MatchEngine, rows: np.ndarray, chunk: int = 200_000) -> int:
    """Score every cross-province pair among `rows` with the engine's own (vectorised) features: the baseline."""
    first, second = np.triu_indices(len(rows), k=1)
    a, b = engine._canonical(np.stack([rows[first], rows[second]], axis=1))  # noqa: SLF001 - no candidate search
    kept = 0
    for start in range(0, len(a), chunk):
        features = engine._direct_features(a[start : start + chunk], b[start : start + chunk])  # noqa: SLF001
        kept += int((DIRECT_WEIGHTS.direct(features) >= engine.min_score).sum())
    return kept


#: The last commit before the matching engine's features were vectorised (issue 12).
DEFAULT_BASELINE = "8ec0fad"


def baseline_engine_class(ref: str, into: Path) -> type:
    """`MatchEngine` of `search/` at git revision `ref`, imported as the package `baseline_search`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "search"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "search").rename(into / "baseline_search")
    sys.path.insert(0, str(into))
    return importlib.import_module("baseline_search.matching").MatchEngine


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--runs", type=int, default=30, help="incremental rematches to time")
    parser.add_argument("--naive-subset", type=int, default=1_500)
    parser.add_argument(
        "--baseline",
        default=DEFAULT_BASELINE,
        help="git revision whose engine is timed on the same initiatives ('none' to skip)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    items = generate(args.items, args.dims)
    print(f"generated {len(items)} initiatives ({args.dims}-dim vectors) in {time.perf_counter() - started:.1f} s")

    engine = MatchEngine()
    started = time.perf_counter()
    engine.prepare(items)
    prepared = time.perf_counter() - started
    matches = engine.match_all()
    full = time.perf_counter() - started
    print(
        f"full rematch: {full:.1f} s (prepare: vectors, TF-IDF {prepared:.1f} s; "
        f"neighbour lists, scoring and reasons {full - prepared:.1f} s), {len(matches)} suggested pairs"
    )

    started = time.perf_counter()
    MatchEngine().load(items)
    loaded = time.perf_counter() - started
    print(f"load without scoring every pair (a start with stored suggestions): {loaded:.1f} s")

    baseline_full = None
    if args.baseline != "none":
        with tempfile.TemporaryDirectory() as folder:
            old_engine = baseline_engine_class(args.baseline, Path(folder))(neighbours=engine.neighbours)
            started = time.perf_counter()
            old_matches = old_engine.match_all(items)
            baseline_full = time.perf_counter() - started
        same = [_comparable(m) for m in old_matches] == [_comparable(m) for m in matches]
        print(
            f"previous engine ({args.baseline}) full rematch: {baseline_full:.1f} s, {len(old_matches)} suggested "
            f"pairs; {'the same matches' if same else 'DIFFERENT matches'} as this engine"
        )

    rng = random.Random(11)
    update_times, add_times = [], []
    for _run in range(args.runs):
        target, donor = rng.sample(items, 2)
        changed = replace(
            target,
            title=donor.title,
            summary=donor.summary,
            body=donor.body,
            vector=np.asarray(donor.vector) + 0.1,
            phase=rng.choice(PHASES),
        )
        t0 = time.perf_counter()
        engine.match_one(changed)
        update_times.append((time.perf_counter() - t0) * 1000)
    for run in range(max(5, args.runs // 3)):
        donor = rng.choice(items)
        new = replace(donor, id=len(items) + run, province=rng.choice(PROVINCES)[0])
        t0 = time.perf_counter()
        engine.match_one(new)
        add_times.append((time.perf_counter() - t0) * 1000)

    np_rng = np.random.default_rng(3)
    rows = np.sort(np_rng.choice(len(items), size=min(args.naive_subset, len(items)), replace=False))
    t0 = time.perf_counter()
    naive_all_pairs(engine, rows)
    naive_subset = time.perf_counter() - t0
    naive_full = naive_subset * (len(items) / len(rows)) ** 2
    naive_one = []
    all_rows = np.arange(len(engine.items), dtype=np.int64)
    for _run in range(5):
        row = int(np_rng.integers(len(items)))
        t0 = time.perf_counter()
        a, b = engine._canonical(np.stack([np.full(len(all_rows), row), all_rows], axis=1))  # noqa: SLF001
        DIRECT_WEIGHTS.direct(engine._direct_features(a, b))  # noqa: SLF001
        naive_one.append((time.perf_counter() - t0) * 1000)

    p50, p95 = statistics.median(update_times), percentile(update_times, 0.95)
    naive_one_p50 = statistics.median(naive_one)
    print()
    print("| measure | engine | naive all-pairs | ratio |")
    print("|---|---|---|---|")
    print(
        f"| full rematch of {len(items)} | {full:.1f} s | {naive_full:.0f} s (extrapolated from "
        f"{len(rows)} initiatives: {naive_subset:.1f} s) | {naive_full / full:.0f}x |"
    )
    if baseline_full is not None:
        print(
            f"| full rematch of {len(items)}, against the previous engine ({args.baseline}) | {full:.1f} s | "
            f"{baseline_full:.1f} s | {baseline_full / full:.1f}x |"
        )
    print(f"| load for incremental rematches (a start with stored suggestions) | {loaded:.1f} s | | |")
    print(
        f"| incremental rematch of one (update), p50 / p95 | {p50:.0f} / {p95:.0f} ms | "
        f"{naive_one_p50:.0f} ms (p50, one against all) | {naive_one_p50 / p50:.1f}x |"
    )
    print(
        f"| incremental rematch of one (new), p50 / p95 | {statistics.median(add_times):.0f} / "
        f"{percentile(add_times, 0.95):.0f} ms | | |"
    )
    print(
        f"\ngoals: full < 10 s: {'met' if full < 10 else 'NOT met'}; "
        f"incremental p95 < 200 ms: {'met' if p95 < 200 else 'NOT met'}"
    )


def _comparable(match: object) -> tuple:
    m = match
    return (
        m.a,
        m.b,
        m.score,
        m.type,
        m.reasons,
        tuple(sorted(m.features.items())),
        m.shared_terms,  # type: ignore[attr-defined]
        m.witness,
        m.standout,
    )  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
