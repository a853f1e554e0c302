"""Embeddings stored beside the embedded index, searched by brute force.

Two files in the index directory:

    vectors.npz   the base: sorted int64 ids, float32 unit rows and a random generation id
    vectors.log   records appended since: a header with the base's generation, then per record
                  the doc id (int64), dims (int32; 0 = remove the vector), a CRC32 of both and of
                  the floats (uint32), and the float32 unit row

Why a log: the web server writes on every save, and rewriting and fsyncing the whole base (30 MB at
20k x 384) cost ~70 ms a write, most of a save. A write now appends its records to the log in one
`write` and one fsync, so it costs the size of the write. When the log holds more than
max(`COMPACT_MIN_RECORDS`, `COMPACT_FRACTION` x the base's rows) records, a write folds base and log
into a new base of a new generation (temporary file, fsync, `os.replace`) and then replaces the log
by an empty one of that generation (the same way, so its inode changes). A crash between the two
leaves a new base beside an old-generation log, all of whose records are in the new base: readers
ignore a log whose generation is not their base's (after re-statting the base, in case a compaction
happened between their two opens), and the next writer replaces it. A missing log is an empty one;
a base from before the log (no generation) matches no log, and the first write migrates it.

Readers in other processes (the server, the worker, the CLI) are not locked. They keep the base's
stat stamp, the log's inode and generation, and the offset after the last complete record whose CRC
checks: a changed base or log means a full reload, a grown log means reading only the new bytes. A
torn or corrupt tail (a writer killed mid-append) is not applied and not read past; the next writer
cuts it before appending. Records read are collected and applied to the arrays copy-on-write when a
caller needs the rows, so arrays handed out by `snapshot` never change. Callers must serialise
writers (the tantivy backend holds its write lock).

At 20k documents x 768 dimensions a full scan is one matrix-vector product of ~60 MB, a few
milliseconds; an ANN index is not worth its complexity below ~200k documents.
"""

from __future__ import annotations

import os
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .documents import Vector
from .matching.space import SemanticSpace

#: Below this many documents there is no crowd to stand out from: every semantic neighbour counts.
MIN_DOCUMENTS_FOR_STANDOUT = 20

#: A write compacts when the log would hold more than max(COMPACT_MIN_RECORDS, COMPACT_FRACTION x
#: the base's rows) records: a reader's full reload then reads at most ~10 % more than the base.
COMPACT_MIN_RECORDS = 1000
COMPACT_FRACTION = 0.1

_LOG_MAGIC = b"KBVLOG1\n"
_HEADER = struct.Struct("<8sQ")  # magic, generation of the base the log belongs to
_RECORD = struct.Struct("<qiI")  # doc id, dims (0 = remove), CRC32 of (doc id, dims, floats)
_REMOVE = 0
_TEMPORARY_PREFIX = ".vectors-"

BaseStamp = tuple[int, int, int]
#: What the visible state was read from: base stamp, log inode, log generation, offset in the log.
Stamp = tuple[BaseStamp | None, int | None, int | None, int]


class VectorStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.log_path = path.with_suffix(".log")
        #: When a write compacts (see the module docstring); attributes so that tests can lower them.
        self.compact_min_records = COMPACT_MIN_RECORDS
        self.compact_fraction = COMPACT_FRACTION
        self._lock = threading.Lock()
        # What the visible state was read from (see `_sync`); nothing until the first read.
        self._loaded = False
        self._base_stamp: BaseStamp | None = None
        self._base_generation: int | None = None
        self._base_rows = 0
        self._log_inode: int | None = None
        self._log_generation: int | None = None
        self._log_usable = False  # the log exists and belongs to the base
        self._offset = 0  # end of the last complete valid record read from the log
        self._log_records = 0
        # The visible state: the arrays, overridden by records read but not yet applied (`_materialize`).
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._pending: dict[int, np.ndarray | None] = {}
        self._background: np.ndarray | None = None
        self._calibration: dict[int, tuple[float, float]] = {}  # id -> background mean, spread
        self._calibrated: tuple[Stamp, np.ndarray] | None = None
        self._space: SemanticSpace | None = None
        # The stored rows in `_space`, for the ids and rows they were computed from (see `_rows_in_space`).
        self._spaced: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def _stamp(self) -> Stamp:
        """Changes whenever the visible state does: a new base, a new log, or records read."""
        return (self._base_stamp, self._log_inode, self._log_generation, self._offset)

    @property
    def dimensions(self) -> int | None:
        with self._lock:
            self._sync()
            return self._visible_dimensions()

    def check_dimensions(self, vectors: Iterable[Vector | None]) -> None:
        """Raise ValueError unless all given vectors fit the stored ones."""
        sizes = {len(v) for v in vectors if v is not None}
        stored = self.dimensions
        if len(sizes) > 1 or (stored is not None and sizes - {stored}):
            raise ValueError(f"vector dimensions {sorted(sizes)} do not match the index ({stored})")

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, unit vectors) as currently on disk."""
        with self._lock:
            self._refresh()
            return self._ids, self._matrix

    def vector_of(self, doc_id: int) -> np.ndarray | None:
        """The stored unit vector of `doc_id`, or None."""
        with self._lock:
            self._refresh()
            position = self._position(doc_id)
            return None if position is None else self._matrix[position]

    def without_vector(self, doc_ids: Iterable[int]) -> set[int]:
        """Those of `doc_ids` with no stored vector (an embedding still pending, or never made)."""
        wanted = np.fromiter(sorted(set(doc_ids)), dtype=np.int64)
        with self._lock:
            self._refresh()
            found = set(self._ids[self._positions_in_arrays(wanted)].tolist())
        return set(wanted.tolist()) - found

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
        with self._lock:  # one snapshot for the cosines and the calibration, also when a writer changes the files
            self._refresh()
            ids, matrix = self._ids, self._matrix
            table = None
            if self._background is not None and len(ids) >= MIN_DOCUMENTS_FOR_STANDOUT:
                if self._calibrated is None or self._calibrated[0] != self._stamp:
                    self._calibrated = (self._stamp, self._calibrate())
                table = self._calibrated[1]
        ids, cosines = _cosines(ids, matrix, vector)
        if table is None or not len(ids):
            return ids, cosines, None
        return ids, cosines, (cosines - table[:, 0]) / table[:, 1] + _above_the_crowd(cosines)

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
            self._refresh()
            position = self._position(doc_id)
            if position is None or len(self._ids) < MIN_DOCUMENTS_FOR_STANDOUT:
                return None
            ids, rows = self._ids, self._rows_in_space()
        if rows is None:
            return None
        cosines = np.einsum("ij,j->i", rows, rows[position])
        others = np.arange(len(ids)) != position
        ids, cosines = ids[others], cosines[others]
        return ids, _above_the_crowd(cosines)

    def space_standouts(
        self, vector: Vector, exclude: Collection[int] = ()
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(ids, cosines, standouts) of the stored documents with `vector`, both moved into the semantic
        space, where a standout is how many standard deviations a cosine lies above the mean of the
        others (`exclude`, such as the initiative itself, is left out of that crowd and of the result).

        For a text against texts: what `similar` asks. None without a space fitting these vectors or
        with too few documents for a crowd."""
        query = _unit(vector)
        with self._lock:
            self._refresh()
            ids, rows, space = self._ids, self._rows_in_space(), self._space
        if rows is None or space is None or query is None or query.shape[0] != space.dimensions:
            return None
        keep = ~np.isin(ids, np.fromiter(exclude, dtype=np.int64)) if exclude else np.ones(len(ids), dtype=bool)
        if keep.sum() < MIN_DOCUMENTS_FOR_STANDOUT:
            return None
        moved = space.apply(query[None, :])[0]
        ids, cosines = ids[keep], np.einsum("ij,j->i", rows[keep], moved)
        return ids, cosines, _above_the_crowd(cosines)

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

    # -- writing -----------------------------------------------------------

    def write(self, upserts: Mapping[int, Vector | None], deletes: Iterable[int] = ()) -> None:
        """Set (or, for None, remove) vectors and remove `deletes`. Caller holds the write lock.

        Appends to the log (one write, one fsync), or compacts when the log would grow past the
        threshold, when the base predates the log, or when there is no base. Raises ValueError, and
        writes nothing, for vectors whose dimensions differ from each other or from the stored ones."""
        new_ids, new_rows = _unit_rows(upserts)
        with self._lock:
            self._sync()
            replaced = {int(i) for i in upserts} | {int(i) for i in deletes}
            self._check_mixed(replaced, new_rows)
            removals = [i for i in sorted(replaced - set(new_ids.tolist())) if self._is_stored(i)]
            ops: list[tuple[int, np.ndarray | None]] = [(i, None) for i in removals]
            ops += [(int(i), row) for i, row in zip(new_ids.tolist(), new_rows)]
            if not ops:
                return
            try:
                if self._must_compact(len(ops)):
                    self._compact(ops)
                else:
                    assert self._base_generation is not None  # else `_must_compact`
                    if not self._log_usable:  # missing, or left by a compaction interrupted before its second step
                        self._fresh_log(self._base_generation)
                    self._append(ops)
            except BaseException:
                self._loaded = False  # what is on disk is unknown now: read it again
                raise

    def discard_files(self) -> None:
        """Delete the base and the log (an index with an old schema starts empty). Caller holds the write lock."""
        for path in (self.path, self.log_path):
            path.unlink(missing_ok=True)

    def leftovers(self) -> list[Path]:
        """Temporary files beside the store (`_replace_atomically`): with the write lock held, a killed
        writer left them."""
        return sorted(self.path.parent.glob(f"{_TEMPORARY_PREFIX}*"))

    def clear(self) -> None:
        with self._lock:
            generation = _new_generation()
            ids, matrix = np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
            try:
                self._save_base(ids, matrix, generation)
                self._fresh_log(generation)
            except BaseException:
                self._loaded = False
                raise
            self._ids, self._matrix, self._pending, self._calibration = ids, matrix, {}, {}
            self._base_generation, self._base_rows, self._loaded = generation, 0, True

    def _must_compact(self, records: int) -> bool:
        """Whether a write of `records` compacts: without a base, with a base from before the log, or
        when the log would hold more than the threshold."""
        if self._base_stamp is None or self._base_generation is None:
            return True
        return self._log_records + records > max(self.compact_min_records, self.compact_fraction * self._base_rows)

    def _check_mixed(self, replaced: set[int], new_rows: np.ndarray) -> None:
        """Raise ValueError unless the state after writing `new_rows` and removing the rest of
        `replaced` has one dimension; caller holds the lock, after `_sync`."""
        dims = {new_rows.shape[1]} if len(new_rows) else set()
        dims |= {len(row) for i, row in self._pending.items() if row is not None and i not in replaced}
        if len(self._ids) > self._count_in_arrays(replaced | set(self._pending)):
            dims.add(self._matrix.shape[1])
        if len(dims) > 1:
            raise ValueError(f"vectors of different dimensions in one index: {sorted(dims)}")

    def _append(self, ops: list[tuple[int, np.ndarray | None]]) -> None:
        data = b"".join(_encode(doc_id, row) for doc_id, row in ops)
        fd = os.open(self.log_path, os.O_RDWR)
        try:
            st = os.fstat(fd)
            if st.st_ino != self._log_inode or st.st_size < self._offset:
                raise RuntimeError(f"{self.log_path} changed during a write: writers must hold the write lock")
            if st.st_size > self._offset:  # a torn or corrupt tail, left by a writer killed mid-append
                os.ftruncate(fd, self._offset)
            view, done = memoryview(data), 0
            while done < len(data):
                done += os.pwrite(fd, view[done:], self._offset + done)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._pending.update(ops)
        self._offset += len(data)
        self._log_records += len(ops)

    def _compact(self, ops: list[tuple[int, np.ndarray | None]]) -> None:
        """Fold base, log and `ops` into a new base of a new generation, then start an empty log of it.

        In this order: a crash in between leaves the new base beside an old-generation log, which
        readers ignore and the next writer replaces."""
        self._pending.update(ops)
        self._materialize()
        generation = _new_generation()
        self._save_base(self._ids, self._matrix, generation)
        self._fresh_log(generation)
        self._base_generation, self._base_rows = generation, len(self._ids)

    def _save_base(self, ids: np.ndarray, matrix: np.ndarray, generation: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _replace_atomically(
            self.path,
            ".npz",
            lambda fh: np.savez(fh, ids=ids, vectors=matrix, generation=np.array(generation, dtype=np.uint64)),
        )
        self._base_stamp = _base_stamp(self.path)

    def _fresh_log(self, generation: int) -> None:
        """Replace the log by an empty one of `generation` (a new inode: readers reload)."""
        _replace_atomically(self.log_path, ".log", lambda fh: fh.write(_HEADER.pack(_LOG_MAGIC, generation)))
        self._log_inode = os.stat(self.log_path).st_ino
        self._log_generation, self._log_usable = generation, True
        self._offset, self._log_records = _HEADER.size, 0

    # -- reading -----------------------------------------------------------

    def _refresh(self) -> None:
        """Bring the arrays up to date with the files; caller holds the lock."""
        self._sync()
        self._materialize()

    def _sync(self) -> None:
        """Read what changed on disk: a full reload for a new base or log, else the log's new records
        (kept pending, not yet applied to the arrays). Caller holds the lock."""
        base_stamp = _base_stamp(self.path)
        try:
            st = os.stat(self.log_path)
        except FileNotFoundError:
            log_inode, log_size = None, 0
        else:
            log_inode, log_size = st.st_ino, st.st_size
        if not self._loaded or base_stamp != self._base_stamp or log_inode != self._log_inode:
            self._full_reload()
            return
        if not self._log_usable or log_size == self._offset:
            return
        if log_size < self._offset:  # cut below what was read: not something a writer does
            self._full_reload()
            return
        try:
            with open(self.log_path, "rb") as fh:
                if os.fstat(fh.fileno()).st_ino != self._log_inode or _generation_of(fh.read(_HEADER.size)) != (
                    self._log_generation
                ):
                    raise FileNotFoundError  # replaced since the stat
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            self._full_reload()
            return
        records, used = _parse_records(data)
        if records:
            self._pending.update(records)
            self._offset += used
            self._log_records += len(records)

    def _full_reload(self) -> None:
        """Read the base, then the log from its start if it belongs to the base."""
        for _attempt in range(3):
            base_stamp, ids, matrix, generation = _load_base(self.path)
            log = _read_log(self.log_path)
            usable = log is not None and generation is not None and log[1] == generation
            if log is None or usable or _base_stamp(self.path) == base_stamp:
                break  # else a compaction came between the two opens: read both again
        if self._calibration:
            # Another process (the worker, an import) may have rewritten vectors: a cached calibration
            # of a row that changed or went belongs to the old vector.
            _at, same = _unchanged_rows(self._ids, self._matrix, ids, matrix)
            kept = set(ids[same].tolist())
            self._calibration = {i: c for i, c in self._calibration.items() if i in kept}
        self._ids, self._matrix, self._pending = ids, matrix, {}
        self._base_stamp, self._base_generation, self._base_rows = base_stamp, generation, len(ids)
        self._log_inode, self._log_generation = (None, None) if log is None else log[:2]
        self._log_usable, self._offset, self._log_records = usable, 0, 0
        if log is not None and usable:
            records, used = _parse_records(log[2])
            self._pending.update(records)
            self._offset, self._log_records = _HEADER.size + used, len(records)
        self._loaded = True

    def _materialize(self) -> None:
        """Apply the pending records to new arrays (never to the old ones: `snapshot` handed them out).

        One pass over the matrix: the kept rows are copied in runs (a few records split it into a few
        runs), the upserted rows put in between; at 20k x 384 the copy is most of the cost."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for doc_id in pending:
            self._calibration.pop(doc_id, None)
        changed = np.fromiter(sorted(pending), dtype=np.int64, count=len(pending))
        keep = np.ones(len(self._ids), dtype=bool)
        keep[self._positions_in_arrays(changed)] = False
        kept_at = np.flatnonzero(keep)  # rows of the old matrix that stay
        ids = self._ids[kept_at]
        upserts = [(doc_id, row) for doc_id, row in sorted(pending.items()) if row is not None]
        upserted = np.fromiter((doc_id for doc_id, _row in upserts), dtype=np.int64, count=len(upserts))
        if not len(ids) and not upserts:
            self._ids, self._matrix = ids, np.zeros((0, 0), dtype=np.float32)
            return
        dims = len(upserts[0][1]) if upserts else self._matrix.shape[1]
        if len(ids) and self._matrix.shape[1] != dims:
            raise ValueError(f"vectors of different dimensions in one index: {self._matrix.shape[1]}, {dims}")
        where = np.searchsorted(ids, upserted)
        ids = np.insert(ids, where, upserted)
        matrix = np.empty((len(ids), dims), dtype=np.float32)
        upserted_at = where + np.arange(len(upserted))  # their rows in the new matrix
        if upserts:
            matrix[upserted_at] = np.stack([row for _doc_id, row in upserts])
        if len(kept_at):
            old = np.ones(len(ids), dtype=bool)
            old[upserted_at] = False
            new_at = np.flatnonzero(old)
            breaks = np.flatnonzero((np.diff(kept_at) != 1) | (np.diff(new_at) != 1)) + 1
            for first, last in zip([0, *breaks.tolist()], [*breaks.tolist(), len(kept_at)]):
                matrix[new_at[first] : new_at[first] + last - first] = self._matrix[
                    kept_at[first] : kept_at[first] + last - first
                ]
        self._ids, self._matrix = ids, matrix

    def _positions_in_arrays(self, doc_ids: np.ndarray) -> np.ndarray:
        """Positions in `_ids` of those of the sorted `doc_ids` that are there."""
        if not len(self._ids) or not len(doc_ids):
            return np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._ids, doc_ids), len(self._ids) - 1)
        found: np.ndarray = at[self._ids[at] == doc_ids]
        return found

    def _count_in_arrays(self, doc_ids: set[int]) -> int:
        return len(self._positions_in_arrays(np.fromiter(sorted(doc_ids), dtype=np.int64, count=len(doc_ids))))

    def _position(self, doc_id: int) -> int | None:
        """Position of `doc_id` in the applied arrays, or None."""
        found = self._positions_in_arrays(np.array([doc_id], dtype=np.int64))
        return int(found[0]) if len(found) else None

    def _is_stored(self, doc_id: int) -> bool:
        """Whether `doc_id` has a vector in the visible state (arrays and pending records)."""
        if doc_id in self._pending:
            return self._pending[doc_id] is not None
        return self._position(doc_id) is not None

    def _visible_dimensions(self) -> int | None:
        for row in self._pending.values():
            if row is not None:
                return len(row)
        return self._matrix.shape[1] if len(self._ids) > self._count_in_arrays(set(self._pending)) else None


def _new_generation() -> int:
    return int.from_bytes(os.urandom(8), "little")


def _base_stamp(path: Path) -> BaseStamp | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _load_base(path: Path) -> tuple[BaseStamp | None, np.ndarray, np.ndarray, int | None]:
    """(stamp, ids, rows, generation) of the base; generation None for a base from before the log."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return None, np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), None
    with fh:
        st = os.fstat(fh.fileno())  # the stamp of the file read, also when a writer replaces it meanwhile
        with np.load(fh) as data:
            ids, matrix = data["ids"], data["vectors"]
            generation = int(data["generation"]) if "generation" in data.files else None
    return (st.st_ino, st.st_mtime_ns, st.st_size), ids, matrix, generation


def _read_log(path: Path) -> tuple[int, int | None, bytes] | None:
    """(inode, generation, bytes after the header) of the log; None without one. Generation None
    for a log without a valid header (belongs to no base)."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return None
    with fh:
        inode = os.fstat(fh.fileno()).st_ino
        generation = _generation_of(fh.read(_HEADER.size))
        return inode, generation, fh.read()


def _generation_of(header: bytes) -> int | None:
    if len(header) != _HEADER.size:
        return None
    magic, generation = _HEADER.unpack(header)
    return int(generation) if magic == _LOG_MAGIC else None


def _encode(doc_id: int, row: np.ndarray | None) -> bytes:
    floats = b"" if row is None else np.ascontiguousarray(row, dtype="<f4").tobytes()
    head = struct.pack("<qi", doc_id, _REMOVE if row is None else len(row))
    return head + struct.pack("<I", zlib.crc32(floats, zlib.crc32(head))) + floats


def _parse_records(data: bytes) -> tuple[list[tuple[int, np.ndarray | None]], int]:
    """(records, bytes they take) of the complete records with a valid CRC at the start of `data`;
    parsing stops at the first torn or corrupt one."""
    view, records, pos = memoryview(data), [], 0
    while pos + _RECORD.size <= len(data):
        doc_id, dims, crc = _RECORD.unpack_from(data, pos)
        start = pos + _RECORD.size
        end = start + 4 * dims
        if dims < 0 or end > len(data) or zlib.crc32(view[start:end], zlib.crc32(view[pos : pos + 12])) != crc:
            break
        records.append((int(doc_id), np.frombuffer(data, dtype="<f4", count=dims, offset=start) if dims else None))
        pos = end
    return records, pos


def _replace_atomically(path: Path, suffix: str, write: Callable[[BinaryIO], object]) -> None:
    """Write a temporary file beside `path` (see `VectorStore.leftovers`), fsync it, rename it over
    `path` and fsync the directory: readers see the old or the new file, and after a power cut the
    rename has either happened or not (without the directory's fsync it may be lost after returning)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY_PREFIX, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


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


def _above_the_crowd(cosines: np.ndarray) -> np.ndarray:
    """How many standard deviations each cosine lies above the mean of all of them."""
    spread = float(cosines.std()) or 1.0
    result: np.ndarray = (cosines - float(cosines.mean())) / spread
    return result


def _unit(vector: Vector) -> np.ndarray | None:
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1 or not array.size:
        raise ValueError("a vector must be a non-empty sequence of floats")
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else None
