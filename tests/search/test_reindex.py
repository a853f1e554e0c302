"""`kennisbank.searching.indexing.reindex` on a real SQLite file and a real tantivy index: documents are written
in batches larger than the database reads, and every content hash ends up in the index."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kennisbank.db import database
from kennisbank.initiatives.importing import import_file
from kennisbank.models import Initiative
from kennisbank.searching import indexing
from kennisbank.settings import Settings
from search import SearchQuery
from search.tantivy_index import TantivyIndex
from tests.databases import database_url_for

SEED = Path(__file__).resolve().parents[2] / "seed" / "initiatives_other.jsonl"


async def _reindex_twice_and_after_an_edit(data_dir: Path) -> dict:
    settings = Settings(data_dir=data_dir, database_url=database_url_for(data_dir), embedding_model="none")
    async with database(settings):
        await import_file(SEED)
        index = TantivyIndex(data_dir / "index")
        first = await indexing.reindex(index)
        initiatives = await Initiative.all().prefetch_related("province", "themes")
        expected = {i.id: indexing.content_hash(i) for i in initiatives}
        hashes_after_first = index.hashes()
        second = await indexing.reindex(index)
        edited = initiatives[0]
        edited.title = "Kwelderherstel met slibvangers"
        await edited.save()
        third = await indexing.reindex(index)
        found = [hit.id for hit in index.search(SearchQuery(text="kwelderherstel")).hits]
        return {
            "first": first,
            "second": second,
            "third": third,
            "expected": expected,
            "hashes": hashes_after_first,
            "edited": edited.id,
            "found": found,
        }


def test_reindex_writes_every_initiative_in_batches_and_then_only_what_changed(tmp_path, monkeypatch):
    monkeypatch.setattr(indexing, "BATCH", 7)  # database reads
    monkeypatch.setattr(indexing, "UPSERT_BATCH", 20)  # index writes: several, plus a remainder
    found = asyncio.run(_reindex_twice_and_after_an_edit(tmp_path / "data"))
    count = len(found["expected"])
    assert count > 40 and count % 20
    assert (found["first"].indexed, found["first"].unchanged) == (count, 0)
    assert found["hashes"] == found["expected"]
    assert (found["second"].indexed, found["second"].unchanged) == (0, count)
    assert (found["third"].indexed, found["third"].unchanged) == (1, count - 1)
    assert found["found"] == [found["edited"]]
