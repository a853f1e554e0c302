"""Collaborations: started by accepting a match or from a cluster, their life through every stage with its
timeline, who may change what (pages and API), the board's filters and the initiative page's section."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from markupsafe import escape

from kennisbank.audit import SYSTEM, Actor
from kennisbank.matching import collaborations
from kennisbank.models import (
    AuditEntry,
    Collaboration,
    CollaborationEvent,
    CollaborationLink,
    Initiative,
    MatchSuggestion,
)
from tests.conftest import Browser

STAGES = ["in_gesprek", "afspraken_gemaakt", "gestart", "afgerond"]


def suggest(browser: Browser, a: int, b: int, type: str = "joint_procurement") -> int:
    """A stored suggestion for the pair (whatever the engine computed for it, this test decides its type)."""
    low, high = sorted((a, b))
    match, _ = browser.run(
        MatchSuggestion.update_or_create,
        a_id=low,
        b_id=high,
        defaults={
            "score": 0.8,
            "type": type,
            "status": "voorgesteld",
            "current": True,
            "reasons": ["Beide werken met leverancier RoadSense."],
        },
    )
    return match.id


@pytest.fixture
def world(anonymous: Browser) -> dict:
    """Published initiatives of Gelderland, Limburg and Utrecht, and a suggested Gelderland–Limburg match."""
    ge = anonymous.create_initiative(
        external_id="GE-1", contact_email="ge@gelderland.example", contact_name="Gea Gelder"
    )
    li = anonymous.create_initiative(
        external_id="LI-1",
        province="NL-LI",
        title="Wegdekscan in Limburg",
        contact_email="li@limburg.example",
        contact_name="Lies Limburg",
    )
    ut = anonymous.create_initiative(
        external_id="UT-1",
        province="NL-UT",
        title="Wegdekscan in Utrecht",
        contact_email="ut@utrecht.example",
        contact_name="Ute Utrecht",
    )
    return {
        "browser": anonymous,
        "ge": ge["id"],
        "li": li["id"],
        "ut": ut["id"],
        "match": suggest(anonymous, ge["id"], li["id"]),
    }


def accept(browser: Browser, match_id: int) -> None:
    response = browser.post(
        f"/api/v1/matches/{match_id}/decision",
        json={"status": "geaccepteerd"},
        headers=browser.bearer(None, "coordinator"),
    )
    assert response.status_code == 200, response.text


def only_collaboration(browser: Browser) -> Collaboration:
    [collaboration] = browser.run(lambda: Collaboration.all().prefetch_related("initiatives", "matches"))
    return collaboration


def test_accepting_a_match_starts_a_collaboration_and_a_second_match_joins_it(world):
    browser = world["browser"]
    accept(browser, world["match"])
    collaboration = only_collaboration(browser)
    assert collaboration.type == "gezamenlijke_inkoop" and collaboration.stage == "voorgesteld"
    assert {i.id for i in collaboration.initiatives} == {world["ge"], world["li"]}
    assert [m.id for m in collaboration.matches] == [world["match"]]
    assert collaboration.owner_id is not None  # the accepting coordinator owns it

    accept(browser, suggest(browser, world["li"], world["ut"]))  # Utrecht joins the open collaboration
    collaboration = only_collaboration(browser)
    assert {i.id for i in collaboration.initiatives} == {world["ge"], world["li"], world["ut"]}
    kinds = browser.run(
        lambda: CollaborationEvent.filter(collaboration_id=collaboration.id).values_list("kind", flat=True)
    )
    assert list(kinds) == ["aangemaakt", "deelnemer"]


def test_a_collaborations_life_through_every_stage_with_its_timeline(world):
    browser = world["browser"]
    coordinator = browser.bearer(None, "coordinator")
    created = browser.post(
        "/api/v1/collaborations",
        json={"initiatives": [world["ge"], world["li"]], "type": "opschalen"},
        headers=coordinator,
    )
    assert created.status_code == 201, created.text
    cid, version = created.json()["id"], created.json()["version"]
    for stage in STAGES:
        moved = browser.post(
            f"/api/v1/collaborations/{cid}/stage",
            json={"stage": stage},
            headers={**coordinator, "If-Match": f'"{version}"'},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["stage"] == stage and moved.headers["ETag"] == f'"{version + 1}"'
        version += 1
    note = browser.post(
        f"/api/v1/collaborations/{cid}/notes", json={"note": "Raamcontract getekend."}, headers=coordinator
    )
    assert note.status_code == 201
    timeline = browser.get(f"/api/v1/collaborations/{cid}", headers=coordinator).json()["timeline"]
    assert [(e["kind"], e["from_stage"], e["to_stage"]) for e in timeline] == [
        ("aangemaakt", None, "voorgesteld"),
        ("fase", "voorgesteld", "in_gesprek"),
        ("fase", "in_gesprek", "afspraken_gemaakt"),
        ("fase", "afspraken_gemaakt", "gestart"),
        ("fase", "gestart", "afgerond"),
        ("notitie", None, None),
    ]
    assert all(e["by"] == "api.coordinator.ida@test.example" for e in timeline)
    audited = browser.run(lambda: AuditEntry.filter(action="collaboration_stage", object_id=str(cid)).count())
    assert audited == 4


def test_stopping_needs_a_reason_and_a_stale_version_changes_nothing(world):
    browser = world["browser"]
    coordinator = browser.bearer(None, "coordinator")
    cid = browser.post(
        "/api/v1/collaborations",
        json={"initiatives": [world["ge"], world["li"]], "type": "kennisuitwisseling"},
        headers=coordinator,
    ).json()["id"]
    url = f"/api/v1/collaborations/{cid}/stage"
    no_reason = browser.post(url, json={"stage": "gestopt"}, headers={**coordinator, "If-Match": '"1"'})
    assert no_reason.status_code == 400 and no_reason.headers["content-type"] == "application/problem+json"
    assert no_reason.json()["errors"][0]["field"] == "reason"
    assert browser.post(url, json={"stage": "gestopt"}, headers=coordinator).status_code == 428
    stopped = browser.post(
        url,
        json={"stage": "gestopt", "reason": "Limburg kiest een eigen leverancier."},
        headers={**coordinator, "If-Match": '"1"'},
    )
    assert stopped.status_code == 200 and stopped.json()["stop_reason"] == "Limburg kiest een eigen leverancier."
    stale = browser.post(url, json={"stage": "in_gesprek"}, headers={**coordinator, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
    assert browser.run(Collaboration.get, id=cid).stage == "gestopt"


def test_services_refuse_an_anonymous_actor(world):
    browser = world["browser"]
    with pytest.raises(collaborations.CollaborationDenied):
        browser.run(collaborations.create, SYSTEM, [world["ge"], world["li"]], "opschalen")
    accept(browser, world["match"])
    cid = only_collaboration(browser).id
    for call in (
        lambda: collaborations.change_stage(SYSTEM, cid, "in_gesprek"),
        lambda: collaborations.add_note(SYSTEM, cid, "hallo"),
        lambda: collaborations.add_link(SYSTEM, cid, "https://example.org", ""),
        lambda: collaborations.get_for(SYSTEM, cid),
        lambda: collaborations.list_for(SYSTEM, collaborations.CollaborationFilters()),
    ):
        with pytest.raises(collaborations.CollaborationDenied):
            browser.run(call)
    assert browser.run(lambda: CollaborationEvent.filter(collaboration_id=cid).count()) == 1


# Who may do what on a Gelderland–Limburg collaboration, through the web forms.
ROLES = {
    "coordinator": ("coordinator", None),
    "medewerker_deelnemer": ("medewerker", "NL-LI"),
    "medewerker_ander": ("medewerker", "NL-UT"),
    "beheerder": ("beheerder", None),
}
ACTIONS = {  # name: (path, form, who may)
    "fase wijzigen": ("fase", {"stage": "in_gesprek", "version": "1"}, {"coordinator"}),
    "volgende actie": (
        "actie",
        {"next_action": "Bellen", "next_action_due": "2030-01-01", "version": "1"},
        {"coordinator"},
    ),
    "notitie": ("notitie", {"note": "Wij doen mee."}, {"coordinator", "medewerker_deelnemer"}),
    "link": (
        "link",
        {"url": "https://tenderned.example/123", "label": "Aanbesteding"},
        {"coordinator", "medewerker_deelnemer"},
    ),
}


def _log_in(browser: Browser, who: str) -> None:
    role, province = ROLES[who]
    if role == "beheerder":
        from tests.test_permissions import login_beheerder

        login_beheerder(browser)
    else:
        browser.login_as(role, province)


async def _state(cid: int) -> tuple:
    collaboration = await Collaboration.get(id=cid)
    return (
        collaboration.stage,
        collaboration.next_action,
        collaboration.version,
        await CollaborationEvent.filter(collaboration_id=cid).count(),
        await CollaborationLink.filter(collaboration_id=cid).count(),
    )


@pytest.mark.parametrize("who", list(ROLES))
def test_who_may_change_what(world, who):
    """Each action on a fresh collaboration: allowed ones change it, refused ones change nothing and are audited."""
    browser = world["browser"]
    coordinator = browser.make_user("coordinator", None, email="eigenaar@test.example")
    _log_in(browser, who)
    for action, (path, form, allowed) in ACTIONS.items():
        cid = browser.run(collaborations.create, Actor(coordinator), [world["ge"], world["li"]], "opschalen").id
        before = browser.run(_state, cid)
        denied_before = browser.run(lambda: AuditEntry.filter(action="access_denied").count())
        response = browser.submit(f"/samenwerkingen/{cid}/{path}", form, follow_redirects=False)
        after = browser.run(_state, cid)
        if who in allowed:
            assert response.status_code == 303, (action, response.text)
            assert after != before, action
        else:
            assert response.status_code == 403, action
            assert after == before, action
            assert browser.run(lambda: AuditEntry.filter(action="access_denied").count()) == denied_before + 1


@pytest.mark.parametrize(
    "who,detail,on_initiative_page",
    [
        ("coordinator", 200, "link"),
        ("medewerker_deelnemer", 200, "link"),
        ("medewerker_ander", 403, "exists"),
        ("beheerder", 403, "exists"),
    ],
)
def test_who_sees_what(world, who, detail, on_initiative_page):
    browser = world["browser"]
    accept(browser, world["match"])
    collaboration = only_collaboration(browser)
    _log_in(browser, who)
    assert browser.get(f"/samenwerkingen/{collaboration.id}").status_code == detail
    page = browser.get(f"/initiatieven/{world['ge']}").text
    assert str(escape(collaboration.title)) in page
    assert (f'href="/samenwerkingen/{collaboration.id}"' in page) == (on_initiative_page == "link")


def test_a_concept_initiative_shows_no_collaboration_to_other_provinces(world):
    browser = world["browser"]
    accept(browser, world["match"])
    browser.run(lambda: Initiative.filter(id=world["ge"]).update(status="concept"))
    initiative = browser.run(Initiative.get, id=world["ge"])
    elsewhere = browser.make_user("medewerker", "NL-UT")
    own = browser.make_user("medewerker", "NL-GE")
    assert browser.run(collaborations.for_initiative, Actor(elsewhere), initiative) == []
    assert len(browser.run(collaborations.for_initiative, Actor(own), initiative)) == 1


def test_the_board_groups_by_stage_and_filters_without_javascript(world):
    browser = world["browser"]
    accept(browser, world["match"])
    first = only_collaboration(browser)
    title = str(escape(first.title))
    browser.login_as("coordinator", None)
    late = browser.submit(
        f"/samenwerkingen/{first.id}/actie",
        {
            "next_action": "Offerte opvragen",
            "next_action_due": (date.today() - timedelta(days=2)).isoformat(),
            "version": "1",
        },
        follow_redirects=False,
    )
    assert late.status_code == 303
    browser.post(
        "/api/v1/collaborations",
        json={"initiatives": [world["ut"], world["li"]], "type": "kennisuitwisseling", "title": "Utrecht en Limburg"},
        headers=browser.bearer(None, "coordinator"),
    )
    board = browser.get("/samenwerkingen").text
    assert title in board and "Utrecht en Limburg" in board and "te laat" in board
    overdue = browser.get("/samenwerkingen?overdue=1").text
    assert title in overdue and "Utrecht en Limburg" not in overdue
    by_type = browser.get("/samenwerkingen?type=kennisuitwisseling").text
    assert title not in by_type and "Utrecht en Limburg" in by_type
    by_province = browser.get("/samenwerkingen?province=Gelderland").text
    assert title in by_province and "Utrecht en Limburg" not in by_province
    bad = browser.get("/samenwerkingen?type=iets")
    assert bad.status_code == 200 and "Kies gezamenlijke_inkoop" in bad.text


def test_a_form_error_shows_next_to_the_field_and_a_stale_form_is_a_conflict(world):
    browser = world["browser"]
    accept(browser, world["match"])
    cid = only_collaboration(browser).id
    browser.login_as("coordinator", None)
    no_reason = browser.submit(f"/samenwerkingen/{cid}/fase", {"stage": "gestopt", "reason": "", "version": "1"})
    assert no_reason.status_code == 422 and 'id="fout-reason"' in no_reason.text
    assert (
        browser.submit(
            f"/samenwerkingen/{cid}/fase", {"stage": "in_gesprek", "version": "1"}, follow_redirects=False
        ).status_code
        == 303
    )
    stale = browser.submit(f"/samenwerkingen/{cid}/actie", {"next_action": "Bellen met Brabant", "version": "1"})
    assert stale.status_code == 409 and "intussen gewijzigd" in stale.text
    # What was typed stays in the form, under the new version, so saving again is one click.
    assert 'name="next_action" maxlength="300" value="Bellen met Brabant"' in stale.text
    assert stale.text.count('name="version" value="2"') == 3
    bad_date = browser.submit(
        f"/samenwerkingen/{cid}/actie",
        {"next_action": "Bellen met Brabant", "next_action_due": "31-02-2026", "version": "2"},
    )
    assert bad_date.status_code == 422 and 'id="fout-next_action_due"' in bad_date.text
    assert 'value="Bellen met Brabant"' in bad_date.text and 'value="31-02-2026"' in bad_date.text
    no_reason = browser.submit(f"/samenwerkingen/{cid}/fase", {"stage": "gestopt", "reason": " ", "version": "2"})
    assert no_reason.status_code == 422 and re.search(r'<option value="gestopt"\s+selected>', no_reason.text)


def test_start_samenwerking_on_a_cluster(world):
    browser = world["browser"]
    browser.login_as("coordinator", None)
    response = browser.submit(
        "/samenwerkingen/start",
        {"initiative": [world["ge"], world["li"], world["ut"]], "type": "gezamenlijke_inkoop"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    collaboration = only_collaboration(browser)
    assert {i.id for i in collaboration.initiatives} == {world["ge"], world["li"], world["ut"]}
    assert world["match"] in {m.id for m in collaboration.matches}
    browser.login_as("medewerker", "NL-GE")
    assert (
        browser.submit(
            "/samenwerkingen/start",
            {"initiative": [world["ge"], world["ut"]], "type": "opschalen"},
            follow_redirects=False,
        ).status_code
        == 403
    )


def test_the_api_is_role_checked_and_validates(world):
    browser = world["browser"]
    body = {"initiatives": [world["ge"], world["li"]], "type": "opschalen"}
    assert browser.post("/api/v1/collaborations", json=body, headers=browser.bearer("NL-GE")).status_code == 403
    bad = browser.post(
        "/api/v1/collaborations",
        json={"initiatives": [world["ge"]], "type": "iets", "x": 1},
        headers=browser.bearer(None, "coordinator"),
    )
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["errors"]] == ["x"]
    bad_type = browser.post(
        "/api/v1/collaborations", json={**body, "type": "iets"}, headers=browser.bearer(None, "coordinator")
    )
    assert bad_type.status_code == 400 and [e["field"] for e in bad_type.json()["errors"]] == ["type"]
    same_province = browser.post(
        "/api/v1/collaborations",
        json={**body, "initiatives": [world["ge"], world["ge"]]},
        headers=browser.bearer(None, "coordinator"),
    )
    assert same_province.status_code == 400
    cid = browser.post("/api/v1/collaborations", json=body, headers=browser.bearer(None, "coordinator")).json()["id"]
    assert browser.get(f"/api/v1/collaborations/{cid}", headers=browser.bearer("NL-UT")).status_code == 403
    assert browser.get(f"/api/v1/collaborations/{cid}", headers=browser.bearer("NL-LI")).status_code == 200
    assert browser.get("/api/v1/collaborations", headers=browser.bearer("NL-UT")).json()["total"] == 0
    assert browser.get("/api/v1/collaborations", headers=browser.bearer("NL-LI")).json()["total"] == 1
    assert (
        browser.post(
            f"/api/v1/collaborations/{cid}/notes", json={"note": "Doen we"}, headers=browser.bearer("NL-LI")
        ).status_code
        == 201
    )
    assert (
        browser.post(
            f"/api/v1/collaborations/{cid}/stage",
            json={"stage": "in_gesprek"},
            headers={**browser.bearer("NL-LI"), "If-Match": '"1"'},
        ).status_code
        == 403
    )
    assert browser.get("/api/v1/collaborations/999999", headers=browser.bearer(None, "coordinator")).status_code == 404


def test_the_api_sets_next_action_owner_and_links_with_versions_and_problems(world):
    browser = world["browser"]
    coordinator = browser.bearer(None, "coordinator")
    cid = browser.post(
        "/api/v1/collaborations",
        json={"initiatives": [world["ge"], world["li"]], "type": "gezamenlijke_inkoop"},
        headers=coordinator,
    ).json()["id"]
    base = f"/api/v1/collaborations/{cid}"
    due = (date.today() + timedelta(days=14)).isoformat()

    assert (
        browser.post(
            f"{base}/next-action", json={"next_action": "Offerte", "due": due}, headers=coordinator
        ).status_code
        == 428
    )
    bad = browser.post(
        f"{base}/next-action",
        json={"next_action": "Offerte", "due": "volgende week", "x": 1},
        headers={**coordinator, "If-Match": '"1"'},
    )
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert sorted(e["field"] for e in bad.json()["errors"]) == ["due", "x"]
    no_action = browser.post(
        f"{base}/next-action", json={"next_action": "", "due": due}, headers={**coordinator, "If-Match": '"1"'}
    )
    assert no_action.status_code == 400 and [e["field"] for e in no_action.json()["errors"]] == ["next_action"]
    action = browser.post(
        f"{base}/next-action",
        json={"next_action": "Offerte opvragen", "due": due},
        headers={**coordinator, "If-Match": '"1"'},
    )
    assert action.status_code == 200, action.text
    assert (action.json()["next_action"], action.json()["next_action_due"]) == ("Offerte opvragen", due)
    assert action.headers["ETag"] == '"2"'
    stale = browser.post(
        f"{base}/next-action", json={"next_action": "Iets anders"}, headers={**coordinator, "If-Match": '"1"'}
    )
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'

    other = browser.make_user("coordinator", None, email="tweede.coordinator@test.example", name="Tweede")
    medewerker = browser.make_user("medewerker", "NL-GE", email="geen.eigenaar@test.example")
    not_coordinator = browser.post(
        f"{base}/owner", json={"owner": medewerker.id}, headers={**coordinator, "If-Match": '"2"'}
    )
    assert not_coordinator.status_code == 400 and not_coordinator.json()["errors"][0]["field"] == "owner"
    assert (
        browser.post(f"{base}/owner", json={"owner": "Tweede"}, headers={**coordinator, "If-Match": '"2"'}).status_code
        == 400
    )
    owner = browser.post(f"{base}/owner", json={"owner": other.id}, headers={**coordinator, "If-Match": '"2"'})
    assert owner.status_code == 200 and owner.json()["owner"] == {"id": other.id, "name": "Tweede"}

    participant = browser.bearer("NL-LI")
    bad_link = browser.post(f"{base}/links", json={"url": "javascript:alert(1)"}, headers=participant)
    assert bad_link.status_code == 400 and bad_link.json()["errors"][0]["field"] == "url"
    link = browser.post(
        f"{base}/links", json={"url": "https://tenderned.example/123", "label": "Aanbesteding"}, headers=participant
    )
    assert link.status_code == 201 and link.json()["links"] == [
        {"url": "https://tenderned.example/123", "label": "Aanbesteding"}
    ]
    listed = browser.get(f"{base}/links", headers=coordinator).json()
    assert listed["total"] == 1 and listed["items"][0]["label"] == "Aanbesteding"
    assert listed["items"][0]["added_by"] == "api.medewerker.nl-li@test.example"
    assert browser.get(f"{base}/links", headers=browser.bearer("NL-UT")).status_code == 403
    assert browser.get("/api/v1/collaborations/999999/links", headers=coordinator).status_code == 404

    kinds = [e["kind"] for e in browser.get(base, headers=coordinator).json()["timeline"]]
    assert kinds == ["aangemaakt", "actie", "eigenaar", "link"]
    cleared = browser.post(f"{base}/next-action", json={"next_action": ""}, headers={**coordinator, "If-Match": '"3"'})
    assert cleared.status_code == 200 and cleared.json()["next_action_due"] is None


def test_an_htmx_filter_change_gets_only_the_board_and_both_variants_vary_on_hx_request(world):
    browser = world["browser"]
    accept(browser, world["match"])
    title = str(escape(only_collaboration(browser).title))
    browser.login_as("coordinator", None)
    page = browser.get("/samenwerkingen?type=gezamenlijke_inkoop")
    assert "HX-Request" in page.headers["vary"] and "<form" in page.text and title in page.text
    fragment = browser.get("/samenwerkingen?type=kennisuitwisseling", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["vary"]
    assert fragment.headers["cache-control"] == "no-store"
    assert fragment.text.lstrip().startswith('<div id="samenwerkingen-bord">') and "<form" not in fragment.text
    assert title not in fragment.text and 'hx-swap-oob="innerHTML">0 samenwerkingen gevonden' in fragment.text
    restore = browser.get("/samenwerkingen", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<form" in restore.text  # Back after a cache miss gets the whole page
