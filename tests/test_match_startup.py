"""A process start loads the match engine without a full rematch when suggestions are stored: the stored
pairs stay as they are and only a changed initiative is rematched (issue 12). Real SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio

from kennisbank.db import database
from kennisbank.initiatives import service
from kennisbank.initiatives.validation import parse_initiative
from kennisbank.matching.service import Matcher
from kennisbank.models import Initiative, MatchSuggestion
from tests.conftest import valid_initiative

MARKED = 0.0123  # a score no computation gives: it shows whether a stored pair was recomputed


def test_a_start_with_stored_suggestions_loads_the_engine_and_rematches_only_what_changed(settings):
    async def scenario() -> None:
        async with database(settings):
            await service.upsert_initiatives(
                [
                    parse_initiative(valid_initiative(external_id=f"{code}-START", province=code))
                    for code in ("NL-GE", "NL-UT", "NL-ZE")
                ]
            )
            await Matcher(None).rematch_all()
            stored = await MatchSuggestion.filter(current=True).order_by("id")
            assert len(stored) == 3
            await MatchSuggestion.all().update(score=MARKED)

            matcher = Matcher(None)  # a new process
            assert await matcher.ensure_prepared() is False  # loaded, no full rematch
            assert matcher.prepared
            assert {s.score for s in await MatchSuggestion.all()} == {MARKED}

            changed = await Initiative.get(external_id="NL-GE-START").prefetch_related("province", "themes")
            assert await matcher.rematch(changed) == 2
            scores = {(s.a_id, s.b_id): s.score for s in await MatchSuggestion.all()}
            others = [pair for pair in scores if changed.id not in pair]
            assert [scores[pair] for pair in others] == [MARKED]  # untouched
            assert all(score != MARKED for pair, score in scores.items() if changed.id in pair)

    asyncio.run(scenario())


def test_a_first_start_with_nothing_stored_matches_everything(settings):
    async def scenario() -> None:
        async with database(settings):
            await service.upsert_initiatives(
                [
                    parse_initiative(valid_initiative(external_id=f"{code}-FIRST", province=code))
                    for code in ("NL-GE", "NL-UT")
                ]
            )
            matcher = Matcher(None)
            assert await matcher.ensure_prepared() is True
            assert await MatchSuggestion.filter(current=True).count() == 1

    asyncio.run(scenario())
