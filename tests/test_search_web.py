"""Search through the platform: the page, the API and the CLI, on a real tantivy index beside a real SQLite file."""

import json
import re

import pytest

from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from tests.conftest import Browser, as_form, run_cli, valid_initiative
from tests.databases import database_url_for, execute


@pytest.fixture(scope="module")
def seeded_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("seeded") / "data"
    assert run_cli(data_dir, "seed").returncode == 0
    return data_dir


@pytest.fixture
def seeded(seeded_dir):
    """A client on the seeded database (one app at a time: Tortoise keeps one global context)."""
    with Browser(
        create_app(Settings(data_dir=seeded_dir, database_url=database_url_for(seeded_dir), embedding_model="none"))
    ) as client:
        client.login_as("medewerker", "NL-GE")
        yield client, seeded_dir


def titles(html: str) -> list[str]:
    return [re.sub(r"</?mark>", "", t) for t in re.findall(r'<h3><a href="/initiatieven/\d+">(.*?)</a></h3>', html)]


def test_typo_finds_nitrogen_initiatives_with_the_word_highlighted(seeded):
    client, _ = seeded
    html = client.get("/zoeken", params={"q": "stikstf"}).text
    found = titles(html)
    assert len(found) >= 3
    assert sum("stikstof" in t.lower() for t in found) >= 2
    assert "<mark>stikstof</mark>" in html.lower()


def test_filtering_on_a_province_updates_the_other_facet_counts(seeded):
    client, _ = seeded
    everything = client.get("/api/v1/search", params={"q": "data"}).json()
    limburg = client.get("/api/v1/search", params={"q": "data", "province": "Limburg"}).json()
    assert 0 < limburg["total"] < everything["total"]
    assert all(hit["province"] == "NL-LI" for hit in limburg["hits"])
    assert sum(limburg["facets"]["kind"].values()) == limburg["total"]
    assert limburg["facets"]["kind"] != everything["facets"]["kind"]
    page = client.get("/zoeken", params={"q": "data", "province": "NL-LI"}).text
    assert re.search(r'id="facet-province-NL-LI"[^>]*checked', page)


def test_the_page_searches_what_it_can_and_names_the_options_it_left_out(seeded):
    """A trial pasted a paragraph into the box and chose a sort of another page: each time the page
    threw the words away and listed every initiative as results."""
    client, _ = seeded
    data = client.get("/api/v1/search", params={"q": "data"}).json()["total"]
    bad_sort = client.get("/zoeken", params={"q": "data", "sort": "recent"}).text
    assert f"<strong>{data}</strong> resultaten voor ‘data’" in bad_sort
    assert "Sorteren op: Kies ‘relevance’ (relevantie) of ‘date’ (laatst gewijzigd)." in bad_sort
    long = client.get("/zoeken", params={"q": "stikstof " * 30}).text
    assert "Zoekwoorden: Gebruik maximaal 200 tekens." in long
    nitrogen = client.get("/api/v1/search", params={"q": "stikstof"}).json()["total"]
    assert f"<strong>{nitrogen}</strong> resultaten voor ‘stikstof stikstof" in long
    unknown = client.get("/zoeken", params={"q": "data", "province": "Atlantis"}).text
    assert (
        f"<strong>{data}</strong> resultaten voor ‘data’" in unknown
        and "Provincie: Onbekende waarde “Atlantis”." in unknown
    )
    assert client.get("/api/v1/search", params={"q": "data", "sort": "recent"}).status_code == 400


def test_search_api_shape_and_problem_json(seeded):
    client, _ = seeded
    body = client.get("/api/v1/search", params={"q": "digitale tweeling", "perPage": 3}).json()
    assert set(body) >= {"total", "hits", "facets", "took_ms"}
    assert len(body["hits"]) <= 3
    assert set(body["hits"][0]) >= {"external_id", "province", "title", "kind", "score", "highlight"}
    bad = client.get("/api/v1/search", params={"province": "Atlantis", "perPage": "999"})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in bad.json()["errors"]} == {"province", "perPage"}


def test_cli_search_returns_the_same_hits_as_the_api(seeded):
    client, data_dir = seeded
    api = client.get("/api/v1/search", params={"q": "datalab", "perPage": 5}).json()
    cli = json.loads(run_cli(data_dir, "search", "datalab", "--json", "--limit", "5").stdout)
    assert [h["external_id"] for h in cli["hits"]] == [h["external_id"] for h in api["hits"]]
    assert cli["total"] == api["total"] > 0


