"""The vector store beside the embedded index (search/vectors.py), on real files."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from search import vectors as vectors_module
from search.matching.space import SemanticSpace
from search.vectors import VectorStore


def rows(store: VectorStore) -> dict[int, list[float]]:
    ids, matrix = store.snapshot()
    return {int(i): [round(float(x), 6) for x in row] for i, row in zip(ids, matrix, strict=True)}


def test_write_stores_unit_vectors_sorted_by_id(tmp_path):
    store = VectorStore(tmp_path / "vectors.npz")
    store.write({3: (3.0, 4.0), 1: (0.0, 2.0)})
    ids, matrix = store.snapshot()
    assert ids.tolist() == [1, 3]
    assert np.allclose(matrix, [[0.0, 1.0], [0.6, 0.8]])
    assert matrix.dtype == np.float32


def test_write_replaces_removes_and_keeps(tmp_path):
    store = VectorStore(tmp_path / "vectors.npz")
    store.write({1: (1.0, 0.0), 2: (0.0, 1.0), 3: (1.0, 1.0), 4: (2.0, 0.0)})
    store.write({2: (1.0, 0.0), 3: None, 5: (0.0, 0.0)}, deletes=[4, 99])
    assert rows(store) == {1: [1.0, 0.0], 2: [1.0, 0.0]}  # 3: None, 4: deleted, 5: zero vector


def test_another_store_on_the_same_file_sees_writes(tmp_path):
    writer = VectorStore(tmp_path / "vectors.npz")
    reader = VectorStore(tmp_path / "vectors.npz")
    writer.write({7: (0.0, 5.0)})
    ids, scores = reader.cosine((0.0, 1.0))
    assert ids.tolist() == [7] and np.allclose(scores, [1.0])
    writer.write({}, deletes=[7])
    assert reader.cosine((0.0, 1.0))[0].tolist() == []


def test_cosine_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 16))
    store = VectorStore(tmp_path / "vectors.npz")
    store.write({i: tuple(v) for i, v in enumerate(vectors)})
    query = rng.normal(size=16)
    ids, scores = store.cosine(tuple(query))
    expected = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    assert np.allclose(scores, expected[ids], atol=1e-5)


@pytest.mark.parametrize(
    ("first", "second"),
    [({1: (1.0, 0.0)}, {2: (1.0, 0.0, 0.0)}), ({}, {1: (1.0, 0.0), 2: (1.0, 0.0, 0.0)})],
)
def test_vectors_of_different_dimensions_are_refused(tmp_path, first, second):
    store = VectorStore(tmp_path / "vectors.npz")
    store.write(first)
    with pytest.raises(ValueError, match="different dimensions"):
        store.write(second)
    assert set(rows(VectorStore(tmp_path / "vectors.npz"))) == set(first)  # nothing written


def test_standouts_follow_a_vector_another_process_rewrote(tmp_path):
    """The server's store keeps each document's background calibration; when the worker (another
    store on the same file) re-embeds a document, the server's standouts must be those of the new
    vector, as a freshly opened store computes them."""
    rng = np.random.default_rng(1)
    background = rng.normal(size=(8, 16)).astype(np.float32)
    background /= np.linalg.norm(background, axis=1, keepdims=True)
    server, worker = VectorStore(tmp_path / "vectors.npz"), VectorStore(tmp_path / "vectors.npz")
    server.set_background(background)
    worker.write({i: tuple(v) for i, v in enumerate(rng.normal(size=(30, 16)))})
    query = tuple(rng.normal(size=16))
    server.standouts(query)  # calibrates every document on its current vector
    worker.write({3: tuple(rng.normal(size=16)), 4: tuple(rng.normal(size=16))}, deletes=[5])
    fresh = VectorStore(tmp_path / "vectors.npz")
    fresh.set_background(background)
    ids, _cosines, standouts = server.standouts(query)
    fresh_ids, _fresh_cosines, fresh_standouts = fresh.standouts(query)
    assert ids.tolist() == fresh_ids.tolist() and 5 not in ids.tolist()
    assert standouts is not None and fresh_standouts is not None
    assert np.allclose(standouts, fresh_standouts, atol=1e-6)


# -- the base + log design (see search/vectors.py) ---------------------------

DIMS = 8
HEADER = 16  # magic and generation at the start of vectors.log
RECORD = 16 + 4 * DIMS  # doc id, dims, CRC32, then the floats


def unit(rng: np.random.Generator) -> tuple[float, ...]:
    vector = rng.normal(size=DIMS)
    return tuple(vector / np.linalg.norm(vector))


def seeded(tmp_path, count: int = 30, seed: int = 0) -> tuple[VectorStore, dict[int, tuple[float, ...]]]:
    """A store with `count` vectors in its base (the first write compacts: there is no base yet)."""
    rng = np.random.default_rng(seed)
    expected = {2 * i: unit(rng) for i in range(count)}  # even ids: odd ones land in between
    store = VectorStore(tmp_path / "vectors.npz")
    store.write(expected)
    return store, expected


def assert_state(store: VectorStore, expected: dict[int, tuple[float, ...]]) -> None:
    ids, matrix = store.snapshot()
    assert ids.tolist() == sorted(expected)  # sorted: lookups use np.searchsorted
    assert np.allclose(matrix, [expected[i] for i in sorted(expected)], atol=1e-6) if expected else not len(matrix)
    for doc_id, vector in expected.items():
        stored = store.vector_of(doc_id)
        assert stored is not None and np.allclose(stored, vector, atol=1e-6)


def identity(path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, st.st_size


def test_a_single_write_appends_to_the_log_and_leaves_the_base_alone(tmp_path):
    store, expected = seeded(tmp_path)
    base, log = tmp_path / "vectors.npz", tmp_path / "vectors.log"
    before = identity(base)
    assert log.stat().st_size == HEADER
    rng = np.random.default_rng(1)
    expected[101] = unit(rng)
    store.write({101: expected[101]})  # a new vector
    store.write({4: None})  # a removal
    store.write({}, deletes=[6, 999])  # a delete, and one of an id without a vector (nothing to write)
    del expected[4], expected[6]
    assert identity(base) == before
    assert log.stat().st_size == HEADER + 3 * RECORD - 4 * DIMS * 2  # two of the records carry no floats
    assert_state(VectorStore(base), expected)
    assert_state(store, expected)


def test_a_reader_reads_later_appends_incrementally_and_keeps_its_old_arrays(tmp_path, monkeypatch):
    writer, expected = seeded(tmp_path)
    reader = VectorStore(tmp_path / "vectors.npz")
    old_ids, old_matrix = reader.snapshot()
    full_reloads = []
    full_reload = reader._full_reload
    monkeypatch.setattr(reader, "_full_reload", lambda: (full_reloads.append(1), full_reload()))
    kept_ids, kept_matrix = old_ids.copy(), old_matrix.copy()
    base_stamp = reader._base_stamp
    rng = np.random.default_rng(2)
    changes = {17: unit(rng), 5: unit(rng), 20: unit(rng), 1001: unit(rng)}  # new ids in between, one replaced
    writer.write(changes, deletes=[10])
    expected.update(changes)
    del expected[10]
    assert_state(reader, expected)
    assert reader._base_stamp == base_stamp and reader._offset == (tmp_path / "vectors.log").stat().st_size
    writer.write({0: None})
    del expected[0]
    assert_state(reader, expected)
    assert not full_reloads  # only the log's new bytes were read
    # Arrays handed out before are never changed (callers hold them; `_unchanged_rows` compares them).
    assert np.array_equal(old_ids, kept_ids) and np.array_equal(old_matrix, kept_matrix)


def test_past_the_threshold_a_write_compacts_and_readers_follow(tmp_path):
    writer, expected = seeded(tmp_path)
    writer.compact_min_records = 5  # 10 % of 30 rows is less
    base, log = tmp_path / "vectors.npz", tmp_path / "vectors.log"
    reader = VectorStore(base)
    old_ids, _old_matrix = reader.snapshot()
    first = identity(base)
    rng = np.random.default_rng(3)
    for n in range(5):
        expected[1 + 2 * n] = unit(rng)
        writer.write({1 + 2 * n: expected[1 + 2 * n]})
    assert identity(base) == first and log.stat().st_size == HEADER + 5 * RECORD
    assert_state(reader, expected)  # the reader holds the log's five records
    expected[11] = unit(rng)
    writer.write({11: expected[11]})  # the sixth: compacts
    assert identity(base)[0] != first[0]
    assert log.stat().st_size == HEADER
    with np.load(base) as data:
        assert data["ids"].tolist() == sorted(expected)
    assert_state(reader, expected)
    assert_state(VectorStore(base), expected)
    assert len(old_ids) == 30
    del expected[11]
    writer.write({11: None})  # and the next write appends again
    assert log.stat().st_size == HEADER + 16
    assert_state(reader, expected)


def test_a_torn_tail_is_ignored_by_readers_and_cut_by_the_next_writer(tmp_path):
    writer, expected = seeded(tmp_path)
    rng = np.random.default_rng(4)
    for doc_id in (3, 5):
        expected[doc_id] = unit(rng)
        writer.write({doc_id: expected[doc_id]})
    log = tmp_path / "vectors.log"
    valid = log.read_bytes()
    reader = VectorStore(tmp_path / "vectors.npz")
    assert_state(reader, expected)
    with open(log, "ab") as fh:  # a writer killed mid-append
        fh.write(valid[-RECORD:][: RECORD // 2])
    assert_state(reader, expected)
    assert_state(VectorStore(tmp_path / "vectors.npz"), expected)
    del expected[3]
    VectorStore(tmp_path / "vectors.npz").write({3: None})  # a record shorter than the torn tail
    assert log.read_bytes()[: len(valid)] == valid and log.stat().st_size == len(valid) + 16
    assert_state(reader, expected)
    expected[7] = unit(rng)
    VectorStore(tmp_path / "vectors.npz").write({7: expected[7]})
    assert log.stat().st_size == len(valid) + 16 + RECORD
    assert_state(reader, expected)
    assert_state(VectorStore(tmp_path / "vectors.npz"), expected)


def test_a_corrupt_record_is_ignored(tmp_path):
    writer, expected = seeded(tmp_path)
    rng = np.random.default_rng(5)
    expected[3] = unit(rng)
    writer.write({3: expected[3]})
    writer.write({8: unit(rng)})  # replaces 8; this record gets a flipped byte
    log = tmp_path / "vectors.log"
    data = bytearray(log.read_bytes())
    data[-5] ^= 0x40  # inside the last record's floats
    log.write_bytes(bytes(data))
    reader = VectorStore(tmp_path / "vectors.npz")
    assert_state(reader, expected)  # 8 as in the base: the CRC does not check
    expected[9] = unit(rng)
    VectorStore(tmp_path / "vectors.npz").write({9: expected[9]})  # cuts the corrupt record
    assert log.stat().st_size == HEADER + 2 * RECORD
    assert_state(reader, expected)
    assert_state(VectorStore(tmp_path / "vectors.npz"), expected)


def test_an_old_generation_log_beside_a_compacted_base_is_ignored(tmp_path):
    """A compaction killed between its two steps: the new base is in place, the old log (all of whose
    records are in the new base) is not yet replaced."""
    writer, expected = seeded(tmp_path)
    writer.compact_min_records = 3
    base, log = tmp_path / "vectors.npz", tmp_path / "vectors.log"
    rng = np.random.default_rng(6)
    removed = sorted(expected)[:4]
    for doc_id in removed:
        shutil.copy(log, tmp_path / "old.log")
        base_inode = base.stat().st_ino
        writer.write({doc_id: None})
        del expected[doc_id]
        if base.stat().st_ino != base_inode:
            break
    else:
        pytest.fail("no compaction")
    reader = VectorStore(base)
    assert_state(reader, expected)
    os.replace(tmp_path / "old.log", log)  # as if the fresh log never replaced it
    assert VectorStore(base)._log_usable is False
    assert_state(VectorStore(base), expected)
    assert_state(reader, expected)
    expected[1] = unit(rng)
    VectorStore(base).write({1: expected[1]})  # the next writer replaces the old log
    with np.load(base) as data:
        generation = int(data["generation"])
    assert int.from_bytes(log.read_bytes()[8:16], "little") == generation
    assert log.stat().st_size == HEADER + RECORD
    assert_state(reader, expected)
    assert_state(VectorStore(base), expected)


def test_a_reader_whose_opens_a_compaction_falls_between_reads_both_again(tmp_path, monkeypatch):
    """A reader opens the base, then the log; a writer in another process compacts in between. The log
    it then opens belongs to the new base, so its base is stale and the old log's records, folded into
    the new base, are in neither: it must read both again."""
    writer, expected = seeded(tmp_path)
    rng = np.random.default_rng(8)
    for doc_id in (1, 3):  # two records in the log of the first base
        expected[doc_id] = unit(rng)
        writer.write({doc_id: expected[doc_id]})
    read_log = vectors_module._read_log
    compacted = []

    def compaction_between_the_opens(path):
        if not compacted:
            writer.compact_min_records, writer.compact_fraction = 0, 0.0  # the next write compacts
            expected[5] = unit(rng)
            writer.write({5: expected[5]})
            compacted.append(True)
        return read_log(path)

    monkeypatch.setattr(vectors_module, "_read_log", compaction_between_the_opens)
    base_inode = (tmp_path / "vectors.npz").stat().st_ino
    reader = VectorStore(tmp_path / "vectors.npz")
    assert_state(reader, expected)
    assert compacted and (tmp_path / "vectors.npz").stat().st_ino != base_inode


def test_a_base_from_before_the_log_loads_and_the_first_write_migrates_it(tmp_path):
    base = tmp_path / "vectors.npz"
    np.savez(base, ids=np.array([1, 4], dtype=np.int64), vectors=np.array([[1, 0], [0, 1]], dtype=np.float32))
    store = VectorStore(base)
    assert rows(store) == {1: [1.0, 0.0], 4: [0.0, 1.0]}
    store.write({2: (3.0, 4.0)})
    with np.load(base) as data:
        assert "generation" in data.files and data["ids"].tolist() == [1, 2, 4]
    assert rows(VectorStore(base)) == {1: [1.0, 0.0], 2: [0.6, 0.8], 4: [0.0, 1.0]}
    store.write({3: (1.0, 0.0)})
    assert (tmp_path / "vectors.log").stat().st_size == HEADER + 16 + 8
    assert set(rows(VectorStore(base))) == {1, 2, 3, 4}


def test_a_log_without_its_base_is_ignored(tmp_path):
    store, _expected = seeded(tmp_path)
    store.write({3: (1.0,) * DIMS})
    (tmp_path / "vectors.npz").unlink()
    assert rows(VectorStore(tmp_path / "vectors.npz")) == {}
    VectorStore(tmp_path / "vectors.npz").write({5: (2.0, 0.0)})  # other dimensions: nothing is stored
    assert rows(VectorStore(tmp_path / "vectors.npz")) == {5: [1.0, 0.0]}
    assert rows(store) == {5: [1.0, 0.0]}


def test_clear_empties_base_and_log(tmp_path):
    store, _expected = seeded(tmp_path)
    store.write({3: (1.0,) * DIMS})
    reader = VectorStore(tmp_path / "vectors.npz")
    assert len(reader.snapshot()[0]) == 31
    store.clear()
    assert rows(store) == {} and rows(reader) == {} and rows(VectorStore(tmp_path / "vectors.npz")) == {}
    assert (tmp_path / "vectors.log").stat().st_size == HEADER
    with np.load(tmp_path / "vectors.npz") as data:
        assert not len(data["ids"])
    store.write({1: (0.0, 1.0)})  # empty again: any dimensions
    assert rows(reader) == {1: [0.0, 1.0]}


def test_mixed_dimensions_against_logged_rows_raise_and_write_nothing(tmp_path):
    store = VectorStore(tmp_path / "vectors.npz")
    store.write({1: (1.0, 0.0)})
    store.write({2: (0.0, 1.0)})  # in the log
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for upserts, deletes in [({3: (1.0, 0.0, 0.0)}, [1]), ({3: (1.0, 0.0, 0.0)}, [2]), ({2: (1.0, 0.0, 0.0)}, [])]:
        with pytest.raises(ValueError, match="different dimensions"):
            store.write(upserts, deletes)
        with pytest.raises(ValueError, match="different dimensions"):
            VectorStore(tmp_path / "vectors.npz").write(upserts, deletes)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files
    assert store.dimensions == 2
    store.write({3: (1.0, 0.0, 0.0)}, deletes=[1, 2])  # nothing of the old dimensions stays: allowed
    assert rows(VectorStore(tmp_path / "vectors.npz")) == {3: [1.0, 0.0, 0.0]}
    assert store.dimensions == 3


def test_standouts_follow_rows_changed_through_the_log(tmp_path):
    """The calibration cache is keyed by a stamp that changes with each record read, and drops the
    calibration of the rows the records change: standouts stay those a fresh store computes."""
    rng = np.random.default_rng(7)
    background = rng.normal(size=(8, DIMS)).astype(np.float32)
    background /= np.linalg.norm(background, axis=1, keepdims=True)
    server, _expected = seeded(tmp_path)
    server.set_background(background)
    worker = VectorStore(tmp_path / "vectors.npz")
    query = unit(rng)
    base = identity(tmp_path / "vectors.npz")
    for writer in (worker, server):  # another process's append, and the server's own
        server.standouts(query)  # calibrates every row as it is
        writer.write({4: unit(rng), 1001: unit(rng)}, deletes=[6])
        fresh = VectorStore(tmp_path / "vectors.npz")
        fresh.set_background(background)
        ids, cosines, standouts = server.standouts(query)
        fresh_ids, fresh_cosines, fresh_standouts = fresh.standouts(query)
        assert ids.tolist() == fresh_ids.tolist() and 6 not in ids.tolist()
        assert np.allclose(cosines, fresh_cosines, atol=1e-6)
        assert standouts is not None and fresh_standouts is not None
        assert np.allclose(standouts, fresh_standouts, atol=1e-6)
    assert identity(tmp_path / "vectors.npz") == base


def test_family_standouts_follow_rows_changed_through_the_log(tmp_path):
    rng = np.random.default_rng(8)
    space = SemanticSpace(
        mean=rng.normal(size=DIMS).astype(np.float32) * 0.1, transform=rng.normal(size=(DIMS, DIMS)).astype(np.float32)
    )
    server, _expected = seeded(tmp_path)
    server.set_space(space)
    assert server.family_standouts(2) is not None  # moves every row into the space
    VectorStore(tmp_path / "vectors.npz").write({2: unit(rng), 3: unit(rng)}, deletes=[8])
    fresh = VectorStore(tmp_path / "vectors.npz")
    fresh.set_space(space)
    for doc_id in (2, 3, 12):
        got, want = server.family_standouts(doc_id), fresh.family_standouts(doc_id)
        assert got is not None and want is not None
        assert got[0].tolist() == want[0].tolist() and 8 not in got[0].tolist()
        assert np.allclose(got[1], want[1], atol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_random_writes_match_a_plain_model_in_writer_and_readers(tmp_path, seed):
    """Random batches of inserts, replacements, removals and deletes (and compactions, at a low
    threshold): the writer, a reader that reads after every write, one that reads now and then, and a
    fresh store all hold exactly the model's vectors."""
    rng = np.random.default_rng(100 + seed)
    writer, expected = seeded(tmp_path, count=int(rng.integers(0, 40)), seed=seed)
    writer.compact_min_records = 25
    eager, lazy = VectorStore(tmp_path / "vectors.npz"), VectorStore(tmp_path / "vectors.npz")
    for step in range(60):
        ids = rng.choice(120, size=int(rng.integers(1, 8)), replace=False).tolist()
        upserts: dict[int, tuple[float, ...] | None] = {}
        for doc_id in ids[: len(ids) // 2 + 1]:
            upserts[doc_id] = None if rng.random() < 0.25 else unit(rng)
        deletes = ids[len(ids) // 2 + 1 :]
        writer.write(upserts, deletes)
        for doc_id in deletes:
            expected.pop(doc_id, None)
        for doc_id, vector in upserts.items():
            if vector is None:
                expected.pop(doc_id, None)
            else:
                expected[doc_id] = vector
        assert_state(eager, expected)
        if step % 7 == 0:
            assert_state(lazy, expected)
    assert_state(writer, expected)
    assert_state(lazy, expected)
    assert_state(VectorStore(tmp_path / "vectors.npz"), expected)
