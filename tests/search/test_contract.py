"""The behaviour every SearchIndex backend must show, on a small Dutch corpus.

Vectors are hand-made 8-dimensional topic mixes so no model is needed:
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

import pytest

from search.documents import SearchDocument, SearchQuery

# Topic axes of the test vectors.
DATA, MOBILITY, NITROGEN, ENERGY, WATER, NATURE, GOVERNANCE, HOUSING = range(8)

PROVINCES = {
    "NL-GE": "Gelderland",
    "NL-OV": "Overijssel",
    "NL-UT": "Utrecht",
    "NL-NB": "Noord-Brabant",
    "NL-FR": "Fryslân",
    "NL-LI": "Limburg",
    "NL-ZH": "Zuid-Holland",
    "NL-NH": "Noord-Holland",
    "NL-DR": "Drenthe",
    "NL-ZE": "Zeeland",
    "NL-GR": "Groningen",
    "NL-FL": "Flevoland",
}

BASE_TIME = datetime(2024, 3, 1, tzinfo=UTC)


def topic(**weights: float) -> tuple[float, ...]:
    axes = ["data", "mobility", "nitrogen", "energy", "water", "nature", "governance", "housing"]
    return tuple(float(weights.get(a, 0.0)) for a in axes)


def doc(
    id: int,
    province: str,
    kind: str,
    title: str,
    summary: str,
    body: str,
    themes: tuple[str, ...],
    phase: str,
    year: int | None,
    vector: tuple[float, ...] | None,
    status: str = "gepubliceerd",
    programme_line: str | None = None,
) -> SearchDocument:
    return SearchDocument(
        id=id,
        external_id=f"KB-{id:04d}",
        province=province,
        province_name=PROVINCES[province],
        kind=kind,  # type: ignore[arg-type]
        title=title,
        summary=summary,
        body=body,
        themes=themes,
        phase=phase,  # type: ignore[arg-type]
        programme_line=programme_line,
        technologies=(),
        suppliers=(),
        status=status,  # type: ignore[arg-type]
        year=year,
        # ids are not in date order: (id * 37) mod 101 hours is unique for ids < 101
        updated_at=BASE_TIME + timedelta(hours=(id * 37) % 101),
        content_hash=f"hash-{id}-v1",
        vector=vector,
    )


CORPUS = [
    doc(
        1,
        "NL-GE",
        "living_lab",
        "Provinciaal datalab voor open data",
        "Een datalab waar analisten en beleidsmakers samen aan vraagstukken werken.",
        "## Aanpak\n\nHet **datalab** koppelt bronnen van de provincie en gemeenten. "
        "Lessen: begin klein en betrek de privacy officer vroeg.",
        ("data en AI",),
        "pilot",
        2021,
        topic(data=1.0, governance=0.3),
        programme_line="Digitale overheid",
    ),
    doc(
        2,
        "NL-OV",
        "best_practice",
        "Netwerk van regionale datalabs",
        "Vijf datalabs delen kennis, code en modellen.",
        "De regionale datalabs werken met een gezamenlijke [catalogus](https://example.org/catalogus).",
        ("data en AI",),
        "implementatie",
        2022,
        topic(data=0.9, governance=0.4),
    ),
    doc(
        3,
        "NL-GE",
        "portfolio_project",
        "Onderhoud provinciale weg N348",
        "Slim onderhoud van een drukke provinciale weg.",
        "Trillingsmeters langs de weg voorspellen wanneer het asfalt aan vervanging toe is.",
        ("mobiliteit",),
        "implementatie",
        2020,
        topic(mobility=0.9, data=0.3),
    ),
    doc(
        4,
        "NL-UT",
        "best_practice",
        "Veilig fietspad langs het kanaal",
        "Een verlicht fietspad dat 's nachts dimt als er niemand is.",
        "Het fietspad is aangelegd met gerecycled beton.",
        ("mobiliteit",),
        "opgeschaald",
        2019,
        topic(mobility=1.0, energy=0.2),
    ),
    doc(
        5,
        "NL-NB",
        "portfolio_project",
        "Snelle fietspaden tussen kernen",
        "Brede fietspaden verbinden dorpen met de stad.",
        "Samen met gemeenten zijn twintig kilometer fietspaden ontworpen.",
        ("mobiliteit",),
        "verkenning",
        2023,
        topic(mobility=0.95, housing=0.2),
    ),
    doc(
        6,
        "NL-GE",
        "living_lab",
        "Meetnet depositie op de Veluwe",
        "Sensoren meten de stikstofdepositie in kwetsbare natuur.",
        "De metingen van stikstofdepositie worden wekelijks gepubliceerd.",
        ("natuur",),
        "pilot",
        2022,
        topic(nitrogen=1.0, nature=0.6),
    ),
    doc(
        7,
        "NL-OV",
        "best_practice",
        "Minder uitstoot in de landbouw",
        "Boeren en provincie verlagen samen de stikstof uitstoot.",
        "Het programma combineert voermaatregelen met emissiearme stallen. Minder stikstof, meer perspectief.",
        ("landbouw",),
        "implementatie",
        2021,
        topic(nitrogen=0.9, nature=0.3),
    ),
    doc(
        8,
        "NL-FR",
        "living_lab",
        "Digitale tweeling van de Waddenzee",
        "Een digitale tweeling voorspelt zandverplaatsing en scheepvaart.",
        "We combineren satellietbeelden met peilingen van Rijkswaterstaat.",
        ("data en AI", "water"),
        "pilot",
        2023,
        topic(data=0.7, water=0.7),
    ),
    doc(
        9,
        "NL-LI",
        "portfolio_project",
        "Digital twin voor de Maasvallei",
        "Een digital twin van rivier en uiterwaarden.",
        "Scenario's voor hoogwater worden doorgerekend in het model.",
        ("data en AI",),
        "verkenning",
        2022,
        topic(data=0.6, water=0.8),
    ),
    doc(
        10,
        "NL-ZH",
        "best_practice",
        "Actief openbaar maken onder de Woo",
        "Hoe de provincie documenten uit zichzelf publiceert.",
        "Een vaste publicatiekalender en een zoekportaal voor inwoners.",
        ("open overheid",),
        "implementatie",
        2023,
        topic(governance=1.0),
    ),
    doc(
        11,
        "NL-NH",
        "portfolio_project",
        "Informatiehuishouding op orde",
        "Archivering volgens de Wet open overheid.",
        "Metadata worden automatisch toegekend bij het opslaan van documenten.",
        ("open overheid",),
        "pilot",
        2022,
        topic(governance=0.9, data=0.3),
    ),
    doc(
        12,
        "NL-DR",
        "portfolio_project",
        "Kunstmatige intelligentie beoordeelt subsidieaanvragen",
        "Een model rangschikt aanvragen voordat een medewerker ze beoordeelt.",
        "Uitlegbaarheid en een menselijke eindbeslissing waren voorwaarden.",
        ("dienstverlening",),
        "pilot",
        2023,
        topic(data=0.8, governance=0.5),
    ),
    doc(
        13,
        "NL-ZE",
        "living_lab",
        "AI-assistent voor beleidsmedewerkers",
        "Samenvattingen van lange nota's in enkele seconden.",
        "Medewerkers controleren elke samenvatting.",
        ("dienstverlening",),
        "verkenning",
        2024,
        topic(data=0.9, governance=0.2),
    ),
    doc(
        14,
        "NL-GR",
        "best_practice",
        "Grensoverschrijdende vaarroutes",
        "Samenwerking met Fryslan over recreatievaart.",
        "Sluizen en bruggen worden op afstand bediend.",
        ("recreatie",),
        "opgeschaald",
        2018,
        topic(water=0.6, mobility=0.5),
    ),
    doc(
        15,
        "NL-UT",
        "living_lab",
        "<script>alert('xss')</script> Slimme verkeerslichten",
        "Verkeerslichten die fietsers eerder groen geven.",
        "Detectie met radar bij kruispunten.",
        ("mobiliteit",),
        "pilot",
        2024,
        topic(mobility=0.9, data=0.4),
    ),
    doc(
        16,
        "NL-ZH",
        "best_practice",
        "Waterberging in het veenweidegebied",
        "Klimaatadaptatie met tijdelijke berging in polders.",
        "Boeren krijgen een vergoeding voor het vasthouden van water.",
        ("water", "klimaat"),
        "opgeschaald",
        2018,
        topic(water=1.0, nature=0.4),
    ),
    doc(
        17,
        "NL-ZE",
        "portfolio_project",
        "Drones inspecteren dijken",
        "Drones met warmtecamera's vinden zwakke plekken.",
        "Inspecties van dijken en wegen gaan sneller en veiliger.",
        ("water", "data en AI"),
        "pilot",
        2023,
        topic(water=0.8, data=0.5),
    ),
    doc(
        18,
        "NL-FL",
        "best_practice",
        "Energiecoöperaties met zonnepanelen",
        "Inwoners bezitten samen de panelen op daken van scholen.",
        "De coöperatie keert jaarlijks rendement uit.",
        ("energie",),
        "implementatie",
        2021,
        topic(energy=1.0, housing=0.3),
    ),
    doc(
        19,
        "NL-NB",
        "portfolio_project",
        "Woningbouw versnellen",
        "Planning van bouwlocaties met datagedreven prognoses.",
        "Een dashboard toont capaciteit per gemeente.",
        ("wonen", "data en AI"),
        "verkenning",
        2024,
        topic(housing=1.0, data=0.5),
        status="concept",
    ),
    doc(
        20,
        "NL-GE",
        "best_practice",
        "Filevoorspelling met verkeersmodellen",
        "Een model voorspelt files een uur vooruit.",
        "Weggebruikers krijgen een advies via de navigatie.",
        ("mobiliteit",),
        "idee",
        2017,
        topic(mobility=1.0, data=0.6),
        status="gearchiveerd",
    ),
]
BY_ID = {d.id: d for d in CORPUS}


@pytest.fixture
def index(open_backend):
    idx = open_backend()
    idx.upsert(CORPUS)
    return idx


def ids(index, text: str = "", **kwargs) -> list[int]:
    results = index.search(SearchQuery(text=text, per_page=100, **kwargs))
    return [hit.id for hit in results.hits]


def cosine(a, b) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (math.hypot(*a) * math.hypot(*b))


# -- matching ------------------------------------------------------------


def test_exact_word_finds_document(index):
    assert ids(index, "verkeerslichten") == [15]
    assert ids(index, "Waddenzee") == [8]


def test_empty_index_and_no_match(open_backend):
    empty = open_backend()
    assert empty.count() == 0
    assert empty.search(SearchQuery(text="datalab")).total == 0


def test_unknown_word_finds_nothing(index):
    results = index.search(SearchQuery(text="xylofoonorkest"))
    assert results.total == 0 and results.hits == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("datalabs", {1, 2}),  # plural query finds the singular-only document 1
        ("datalab", {1, 2}),  # and the other way round
        ("wegen", {3, 17}),  # document 3 only says "weg"
        ("fietspaden", {4, 5}),  # document 4 only says "fietspad"
        ("fietspad", {4, 5}),  # document 5 only says "fietspaden"
    ],
)
def test_plural_and_singular_meet(index, query, expected):
    assert set(ids(index, query)) >= expected


def test_compound_found_by_its_first_part(index):
    found = ids(index, "stikstof")
    assert 6 in found  # only contains "stikstofdepositie"
    assert 7 in found
    assert found.index(7) < found.index(6), "the plain word ranks above the compound"


def test_typo_is_tolerated(index):
    assert 7 in ids(index, "stikstf")
    assert 16 in ids(index, "klimaatadaptaite")  # transposition in a long word


def test_short_words_get_no_typo_tolerance(index):
    assert 10 not in ids(index, "wao")  # "woo" with a typo: too short to correct


def test_diacritics_are_ignored(index):
    assert 14 in ids(index, "Fryslân")  # text says "Fryslan"
    assert 8 in ids(index, "Fryslan")  # province name is "Fryslân"
    assert 18 in ids(index, "energiecooperaties")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("digitale tweeling", {8, 9}),
        ("digital twin", {8, 9}),
        ("Woo", {10, 11}),
        ("Wet open overheid", {10, 11}),
        ("kunstmatige intelligentie", {12, 13}),
        ("AI", {12, 13}),
    ],
)
def test_synonyms_work_both_ways(index, query, expected):
    assert set(ids(index, query)) >= expected


def test_stop_words_alone_find_nothing(index):
    assert index.search(SearchQuery(text="de het een van")).total == 0


def test_stop_words_do_not_change_the_result(index):
    assert ids(index, "de stikstof van het") == ids(index, "stikstof")


def test_all_words_must_match(index):
    assert ids(index, "fietspad kanaal") == [4]


# -- filters, facets, sorting, paging ----------------------------------------


def test_filter_on_one_value(index):
    found = ids(index, "", filters={"province": ["NL-GE"]})
    assert set(found) == {1, 3, 6, 20}


def test_filter_values_within_a_field_are_ored(index):
    found = ids(index, "", filters={"province": ["NL-GE", "NL-OV"]})
    assert set(found) == {1, 2, 3, 6, 7, 20}


def test_filter_fields_are_anded(index):
    found = ids(index, "", filters={"province": ["NL-GE", "NL-OV"], "kind": ["living_lab"]})
    assert set(found) == {1, 6}


def test_filters_combine_with_text(index):
    assert set(ids(index, "datalab", filters={"province": ["NL-OV"]})) == {2}
    assert set(ids(index, "fietspad", filters={"year": ["2019"]})) == {4}


def test_facet_counts_follow_query_and_filters(index):
    everything = index.search(SearchQuery(facets=("theme", "province")))
    assert everything.total == len(CORPUS)
    assert everything.facets["theme"]["data en AI"] == 6
    assert everything.facets["province"]["NL-GE"] == 4

    filtered = index.search(SearchQuery(filters={"province": ["NL-GE"]}, facets=("kind", "status", "year")))
    assert filtered.total == 4
    assert filtered.facets["kind"] == {"living_lab": 2, "portfolio_project": 1, "best_practice": 1}
    assert filtered.facets["status"] == {"gepubliceerd": 3, "gearchiveerd": 1}
    assert sum(filtered.facets["year"].values()) == 4

    by_text = index.search(SearchQuery(text="fietspad", facets=("province",)))
    assert by_text.facets["province"] == {"NL-UT": 1, "NL-NB": 1}


def test_sort_by_date_is_newest_first(index):
    found = ids(index, "", sort="date")
    assert found == [d.id for d in sorted(CORPUS, key=lambda d: d.updated_at, reverse=True)]
    mobility = ids(index, "", sort="date", filters={"theme": ["mobiliteit"]})
    assert mobility == [
        d.id for d in sorted(CORPUS, key=lambda d: d.updated_at, reverse=True) if "mobiliteit" in d.themes
    ]


def test_pages_are_disjoint_and_total_is_stable(index):
    pages = [index.search(SearchQuery(page=p, per_page=7)) for p in (1, 2, 3, 4)]
    assert {p.total for p in pages} == {len(CORPUS)}
    seen = [hit.id for p in pages for hit in p.hits]
    assert [len(p.hits) for p in pages] == [7, 7, 6, 0]
    assert len(seen) == len(set(seen)) == len(CORPUS)


def test_relevance_pages_are_disjoint(index):
    first = index.search(SearchQuery(text="data", per_page=2))
    second = index.search(SearchQuery(text="data", per_page=2, page=2))
    assert first.total == second.total >= 4
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    assert first.hits[0].score >= first.hits[1].score


# -- highlighting -------------------------------------------------------------


def test_highlights_mark_matches(index):
    hit = index.search(SearchQuery(text="datalab")).hits[0]
    assert hit.id == 1
    assert "<mark>datalab</mark>" in hit.highlights["title"]
    assert "<mark>" in hit.highlights["summary"]


def test_highlights_escape_html(index):
    hit = index.search(SearchQuery(text="verkeerslichten")).hits[0]
    title = hit.highlights["title"]
    assert "<script>" not in title
    assert "&lt;script&gt;" in title
    assert "<mark>verkeerslichten</mark>" in title.lower()


def test_body_snippet_shows_the_match(index):
    hit = index.search(SearchQuery(text="gerecycled")).hits[0]
    assert hit.id == 4
    assert "<mark>gerecycled</mark>" in hit.highlights["body"]
    assert "**" not in hit.highlights.get("body", "")


# -- writes ----------------------------------------------------------------------


def test_update_replaces_the_document(index):
    changed = dataclasses.replace(
        BY_ID[4],
        title="Groene dakbedekking",
        summary="Sedum op daken.",
        body="Daken vangen regenwater op.",
        content_hash="hash-4-v2",
        vector=topic(water=1.0),
    )
    index.upsert([changed])
    assert 4 not in ids(index, "fietspad")
    assert ids(index, "dakbedekking") == [4]
    assert index.count() == len(CORPUS)
    assert index.hashes()[4] == "hash-4-v2"
    nearest = dict(index.similar(topic(water=1.0), limit=3))
    assert nearest[4] == pytest.approx(1.0, abs=1e-5)


def test_delete_removes_the_document(index):
    index.delete([5, 999])
    assert 5 not in ids(index, "fietspaden")
    assert index.count() == len(CORPUS) - 1
    assert 5 not in index.hashes()
    assert 5 not in dict(index.similar(BY_ID[5].vector, limit=20))


def test_hashes_reflect_the_index(index):
    assert index.hashes() == {d.id: d.content_hash for d in CORPUS}


def test_clear_empties_the_index(index):
    index.clear()
    assert index.count() == 0
    assert index.hashes() == {}
    assert index.search(SearchQuery(text="datalab")).total == 0


def test_document_without_vector_is_searchable(index):
    no_vector = dataclasses.replace(BY_ID[18], id=21, vector=None, content_hash="hash-21-v1")
    index.upsert([no_vector])
    assert 21 in ids(index, "zonnepanelen")
    assert 21 not in dict(index.similar(BY_ID[18].vector, limit=50))


# -- vectors ------------------------------------------------------------------------


def test_similar_orders_by_cosine(index):
    query = topic(data=1.0, governance=0.25)
    found = index.similar(query, limit=5)
    expected = sorted(CORPUS, key=lambda d: cosine(query, d.vector), reverse=True)[:5]
    assert [i for i, _ in found] == [d.id for d in expected]
    for (_, score), d in zip(found, expected, strict=True):
        assert score == pytest.approx(cosine(query, d.vector), abs=1e-4)


def test_similar_honours_exclude_and_filters(index):
    query = BY_ID[1].vector
    found = index.similar(query, limit=5, exclude_ids=[1])
    assert 1 not in [i for i, _ in found] and len(found) == 5
    filtered = index.similar(query, limit=10, filters={"province": ["NL-GE"]}, exclude_ids=[1])
    assert {i for i, _ in filtered} == {3, 6, 20}


def test_hybrid_finds_a_purely_semantic_match(index):
    query_vector = topic(mobility=1.0, data=0.55)  # closest to document 20
    english = "traffic congestion forecasting"
    assert index.search(SearchQuery(text=english, vector=query_vector, semantic_ratio=0.0)).total == 0
    hybrid = index.search(SearchQuery(text=english, vector=query_vector, semantic_ratio=0.7))
    assert 20 in [h.id for h in hybrid.hits[:3]]


def test_hybrid_keeps_keyword_matches_and_filters(index):
    query_vector = topic(water=1.0)
    hybrid = index.search(SearchQuery(text="datalab", vector=query_vector, semantic_ratio=0.5, per_page=50))
    found = [h.id for h in hybrid.hits]
    assert {1, 2} <= set(found)
    assert 16 in found  # semantic neighbour without the word
    filtered = index.search(
        SearchQuery(
            text="datalab",
            vector=query_vector,
            semantic_ratio=0.5,
            filters={"province": ["NL-OV"]},
            per_page=50,
        )
    )
    assert {h.id for h in filtered.hits} <= {2, 7}


def test_reopening_keeps_documents_and_vectors(open_backend):
    first = open_backend()
    first.upsert(CORPUS)
    first.close()
    reopened = open_backend()
    assert reopened.count() == len(CORPUS)
    assert ids(reopened, "datalab")[:2] in ([1, 2], [2, 1])
    assert reopened.similar(BY_ID[8].vector, limit=1)[0][0] == 8
