"""Match suggestions in the platform: persistence, the coordinators' review (pages, API, CLI) and its rules."""

from __future__ import annotations

import asyncio
import json
import re

import jsonschema
import pyotp
import pytest
from markupsafe import escape

from kennisbank.audit import Actor
from kennisbank.matching import service as matches
from kennisbank.models import AuditEntry, MatchEvent, MatchSuggestion
from tests.conftest import TEST_PASSWORD, Browser, run_cli
from tests.test_api import schema_for

ROAD = dict(
    suppliers=["RoadSense"],
    technologies=["computer vision"],
    themes=["mobiliteit"],
    phase="pilot",
    summary="Camera's op onderhoudsvoertuigen herkennen scheuren en gaten in het asfalt van provinciale wegen.",
)


@pytest.fixture
def pair(anonymous: Browser) -> tuple[Browser, dict, dict]:
    """A coordinator's browser and two matching initiatives of Gelderland and Limburg (one shared supplier)."""
    gelderland = anonymous.create_initiative(
        external_id="GE-1", province="NL-GE", **ROAD, title="Wegdekinspectie met camera's in Gelderland"
    )
    limburg = anonymous.create_initiative(
        external_id="LI-1", province="NL-LI", **ROAD, title="Scheurdetectie in het wegdek met camera's in Limburg"
    )
    anonymous.create_initiative(
        external_id="GE-2",
        province="NL-GE",
        suppliers=["RoadSense"],
        title="Tweede Gelders wegdekproject met camera's",
        summary=ROAD["summary"],
    )
    anonymous.login_as("coordinator", None)
    return anonymous, gelderland, limburg


def enrol_totp(client: Browser) -> None:
    page = client.get("/account/tweestaps").text
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page).group(1)
    done = client.submit(
        "/account/tweestaps",
        {"secret": secret, "code": pyotp.TOTP(secret).now(), "current_password": TEST_PASSWORD},
        follow_redirects=False,
    )
    assert done.status_code == 303


def stored(client: Browser) -> list[MatchSuggestion]:
    return client.run(lambda: MatchSuggestion.all().prefetch_related("a", "b"))


def the_match(client: Browser, a: dict, b: dict) -> MatchSuggestion:
    ids = sorted((a["id"], b["id"]))
    return client.run(MatchSuggestion.get, a_id=ids[0], b_id=ids[1])


def test_saving_suggests_cross_province_pairs_only_with_reasons_naming_real_evidence(pair):
    client, gelderland, limburg = pair
    matches = stored(client)
    assert matches and all(m.a.province_id != m.b.province_id for m in matches)
    match = the_match(client, gelderland, limburg)
    supplier_reasons = [r for r in match.reasons if "leverancier" in r]
    assert supplier_reasons and "RoadSense" in supplier_reasons[0]
    assert match.type in {"joint_procurement", "scaling_up", "knowledge_exchange"} and 0 < match.score <= 1


