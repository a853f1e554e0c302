"""The dashboard's numbers against a hand-computed fixture, the CSV downloads, and concepts that are never
counted outside their province."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from kennisbank.models import Collaboration, CollaborationEvent, Initiative, MatchSuggestion, Theme
from kennisbank.taxonomy import PROVINCES
from tests.conftest import Browser


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _fixture() -> None:
    async def initiative(
        code: str, province: str, kind: str, themes: list[str], budget: int, status: str = "gepubliceerd"
    ) -> Initiative:
        made = await Initiative.create(
            external_id=code,
            province_id=province,
            kind=kind,
            title=f"Initiatief {code}",
            summary="Samenvatting",
            phase="pilot",
            status=status,
            budget_eur=budget,
            published_at=at("2026-01-05") if status == "gepubliceerd" else None,
        )
        await made.themes.add(*await Theme.filter(slug__in=themes))
        return made

    ge1 = await initiative("GE1", "NL-GE", "living_lab", ["mobiliteit"], 100)
    ge2 = await initiative("GE2", "NL-GE", "best_practice", ["mobiliteit", "data-en-ai"], 200)
    li1 = await initiative("LI1", "NL-LI", "living_lab", ["mobiliteit"], 300)
    ut1 = await initiative("UT1", "NL-UT", "portfolio_project", ["wonen"], 1000, status="concept")

    async def match(a: Initiative, b: Initiative, created: str, status: str, decided: str | None) -> None:
        row = await MatchSuggestion.create(a_id=a.id, b_id=b.id, score=0.7, type="joint_procurement", status=status)
        await MatchSuggestion.filter(id=row.id).update(
            created_at=at(created), decided_at=at(decided) if decided else None
        )

    await match(ge1, li1, "2026-01-10", "geaccepteerd", "2026-01-20")  # 10 days to a decision
    await match(ge2, li1, "2026-01-15", "afgewezen", "2026-02-14")  # 30 days
    await match(ge2, ut1, "2026-02-01", "voorgesteld", None)

    async def collaboration(
        kind: str, stage: str, members: list[Initiative], created: str, moves: list[tuple[str, str]]
    ) -> None:
        row = await Collaboration.create(
            title=f"Samen {kind}", type=kind, stage=stage, created_at=at(created), stage_changed_at=at(created)
        )
        await row.initiatives.add(*members)
        for to_stage, when in moves:
            await CollaborationEvent.create(collaboration_id=row.id, at=at(when), kind="fase", to_stage=to_stage)

    await collaboration(
        "gezamenlijke_inkoop",
        "gestart",
        [ge1, li1, ut1],
        "2026-01-20",
        [("in_gesprek", "2026-01-25"), ("gestart", "2026-03-01")],
    )  # 5 days to talking
    await collaboration(
        "opschalen", "gestart", [ge2, li1], "2026-02-01", [("in_gesprek", "2026-02-04"), ("gestart", "2026-04-01")]
    )  # 3 days
    await collaboration("kennisuitwisseling", "voorgesteld", [ge1, li1], "2026-02-10", [])


def table(browser: Browser, slug: str, query: str = "") -> list[list[str]]:
    response = browser.get(f"/dashboard/{slug}.csv{query}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


@pytest.fixture
def loaded(anonymous: Browser) -> Browser:
    anonymous.run(_fixture)
    return anonymous


def test_every_number_matches_the_hand_computed_fixture(loaded):
    loaded.login_as("coordinator", None)
    page = loaded.get("/dashboard")
    assert page.status_code == 200 and page.text.count("Definitie:") == 7
    initiatives = {row[0]: row[1:] for row in table(loaded, "initiatieven")[1:]}
    assert initiatives["Gelderland"] == ["1", "1", "0", "2"]  # goed voorbeeld, living lab, portfolioproject, total
    assert initiatives["Limburg"] == ["0", "1", "0", "1"]
    assert initiatives["Utrecht"] == ["0", "0", "0", "0"]  # its concept is not counted for a coordinator
    heat = table(loaded, "provincie-thema")
    assert heat[0] == ["Provincie", "mobiliteit", "data en AI"]
    assert dict((row[0], row[1:]) for row in heat[1:])["Gelderland"] == ["2", "1"]
    assert table(loaded, "matches")[1:] == [
        ["2026-01", "2", "1", "0", "100%"],
        ["2026-02", "1", "0", "1", "0%"],
        ["Totaal", "3", "1", "1", "50%"],
    ]
    stages = {row[0]: row[1:] for row in table(loaded, "samenwerkingen")[1:]}
    assert stages["Gezamenlijke inkoop"] == ["0", "0", "0", "1", "0", "0", "1"]
    assert stages["Kennisuitwisseling"] == ["1", "0", "0", "0", "0", "0", "1"]
    assert table(loaded, "opgeschaald")[1:] == [["Samen opschalen", "Gelderland, Limburg", "2026-04-01"]]
    assert table(loaded, "gezamenlijke-inkoop")[1:] == [
        ["Samen gezamenlijke_inkoop", "Gelderland, Limburg, Utrecht", "400"],
        ["Totaal", "1 aanbestedingen", "400"],
    ]
    assert table(loaded, "doorlooptijd")[1:] == [
        ["Van voorstel tot beslissing", "20.0", "2"],
        ["Van acceptatie tot in gesprek", "4.0", "2"],
    ]


def test_a_decision_without_a_date_counts_as_suggested_and_in_no_month(loaded):
    """A decided match whose decided_at is empty (written outside the app, e.g. a restored old backup)
    must not break the match table: it was suggested, but its decision has no month."""

    async def undated() -> None:
        await MatchSuggestion.filter(status="geaccepteerd").update(decided_at=None)

    loaded.run(undated)
    loaded.login_as("coordinator", None)
    assert table(loaded, "matches")[1:] == [
        ["2026-01", "2", "0", "0", "–"],
        ["2026-02", "1", "0", "1", "0%"],
        ["Totaal", "3", "0", "1", "0%"],
    ]


def test_concepts_count_only_for_their_own_province(loaded):
    loaded.login_as("medewerker", "NL-UT")
    initiatives = {row[0]: row[1:] for row in table(loaded, "initiatieven")[1:]}
    assert initiatives["Utrecht"] == ["0", "0", "1", "1"]
    assert table(loaded, "gezamenlijke-inkoop")[-1] == ["Totaal", "1 aanbestedingen", "1400"]
    loaded.login_as("medewerker", "NL-GE")
    assert {row[0]: row[1:] for row in table(loaded, "initiatieven")[1:]}["Utrecht"] == ["0", "0", "0", "0"]
    assert table(loaded, "gezamenlijke-inkoop")[-1] == ["Totaal", "1 aanbestedingen", "400"]


def test_filters_narrow_the_figures_and_bad_ones_are_explained(loaded):
    loaded.login_as("coordinator", None)
    limburg = {row[0]: row[1:] for row in table(loaded, "initiatieven", "?province=Limburg")[1:]}
    assert limburg["Gelderland"] == ["0", "0", "0", "0"] and limburg["Limburg"] == ["0", "1", "0", "1"]
    assert table(loaded, "matches", "?year=2025")[1:] == [["Totaal", "0", "0", "0", "–"]]
    bad = loaded.get("/dashboard?year=twintig")
    assert bad.status_code == 400 and "Geef een jaartal" in bad.text
    assert loaded.get("/dashboard/bestaat-niet.csv").status_code == 404


def _svg(page: str, slug: str) -> str:
    start = page.index(f'aria-labelledby="grafiek-{slug}-titel')
    return page[page.rindex("<svg", 0, start) : page.index("</svg>", start)]


def test_the_charts_show_the_tables_numbers_as_text_with_a_title_and_description(loaded):
    loaded.login_as("coordinator", None)
    page = loaded.get("/dashboard").text
    heat = _svg(page, "provincie-thema")
    assert 'role="img"' in heat and "<title" in heat and "<desc" in heat
    cells = re.findall(r'<rect class="heat-(\d)"[^>]*></rect>\s*<text class="heat-text-\1"[^>]*>(\d+)</text>', heat)
    assert len(cells) == 12 * 2  # twelve provinces × the two themes with initiatives
    by_province = {p.name: cells[2 * i : 2 * i + 2] for i, p in enumerate(PROVINCES)}
    assert by_province["Gelderland"] == [("4", "2"), ("2", "1")]  # the largest count is the darkest shade
    assert by_province["Limburg"] == [("2", "1"), ("0", "0")]
    assert by_province["Utrecht"] == [("0", "0"), ("0", "0")]  # its concept is not counted for a coordinator
    matches = re.findall(r'<text class="chart-value"[^>]*>([^<]+)</text>', _svg(page, "matches"))
    assert matches == [
        "Voorgesteld: 2",
        "Geaccepteerd: 1",
        "Afgewezen: 0",
        "Voorgesteld: 1",
        "Geaccepteerd: 0",
        "Afgewezen: 1",
    ]
    stages = re.findall(r'<text class="chart-value"[^>]*>([^<]+)</text>', _svg(page, "samenwerkingen"))
    assert stages == [
        "Samenwerkingen: 1",
        "Samenwerkingen: 0",
        "Samenwerkingen: 0",
        "Samenwerkingen: 2",
        "Samenwerkingen: 0",
        "Samenwerkingen: 0",
    ]
    assert "style=" not in heat + _svg(page, "matches")  # the CSP allows no inline styles
