"""What a full rematch leaves in the database, row by row: suggestions refreshed, reviewed matches
keeping their decision, a rejected pair reopened only on a material change, proposals the engine no
longer makes withdrawn, new pairs added. The rows are compared with what each rule says they must be
(the engine's own values from a first rematch, and every other column as it was). Real SQLite or
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from kennisbank.db import database
from kennisbank.initiatives import service
from kennisbank.initiatives.validation import parse_initiative
from kennisbank.matching.service import Matcher, fingerprint
from kennisbank.models import Initiative, MatchEvent, MatchSuggestion
from kennisbank.taxonomy import MatchStatus
from tests.conftest import valid_initiative

MARKED = 0.0123  # a score no computation gives
REFRESHED = ("score", "type", "reasons", "features", "shared_terms")
ROAD_PROVINCES = ("NL-GE", "NL-UT", "NL-ZE", "NL-LI", "NL-FR")
DECIDED_AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


async def rows() -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in await MatchSuggestion.all().order_by("id").values()}


def test_a_full_rematch_refreshes_suggestions_keeps_decisions_and_withdraws_what_it_no_longer_suggests(settings):
    async def scenario() -> None:
        async with database(settings):
            await service.upsert_initiatives(
                [
                    parse_initiative(valid_initiative(external_id=f"{code}-ROAD", province=code))
                    for code in ROAD_PROVINCES
                ]
                + [
                    parse_initiative(
                        valid_initiative(
                            external_id="DR-FARM",
                            province="NL-DR",
                            kind="best_practice",
                            title="Herstel van rieten daken op monumentale boerderijen",
                            summary="Eigenaren van monumentale boerderijen krijgen subsidie voor nieuw riet op het dak.",
                            description="Een regeling voor erfgoed op het platteland.",
                            themes=["cultuur en erfgoed"],
                            programme_line=None,
                            phase="idee",
                            technologies=[],
                            suppliers=[],
                            links=[],
                        )
                    )
                ]
            )
            ids = {i.external_id: i.id for i in await Initiative.all()}
            first = await Matcher(None).rematch_all()
            engine = {(r["a_id"], r["b_id"]): r for r in (await rows()).values()}
            assert first.suggested == len(engine) == 10  # every pair of the five road initiatives
            farm = ids["DR-FARM"]
            assert all(farm not in pair for pair in engine)  # the premise: the farm matches none of them

            def pair(x: str, y: str) -> tuple[int, int]:
                return tuple(sorted((ids[f"{x}-ROAD"], ids[f"{y}-ROAD"])))  # type: ignore[return-value]

            async def row(x: str, y: str) -> MatchSuggestion:
                a, b = pair(x, y)
                return await MatchSuggestion.get(a_id=a, b_id=b).prefetch_related(
                    "a__province", "a__themes", "b__province", "b__themes"
                )

            accepted, rejected, reopened, held = (
                await row("NL-GE", "NL-UT"),
                await row("NL-GE", "NL-ZE"),
                await row("NL-GE", "NL-LI"),
                await row("NL-GE", "NL-FR"),
            )
            rescored, deleted = await row("NL-UT", "NL-ZE"), await row("NL-UT", "NL-LI")
            decision = dict(decided_at=DECIDED_AT, note="Besproken in het overleg")
            await MatchSuggestion.filter(id=accepted.id).update(
                status=MatchStatus.GEACCEPTEERD,
                score=MARKED,
                fingerprint_a=fingerprint(accepted.a),
                fingerprint_b=fingerprint(accepted.b),
                **decision,
            )
            await MatchSuggestion.filter(id=rejected.id).update(
                status=MatchStatus.AFGEWEZEN,
                current=False,
                score=MARKED,
                reasons=["oud"],
                fingerprint_a=fingerprint(rejected.a),
                fingerprint_b=fingerprint(rejected.b),
                **decision,
            )
            await MatchSuggestion.filter(id=reopened.id).update(
                status=MatchStatus.AFGEWEZEN,
                current=False,
                fingerprint_a="van voor de wijziging",
                fingerprint_b=fingerprint(reopened.b),
                **decision,
            )
            await MatchSuggestion.filter(id=held.id).update(status=MatchStatus.AANGEHOUDEN, current=False, **decision)
            await MatchSuggestion.filter(id=rescored.id).update(
                score=MARKED, type="knowledge_exchange", features={"semantic": 0.1}, shared_terms=[]
            )
            await MatchSuggestion.filter(id=deleted.id).delete()
            gone = await MatchSuggestion.create(a_id=ids["NL-GE-ROAD"], b_id=farm, score=0.5, type="scaling_up")
            kept_decision = await MatchSuggestion.create(
                a_id=ids["NL-UT-ROAD"], b_id=farm, score=0.5, type="scaling_up", status=MatchStatus.GEACCEPTEERD
            )
            withdrawn_before = await MatchSuggestion.create(
                a_id=ids["NL-ZE-ROAD"], b_id=farm, score=0.5, type="scaling_up", current=False
            )
            before = await rows()

            report = await Matcher(None).rematch_all()
            # suggested: the ten pairs but the one that stays rejected
            assert (report.suggested, report.reopened, report.withdrawn) == (9, 1, 1)
            after = await rows()

            def computed(row_id: int) -> dict[str, Any]:
                """The row as it was, with the engine's values of its pair."""
                old = before[row_id]
                return {**old, **{k: engine[(old["a_id"], old["b_id"])][k] for k in REFRESHED}}

            expected = {
                row_id: computed(row_id)
                for row_id in before
                if row_id not in {gone.id, kept_decision.id, withdrawn_before.id}
            }
            for row_id in expected:
                expected[row_id]["current"] = row_id != rejected.id
            expected[reopened.id]["status"] = MatchStatus.VOORGESTELD
            expected[gone.id] = {**before[gone.id], "current": False}
            expected[kept_decision.id] = before[kept_decision.id]
            expected[withdrawn_before.id] = before[withdrawn_before.id]
            [new_id] = set(after) - set(before)
            assert new_id > max(before)
            new = after.pop(new_id)
            assert (new["a_id"], new["b_id"]) == pair("NL-UT", "NL-LI")
            ignored = {"id", "created_at", "updated_at"}
            assert {k: v for k, v in new.items() if k not in ignored} == {
                k: v for k, v in engine[pair("NL-UT", "NL-LI")].items() if k not in ignored
            }
            assert after == expected
            assert after[accepted.id]["status"] == MatchStatus.GEACCEPTEERD and after[accepted.id]["score"] != MARKED
            assert after[held.id]["note"] == "Besproken in het overleg" and after[held.id]["current"] is True

            events = await MatchEvent.all().values("match_id", "user_id", "from_status", "to_status", "note")
            assert events == [
                {
                    "match_id": reopened.id,
                    "user_id": None,
                    "from_status": "afgewezen",
                    "to_status": "voorgesteld",
                    "note": "Opnieuw voorgesteld: een van beide initiatieven is inhoudelijk gewijzigd.",
                }
            ]

            # The same computation again changes nothing: no row, no history.
            again = await Matcher(None).rematch_all()
            assert (again.suggested, again.reopened, again.withdrawn) == (9, 0, 0)
            assert await rows() == {**after, new_id: new}
            assert await MatchEvent.all().count() == 1

    asyncio.run(scenario())


