"""Latency benchmark of the embedded backend on a synthetic Dutch corpus.

    python bench/search_latency.py --docs 20000 --dims 384 [--fusion rrf|score]

Builds a throw-away index, then times typical queries (p50/p95 over many
runs). The corpus is random but Dutch-shaped (compounds, plurals, themes),
so term statistics are realistic enough for latency, not for relevance.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from search.documents import SearchDocument, SearchQuery
from search.tantivy_index import TantivyIndex

WORDS = """
    provincie gemeente inwoners samenwerking kennis data datalab datalabs analyse model modellen
    stikstof stikstofdepositie natuur landbouw boeren uitstoot weg wegen fietspad fietspaden
    verkeer mobiliteit openbaar vervoer energie zonnepanelen warmtenet waterstof water dijken
    klimaatadaptatie biodiversiteit woningbouw wonen ruimte planning dashboard sensoren meetnet
    pilot project projecten aanpak resultaten lessen beleid uitvoering subsidie aanvragen
    digitale tweeling kunstmatige intelligentie algoritme privacy archief documenten Woo drones
    inspectie onderhoud asfalt bruggen sluizen recreatie toerisme erfgoed cultuur onderwijs
    arbeidsmarkt innovatie bedrijven mkb regio netwerk platform portaal
""".split()
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
    """Zipf-distributed words: pseudo-words plus the domain words at mid ranks."""
    words = list(dict.fromkeys("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(size)))
    for word in WORDS:
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
    """The baseline: scan every document for every query word (what a LIKE query would do)."""
    words = query.lower().split()
    scored = [(sum(text.count(w) for w in words), i) for i, text in enumerate(texts)
              if all(w in text for w in words)]
    return [i for _, i in sorted(scored, reverse=True)[:limit]]


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--fusion", default="rrf")
    args = parser.parse_args()

    docs = corpus(args.docs, args.dims)
    with tempfile.TemporaryDirectory() as tmp:
        index = TantivyIndex(Path(tmp), fusion=args.fusion)
        started = time.perf_counter()
        for first in range(0, len(docs), 5000):
            index.upsert(docs[first : first + 5000])
        print(f"indexed {len(docs)} docs in {time.perf_counter() - started:.1f}s")
        vector = docs[0].vector
        cases = {f"keyword {q!r}": SearchQuery(text=q) for q in QUERIES} | {
            "keyword + facets": SearchQuery(text="stikstof", facets=("province", "kind", "theme", "year")),
            "keyword + filter": SearchQuery(text="datalabs", filters={"province": ["NL-GE", "NL-UT"]}),
            "browse by date": SearchQuery(sort="date"),
            "hybrid 0.5": SearchQuery(text="fietspaden provincie", vector=vector, semantic_ratio=0.5),
            "hybrid + filter + facets": SearchQuery(
                text="stikstof",
                vector=vector,
                semantic_ratio=0.5,
                filters={"kind": ["living_lab"]},
                facets=("province",),
            ),
        }
        texts = [f"{d.title} {d.summary} {d.body}".lower() for d in docs]
        print("ratio = p95 of a naive scan over all documents / p95 of the index, in this same run")
        for name, query in cases.items():
            p50, p95 = timed(lambda query=query: index.search(query), args.runs)
            line = f"{name:32s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  total={index.search(query).total}"
            if name.startswith("keyword '"):
                _, base95 = timed(lambda q=query.text: naive_search(texts, q), max(10, args.runs // 20))
                line += f"  naive p95 {base95:7.2f} ms  ratio {base95 / p95:5.1f}x"
            print(line)
        p50, p95 = timed(lambda: index.similar(vector, limit=10), args.runs)
        print(f"{'similar (top 10)':32s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
        p50, _ = timed(index.hashes, 3)
        print(f"{'hashes()':32s} p50 {p50:6.1f} ms")


if __name__ == "__main__":
    main()
