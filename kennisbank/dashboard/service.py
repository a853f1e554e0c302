"""The IDA dashboard: what the platform achieved, as tables, each with its definition.

Every figure is a `Figure` (a title, the definition shown on the page, column headings and rows),
so the page and its CSV downloads give the same numbers; three figures also carry a chart of those
numbers (kennisbank/dashboard/charts.py). Concept initiatives are counted only for
medewerkers of their own province, never for anyone else (not even coordinators): a concept is
not yet shared outside its province.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.expressions import Q

from .. import permissions
from ..audit import csv_safe
from ..models import Collaboration, CollaborationEvent, Initiative, MatchSuggestion, User
from ..taxonomy import (
    COLLABORATION_STAGE_LABELS,
    COLLABORATION_TYPE_LABELS,
    KIND_LABELS,
    PROVINCES,
    THEMES,
    CollaborationStage,
    CollaborationType,
    Kind,
    MatchStatus,
    Status,
)
from . import charts

REACHED = (CollaborationStage.GESTART, CollaborationStage.AFGEROND)


@dataclass(frozen=True)
class DashboardFilters:
    year: int | None = None
    province: str | None = None  # ISO code
    theme: str | None = None  # slug


@dataclass(frozen=True)
class Figure:
    slug: str
    title: str
    definition: str
    headers: list[str]
    rows: list[list[object]] = field(default_factory=list)
    chart: charts.BarChart | charts.Heatmap | None = None


def _counted_initiatives(viewer: User | None) -> Q:
    """Published initiatives, and the viewer's own province's concepts for a medewerker."""
    own = permissions.own_province(viewer)
    visible = Q(status=Status.GEPUBLICEERD)
    return visible | Q(status=Status.CONCEPT, province_id=own) if own else visible


def _in_year(moment: datetime | None, year: int | None) -> bool:
    return year is None or (moment is not None and moment.year == year)


async def _initiatives(viewer: User | None, filters: DashboardFilters) -> list[Initiative]:
    query = Initiative.filter(_counted_initiatives(viewer))
    if filters.province:
        query = query.filter(province_id=filters.province)
    if filters.theme:
        query = query.filter(themes__slug=filters.theme)
    rows = await query.distinct().prefetch_related("themes")
    return [i for i in rows if _in_year(i.published_at or i.created_at, filters.year)]


def _months(moments: list[datetime | None]) -> Counter[str]:
    """Count per month; a moment that was never recorded (a decision without ``decided_at``) counts in none."""
    return Counter(f"{m.year}-{m.month:02d}" for m in moments if m is not None)


def _median_days(spans: list[float]) -> str:
    return f"{statistics.median(spans):.1f}" if spans else "–"


async def compute(viewer: User | None, filters: DashboardFilters) -> list[Figure]:
    initiatives = await _initiatives(viewer, filters)
    counted = {i.id: i for i in initiatives}
    names = {p.code: p.name for p in PROVINCES}

    per_kind = Counter((i.province_id, str(i.kind)) for i in initiatives)
    kinds = list(Kind)
    figures = [
        Figure(
            "initiatieven",
            "Initiatieven per provincie en soort",
            "Gepubliceerde initiatieven (en, voor medewerkers, de concepten van hun eigen provincie), geteld naar "
            "provincie en soort. Jaar: het jaar van eerste publicatie.",
            ["Provincie", *(KIND_LABELS[k] for k in kinds), "Totaal"],
            [
                [
                    names[p.code],
                    *(per_kind[(p.code, k.value)] for k in kinds),
                    sum(per_kind[(p.code, k.value)] for k in kinds),
                ]
                for p in PROVINCES
            ],
        )
    ]

    per_theme = Counter((i.province_id, t.slug) for i in initiatives for t in i.themes)
    themes = [t for t in THEMES if any(per_theme[(p.code, t.slug)] for p in PROVINCES)]
    figures.append(
        Figure(
            "provincie-thema",
            "Provincie × thema",
            "Hoeveel initiatieven elke provincie per thema heeft (een initiatief met twee thema's telt bij beide). "
            "Alleen thema's met minstens één initiatief.",
            ["Provincie", *(t.name for t in themes)],
            [[names[p.code], *(per_theme[(p.code, t.slug)] for t in themes)] for p in PROVINCES],
            charts.heatmap(
                "Heatmap: initiatieven per provincie en thema",
                "Een rij per provincie, een kolom per thema; elk vak noemt het aantal, hoe donkerder hoe meer.",
                [names[p.code] for p in PROVINCES],
                [t.name for t in themes],
                [[per_theme[(p.code, t.slug)] for t in themes] for p in PROVINCES],
            ),
        )
    )

    matches = [
        m
        for m in await MatchSuggestion.all()
        if m.a_id in counted or m.b_id in counted or not (filters.province or filters.theme)
    ]
    suggested = _months([m.created_at for m in matches if _in_year(m.created_at, filters.year)])
    accepted = _months(
        [m.decided_at for m in matches if m.status == MatchStatus.GEACCEPTEERD and _in_year(m.decided_at, filters.year)]
    )
    rejected = _months(
        [m.decided_at for m in matches if m.status == MatchStatus.AFGEWEZEN and _in_year(m.decided_at, filters.year)]
    )
    months = sorted(set(suggested) | set(accepted) | set(rejected))

    def rate(a: int, r: int) -> str:
        return f"{100 * a / (a + r):.0f}%" if a + r else "–"

    figures.append(
        Figure(
            "matches",
            "Matches per maand",
            "Voorgesteld: matches die in die maand voor het eerst werden voorgesteld. Geaccepteerd en afgewezen: de "
            "huidige beslissing, in de maand waarin die viel. Acceptatiegraad: geaccepteerd gedeeld door geaccepteerd "
            "plus afgewezen.",
            ["Maand", "Voorgesteld", "Geaccepteerd", "Afgewezen", "Acceptatiegraad"],
            [
                [month, suggested[month], accepted[month], rejected[month], rate(accepted[month], rejected[month])]
                for month in months
            ]
            + [
                [
                    "Totaal",
                    sum(suggested.values()),
                    sum(accepted.values()),
                    sum(rejected.values()),
                    rate(sum(accepted.values()), sum(rejected.values())),
                ]
            ],
            charts.bar_chart(
                "Staafdiagram: matches per maand",
                "Per maand drie staven: voorgesteld, geaccepteerd en afgewezen, elk met het aantal.",
                [
                    (
                        month,
                        [
                            ("Voorgesteld", suggested[month], "tone-suggested"),
                            ("Geaccepteerd", accepted[month], "tone-accepted"),
                            ("Afgewezen", rejected[month], "tone-rejected"),
                        ],
                    )
                    for month in months
                ],
            ),
        )
    )

    collaborations = await _collaborations(filters, set(counted))
    stages, types = list(CollaborationStage), list(CollaborationType)
    per_stage = Counter((str(c.type), str(c.stage)) for c in collaborations)
    figures.append(
        Figure(
            "samenwerkingen",
            "Samenwerkingen per fase en soort",
            "Samenwerkingen naar hun huidige fase. Jaar: het jaar waarin de samenwerking startte.",
            ["Soort", *(COLLABORATION_STAGE_LABELS[s] for s in stages), "Totaal"],
            [
                [
                    COLLABORATION_TYPE_LABELS[t],
                    *(per_stage[(t.value, s.value)] for s in stages),
                    sum(per_stage[(t.value, s.value)] for s in stages),
                ]
                for t in types
            ],
            charts.bar_chart(
                "Staafdiagram: samenwerkingen per fase",
                "Een staaf per fase met het aantal samenwerkingen (alle soorten samen).",
                [
                    (
                        COLLABORATION_STAGE_LABELS[s],
                        [("Samenwerkingen", sum(per_stage[(t.value, s.value)] for t in types), "tone-stage")],
                    )
                    for s in stages
                ],
            )
            if collaborations
            else None,
        )
    )

    reached = await _reached_started(collaborations)
    scaled = [c for c in collaborations if c.type == CollaborationType.OPSCHALEN and c.id in reached]
    figures.append(
        Figure(
            "opgeschaald",
            "Opgeschaalde initiatieven",
            "Samenwerkingen van de soort opschalen die de fase “gezamenlijke aanbesteding of opschaling gestart” "
            "bereikten: een initiatief uit de ene provincie wordt overgenomen door een of meer andere.",
            ["Samenwerking", "Provincies", "Gestart op"],
            [
                [
                    c.title,
                    ", ".join(sorted({names[i.province_id] for i in c.initiatives})),
                    reached[c.id].date().isoformat(),
                ]
                for c in scaled
            ],
        )
    )

    joint = [c for c in collaborations if c.type == CollaborationType.GEZAMENLIJKE_INKOOP and c.id in reached]

    def budget(c: Collaboration) -> int:
        return sum(i.budget_eur or 0 for i in c.initiatives if i.id in counted or i.status == Status.GEPUBLICEERD)

    figures.append(
        Figure(
            "gezamenlijke-inkoop",
            "Gezamenlijke inkoop",
            "Samenwerkingen van de soort gezamenlijke inkoop die de fase “gezamenlijke aanbesteding of opschaling "
            "gestart” bereikten, met het opgetelde budget van de betrokken initiatieven (in euro; concepten van "
            "andere provincies tellen niet mee).",
            ["Samenwerking", "Provincies", "Budget (€)"],
            [[c.title, ", ".join(sorted({names[i.province_id] for i in c.initiatives})), budget(c)] for c in joint]
            + [["Totaal", f"{len(joint)} aanbestedingen", sum(budget(c) for c in joint)]],
        )
    )

    decided = [
        (m.decided_at - m.created_at).total_seconds() / 86400
        for m in matches
        if m.decided_at
        and m.status in (MatchStatus.GEACCEPTEERD, MatchStatus.AFGEWEZEN)
        and _in_year(m.decided_at, filters.year)
    ]
    talking = await _days_to_talking(collaborations)
    figures.append(
        Figure(
            "doorlooptijd",
            "Doorlooptijden (mediaan, in dagen)",
            "Van voorstel tot beslissing: van het eerste voorstel van een match tot de huidige acceptatie of afwijzing. "
            "Van acceptatie tot in gesprek: van de start van een samenwerking tot zij voor het eerst “in gesprek” was.",
            ["Doorlooptijd", "Mediaan (dagen)", "Aantal"],
            [
                ["Van voorstel tot beslissing", _median_days(decided), len(decided)],
                ["Van acceptatie tot in gesprek", _median_days(talking), len(talking)],
            ],
        )
    )
    return figures


async def _collaborations(filters: DashboardFilters, counted: set[int]) -> list[Collaboration]:
    rows = await Collaboration.all().prefetch_related("initiatives")
    found = []
    for row in rows:
        if not _in_year(row.created_at, filters.year):
            continue
        if (filters.province or filters.theme) and not any(i.id in counted for i in row.initiatives):
            continue
        found.append(row)
    return found


async def _reached_started(collaborations: list[Collaboration]) -> dict[int, datetime]:
    """When each collaboration first reached "gestart" (or "afgerond" without it), by id."""
    ids = [c.id for c in collaborations]
    events = await CollaborationEvent.filter(
        collaboration_id__in=ids or [0], kind="fase", to_stage__in=[s.value for s in REACHED]
    ).order_by("at", "id")
    first: dict[int, datetime] = {}
    for event in events:
        first.setdefault(event.collaboration_id, event.at)
    return first


async def _days_to_talking(collaborations: list[Collaboration]) -> list[float]:
    by_id = {c.id: c for c in collaborations}
    events = await CollaborationEvent.filter(
        collaboration_id__in=list(by_id) or [0], kind="fase", to_stage=CollaborationStage.IN_GESPREK
    ).order_by("at", "id")
    first: dict[int, datetime] = {}
    for event in events:
        first.setdefault(event.collaboration_id, event.at)
    return [(at - by_id[cid].created_at).total_seconds() / 86400 for cid, at in first.items()]


def as_csv(figure: Figure) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(figure.headers)
    for row in figure.rows:
        writer.writerow([csv_safe(value) if isinstance(value, str) else value for value in row])
    return out.getvalue()