def test_htmx_search_returns_only_the_result_area(seeded):
    client, _ = seeded
    response = client.get("/zoeken", params={"q": "water"}, headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="zoekgebied"') and "<html" not in response.text


def test_saved_initiative_is_findable_at_once_and_edits_and_archive_follow(client):
    response = client.submit(
        "/initiatieven/nieuw",
        as_form(valid_initiative(title="Zeewierkweek met onderwaterdrones")),
        follow_redirects=False,
    )
    initiative_id = int(response.headers["location"].split("/")[2].split("?")[0])
    assert titles(client.get("/zoeken", params={"q": "zeewierkweek"}).text) == ["Zeewierkweek met onderwaterdrones"]

    form = as_form(valid_initiative(title="Mosselteelt met onderwaterdrones"))
    form["version"] = "1"
    client.submit(f"/initiatieven/{initiative_id}/bewerken", form)
    assert titles(client.get("/zoeken", params={"q": "zeewierkweek"}).text) == []
    assert titles(client.get("/zoeken", params={"q": "mosselteelt"}).text) == ["Mosselteelt met onderwaterdrones"]

    client.submit(f"/initiatieven/{initiative_id}/archiveren", {})
    assert titles(client.get("/zoeken", params={"q": "mosselteelt"}).text) == []
    archived = client.get("/zoeken", params={"q": "mosselteelt", "status": "gearchiveerd"}).text
    assert titles(archived) == ["Mosselteelt met onderwaterdrones"]


def test_markup_in_titles_stays_inert_in_highlights(client):
    client.create_initiative(title="Kwallen <img src=x onerror=alert(1)> tellen")
    html = client.get("/zoeken", params={"q": "kwallen"}).text
    assert "<img src=x" not in html and "&lt;img src=x" in html and "<mark>Kwallen</mark>" in html


def test_reindex_repairs_what_a_crash_left_behind(tmp_path):
    data_dir = tmp_path / "data"
    assert run_cli(data_dir, "seed").returncode == 0
    first, second = [json.loads(line) for line in run_cli(data_dir, "export").stdout.splitlines()[:2]]
    changed, removed = first["external_id"], second["external_id"]
    # What a crash between the database commit and the index update leaves: the two disagree.
    execute(data_dir, "UPDATE initiative SET title = 'Kwelderherstel met slibvangers' WHERE external_id = ?", changed)
    execute(
        data_dir,
        "DELETE FROM initiative_theme WHERE initiative_id = (SELECT id FROM initiative WHERE external_id = ?)",
        removed,
    )
    execute(data_dir, "DELETE FROM initiative WHERE external_id = ?", removed)

    def hits(query):
        return [h["external_id"] for h in json.loads(run_cli(data_dir, "search", query, "--json").stdout)["hits"]]

    def indexed_total(query):
        return json.loads(run_cli(data_dir, "search", query, "--json").stdout)["total"]

    assert hits("kwelderherstel") == []
    stale_total = indexed_total(second["title"])
    assert stale_total >= 1
    result = run_cli(data_dir, "reindex")
    assert "1 bijgewerkt, 1 verwijderd" in result.stdout
    assert hits("kwelderherstel") == [changed]
    assert indexed_total(second["title"]) == stale_total - 1
    assert "0 bijgewerkt, 0 verwijderd" in run_cli(data_dir, "reindex").stdout


@pytest.mark.parametrize("path", ["/zoeken?q=stikstf", "/initiatieven?province=NL-GE"])
def test_a_fragment_is_never_stored_as_the_page_and_a_history_restore_gets_the_whole_page(seeded, path):
    client, _ = seeded
    page = client.get(path)
    fragment = client.get(path, headers={"HX-Request": "true"})
    restore = client.get(path, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "HX-Request" in page.headers["vary"] and "HX-Request" in fragment.headers["vary"]
    assert fragment.headers["cache-control"] == "no-store"
    assert "<html" not in fragment.text and '<html lang="nl"' in page.text
    assert '<html lang="nl"' in restore.text and "no-store" not in restore.headers.get("cache-control", "")


def test_a_search_downloads_as_csv_and_excel_in_its_order_without_another_provinces_concepts(client):
    import csv
    import io

    from openpyxl import load_workbook

    client.create_initiative(external_id="DL-1", title="Stikstofmonitor voor natuurgebieden")
    client.create_initiative(external_id="DL-2", province="NL-ZE", title="Stikstof in Zeeland", status="concept")
    page = client.get("/zoeken?q=stikstof").text
    assert 'href="/zoeken/download.csv?q=stikstof"' in page
    rows = list(csv.DictReader(io.StringIO(client.get("/zoeken/download.csv?q=stikstof").text)))
    assert "Stikstofmonitor voor natuurgebieden" in [r["title"] for r in rows]
    assert "Stikstof in Zeeland" not in [r["title"] for r in rows]  # a Zeeland concept, for a Gelderland medewerker
    excel = client.get("/zoeken/download.xlsx?q=stikstof")
    assert excel.headers["content-disposition"] == 'attachment; filename="kennisbank-zoekresultaten.xlsx"'
    sheet = load_workbook(io.BytesIO(excel.content))["Initiatieven"]
    assert sheet.max_row == len(rows) + 1
    assert client.get("/zoeken/download.csv?per_page=abc").status_code == 400


def test_a_page_past_the_end_says_so_and_links_the_last_one(seeded):
    client, _ = seeded
    search = client.get("/zoeken", params={"q": "data", "pagina": "99"}).text
    assert "Niets gevonden" not in search
    assert "Pagina 99 is er niet" in search and "Naar de laatste pagina" in search
    listing = client.get("/initiatieven", params={"pagina": "99"}).text
    assert "Geen initiatieven met deze filters" not in listing
    last = re.search(r'Pagina 99 is er niet: .*?<a href="/initiatieven\?pagina=(\d+)">Naar de laatste pagina', listing)
    assert last and "Pagina 99 is er niet" not in client.get("/initiatieven", params={"pagina": last[1]}).text
