"""Concurrent saves against the embedded index: one commit per save (the old path) against saves
that share a commit (`search/group_commit.py`), in the same process on the same machine.

    python bench/index_commits.py [--docs 2000] [--threads 30] [--saves 20]

Each path gets its own fresh index holding `--docs` documents with 384-dimensional vectors. Then
`--threads` threads each save `--saves` documents one at a time, as the server's request threads do
(`index.upsert([document])` without a vector: the vector follows from the job queue). Printed per
path: saves per second, the p50/p95 of one save, the number of commits; then the ratios. The old
path is the same `TantivyIndex` with its group commit bypassed (every call writes and commits
alone), so the only difference measured is the sharing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.documents import SearchDocument  # noqa: E402
from search.group_commit import GroupCommit  # noqa: E402
from search.tantivy_index import TantivyIndex  # noqa: E402

WORDS = "stikstof wegdek sensoren datalab fietspad waterkwaliteit zonnepanelen drone subsidie archief".split()


def document(doc_id: int, vector: tuple[float, ...] | None) -> SearchDocument:
    rng = np.random.default_rng(doc_id)
    words = " ".join(rng.choice(WORDS, 30))
    return SearchDocument(
        id=doc_id,
        external_id=f"B-{doc_id}",
        province="NL-UT",
        province_name="Utrecht",
        kind="best_practice",
        title=f"Initiatief {doc_id} {words[:40]}",
        summary=words[:120],
        body=words,
        themes=("Data",),
        phase="pilot",
        programme_line=None,
        technologies=(),
        suppliers=(),
        status="gepubliceerd",
        year=2026,
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        content_hash=f"h{doc_id}-{time.monotonic_ns()}",
        vector=vector,
    )


def filled_index(docs: int) -> TantivyIndex:
    index = TantivyIndex(Path(tempfile.mkdtemp(prefix="kb-commits-")))
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((docs, 384)).astype(np.float32)
    index.upsert([document(i, tuple(map(float, vectors[i]))) for i in range(docs)])
    return index


def saver(index: TantivyIndex, grouped: bool) -> tuple[Callable[[list[SearchDocument]], None], list[int]]:
    """(how a request thread saves, a counter of commits): through the group commit, or, the old path,
    straight to the write that commits (serialised by the writer lock, one commit per call)."""
    commits = [0]
    write = index._write_upserts

    def counted(docs: list[SearchDocument]) -> None:
        commits[0] += 1
        write(docs)

    if grouped:
        index._upserts = GroupCommit(counted)
        return index.upsert, commits
    return counted, commits


def run(
    save: Callable[[list[SearchDocument]], None], threads: int, saves: int, first_id: int
) -> tuple[float, list[float]]:
    """(seconds, per-save ms) for `threads` x `saves` single-document saves."""
    latencies: list[float] = []
    start = threading.Barrier(threads + 1)

    def client(number: int) -> None:
        start.wait()
        for n in range(saves):
            began = time.perf_counter()
            save([document(first_id + number * saves + n, None)])
            latencies.append((time.perf_counter() - began) * 1000)

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - began, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=30)
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    figures = []
    for label, grouped in (("one commit per save (old)", False), ("group commit (new)", True)):
        index = filled_index(args.docs)
        save, commits = saver(index, grouped)
        seconds, latencies = run(save, args.threads, args.saves, args.docs)
        total = args.threads * args.saves
        assert index.count() == args.docs + total, "every save is in the index"
        p50, p95 = statistics.median(latencies), float(np.percentile(latencies, 95))
        figures.append((total / seconds, p95))
        print(
            f"{label:26s} {total} saves by {args.threads} threads, {args.docs} docs stored: {total / seconds:5.0f} saves/s,"
            f" one save p50/p95 {p50:6.1f} / {p95:6.1f} ms, {commits[0]} commits"
        )
    (old_rate, old_p95), (new_rate, new_p95) = figures
    print(f"new against old: {new_rate / old_rate:.1f}x the saves per second, p95 {old_p95 / new_p95:.1f}x lower")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