def test_a_coordinator_accepts_with_a_note_and_both_initiatives_show_it(pair):
    client, gelderland, limburg = pair
    match = the_match(client, gelderland, limburg)
    queue = client.get("/matches").text
    assert f'href="/matches/{match.id}"' in queue
    detail = client.get(f"/matches/{match.id}").text
    assert "<mark>" in detail and "Waarom deze match" in detail
    response = client.submit(
        f"/matches/{match.id}/beoordeling",
        {"status": "geaccepteerd", "note": "Samen inkopen"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response.text.lstrip().startswith('<section id="beoordeling"')
    assert "<html" not in response.text and "Geaccepteerd" in response.text
    for initiative in (gelderland, limburg):
        page = client.get(f"/initiatieven/{initiative['id']}").text
        assert "Samenwerking (geaccepteerde matches)" in page and "Samen inkopen" in page
    [event] = client.run(MatchEvent.filter, match_id=match.id)
    assert (event.from_status, event.to_status, event.note) == ("voorgesteld", "geaccepteerd", "Samen inkopen")
    assert client.run(AuditEntry.filter(action="match_decide", object_id=str(match.id)).count) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_a_refused_note_stays_in_the_form_next_to_its_message(pair, htmx):
    client, gelderland, limburg = pair
    match = the_match(client, gelderland, limburg)
    note = "Bellen met Limburg over de inkoop. " * 60  # over the 2,000 characters a note may have
    response = client.submit(
        f"/matches/{match.id}/beoordeling",
        {"status": "aangehouden", "note": note},
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == (200 if htmx else 422)
    assert 'id="fout-note"' in response.text and "Gebruik maximaal 2000 tekens." in response.text
    assert note.strip() in response.text
    assert client.get(f"/api/v1/matches/{match.id}").json()["status"] == "voorgesteld"


def test_a_decision_naming_an_older_version_never_overwrites_a_newer_one_in_the_api(pair):
    client, gelderland, limburg = pair
    url = f"/api/v1/matches/{the_match(client, gelderland, limburg).id}"
    seen = client.get(url)
    assert seen.headers["etag"] == '"1"'
    first = client.post(f"{url}/decision", json={"status": "geaccepteerd"}, headers={"If-Match": seen.headers["etag"]})
    assert first.status_code == 200 and first.headers["etag"] == '"2"'
    late = client.post(f"{url}/decision", json={"status": "afgewezen"}, headers={"If-Match": seen.headers["etag"]})
    assert late.status_code == 412 and late.headers["content-type"] == "application/problem+json"
    assert late.headers["etag"] == '"2"' and "intussen al beoordeeld" in late.json()["detail"]
    assert client.get(url).json()["status"] == "geaccepteerd"
    weak = client.post(f"{url}/decision", json={"status": "afgewezen"}, headers={"If-Match": 'W/"2"'})
    assert weak.status_code == 412
    unconditional = client.post(f"{url}/decision", json={"status": "aangehouden"})
    assert unconditional.status_code == 200 and unconditional.headers["etag"] == '"3"'


def test_of_two_decisions_naming_one_version_at_the_same_time_exactly_one_is_taken(pair):
    """The version is compared where the decision is written: two coordinators submitting at once on
    the same page state cannot both pass the check and overwrite each other."""
    client, gelderland, limburg = pair
    match = the_match(client, gelderland, limburg)
    coordinators = [client.make_user("coordinator", None, email=f"co{n}@ida.nl") for n in (1, 2)]

    async def both() -> list[object]:
        return await asyncio.gather(
            *(
                matches.decide(Actor(user), match.id, status, note=status, expected_version=1)
                for user, status in zip(coordinators, ("geaccepteerd", "afgewezen"), strict=True)
            ),
            return_exceptions=True,
        )

    outcomes = client.run(both)
    assert sorted(type(o).__name__ for o in outcomes) == ["DecisionConflict", "MatchSuggestion"]
    [taken] = [o for o in outcomes if isinstance(o, MatchSuggestion)]
    [event] = client.run(MatchEvent.filter, match_id=match.id)
    assert (event.from_status, event.to_status) == ("voorgesteld", taken.status)
    assert client.get(f"/api/v1/matches/{match.id}").headers["etag"] == '"2"'


@pytest.mark.parametrize("htmx", [False, True])
def test_a_page_opened_before_another_coordinators_decision_cannot_overwrite_it(pair, htmx):
    client, gelderland, limburg = pair
    match = the_match(client, gelderland, limburg)
    page = client.get(f"/matches/{match.id}").text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    client.post(f"/api/v1/matches/{match.id}/decision", json={"status": "afgewezen", "note": "Past niet"})
    response = client.submit(
        f"/matches/{match.id}/beoordeling",
        {"status": "geaccepteerd", "note": "Samen inkopen", "version": version},
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == (200 if htmx else 409)
    assert "uw beoordeling is niet opgeslagen" in response.text and "Samen inkopen" in response.text
    assert 'name="version" value="2"' in response.text  # deciding again, on what is now stored, goes through
    assert client.get(f"/api/v1/matches/{match.id}").json()["status"] == "afgewezen"
    again = client.submit(
        f"/matches/{match.id}/beoordeling", {"status": "geaccepteerd", "version": "2"}, follow_redirects=False
    )
    assert again.status_code == 303
    assert client.get(f"/api/v1/matches/{match.id}").json()["status"] == "geaccepteerd"


def test_decisions_survive_a_full_rematch(pair, data_dir):
    client, gelderland, limburg = pair
    match = the_match(client, gelderland, limburg)
    client.post(f"/api/v1/matches/{match.id}/decision", json={"status": "aangehouden", "note": "Na de zomer"})
    assert run_cli(data_dir, "match").returncode == 0
    after = the_match(client, gelderland, limburg)
    assert (after.status, after.note) == ("aangehouden", "Na de zomer")


def test_a_rejected_pair_stays_rejected_unless_an_initiative_changes_materially(pair, data_dir):
    client, gelderland, limburg = pair
    match = the_match(client, gelderland, limburg)
    client.post(f"/api/v1/matches/{match.id}/decision", json={"status": "afgewezen", "note": "Ander wegtype"})
    assert run_cli(data_dir, "match").returncode == 0
    assert the_match(client, gelderland, limburg).status == "afgewezen"
    headers = client.bearer("NL-LI")
    client.patch(
        f"/api/v1/initiatives/{limburg['id']}",
        json={"contact_name": "Iemand anders"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert the_match(client, gelderland, limburg).status == "afgewezen"  # not material
    client.patch(
        f"/api/v1/initiatives/{limburg['id']}",
        json={"summary": ROAD["summary"] + " Nu ook met lasermetingen van spoorvorming."},
        headers={**headers, "If-Match": '"2"'},
    )
    reopened = the_match(client, gelderland, limburg)
    assert reopened.status == "voorgesteld"
    events = client.run(MatchEvent.filter, match_id=match.id)
    assert [e.to_status for e in events] == ["afgewezen", "voorgesteld"] and "gewijzigd" in events[-1].note


@pytest.mark.parametrize("role,province", [("medewerker", "NL-GE"), ("beheerder", None)])
def test_only_coordinators_see_and_decide_matches(pair, role, province):
    client, gelderland, limburg = pair
    match = the_match(client, gelderland, limburg)
    client.login_as(role, province)
    if role == "beheerder":
        enrol_totp(client)  # beheerders reach nothing else before two-step login is set up
    assert client.get("/matches").status_code == 403
    assert client.submit(f"/matches/{match.id}/beoordeling", {"status": "geaccepteerd"}).status_code == 403
    api = client.post(f"/api/v1/matches/{match.id}/decision", json={"status": "geaccepteerd"})
    assert api.status_code == 403 and api.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/matches").status_code == 403
    assert the_match(client, gelderland, limburg).status == "voorgesteld"
    refused = client.run(AuditEntry.filter(action="access_denied", object_type="match").count)
    assert refused >= 3


def test_the_api_lists_gets_and_validates_decisions(pair):
    client, gelderland, limburg = pair
    document = client.get("/api/v1/openapi.json").json()
    listing = client.get("/api/v1/matches", params={"province": "Limburg"}).json()
    jsonschema.validate(listing, schema_for(document, "MatchPage"))
    assert listing["total"] >= 1
    assert all("NL-LI" in (m["a"]["province"], m["b"]["province"]) for m in listing["items"])
    match_id = listing["items"][0]["id"]
    one = client.get(f"/api/v1/matches/{match_id}").json()
    jsonschema.validate(one, schema_for(document, "Match"))
    assert one["id"] == match_id
    bad = client.post(f"/api/v1/matches/{match_id}/decision", json={"status": "misschien", "extra": 1})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"status", "extra"}
    assert client.get("/api/v1/matches/999999").status_code == 404
    assert client.get("/api/v1/matches", params={"minScore": "veel"}).status_code == 400


def test_cli_matches_json_has_the_documented_shape(anonymous, data_dir):
    anonymous.create_initiative(external_id="GE-1", province="NL-GE", **ROAD, title="Wegdek Gelderland")
    anonymous.create_initiative(external_id="LI-1", province="NL-LI", **ROAD, title="Wegdek Limburg")
    result = run_cli(data_dir, "matches", "--json", "--min-score", "0.1", "--limit", "5")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    assert items
    for item in items:
        assert {"a", "b", "score", "type", "reasons", "status"} <= item.keys()
        assert {"external_id", "province", "title"} <= item["a"].keys() and item["a"]["province"] != item["b"][
            "province"
        ]
        assert item["score"] >= 0.1


def test_clusters_page_lists_groups_of_three_or_more_provinces(anonymous):
    for code in ("NL-GE", "NL-LI", "NL-ZE", "NL-UT"):
        anonymous.create_initiative(
            external_id=f"{code}-W", province=code, **ROAD, title=f"Wegdekinspectie met camera's en RoadSense ({code})"
        )
    anonymous.login_as("coordinator", None)
    html = anonymous.get("/matches/clusters").text
    assert re.search(r"[3-4] provincies", html), html


def test_the_queue_says_how_the_score_is_made_and_how_well_learning_does(pair):
    client, _gelderland, _limburg = pair
    html = client.get("/matches").text
    assert 'id="score-uitleg"' in html and "Te weinig beoordelingen om van te leren" in html


def test_after_a_decision_the_page_offers_the_best_open_suggestion_next(pair):
    client, gelderland, limburg = pair
    match = the_match(client, gelderland, limburg)
    others = sorted(
        (m for m in stored(client) if m.id != match.id and m.status == "voorgesteld"), key=lambda m: (-m.score, m.id)
    )
    assert others, "the fixture's third initiative gives a second suggestion"
    assert 'id="volgende-suggestie"' not in client.get(f"/matches/{match.id}").text  # not before deciding
    decided = client.submit(
        f"/matches/{match.id}/beoordeling", {"status": "afgewezen", "note": ""}, headers={"HX-Request": "true"}
    ).text
    assert f'<a href="/matches/{others[0].id}">Volgende suggestie' in decided
    without_js = client.submit(f"/matches/{others[0].id}/beoordeling", {"status": "afgewezen", "note": ""})
    remaining = others[1:]
    if remaining:
        assert f'<a href="/matches/{remaining[0].id}">Volgende suggestie' in without_js.text
    else:
        assert "Er zijn geen open suggesties meer." in without_js.text


def test_detail_pages_have_breadcrumbs_and_every_page_a_favicon(pair):
    client, gelderland, limburg = pair
    match = the_match(client, gelderland, limburg)
    for url, trail in (
        (f"/initiatieven/{gelderland['id']}", ["Home", "Initiatieven", gelderland["title"]]),
        (f"/matches/{match.id}", ["Home", "Matches"]),
    ):
        page = client.get(url).text
        crumbs = page[
            page.index('aria-label="Kruimelpad"') : page.index("</nav>", page.index('aria-label="Kruimelpad"'))
        ]
        positions = [crumbs.index(str(escape(label))) for label in trail]
        assert positions == sorted(positions) and 'aria-current="page"' in crumbs
    home = client.get("/").text
    assert '<link rel="icon" href="/static/favicon.svg"' in home and 'action="/zoeken"' in home
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_cli_matches_lists_the_dutch_type_and_the_reasons(anonymous, data_dir):
    anonymous.create_initiative(external_id="GE-1", province="NL-GE", **ROAD, title="Wegdek Gelderland")
    anonymous.create_initiative(external_id="LI-1", province="NL-LI", **ROAD, title="Wegdek Limburg")
    result = run_cli(data_dir, "matches", "--min-score", "0.1", "--limit", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"\d+ suggesties?", lines[0])
    pair = next(line for line in lines if "Wegdek Gelderland" in line)
    assert re.match(r"\d\.\d\d (Gezamenlijke inkoop|Opschalen|Kennisuitwisseling): ", pair), pair
    assert "Gelderland ↔ Limburg" in pair or "Limburg ↔ Gelderland" in pair
    reasons = lines[lines.index(pair) + 1 :]
    assert reasons and reasons[0].startswith("     - ")
    assert not any(code in result.stdout for code in ("joint_procurement", "scaling_up", "knowledge_exchange"))
