"""Several processes match: the server's consumer, `kennisbank worker` and an import that waits for its
rows each keep their own engine. What one of them matched, the others take in before their next batch,
so a save there still pairs with it. Real SQLite file or PostgreSQL, a real index, two engines in one
test process standing for two processes."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.expressions import Q

from kennisbank import audit
from kennisbank.db import database
from kennisbank.initiatives import service
from kennisbank.initiatives.validation import parse_initiative
from kennisbank.matching import service as matching
from kennisbank.matching.service import Matcher
from kennisbank.models import Initiative, MatchSuggestion
from kennisbank.searching.indexing import open_search_index
from kennisbank.searching.job_consumer import JobConsumer
from tests.conftest import valid_initiative

UNRELATED = {"title": "Archiefbeheer van bouwvergunningen", "summary": "Oude vergunningen digitaal ontsloten."}


async def save(province: str, external_id: str, **changes: object) -> Initiative:
    data = valid_initiative(province=province, external_id=external_id, **changes)
    return await service.create_initiative(audit.SYSTEM, parse_initiative(data))


async def paired(a: int, b: int) -> bool:
    return await MatchSuggestion.filter(Q(a_id=a, b_id=b) | Q(a_id=b, b_id=a), current=True).exists()


def two_consumers(settings):
    index = open_search_index(settings)
    server = JobConsumer.from_settings(settings, None, index, Matcher(None))
    worker = JobConsumer.from_settings(settings, None, index, Matcher(None))
    return index, server, worker


def test_a_save_matched_by_one_process_pairs_with_an_initiative_another_process_matched(settings):
    async def scenario() -> None:
        async with database(settings):
            index, server, worker = two_consumers(settings)
            try:
                await save("NL-UT", "UT-1", **UNRELATED)
                assert await server.drain() == 1  # the server's engine: prepared with UT-1 only

                twin = await save("NL-GE", "GE-1")
                # Queued, not yet done by the worker: the server leaves it to its job.
                assert await server.matcher.catch_up() == 0
                assert await worker.drain() == 1  # the worker's engine matched it

                other = await save("NL-LI", "LI-1")
                assert await server.drain() == 1  # the server matches the twin from Limburg
                assert await paired(twin.id, other.id)
            finally:
                index.close()

    asyncio.run(scenario())


def test_many_initiatives_matched_elsewhere_load_the_engine_afresh(settings, monkeypatch):
    monkeypatch.setattr(matching, "CATCH_UP_RELOAD", 2)

    async def scenario() -> None:
        async with database(settings):
            index, server, worker = two_consumers(settings)
            try:
                await save("NL-UT", "UT-1", **UNRELATED)
                assert await server.drain() == 1
                engine_before = server.matcher.engine
                twins = [await save(p, f"{p}-1") for p in ("NL-GE", "NL-DR", "NL-FR")]
                assert await worker.drain() == 3  # an import, say, that waited for its rows

                assert await server.matcher.catch_up() == 3
                assert server.matcher.engine is not engine_before, "loaded afresh, not three rematches"
                assert await server.matcher.catch_up() == 0, "and nothing is taken in twice"
                other = await save("NL-LI", "LI-1")
                assert await server.drain() == 1
                for twin in twins:
                    assert await paired(twin.id, other.id)
            finally:
                index.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("status", ["gearchiveerd"])
def test_an_initiative_archived_elsewhere_leaves_this_engine(settings, status):
    async def scenario() -> None:
        async with database(settings):
            index, server, worker = two_consumers(settings)
            try:
                first = await save("NL-GE", "GE-1")
                await server.drain()
                archived = await save("NL-LI", "LI-1", status=status)
                assert await worker.drain() == 1
                assert await server.matcher.catch_up() == 1
                third = await save("NL-DR", "DR-1")
                assert await server.drain() == 1
                assert await paired(first.id, third.id)
                assert not await paired(archived.id, third.id)
            finally:
                index.close()

    asyncio.run(scenario())
