"""Example collaborations for `kennisbank seed`, so the board and the dashboard are alive after `make run`.

Seed data, like the example initiatives: written straight to the tables, with the seed (no user) on the
timeline, from the strongest suggested pairs of different provinces. Only when there are no
collaborations yet, so seeding again changes nothing."""

from __future__ import annotations

from datetime import timedelta

from tortoise import timezone
from tortoise.transactions import in_transaction

from ..models import Collaboration, CollaborationEvent, Initiative, MatchSuggestion
from ..taxonomy import COLLABORATION_TYPE_FOR_MATCH, CollaborationStage, CollaborationType, MatchStatus

S = CollaborationStage
#: (stages passed through, next action, days until it is due (negative: overdue), stop reason)
STORIES: tuple[tuple[tuple[CollaborationStage, ...], str, int, str], ...] = (
    ((S.IN_GESPREK, S.AFSPRAKEN_GEMAAKT, S.GESTART), "Gunning van de gezamenlijke aanbesteding", 30, ""),
    ((S.IN_GESPREK, S.AFSPRAKEN_GEMAAKT), "Samenwerkingsovereenkomst laten tekenen", -5, ""),
    ((S.IN_GESPREK,), "Eerste gesprek plannen met beide projectleiders", 7, ""),
    ((), "Kennismakingsmail versturen", 3, ""),
    ((S.IN_GESPREK, S.GESTOPT), "", 0, "Een van beide provincies heeft al een lopend contract."),
    ((S.IN_GESPREK, S.AFSPRAKEN_GEMAAKT, S.GESTART, S.AFGEROND), "", 0, ""),
)


async def seed_collaborations() -> int:
    """Create the example collaborations; returns how many (0 when there already are some)."""
    if await Collaboration.exists():
        return 0
    pairs = await MatchSuggestion.filter(current=True).order_by("-score", "id").prefetch_related("a", "b")
    used: set[int] = set()
    chosen: list[MatchSuggestion] = []
    for pair in pairs:
        if pair.a_id in used or pair.b_id in used:
            continue
        chosen.append(pair)
        used |= {pair.a_id, pair.b_id}
        if len(chosen) == len(STORIES):
            break
    now = timezone.now()
    async with in_transaction():
        for n, (match, (stages, action, due_in, reason)) in enumerate(zip(chosen, STORIES)):
            start = now - timedelta(days=120 - 15 * n)
            accepted_at = start
            await MatchSuggestion.filter(id=match.id).update(
                status=MatchStatus.GEACCEPTEERD, decided_at=accepted_at, note="Voorbeeld uit de seed."
            )
            kind = COLLABORATION_TYPE_FOR_MATCH.get(match.type, CollaborationType.KENNISUITWISSELING)
            members: list[Initiative] = [match.a, match.b]
            final = stages[-1] if stages else S.VOORGESTELD
            collaboration = await Collaboration.create(
                title=f"{match.a.title} & {match.b.title}"[:200],
                type=kind,
                stage=final,
                created_at=start,
                stage_changed_at=start + timedelta(days=10 * len(stages)),
                stop_reason=reason,
                next_action=action,
                next_action_due=(now + timedelta(days=due_in)).date() if action else None,
                version=1 + len(stages) + (1 if action else 0),
            )
            await collaboration.initiatives.add(*members)
            await collaboration.matches.add(match)
            await CollaborationEvent.create(
                collaboration_id=collaboration.id,
                at=start,
                kind="aangemaakt",
                to_stage=S.VOORGESTELD,
                text="Voorbeeld uit de seed.",
            )
            previous = S.VOORGESTELD
            for step, stage in enumerate(stages, start=1):
                await CollaborationEvent.create(
                    collaboration_id=collaboration.id,
                    at=start + timedelta(days=10 * step),
                    kind="fase",
                    from_stage=previous,
                    to_stage=stage,
                    text=reason if stage == S.GESTOPT else "",
                )
                previous = stage
            if action:
                await CollaborationEvent.create(
                    collaboration_id=collaboration.id,
                    kind="actie",
                    at=start + timedelta(days=10 * len(stages) + 1),
                    text=action,
                )
    return len(chosen)