def test_rematching_one_initiative_withdraws_only_its_own_proposals_that_are_gone(settings):
    async def scenario() -> None:
        async with database(settings):
            await service.upsert_initiatives(
                [
                    parse_initiative(valid_initiative(external_id=f"{code}-ONE", province=code))
                    for code in ROAD_PROVINCES[:3]
                ]
            )
            ge, ut, ze = [await Initiative.get(external_id=f"{code}-ONE") for code in ROAD_PROVINCES[:3]]
            matcher = Matcher(None)
            await matcher.rematch_all()
            assert await MatchSuggestion.filter(current=True).count() == 3
            await MatchSuggestion.all().update(score=MARKED)
            await Initiative.filter(id=ge.id).update(status="concept")  # no longer published
            ge = await Initiative.get(id=ge.id).prefetch_related("province", "themes")
            assert await matcher.rematch(ge) == 0
            current = {(r.a_id, r.b_id): (r.current, r.score) for r in await MatchSuggestion.all()}
            assert current == {
                tuple(sorted((ge.id, ut.id))): (False, MARKED),
                tuple(sorted((ge.id, ze.id))): (False, MARKED),
                tuple(sorted((ut.id, ze.id))): (True, MARKED),  # not this initiative's: untouched
            }
            ut = await Initiative.get(id=ut.id).prefetch_related("province", "themes")
            assert await matcher.rematch(ut) == 1
            [kept] = await MatchSuggestion.filter(current=True)
            assert (kept.a_id, kept.b_id) == tuple(sorted((ut.id, ze.id))) and kept.score != MARKED

    asyncio.run(scenario())
