"""Single-document vector writes: the old store, which rewrote the whole vectors.npz on every write,
against today's base + log (search/vectors.py), in one process, on the same disk.

    python bench/index_writes.py [--sizes 2000 20000] [--writes 200] [--dims 384]

For each corpus size N: N random unit vectors of `--dims` dimensions, then `--writes` single-document
writes, alternately an upsert of a new id and a removal (`{id: None}`) of a stored one, each timed
alone; p50/p95 of (a) the old implementation, copied below, and (b) `VectorStore.write`. The new
store's writes only append to the log; the copy-on-write apply of the records happens at the next
read, so the time of a `snapshot()` after each write is printed too. Then the time of one compaction
(a write that folds base and log into a new base) at N. Prints the load average: the machine is
shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from search.vectors import VectorStore, _unit_rows  # noqa: E402


class OldStore:
    """old: rewrite the whole file — `VectorStore.write`/`_save` before the log (a copy, for the bench)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    def write(
        self, upserts: Mapping[int, tuple[float, ...] | np.ndarray | None], deletes: tuple[int, ...] = ()
    ) -> None:
        new_ids, new_rows = _unit_rows(upserts)
        self._reload_if_changed()
        replaced = np.fromiter([*upserts, *deletes], dtype=np.int64)
        keep = ~np.isin(self._ids, replaced)
        ids = np.concatenate([self._ids[keep], new_ids])
        parts = [m for m in (self._matrix[keep], new_rows) if len(m)]
        matrix = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
        order = np.argsort(ids, kind="stable")
        self._save(ids[order], matrix[order])

    def _save(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".vectors-", suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, ids=ids, vectors=matrix)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._stamp = None
        self._reload_if_changed()

    def _reload_if_changed(self) -> None:
        st = os.stat(self.path) if self.path.exists() else None
        stamp = None if st is None else (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        if stamp is None:
            self._ids, self._matrix = np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        else:
            with np.load(self.path) as data:
                self._ids, self._matrix = data["ids"], data["vectors"]
        self._stamp = stamp


def percentiles(times: list[float]) -> tuple[float, float]:
    ms = np.array(times) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def run(
    store: OldStore | VectorStore, n: int, writes: int, dims: int, rng: np.random.Generator
) -> dict[str, list[float]]:
    """Time `writes` single-document writes (and for the new store the next snapshot) on a corpus of `n`."""
    store.write({i: row for i, row in enumerate(rng.normal(size=(n, dims)).astype(np.float32))})
    times: dict[str, list[float]] = {"write": [], "snapshot": []}
    new_id, old_id = n, 0
    for k in range(writes):
        if k % 2 == 0:
            change: dict[int, np.ndarray | None] = {new_id: rng.normal(size=dims).astype(np.float32)}
            new_id += 1
        else:
            change, old_id = {old_id: None}, old_id + 1
        start = time.perf_counter()
        store.write(change)
        times["write"].append(time.perf_counter() - start)
        if isinstance(store, VectorStore):
            start = time.perf_counter()
            store.snapshot()
            times["snapshot"].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--dims", type=int, default=384)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kennisbank-index-writes-"))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores; {folder}")
    print(f"{args.writes} single-document writes (half upserts of new ids, half removals), {args.dims} dims")
    print(
        "| N | old write p50 | old p95 | new write p50 | new p95 | old/new p50 | old/new p95 "
        "| new next snapshot p50 | p95 | one compaction |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    try:
        for n in args.sizes:
            rng = np.random.default_rng(n)
            (folder / f"old-{n}").mkdir()
            (folder / f"new-{n}").mkdir()
            old = run(OldStore(folder / f"old-{n}" / "vectors.npz"), n, args.writes, args.dims, rng)
            store = VectorStore(folder / f"new-{n}" / "vectors.npz")
            new = run(store, n, args.writes, args.dims, rng)
            store.compact_min_records, store.compact_fraction = 0, 0.0  # the next write compacts
            start = time.perf_counter()
            store.write({-1: rng.normal(size=args.dims).astype(np.float32)})
            compaction = time.perf_counter() - start
            assert (folder / f"new-{n}" / "vectors.log").stat().st_size == 16, "no compaction"
            old_p50, old_p95 = percentiles(old["write"])
            new_p50, new_p95 = percentiles(new["write"])
            snap_p50, snap_p95 = percentiles(new["snapshot"])
            print(
                f"| {n} | {old_p50:.2f} ms | {old_p95:.2f} ms | {new_p50:.2f} ms | {new_p95:.2f} ms "
                f"| {old_p50 / new_p50:.0f}x | {old_p95 / new_p95:.0f}x | {snap_p50:.2f} ms | {snap_p95:.2f} ms "
                f"| {compaction * 1000:.1f} ms |",
                flush=True,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
