"""Embeddings stored beside the embedded index, searched by brute force.

One `vectors.npz` holds the ids and the unit-length vectors. Writers
replace the file atomically (write a temporary file, then `os.replace`),
so a reader in another process sees either the old or the new set, never
half of one; readers reload when the file's identity changes. Callers
must serialise writers (the tantivy backend holds its write lock).

At 20k documents x 768 dimensions a full scan is one matrix-vector
product of ~60 MB, a few milliseconds; an ANN index is not worth its
complexity below ~200k documents.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from .documents import Vector
from .matching.space import SemanticSpace

#: Below this many documents there is no crowd to stand out from: every semantic neighbour counts.
MIN_DOCUMENTS_FOR_STANDOUT = 20


class VectorStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._positions: dict[int, int] = {}
        self._background: np.ndarray | None = None
        self._calibration: dict[int, tuple[float, float]] = {}  # id -> background mean, spread
        self._calibrated: tuple[tuple[int, int, int] | None, np.ndarray] | None = None
        self._space: SemanticSpace | None = None
        # The stored rows in `_space`, for the ids and rows they were computed from (see `_rows_in_space`).
        self._spaced: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def dimensions(self) -> int | None:
        ids, matrix = self.snapshot()
        return matrix.shape[1] if len(ids) else None

    def check_dimensions(self, vectors: Iterable[Vector | None]) -> None:
        """Raise ValueError unless all given vectors fit the stored ones."""
        sizes = {len(v) for v in vectors if v is not None}
        stored = self.dimensions
        if len(sizes) > 1 or (stored is not None and sizes - {stored}):
            raise ValueError(f"vector dimensions {sorted(sizes)} do not match the index ({stored})")

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, unit vectors) as currently on disk."""
        with self._lock:
            self._reload_if_changed()
            return self._ids, self._matrix

    def vector_of(self, doc_id: int) -> np.ndarray | None:
        """The stored unit vector of `doc_id`, or None."""
        with self._lock:
            self._reload_if_changed()
            position = self._positions.get(doc_id)
            return None if position is None else self._matrix[position]

    def cosine(self, vector: Vector) -> tuple[np.ndarray, np.ndarray]:
        """(ids, cosine similarity of each stored vector with `vector`)."""
        ids, matrix = self.snapshot()
        return _cosines(ids, matrix, vector)

    def set_background(self, background: np.ndarray | None) -> None:
        """Unit vectors of queries about nothing the corpus holds (see `standouts`)."""
        with self._lock:
            self._background = (
                None if background is None or not len(background) else np.asarray(background, dtype=np.float32)
            )
            self._calibration, self._calibrated = {}, None

    def background_closeness(self, vector: Vector) -> float | None:
        """The cosine of `vector` with the nearest background query; None without a background."""
        with self._lock:
            background = self._background
        if background is None or background.shape[1] != len(vector):
            return None
        return float((background @ _unit(vector)).max())

    def standouts(self, vector: Vector) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(ids, cosines with `vector`, standouts), standouts None without a background.

        A document's standout is how many standard deviations its cosine lies above those of the
        background queries with the same document, plus how many it lies above the query's mean
        cosine with the whole corpus. The first asks "is this query closer to the document than
        queries that are surely not about it?" — a short text is close to everything and needs a
        closer query than one that is close to nothing; the second "does the document stand out for
        this query?" — an English query is further from every Dutch text. Both are in units that do
        not depend on the encoder; their sum separated the answerable from the unanswerable seed
        queries better than either (bench/relevance.py)."""
        with self._lock:  # one snapshot for the cosines and the calibration, also when a writer replaces the file
            self._reload_if_changed()
            ids, matrix = self._ids, self._matrix
            table = None
            if self._background is not None and len(ids) >= MIN_DOCUMENTS_FOR_STANDOUT:
                if self._calibrated is None or self._calibrated[0] != self._stamp:
                    self._calibrated = (self._stamp, self._calibrate())
                table = self._calibrated[1]
        ids, cosines = _cosines(ids, matrix, vector)
        if table is None or not len(ids):
            return ids, cosines, None
        spread = float(cosines.std()) or 1.0
        return ids, cosines, (cosines - table[:, 0]) / table[:, 1] + (cosines - float(cosines.mean())) / spread

    def set_space(self, space: SemanticSpace | None) -> None:
        """The semantic space `family_standouts` compares in (`match_space.py`); None switches it off."""
        with self._lock:
            self._space, self._spaced = space, None

    def family_standouts(self, doc_id: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(ids, standouts) of the other stored documents next to `doc_id`, in the semantic space.

        A standout is how many standard deviations a document's cosine with `doc_id` lies above the
        mean of all of them: in the space matching compares in, the members of one family (one
        purpose in other words) stand out from the corpus even where their raw cosines do not. None
        without a space fitting these vectors, without a vector for `doc_id`, or with too few
        documents for a crowd."""
        with self._lock:
            self._reload_if_changed()
            position = self._positions.get(doc_id)
            if position is None or len(self._ids) < MIN_DOCUMENTS_FOR_STANDOUT:
                return None
            ids, rows = self._ids, self._rows_in_space()
        if rows is None:
            return None
        cosines = np.einsum("ij,j->i", rows, rows[position])
        others = np.arange(len(ids)) != position
        ids, cosines = ids[others], cosines[others]
        spread = float(cosines.std()) or 1.0
        return ids, (cosines - float(cosines.mean())) / spread

    def _rows_in_space(self) -> np.ndarray | None:
        """The stored rows moved into the space, aligned with `_ids`; caller holds the lock.

        Kept between reloads: only rows that are new or changed since the last call are transformed,
        so a search after a save costs a comparison of the stored rows, not a transform of all of them."""
        space = self._space
        if space is None or not len(self._ids) or self._matrix.shape[1] != space.dimensions:
            return None
        ids, matrix = self._ids, self._matrix
        rows = np.empty((len(ids), space.dimensions), dtype=np.float32)
        stale = np.ones(len(ids), dtype=bool)
        if self._spaced is not None:
            old_ids, old_matrix, old_rows = self._spaced
            at, same = _unchanged_rows(old_ids, old_matrix, ids, matrix)
            rows[same] = old_rows[at[same]]
            stale = ~same
        if stale.any():
            rows[stale] = space.apply(matrix[stale])
        self._spaced = (ids, matrix, rows)
        return rows

    def _calibrate(self) -> np.ndarray:
        """Per stored row: mean and spread of its cosines with the background; computed once per id."""
        assert self._background is not None
        missing = [p for p, doc_id in enumerate(self._ids.tolist()) if doc_id not in self._calibration]
        if missing and self._matrix.shape[1] == self._background.shape[1]:
            sims = self._background @ self._matrix[missing].T
            for p, mean, spread in zip(missing, sims.mean(axis=0).tolist(), sims.std(axis=0).tolist()):
                self._calibration[int(self._ids[p])] = (mean, max(spread, 1e-3))
        return np.array([self._calibration.get(int(i), (1.0, 1.0)) for i in self._ids.tolist()]).reshape(-1, 2)

    def write(self, upserts: Mapping[int, Vector | None], deletes: Iterable[int] = ()) -> None:
        """Set (or, for None, remove) vectors and remove `deletes`. Caller holds the write lock."""
        new_ids, new_rows = _unit_rows(upserts)
        with self._lock:
            self._reload_if_changed()
            replaced = np.fromiter([*upserts, *deletes], dtype=np.int64)
            keep = ~np.isin(self._ids, replaced)
            ids = np.concatenate([self._ids[keep], new_ids])
            for doc_id in replaced.tolist():
                self._calibration.pop(doc_id, None)
            parts = [m for m in (self._matrix[keep], new_rows) if len(m)]
            dims = sorted({m.shape[1] for m in parts})
            if len(dims) > 1:
                raise ValueError(f"vectors of different dimensions in one index: {dims}")
            matrix = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
            order = np.argsort(ids, kind="stable")
            self._save(ids[order], matrix[order])

    def clear(self) -> None:
        with self._lock:
            self._save(np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))

    def _save(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".vectors-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, ids=ids, vectors=matrix)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None
        self._reload_if_changed()

    def _reload_if_changed(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            stamp = None
        else:
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        if stamp is None:
            ids, matrix = np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        else:
            with np.load(self.path) as data:
                ids, matrix = data["ids"], data["vectors"]
        if self._calibration:
            # Another process (the worker, an import) may have rewritten vectors: a cached calibration
            # of a row that changed or went belongs to the old vector.
            _at, same = _unchanged_rows(self._ids, self._matrix, ids, matrix)
            kept = set(ids[same].tolist())
            self._calibration = {i: c for i, c in self._calibration.items() if i in kept}
        self._ids, self._matrix, self._stamp = ids, matrix, stamp
        self._positions = {int(i): p for p, i in enumerate(ids)}


def _unchanged_rows(
    old_ids: np.ndarray, old_matrix: np.ndarray, ids: np.ndarray, matrix: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(position in the old rows, whether unchanged) for each of the sorted `ids`: True where the id
    was among the sorted `old_ids` with exactly the same row."""
    if not len(old_ids) or not len(ids) or old_matrix.shape[1] != matrix.shape[1]:
        return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
    at = np.minimum(np.searchsorted(old_ids, ids), len(old_ids) - 1)
    same = (old_ids[at] == ids) & np.all(old_matrix[at] == matrix, axis=1)
    return at, same


def _unit_rows(vectors: Mapping[int, Vector | None]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, unit rows) of the non-zero vectors among `vectors`, normalised in one go."""
    given = {doc_id: v for doc_id, v in vectors.items() if v is not None}
    if not given:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    if len({len(v) for v in given.values()}) > 1:
        raise ValueError(f"vectors of different dimensions in one index: {sorted({len(v) for v in given.values()})}")
    rows = np.asarray(list(given.values()), dtype=np.float32)
    if rows.ndim != 2 or not rows.shape[1]:
        raise ValueError("a vector must be a non-empty sequence of floats")
    norms = np.linalg.norm(rows, axis=1)
    nonzero = norms > 0
    ids = np.fromiter(given, dtype=np.int64, count=len(given))
    return ids[nonzero], rows[nonzero] / norms[nonzero, None]


def _cosines(ids: np.ndarray, matrix: np.ndarray, vector: Vector) -> tuple[np.ndarray, np.ndarray]:
    query = _unit(vector)
    if not len(ids) or query is None:
        return ids[:0], np.zeros(0, dtype=np.float32)
    if matrix.shape[1] != query.shape[0]:
        raise ValueError(f"query vector has {query.shape[0]} dimensions, the index has {matrix.shape[1]}")
    # numpy's own loop, not BLAS: ~1 ms at 20k x 384 on one core, where a multi-threaded
    # BLAS matvec had a p95 of ~9 ms whenever the other core was busy (bench/search_latency.py).
    return ids, np.einsum("ij,j->i", matrix, query)


def _unit(vector: Vector) -> np.ndarray | None:
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1 or not array.size:
        raise ValueError("a vector must be a non-empty sequence of floats")
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else None
