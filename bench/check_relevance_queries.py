"""Validate bench/relevance_queries.json against the seed initiatives.

    python3 bench/check_relevance_queries.py [--queries PATH] [--seed-dir DIR]

Checks that every relevant item exists in the seed (identified by province ISO
code + external_id; seed rows that spell the province as a Dutch name are
normalised), that query ids are unique, categories valid, grades 1 or 2, every
query has a grade-2 item, and that the per-category minimums are met. Prints a
summary and exits non-zero on any error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CATEGORIES: tuple[str, ...] = ("exact", "plural_compound", "typo", "synonym", "english", "paraphrase")
MIN_QUERIES = 48
MIN_PER_CATEGORY = 7
MAX_WORDS_SOFT = 6
SEED_FILES: tuple[str, ...] = ("initiatives_families.jsonl", "initiatives_other.jsonl")
PROVINCE_NAMES: dict[str, str] = {
    "groningen": "NL-GR",
    "fryslân": "NL-FR",
    "friesland": "NL-FR",
    "drenthe": "NL-DR",
    "overijssel": "NL-OV",
    "flevoland": "NL-FL",
    "gelderland": "NL-GE",
    "utrecht": "NL-UT",
    "noord-holland": "NL-NH",
    "zuid-holland": "NL-ZH",
    "zeeland": "NL-ZE",
    "noord-brabant": "NL-NB",
    "limburg": "NL-LI",
}
PROVINCE_CODES: frozenset[str] = frozenset(PROVINCE_NAMES.values())
ID_PATTERN = re.compile(r"^q\d{2,}$")

Key = tuple[str, str]


@dataclass(frozen=True)
class SeedItem:
    province: str
    external_id: str
    title: str
    status: str


def normalise_province(raw: str) -> str | None:
    value = raw.strip()
    if value.upper() in PROVINCE_CODES:
        return value.upper()
    return PROVINCE_NAMES.get(value.lower())


def load_seed(seed_dir: Path, errors: list[str]) -> dict[Key, SeedItem]:
    items: dict[Key, SeedItem] = {}
    for name in SEED_FILES:
        path = seed_dir / name
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row: dict[str, Any] = json.loads(line)
            province = normalise_province(str(row.get("province", "")))
            if province is None:
                errors.append(f"{name}:{lineno}: unknown province {row.get('province')!r}")
                continue
            key = (province, str(row["external_id"]))
            if key in items:
                errors.append(f"{name}:{lineno}: duplicate seed item {key}")
            items[key] = SeedItem(province, key[1], str(row.get("title", "")), str(row.get("status", "")))
    return items


def check_query(
    index: int, query: Any, seed: dict[Key, SeedItem], seen_ids: set[str], seen_texts: set[str]
) -> tuple[list[str], list[str]]:
    """Return (errors, warnings) for one query object."""
    errors: list[str] = []
    warnings: list[str] = []
    if not isinstance(query, dict):
        return [f"queries[{index}]: not an object"], warnings
    qid = query.get("id")
    where = f"{qid or f'queries[{index}]'}"
    if not isinstance(qid, str) or not ID_PATTERN.match(qid):
        errors.append(f"{where}: id must look like 'q01'")
    elif qid in seen_ids:
        errors.append(f"{where}: duplicate id")
    else:
        seen_ids.add(qid)

    text = query.get("query")
    if not isinstance(text, str) or not text.strip():
        errors.append(f"{where}: empty query text")
    else:
        folded = " ".join(text.lower().split())
        if folded in seen_texts:
            errors.append(f"{where}: duplicate query text {text!r}")
        seen_texts.add(folded)
        if len(text.split()) > MAX_WORDS_SOFT:
            warnings.append(f"{where}: {len(text.split())} words (> {MAX_WORDS_SOFT}): {text!r}")

    if query.get("category") not in CATEGORIES:
        errors.append(f"{where}: invalid category {query.get('category')!r}")
    note = query.get("note")
    if not isinstance(note, str) or not note.strip():
        errors.append(f"{where}: missing note")
    extra = set(query) - {"id", "query", "category", "relevant", "note"}
    if extra:
        warnings.append(f"{where}: unexpected keys {sorted(extra)}")

    relevant = query.get("relevant")
    if not isinstance(relevant, list) or not relevant:
        errors.append(f"{where}: relevant must be a non-empty list")
        return errors, warnings
    keys: set[Key] = set()
    grades: list[int] = []
    for item in relevant:
        if not isinstance(item, dict):
            errors.append(f"{where}: relevant item is not an object")
            continue
        province, external_id, grade = item.get("province"), item.get("external_id"), item.get("grade")
        if province not in PROVINCE_CODES:
            errors.append(f"{where}: province must be an ISO code, got {province!r}")
        if grade not in (1, 2) or isinstance(grade, bool):
            errors.append(f"{where}: grade must be 1 or 2, got {grade!r}")
        else:
            grades.append(grade)
        key = (str(province), str(external_id))
        if key in keys:
            errors.append(f"{where}: {key} listed twice")
        keys.add(key)
        if key not in seed:
            errors.append(f"{where}: {key} not found in seed")
    if 2 not in grades:
        errors.append(f"{where}: needs at least one grade-2 item")
    return errors, warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=Path, default=REPO / "bench" / "relevance_queries.json")
    parser.add_argument("--seed-dir", type=Path, default=REPO / "seed")
    args = parser.parse_args(argv)

    errors: list[str] = []
    warnings: list[str] = []
    seed = load_seed(args.seed_dir, errors)
    data: Any = json.loads(args.queries.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("version") != 1:
        errors.append("top level must be an object with version 1")
    queries: Any = data.get("queries") if isinstance(data, dict) else None
    if not isinstance(queries, list):
        errors.append("'queries' must be a list")
        queries = []

    seen_ids: set[str] = set()
    seen_texts: set[str] = set()
    for index, query in enumerate(queries):
        q_errors, q_warnings = check_query(index, query, seed, seen_ids, seen_texts)
        errors += q_errors
        warnings += q_warnings

    valid = [q for q in queries if isinstance(q, dict)]
    per_category = Counter(str(q.get("category")) for q in valid)
    if len(valid) < MIN_QUERIES:
        errors.append(f"only {len(valid)} queries (need >= {MIN_QUERIES})")
    for category in CATEGORIES:
        if per_category[category] < MIN_PER_CATEGORY:
            errors.append(f"category {category}: {per_category[category]} queries (need >= {MIN_PER_CATEGORY})")

    judged: list[tuple[Key, int]] = [
        ((str(r.get("province")), str(r.get("external_id"))), int(r.get("grade", 0)))
        for q in valid
        for r in q.get("relevant") or []
        if isinstance(r, dict)
    ]
    covered = {key for key, _ in judged if key in seed}
    archived = {key for key in covered if seed[key].status == "gearchiveerd"}
    grade_counts = Counter(grade for _, grade in judged)

    print(f"{args.queries.relative_to(REPO) if args.queries.is_relative_to(REPO) else args.queries}")
    print(
        f"seed items: {len(seed)}  queries: {len(valid)}  judgements: {len(judged)} "
        f"(grade 2: {grade_counts[2]}, grade 1: {grade_counts[1]})"
    )
    print(f"distinct initiatives judged relevant: {len(covered)}/{len(seed)}  (archived among them: {len(archived)})")
    print(f"{'category':<16}{'queries':>8}{'avg rel':>9}{'avg g2':>8}")
    for category in CATEGORIES:
        rows = [q for q in valid if q.get("category") == category]
        n_rel = [len(q.get("relevant") or []) for q in rows]
        n_g2 = [sum(1 for r in q.get("relevant") or [] if isinstance(r, dict) and r.get("grade") == 2) for q in rows]
        avg_rel = sum(n_rel) / len(rows) if rows else 0.0
        avg_g2 = sum(n_g2) / len(rows) if rows else 0.0
        print(f"{category:<16}{len(rows):>8}{avg_rel:>9.1f}{avg_g2:>8.1f}")
    for warning in warnings:
        print(f"WARNING {warning}")
    for error in errors:
        print(f"ERROR {error}", file=sys.stderr)
    print("FAIL" if errors else "OK")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
