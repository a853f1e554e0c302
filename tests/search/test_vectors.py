"""The vector store beside the embedded index (search/vectors.py), on real files."""

from __future__ import annotations

import numpy as np
import pytest

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
