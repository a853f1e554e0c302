"""Keeping the search index in line with the database, which stays the source of truth.

Every saved initiative is re-indexed right after its transaction commits. If the process dies in
between, the initiative is safe in the database and ``kennisbank reindex`` (which compares content
hashes) repairs the index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from search import SearchDocument, SearchIndex, open_index

from .initiatives import as_input_dict
from .models import Initiative
from .settings import Settings


def open_search_index(settings: Settings) -> SearchIndex:
    return open_index(settings.data_dir, settings.meili_url or None, settings.meili_key or None)


def content_hash(initiative: Initiative) -> str:
    """A hash of everything the index holds about an initiative."""
    payload = json.dumps(as_input_dict(initiative), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def to_document(initiative: Initiative) -> SearchDocument:
    """The search index's view of an initiative (province and themes must be fetched)."""
    body = "\n\n".join(part for part in (initiative.description, initiative.results, initiative.lessons_learned) if part)
    return SearchDocument(
        id=initiative.id,
        external_id=initiative.external_id,
        province=initiative.province.code,
        province_name=initiative.province.name,
        kind=str(initiative.kind),  # type: ignore[arg-type]
        title=initiative.title,
        summary=initiative.summary,
        body=body,
        themes=tuple(sorted(t.name for t in initiative.themes)),
        phase=str(initiative.phase),  # type: ignore[arg-type]
        programme_line=str(initiative.programme_line) if initiative.programme_line else None,
        technologies=tuple(initiative.technologies),
        suppliers=tuple(initiative.suppliers),
        status=str(initiative.status),  # type: ignore[arg-type]
        year=initiative.start_date.year if initiative.start_date else None,
        updated_at=initiative.updated_at.astimezone(UTC) if initiative.updated_at else datetime.now(UTC),
        content_hash=content_hash(initiative),
    )


@dataclass(frozen=True)
class ReindexReport:
    indexed: int
    removed: int
    unchanged: int


BATCH = 500


async def reindex(index: SearchIndex, *, full: bool = False,
                  progress: Callable[[Iterable[int]], Iterable[int]] | None = None) -> ReindexReport:
    """Bring the index in line with the database: add missing or changed initiatives, drop extra ones."""
    if full:
        index.clear()
    indexed_hashes = index.hashes()
    ids = [row[0] for row in await Initiative.all().order_by("id").values_list("id")]
    stale_ids: list[int] = []
    unchanged = 0
    for batch in _batches(list(progress(ids) if progress else ids), BATCH):
        initiatives = await Initiative.filter(id__in=batch).prefetch_related("province", "themes")
        documents = [to_document(i) for i in initiatives]
        changed = [d for d in documents if indexed_hashes.get(d.id) != d.content_hash]
        unchanged += len(documents) - len(changed)
        stale_ids.extend(d.id for d in changed)
        if changed:
            index.upsert(changed)
    extra = set(indexed_hashes) - set(ids)
    if extra:
        index.delete(extra)
    return ReindexReport(indexed=len(stale_ids), removed=len(extra), unchanged=unchanged)


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
