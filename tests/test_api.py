"""The JSON API: resources, problem+json errors and an OpenAPI document that matches behaviour."""

import json

import jsonschema
import pytest
from starlette.routing import Route

from kennisbank.web.app import create_app
from tests.conftest import valid_initiative

PROBLEM = "application/problem+json"


def create(client, **changes):
    return client.create_initiative(**changes)


def test_create_returns_the_resource_and_its_location(client):
    body = create(client, province="Fryslan")
    assert body["province"] == "NL-FR" and body["province_name"] == "Fryslân"
    assert body["themes"] == ["data en AI", "mobiliteit"]
    assert body["version"] == 1
    response = client.get(f"/api/v1/initiatives/{body['id']}")
    assert response.json() == body
    assert response.headers["etag"] == '"1"'


def test_invalid_input_is_problem_json_listing_every_field(client):
    response = client.post("/api/v1/initiatives", json=valid_initiative(title="", phase="klaar", links=["ftp://x"]))
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 400 and problem["title"] == "Ongeldige invoer"
    fields = {e["field"]: e["messages"] for e in problem["errors"]}
    assert set(fields) == {"title", "phase", "links"}
    assert fields["title"] == ["Vul ‘Titel’ in; dit veld is verplicht."]
    assert client.get("/api/v1/initiatives").json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", {"content-type": "application/json"}, 400),
        (b"[1, 2]", {"content-type": "application/json"}, 400),
        (b"title=x", {"content-type": "application/x-www-form-urlencoded"}, 415),
    ],
)
def test_malformed_requests_are_problem_json(client, body, headers, status):
    response = client.post("/api/v1/initiatives", content=body, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"]


@pytest.mark.parametrize(("number", "reason"), [("NaN", "NaN is geen JSON-getal"), ("1e400", "te groot")])
def test_numbers_json_does_not_have_are_refused_in_dutch(client, number, reason):
    """Python's JSON reader takes NaN and turns 1e400 into infinity; the API said 'Input should be a
    finite number'."""
    body = json.dumps(valid_initiative()).replace('"budget_eur": 250000', f'"budget_eur": {number}')
    response = client.post("/api/v1/initiatives", content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    assert reason in response.json()["detail"]


def test_unknown_initiative_and_route_are_problem_json(client):
    for url in ("/api/v1/initiatives/12345", "/api/v1/bestaat-niet"):
        response = client.get(url)
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


def test_duplicate_external_id_in_same_province_is_refused(client):
    create(client)
    response = client.post("/api/v1/initiatives", json=valid_initiative())
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "external_id"
    assert create(client, province="NL-LI")["external_id"] == "GE-TEST-001"  # unique per province only


def test_patch_changes_only_the_given_fields(client):
    created = create(client)
    response = client.patch(
        f"/api/v1/initiatives/{created['id']}", json={"phase": "opgeschaald"}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["phase"] == "opgeschaald" and body["title"] == created["title"] and body["version"] == 2


def test_a_created_initiative_carries_its_etag_so_a_first_patch_needs_no_get(client):
    response = client.post("/api/v1/initiatives", json=valid_initiative())
    assert response.status_code == 201 and response.headers["etag"] == '"1"'
    patched = client.patch(
        response.headers["location"], json={"phase": "opgeschaald"}, headers={"If-Match": response.headers["etag"]}
    )
    assert patched.status_code == 200 and patched.headers["etag"] == '"2"'


def test_patch_with_stale_if_match_is_refused(client):
    created = create(client)
    url = f"/api/v1/initiatives/{created['id']}"
    assert client.patch(url, json={"title": "Versie twee"}, headers={"If-Match": '"1"'}).status_code == 200
    stale = client.patch(url, json={"title": "Overschrijft versie twee"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM
    assert client.get(url).json()["title"] == "Versie twee"


def test_patch_with_invalid_value_changes_nothing(client):
    created = create(client)
    url = f"/api/v1/initiatives/{created['id']}"
    response = client.patch(url, json={"province": "Atlantis", "title": "Zou niet mogen"}, headers={"If-Match": '"1"'})
    assert response.status_code == 400
    assert client.get(url).json() == created


def test_a_value_of_another_json_type_than_the_schema_declares_is_refused_under_its_field(client):
    """The OpenAPI schema says integer, boolean, array of strings, date string: "1000" for a number
    or 1 for true is a client's mistake to hear about, not to guess (forms and files, which hold only
    text, are read leniently). Every field is named at once; null and "" stay "empty"."""
    wrong = {
        "budget_eur": "250000",
        "seeks_partners": 1,
        "themes": "mobiliteit",
        "suppliers": ["RoadSense", 7],
        "title": 12,
        "start_date": 20260301,
    }
    response = client.post("/api/v1/initiatives", json=valid_initiative(**wrong, phase="klaar", description=None))
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    fields = {e["field"]: e["messages"] for e in response.json()["errors"]}
    assert set(fields) == {*wrong, "phase"}
    assert fields["budget_eur"] == ["Geef een getal zonder aanhalingstekens, zoals 25000, of null voor leeg."]
    assert fields["seeks_partners"] == ["Geef true of false, zonder aanhalingstekens, of null voor leeg."]
    assert fields["themes"] == ['Geef een lijst, zoals ["eerste", "tweede"], of null voor leeg.']
    assert fields["suppliers"] == ["Geef elk element van de lijst als tekst tussen aanhalingstekens."]
    assert fields["start_date"] == ['Geef een datum als tekst, zoals "2026-03-01", of null voor leeg.']
    assert client.get("/api/v1/initiatives").json()["total"] == 0
    created = create(client)
    url = f"/api/v1/initiatives/{created['id']}"
    patch = client.patch(url, json={"budget_eur": "1000"}, headers={"If-Match": '"1"'})
    assert patch.status_code == 400 and [e["field"] for e in patch.json()["errors"]] == ["budget_eur"]
    assert client.get(url).json() == created
    cleared = client.patch(url, json={"budget_eur": None, "links": None}, headers={"If-Match": '"1"'})
    assert cleared.status_code == 200 and cleared.json()["budget_eur"] is None and cleared.json()["links"] == []
    emptied = client.patch(url, json={"budget_eur": "", "seeks_partners": ""}, headers={"If-Match": '"2"'})
    assert emptied.status_code == 200 and emptied.json()["seeks_partners"] is False


def test_archive(client):
    created = create(client)
    response = client.post(f"/api/v1/initiatives/{created['id']}/archive", headers={"If-Match": '"1"'})
    assert response.status_code == 200 and response.json()["status"] == "gearchiveerd"
    assert client.get("/api/v1/initiatives").json()["total"] == 0
    assert client.get("/api/v1/initiatives?status=gearchiveerd").json()["total"] == 1


def test_list_filters_and_paginates(client):
    create(client, external_id="a", province="NL-GE", kind="living_lab", themes=["water"], phase="pilot")
    create(client, external_id="b", province="NL-LI", kind="best_practice", themes=["stikstof"], phase="idee")
    create(client, external_id="c", province="NL-LI", kind="living_lab", themes=["stikstof", "water"], phase="pilot")

    def ids(query):
        return sorted(item["external_id"] for item in client.get(f"/api/v1/initiatives?{query}").json()["items"])

    assert ids("province=Limburg") == ["b", "c"]
    assert ids("province=NL-GE&province=NL-LI&kind=living_lab") == ["a", "c"]
    assert ids("theme=Water&phase=pilot") == ["a", "c"]
    assert ids("theme=stikstof&province=NL-GE") == []
    page = client.get("/api/v1/initiatives?perPage=2&page=2").json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["page"] == 2


@pytest.mark.parametrize("query", ["perPage=0", "perPage=101", "page=nul", "province=Vlaanderen", "kind=x"])
def test_bad_list_parameters_are_problem_json(client, query):
    response = client.get(f"/api/v1/initiatives?{query}")
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    assert response.json()["errors"]


def test_provinces_and_themes(client):
    provinces = client.get("/api/v1/provinces").json()["items"]
    assert len(provinces) == 12 and {"code": "NL-FR", "name": "Fryslân"} in provinces
    themes = client.get("/api/v1/themes").json()["items"]
    assert len(themes) == 18 and {"slug": "data-en-ai", "name": "data en AI"} in themes


# The OpenAPI document must describe what the routes really do.


def json_schema(node):
    """An OpenAPI 3.0 schema as the JSON Schema jsonschema validates: ``nullable`` becomes a null option."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def schema_for(document, name):
    return {"$ref": f"#/components/schemas/{name}", "components": json_schema(document["components"])}


def test_openapi_documents_every_api_route_and_method(client, settings):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    app = create_app(settings)
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/v1/"):
            path = route.path.replace(":int}", "}").removeprefix(document["servers"][0]["url"])
            assert path in document["paths"], path
            for method in route.methods - {"HEAD"}:
                assert method.lower() in document["paths"][path], (path, method)


def test_openapi_schemas_match_real_responses_and_requests(client):
    document = client.get("/api/v1/openapi.json").json()
    request = valid_initiative()
    jsonschema.validate(request, schema_for(document, "InitiativeInput"))
    created = client.post("/api/v1/initiatives", json=request)
    jsonschema.validate(created.json(), schema_for(document, "Initiative"))
    jsonschema.validate(client.get("/api/v1/initiatives").json(), schema_for(document, "InitiativePage"))
    bad = client.post("/api/v1/initiatives", json={"title": ""})
    jsonschema.validate(bad.json(), schema_for(document, "Problem"))


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "hackathon"},
        {"themes": []},
        {"title": "ab"},
        {"budget_eur": -1},
        {"unknown_field": 1},
        {"links": "https://a.example"},
    ],
)
def test_input_the_schema_rejects_the_api_rejects_too(client, change):
    document = client.get("/api/v1/openapi.json").json()
    request = valid_initiative(**change)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(request, schema_for(document, "InitiativeInput"))
    assert client.post("/api/v1/initiatives", json=request).status_code == 400
