"""The semantic space: it removes how a purpose is written, ships with a checksum, and the engine uses it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from search.matching import MatchEngine, MatchItem
from search.matching.features import FEATURES, TYPE_FEATURES
from search.matching.model import MODEL_FILE, load_match_model, match_model_from_dict
from search.matching.space import SPACE_FILE, SpaceFileError, fit_semantic_space, load_semantic_space

D = 64


def _texts(rng: np.random.Generator, purposes: int, per_purpose: int) -> tuple[np.ndarray, list[list[int]]]:
    """Vectors whose purpose lies in dims 1.., written tersely or at length along a strong dim 0."""
    centres = rng.normal(size=(purposes, D)) * 0.3
    centres[:, 0] = 0.0
    rows, families = [], []
    for p in range(purposes):
        family = []
        for k in range(per_purpose):
            style = 3.0 if k % 2 else -3.0  # terse or long: dominates the raw cosine
            family.append(len(rows))
            rows.append(centres[p] + np.eye(D)[0] * style + rng.normal(size=D) * 0.05)
        families.append(family)
    return np.array(rows, dtype=np.float32), families


def test_the_space_ranks_purpose_above_style():
    rng = np.random.default_rng(1)
    train, families = _texts(rng, purposes=12, per_purpose=4)
    space = fit_semantic_space(train, families)
    test, _ = _texts(np.random.default_rng(2), purposes=2, per_purpose=2)  # purposes it never saw
    same_purpose_other_style = (0, 1)
    other_purpose_same_style = (1, 3)

    def cos(v: np.ndarray, pair: tuple[int, int]) -> float:
        unit = v / np.linalg.norm(v, axis=1, keepdims=True)
        return float(unit[pair[0]] @ unit[pair[1]])

    assert cos(test, same_purpose_other_style) < cos(test, other_purpose_same_style)  # raw: style wins
    moved = space.apply(test)
    assert np.allclose(np.linalg.norm(moved, axis=1), 1.0, atol=1e-5)
    assert cos(moved, same_purpose_other_style) > cos(moved, other_purpose_same_style)


def test_fitting_needs_a_family_of_two():
    with pytest.raises(ValueError, match="family"):
        fit_semantic_space(np.eye(4, dtype=np.float32), [[0], [1]])


def test_the_shipped_space_is_checked_against_its_checksum(tmp_path: Path):
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    assert load_match_model().space is not None
    copy = tmp_path / SPACE_FILE.name
    shutil.copy(SPACE_FILE, copy)
    assert match_model_from_dict(data, FEATURES, TYPE_FEATURES, tmp_path).space is not None
    raw = bytearray(copy.read_bytes())
    raw[-1] ^= 0xFF
    copy.write_bytes(bytes(raw))
    with pytest.raises(SpaceFileError, match="SHA-256"):
        load_semantic_space(data["space"]["sha256"], copy)
    copy.unlink()
    with pytest.raises(SpaceFileError, match="missing"):
        match_model_from_dict(data, FEATURES, TYPE_FEATURES, tmp_path)


def _item(i: int, province: str, vector: np.ndarray) -> MatchItem:
    return MatchItem(
        id=i,
        province=province,
        province_name=province,
        kind="portfolio_project",
        phase="pilot",
        themes=(),
        technologies=(),
        suppliers=(),
        seeks_partners=False,
        tender_date=None,
        start_date=None,
        end_date=None,
        title=f"Initiatief {i}",
        summary="",
        body="",
        vector=vector,
    )


def test_the_engine_compares_vectors_in_the_space():
    rng = np.random.default_rng(3)
    train, families = _texts(rng, purposes=12, per_purpose=4)
    space = fit_semantic_space(train, families)
    test, _ = _texts(np.random.default_rng(4), purposes=2, per_purpose=2)
    items = [_item(i, province, v) for i, (province, v) in enumerate(zip(["NL-GE", "NL-FR", "NL-UT", "NL-ZE"], test))]
    raw = MatchEngine(model=None, space=None, min_score=0.0)
    moved = MatchEngine(model=None, space=space, min_score=0.0)
    raw.prepare(items)
    moved.prepare(items)
    assert raw._pair_cosine(np.array([0]), np.array([1]))[0] < raw._pair_cosine(np.array([1]), np.array([3]))[0]
    assert moved._pair_cosine(np.array([0]), np.array([1]))[0] > moved._pair_cosine(np.array([1]), np.array([3]))[0]
