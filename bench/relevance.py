"""Dutch relevance benchmark: labelled queries on the seed data, MRR and recall@10 per category.

    python bench/relevance.py [--queries bench/relevance_queries.json] [--json]

Loads the seed into a throw-away database and index exactly as the platform does (import, then
reindex) and runs every labelled query through the same search code as the web page. Archived
initiatives are searched too, because some labels point at them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kennisbank.db import database  # noqa: E402
from kennisbank.importing import import_file  # noqa: E402
from kennisbank.indexing import open_search_index, reindex  # noqa: E402
from kennisbank.models import Initiative  # noqa: E402
from kennisbank.settings import Settings  # noqa: E402
from search import SearchQuery  # noqa: E402

ALL_STATUSES = ("concept", "gepubliceerd", "gearchiveerd")
K = 10


async def evaluate(queries_path: Path) -> dict:
    labelled = json.loads(queries_path.read_text(encoding="utf-8"))["queries"]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        async with database(settings):
            for path in sorted((REPO / "seed").glob("*.jsonl")):
                await import_file(path)
            index = open_search_index(settings)
            await reindex(index)
            ids = {(p, e): i for i, p, e in await Initiative.all().values_list("id", "province_id", "external_id")}
            rows = []
            for item in labelled:
                relevant = {ids[(r["province"], r["external_id"])]: r["grade"] for r in item["relevant"]}
                result = index.search(SearchQuery(text=item["query"], filters={"status": ALL_STATUSES}, per_page=K))
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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(evaluate(args.queries))
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
