"""The semantic space matching compares in: text vectors with the ways one purpose is written removed.

    space = fit_semantic_space(vectors, families)   # within-family covariance normalisation (WCCN)
    unit = space.apply(vectors)                     # centred, rescaled, unit length

Why: the encoder's cosine mixes *what* an initiative is about with *how* it is written. A terse
portfolio row and a long living-lab report about the same service, or a Dutch and an English text,
differ along a few directions that have nothing to do with purpose, and those directions dominate
the raw cosine: on the development set the raw cosine of stored passage vectors ranks true pairs
with AP 0.17, the same cosine in this space with AP 0.60 (families it was not fitted on,
`bench/match_signals.py`). The directions are learnt from how members of one family differ from
each other (the within-family scatter), then scaled down by how much same-purpose texts vary along
them: `W = V diag(1 / sqrt(eigenvalues + λ · mean eigenvalue))`, after subtracting a fixed mean.

The space is fitted by `bench/train_matching.py` on the development families together with the
pair model (whose features are computed in it) and ships as `match_space.npy`: the mean in the
first row, `W` below it, with its SHA-256 in `match_model.json`. It is tied to the encoder whose
vectors it was fitted on (multilingual-e5-small `passage:` vectors, the platform's stored ones).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPACE_FILE = Path(__file__).resolve().parent / "match_space.npy"

#: Regularisation of the within-family eigenvalues, as a share of their mean (chosen by grouped CV).
DEFAULT_REGULARISATION = 3.0


class SpaceFileError(ValueError):
    """The space file does not match the checksum the match model names."""


@dataclass(frozen=True)
class SpaceBackground:
    """How unrelated texts lie in the space, measured on the corpora it was fitted with: what a corpus
    too small to measure its own background (a few initiatives) is compared with instead. `mean` and
    `spread` are those of an initiative's cosines with the initiatives of other provinces, averaged
    over initiatives."""

    mean: float
    spread: float

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "spread": self.spread}

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> SpaceBackground:
        return cls(float(data["mean"]), float(data["spread"]))


@dataclass(frozen=True)
class SemanticSpace:
    mean: np.ndarray  # (d,)
    transform: np.ndarray  # (d, d)
    background: SpaceBackground | None = None  # set from the match model, which measured it

    @property
    def dimensions(self) -> int:
        return int(self.mean.shape[0])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Rows of `vectors` in this space, at unit length (an all-zero row stays zero)."""
        moved = (np.asarray(vectors, dtype=np.float32) - self.mean) @ self.transform
        norms = np.linalg.norm(moved, axis=-1, keepdims=True)
        unit: np.ndarray = np.divide(moved, norms, out=np.zeros_like(moved), where=norms > 0).astype(np.float32)
        return unit

    def to_array(self) -> np.ndarray:
        return np.vstack([self.mean[None, :], self.transform]).astype(np.float32)

    @classmethod
    def from_array(cls, array: np.ndarray) -> SemanticSpace:
        return cls(mean=np.ascontiguousarray(array[0]), transform=np.ascontiguousarray(array[1:]))


def fit_semantic_space(
    vectors: np.ndarray, families: Sequence[Iterable[int]], regularisation: float = DEFAULT_REGULARISATION
) -> SemanticSpace:
    """WCCN from `vectors` (rows) and `families` (lists of row numbers of texts with one purpose)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    mean = vectors.mean(axis=0)
    deviations = []
    for members in families:
        rows = vectors[list(members)] - mean
        if len(rows) > 1:
            deviations.append(rows - rows.mean(axis=0))
    if not deviations:
        raise ValueError("fitting a space needs at least one family of two or more texts")
    d = np.vstack(deviations)
    values, directions = np.linalg.eigh(d.T @ d / len(d))
    values = np.clip(values, 0.0, None)
    scale = 1.0 / np.sqrt(values + regularisation * values.mean())
    return SemanticSpace(mean=mean.astype(np.float32), transform=(directions * scale).astype(np.float32))


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_semantic_space(space: SemanticSpace, path: Path = SPACE_FILE) -> str:
    """Write the space (deterministic `.npy` bytes) and return its SHA-256."""
    np.save(path, space.to_array(), allow_pickle=False)
    return file_digest(path)


def load_semantic_space(sha256: str, path: Path = SPACE_FILE) -> SemanticSpace:
    if not path.exists():
        raise SpaceFileError(f"{path} is missing; `python bench/train_matching.py` writes it")
    digest = file_digest(path)
    if digest != sha256:
        raise SpaceFileError(f"{path} has SHA-256 {digest}, the match model expects {sha256}")
    return SemanticSpace.from_array(np.load(path, allow_pickle=False))
