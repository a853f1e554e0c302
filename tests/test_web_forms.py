"""The HTML pages, driven through the Starlette test client against a real SQLite file."""

import re

from tests.conftest import as_form, run_cli, valid_initiative


def field_block(html: str, name: str) -> str:
    """The <div class="field"> that holds the input with id veld-<name>."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, flags=re.S):
        if f'id="veld-{name}"' in block:
            return block
    raise AssertionError(f"no field {name} on the page")


def create(client, **changes) -> int:
    response = client.submit("/initiatieven/nieuw", as_form(valid_initiative(**changes)), follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(re.search(r"/initiatieven/(\d+)", response.headers["location"]).group(1))


def test_missing_title_shows_dutch_error_next_to_title_and_keeps_the_rest(client):
    form = as_form(valid_initiative(title=""))
    response = client.submit("/initiatieven/nieuw", form)
    assert response.status_code == 422
    title = field_block(response.text, "title")
    assert "Fout: Vul ‘Titel’ in; dit veld is verplicht." in title
    assert 'aria-invalid="true"' in title and 'aria-describedby="hint-title fout-title"' in title
    assert 'href="#veld-title">Titel: Vul ‘Titel’ in; dit veld is verplicht.' in response.text
    summary = field_block(response.text, "summary")
    assert "Camera&#39;s op onderhoudsvoertuigen" in summary and "Fout:" not in summary
    assert 'value="RoadSense"' in field_block(response.text, "suppliers")
    assert re.search(r'value="mobiliteit"\s+checked', response.text)
    assert "Fout: Titel" in response.text.split("<title>")[1] or response.text.split("<title>")[1].startswith("Fout:")


def test_every_invalid_field_gets_its_own_message(client):
    form = as_form(
        valid_initiative(
            summary="kort",
            budget_eur="veel",
            contact_email="geen-adres",
            start_date="2026-05-01",
            end_date="2026-01-01",
        )
    )
    form["themes"] = []
    response = client.submit("/initiatieven/nieuw", form)
    assert response.status_code == 422
    assert "Vul minimaal 10 tekens in." in field_block(response.text, "summary")
    assert "heel getal" in field_block(response.text, "budget_eur")
    assert "Geen geldig e-mailadres" in field_block(response.text, "contact_email")
    assert "einddatum ligt vóór de startdatum" in field_block(response.text, "end_date")
    assert 'id="fout-themes"' in response.text
    assert client.get("/api/v1/initiatives").json()["total"] == 0


def test_created_initiative_shows_on_its_page_and_in_the_list(client):
    initiative_id = create(client)
    page = client.get(f"/initiatieven/{initiative_id}?opgeslagen=1")
    assert "Het initiatief is opgeslagen." in page.text
    assert "Wegdekinspectie met camera&#39;s op provinciale wegen" in page.text
    assert "<strong>elke week</strong>" in page.text
    assert "€ 250.000" in page.text
    listing = client.get("/initiatieven?province=NL-GE&theme=mobiliteit")
    assert f'href="/initiatieven/{initiative_id}"' in listing.text


def test_a_budget_typed_with_thousands_dots_is_saved_whole(client):
    form = as_form(valid_initiative(budget_eur="250.000"))
    saved = client.submit("/initiatieven/nieuw", form, follow_redirects=False)
    assert saved.status_code == 303
    assert "€ 250.000" in client.get(saved.headers["location"]).text


def test_edit_form_is_prefilled_and_saves(client):
    initiative_id = create(client)
    edit = client.get(f"/initiatieven/{initiative_id}/bewerken")
    assert 'value="GE-TEST-001"' in edit.text and 'name="version" value="1"' in edit.text
    form = as_form(valid_initiative(title="Nieuwe titel voor de pilot"))
    form["version"] = "1"
    saved = client.submit(f"/initiatieven/{initiative_id}/bewerken", form, follow_redirects=False)
    assert saved.status_code == 303
    assert "Nieuwe titel voor de pilot" in client.get(f"/initiatieven/{initiative_id}").text


def test_edit_validation_error_keeps_typed_values(client):
    initiative_id = create(client)
    form = as_form(valid_initiative(title="", summary="Een heel andere samenvatting die ik net typte"))
    form["version"] = "1"
    response = client.submit(f"/initiatieven/{initiative_id}/bewerken", form)
    assert response.status_code == 422
    assert "dit veld is verplicht." in field_block(response.text, "title")
    assert "Een heel andere samenvatting die ik net typte" in response.text


def test_stale_edit_is_refused_and_keeps_what_the_user_typed(client):
    initiative_id = create(client)
    first = as_form(valid_initiative(title="Eerste wijziging"))
    first["version"] = "1"
    assert client.submit(f"/initiatieven/{initiative_id}/bewerken", first, follow_redirects=False).status_code == 303
    second = as_form(valid_initiative(title="Tweede wijziging op oude versie"))
    second["version"] = "1"
    response = client.submit(f"/initiatieven/{initiative_id}/bewerken", second)
    assert response.status_code == 409
    assert "Iemand anders heeft dit initiatief opgeslagen" in response.text
    assert 'value="Tweede wijziging op oude versie"' in response.text
    assert 'name="version" value="2"' in response.text
    assert "Eerste wijziging" in client.get(f"/initiatieven/{initiative_id}").text


def test_archive_hides_from_list_but_keeps_the_initiative(client):
    initiative_id = create(client)
    response = client.submit(f"/initiatieven/{initiative_id}/archiveren", {}, follow_redirects=False)
    assert response.status_code == 303
    assert f'href="/initiatieven/{initiative_id}"' not in client.get("/initiatieven").text
    assert f'href="/initiatieven/{initiative_id}"' in client.get("/initiatieven?status=gearchiveerd").text
    detail = client.get(f"/initiatieven/{initiative_id}").text
    assert "Gearchiveerd" in detail and "Wegdekinspectie" in detail


def test_archive_is_not_possible_with_get(client):
    initiative_id = create(client)
    assert client.get(f"/initiatieven/{initiative_id}/archiveren").status_code == 405
    assert client.get(f"/api/v1/initiatives/{initiative_id}").json()["status"] == "gepubliceerd"


def test_post_without_csrf_token_is_refused_and_changes_nothing(client):
    form = as_form(valid_initiative())
    response = client.post("/initiatieven/nieuw", data=form)
    assert response.status_code == 403
    response = client.post("/initiatieven/nieuw", data={**form, "csrf_token": "geraden"})
    assert response.status_code == 403
    assert client.get("/api/v1/initiatives").json()["total"] == 0


def test_cross_site_post_is_refused_even_with_a_token(client):
    response = client.submit(
        "/initiatieven/nieuw", as_form(valid_initiative()), headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403


def test_htmx_post_with_token_header_is_accepted(client):
    initiative_id = create(client)
    response = client.post(
        f"/initiatieven/{initiative_id}/archiveren",
        headers={"X-CSRF-Token": client.csrf(), "HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_script_in_text_fields_is_rendered_inert(client):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    initiative_id = create(
        client,
        title=f"Titel {payload}",
        summary=f"Samenvatting {payload}",
        description=f"Tekst {payload} [klik](javascript:alert(1))",
        lessons_learned=payload,
        results=payload,
        contact_name=payload,
        suppliers=[payload[:50]],
    )
    html = client.get(f"/initiatieven/{initiative_id}").text
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;" in html


def test_an_image_in_markdown_is_a_link_named_by_its_alt_text_and_loads_nothing(client):
    initiative_id = create(
        client,
        description='Zie ![Kaart van de *proefvakken*](https://example.org/kaart.png) en ![x" onerror="a](https://e.org/b.png).',
    )
    html = client.get(f"/initiatieven/{initiative_id}").text
    assert "<img" not in html
    assert (
        '<a href="https://example.org/kaart.png" rel="noopener noreferrer nofollow">Afbeelding: Kaart van de proefvakken</a>'
        in html
    )
    assert '<a href="https://e.org/b.png" rel="noopener noreferrer nofollow">Afbeelding: x" onerror="a</a>' in html


def test_list_paginates(client, settings):
    for n in range(23):
        create(client, external_id=f"GE-P-{n:03}", title=f"Initiatief nummer {n:03}")
    first = client.get("/initiatieven")
    assert "Pagina 1 van 2" in first.text and first.text.count('class="card"') == 20
    second = client.get("/initiatieven?pagina=2")
    assert second.text.count('class="card"') == 3
    titles_first = set(re.findall(r"Initiatief nummer \d+", first.text))
    titles_second = set(re.findall(r"Initiatief nummer \d+", second.text))
    assert not titles_first & titles_second and len(titles_first | titles_second) == 23


def test_htmx_filter_request_returns_only_the_results(client):
    create(client)
    response = client.get("/initiatieven?kind=living_lab", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="resultaten"')
    assert "<html" not in response.text


def test_home_counts_published_initiatives_per_province_and_theme(client):
    create(client)
    client.create_initiative(external_id="LI-1", province="Limburg", themes=["water"], status="concept")
    html = client.get("/").text
    gelderland = re.search(r'province=NL-GE">Gelderland</a></th><td class="num">(\d+)', html).group(1)
    limburg = re.search(r'province=NL-LI">Limburg</a></th><td class="num">(\d+)', html).group(1)
    water = re.search(r'theme=water">water</a></th><td class="num">(\d+)', html).group(1)
    assert (gelderland, limburg, water) == ("1", "0", "0")


def test_unknown_initiative_is_a_dutch_404(client):
    response = client.get("/initiatieven/999")
    assert response.status_code == 404 and "Pagina niet gevonden" in response.text


def test_pages_have_skip_link_landmarks_and_labels(client):
    html = client.get("/initiatieven/nieuw").text
    assert '<html lang="nl"' in html
    assert 'href="#inhoud">Direct naar de inhoud' in html and 'id="inhoud"' in html
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html):
        assert f'for="{field_id}"' in html, f"field {field_id} has no label"


def test_security_headers_are_set(client):
    headers = client.get("/").headers
    assert "object-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_a_new_initiative_starts_as_concept_so_one_click_does_not_publish_it(client):
    client.login_as("medewerker", "NL-GE")
    html = client.get("/initiatieven/nieuw").text
    assert re.search(r'<option value="concept"\s+selected', html)
    assert not re.search(r'<option value="gepubliceerd"\s+selected', html)


def test_the_list_sorts_by_title_province_or_last_change_and_keeps_the_order_across_pages(client):
    for external_id, province, title in (
        ("S-1", "NL-GE", "Bermbeheer"),
        ("S-2", "NL-DR", "Zonneweides"),
        ("S-3", "NL-ZE", "Asfaltrecycling"),
    ):
        client.create_initiative(external_id=external_id, province=province, title=title)

    def titles(query: str) -> list[str]:
        page = client.get("/initiatieven" + query).text
        return [t for t in re.findall(r'<h3><a href="/initiatieven/\d+">([^<]+)</a>', page)]

    assert titles("?sort=titel") == ["Asfaltrecycling", "Bermbeheer", "Zonneweides"]
    assert titles("?sort=provincie") == ["Zonneweides", "Bermbeheer", "Asfaltrecycling"]  # Drenthe, Gelderland, Zeeland
    assert titles("?sort=recent") == ["Asfaltrecycling", "Zonneweides", "Bermbeheer"]
    assert titles("") == titles("?sort=recent")
    page = client.get("/initiatieven?sort=titel").text
    assert '<option value="titel" selected>' in page
    unknown = client.get("/initiatieven?sort=willekeurig")
    assert unknown.status_code == 200 and titles("?sort=willekeurig") == titles("?sort=recent")


def test_an_excel_download_re_imports_to_the_same_texts_formula_like_ones_too(client, tmp_path):
    import json

    from tests.test_import_safety import FORMULAS

    stored = client.create_initiative(**FORMULAS)
    workbook = tmp_path / "download.xlsx"
    workbook.write_bytes(client.get("/initiatieven/download.xlsx").content)
    elsewhere = tmp_path / "elders"
    imported = run_cli(elsewhere, "import", str(workbook))
    assert imported.returncode == 0, imported.stderr
    again = json.loads(run_cli(elsewhere, "export", "--format", "jsonl").stdout)
    for name in FORMULAS:
        assert again[name] == stored[name], name


def test_the_list_downloads_as_csv_and_excel_with_its_filters_and_order(client):
    import csv
    import io

    from openpyxl import load_workbook

    for external_id, province, title in (
        ("D-1", "NL-GE", "Bermbeheer"),
        ("D-2", "NL-GE", "=Asfaltrecycling"),
        ("D-3", "NL-ZE", "Zonneweides"),
    ):
        client.create_initiative(external_id=external_id, province=province, title=title)
    page = client.get("/initiatieven?province=NL-GE&sort=titel").text
    assert 'href="/initiatieven/download.csv?province=NL-GE&amp;sort=titel"' in page
    response = client.get("/initiatieven/download.csv?province=NL-GE&sort=titel")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["title"] for r in rows] == ["'=Asfaltrecycling", "Bermbeheer"]  # Zeeland filtered out; no formula
    workbook = load_workbook(io.BytesIO(client.get("/initiatieven/download.xlsx?province=NL-GE&sort=titel").content))
    sheet = workbook["Initiatieven"]
    header = [cell.value for cell in sheet[1]]
    titles = [row[header.index("title")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert titles == ["=Asfaltrecycling", "Bermbeheer"]  # as typed, in a string cell: never a formula
    assert all(row[header.index("title")].data_type == "s" for row in sheet.iter_rows(min_row=2))
    assert client.get("/initiatieven/download.pdf").status_code == 404
