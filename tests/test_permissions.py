"""Who may change what: role × own/other province × every state-changing route and API endpoint.

Each case runs against a real database and checks both the answer and the database: an allowed
request changes something, a refused one changes nothing and (for a logged-in user) is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest

from kennisbank import audit
from kennisbank.accounts import service as accounts
from kennisbank.accounts import sessions
from kennisbank.audit import SYSTEM, Actor
from kennisbank.models import (
    ApiToken,
    AuditEntry,
    Collaboration,
    CollaborationEvent,
    CollaborationLink,
    Initiative,
    MatchSuggestion,
    Subscription,
    User,
    UserSession,
)
from tests.conftest import TEST_PASSWORD, Browser, as_form, valid_initiative

ROLES = {  # name: (role, province)
    "medewerker_eigen": ("medewerker", "NL-GE"),
    "medewerker_ander": ("medewerker", "NL-LI"),
    "coordinator": ("coordinator", None),
    "beheerder": ("beheerder", None),
}
LOGGED_IN = set(ROLES)


def db(browser: Browser, make: Callable[[], Any]) -> Any:
    """Await ``make()`` (a query) on the app's loop."""

    async def go() -> Any:
        return await make()

    return browser.run(go)


def login_beheerder(browser: Browser, email: str = "beheerder.ida@test.example") -> tuple[User, str]:
    """Log in as a beheerder who has already enrolled in two-step login; returns the user and TOTP secret."""
    user = browser.run(User.get_or_none, email=email) or browser.make_user("beheerder", None, email=email)
    secret = pyotp.random_base32()
    db(browser, lambda: User.filter(id=user.id).update(totp_secret=secret, totp_last_step=0))
    assert browser.login(email).headers["location"].startswith("/inloggen/code")
    response = browser.submit("/inloggen/code", {"code": pyotp.TOTP(secret).now()}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return user, secret


def log_in_as(browser: Browser, who: str) -> User | None:
    if who == "anonymous":
        return None
    role, province = ROLES[who]
    if role == "beheerder":
        return login_beheerder(browser)[0]
    return browser.login_as(role, province)


async def snapshot() -> dict[str, list]:
    """Everything a state-changing request could touch (the audit log aside, which refusals append to)."""
    return {
        "initiatives": await Initiative.all()
        .order_by("id")
        .values_list("id", "province_id", "status", "title", "version", "external_id"),
        "users": await User.all()
        .order_by("id")
        .values_list("id", "email", "role", "province_id", "active", "password_hash", "totp_secret", "digest_weekly"),
        "tokens": await ApiToken.all().order_by("id").values_list("id", "user_id", "revoked_at"),
        "sessions": await UserSession.all().order_by("id").values_list("id", "user_id"),
        "subscriptions": await Subscription.all().order_by("id").values_list("id", "user_id", "kind", "value"),
        "matches": await MatchSuggestion.all().order_by("id").values_list("id", "status", "note"),
        "collaborations": await Collaboration.all()
        .order_by("id")
        .values_list("id", "stage", "owner_id", "next_action", "next_action_due", "version"),
        "collaboration_events": await CollaborationEvent.all().order_by("id").values_list("id", "kind", "text"),
        "collaboration_links": await CollaborationLink.all().order_by("id").values_list("id", "url"),
    }


@dataclass
class World:
    gelderland: int  # a published Gelderland initiative
    victim: User  # another account, with a session and an API token
    victim_token: int
    match: int = 0  # a suggested match between Gelderland and Limburg (made only for the cases that need it)
    utrecht: int = 0  # a published Utrecht initiative (with the collaboration)
    collaboration: int = 0  # a Gelderland–Utrecht collaboration: medewerker_eigen takes part, medewerker_ander not
    second_coordinator: int = 0  # another coordinator, to hand the collaboration to


def make_world(browser: Browser) -> World:
    initiative = browser.create_initiative()
    victim = browser.run(
        accounts.create_user,
        SYSTEM,
        email="slachtoffer@test.example",
        role="medewerker",
        province="NL-UT",
        password=None,
    )
    browser.run(sessions.start, victim, ip="", second_factor_done=True)
    token = browser.run(accounts.create_token, Actor(victim), "van het slachtoffer")
    return World(initiative["id"], victim, token.record.id)


def make_match(browser: Browser, world: World) -> int:
    """The twin of the Gelderland initiative in Limburg: matching suggests the pair by itself."""
    browser.create_initiative(province="NL-LI", external_id="LI-1")
    match = browser.run(MatchSuggestion.get, status="voorgesteld")
    return match.id


def make_collaboration(browser: Browser, world: World) -> None:
    """A Gelderland–Utrecht collaboration started through the API by a coordinator of its own."""
    world.utrecht = browser.create_initiative(province="NL-UT", external_id="UT-1", title="Wegdekscan Utrecht")["id"]
    response = browser.post(
        "/api/v1/collaborations",
        json={"initiatives": [world.gelderland, world.utrecht], "type": "gezamenlijke_inkoop"},
        headers=browser.bearer(None, "coordinator"),
    )
    assert response.status_code == 201, response.text
    world.collaboration = response.json()["id"]
    world.second_coordinator = browser.make_user("coordinator", None, email="tweede.ida@test.example").id


@dataclass(frozen=True)
class Case:
    method: str
    url: Callable[[World], str]
    body: Callable[[World], dict[str, Any]]
    allowed: frozenset[str]
    success: int
    refused: int = 403
    form: bool = True  # a web form (CSRF token in the body) or a JSON API call
    needs_match: bool = False
    needs_collaboration: bool = False
    headers: tuple[tuple[str, str], ...] = ()


def _edit_form(world: World) -> dict[str, Any]:
    return {**as_form(valid_initiative(title="Gewijzigde titel")), "version": "1"}


CASES = {
    "web: initiatief aanmaken": Case(
        "POST",
        lambda w: "/initiatieven/nieuw",
        lambda w: as_form(valid_initiative(external_id="GE-NIEUW")),
        frozenset({"medewerker_eigen"}),
        303,
    ),
    "web: initiatief bewerken": Case(
        "POST", lambda w: f"/initiatieven/{w.gelderland}/bewerken", _edit_form, frozenset({"medewerker_eigen"}), 303
    ),
    "web: initiatief archiveren": Case(
        "POST", lambda w: f"/initiatieven/{w.gelderland}/archiveren", lambda w: {}, frozenset({"medewerker_eigen"}), 303
    ),
    "web: account aanmaken": Case(
        "POST",
        lambda w: "/beheer/gebruikers/nieuw",
        lambda w: {
            "email": "nieuw@test.example",
            "role": "coordinator",
            "province": "",
            "name": "Nieuw",
            "password": "een lang nieuw wachtwoord",
            "active": "on",
        },
        frozenset({"beheerder"}),
        303,
    ),
    "web: rol wijzigen": Case(
        "POST",
        lambda w: f"/beheer/gebruikers/{w.victim.id}",
        lambda w: {"role": "coordinator", "province": "", "name": "", "active": "on"},
        frozenset({"beheerder"}),
        303,
    ),
    "web: account blokkeren": Case(
        "POST",
        lambda w: f"/beheer/gebruikers/{w.victim.id}",
        lambda w: {"role": "medewerker", "province": "NL-UT", "name": ""},
        frozenset({"beheerder"}),
        303,
    ),
    "web: sessies beëindigen": Case(
        "POST",
        lambda w: f"/beheer/gebruikers/{w.victim.id}/sessies-beeindigen",
        lambda w: {},
        frozenset({"beheerder"}),
        303,
    ),
    "web: eigen wachtwoord wijzigen": Case(
        "POST",
        lambda w: "/account/wachtwoord",
        lambda w: {"current_password": TEST_PASSWORD, "new_password": "een heel ander wachtwoord"},
        LOGGED_IN,
        303,
    ),
    "web: API-token aanmaken": Case(
        "POST",
        lambda w: "/account/tokens",
        lambda w: {"name": "script", "current_password": TEST_PASSWORD},
        LOGGED_IN,
        201,
    ),
    "web: token van een ander intrekken": Case(
        "POST", lambda w: f"/account/tokens/{w.victim_token}/intrekken", lambda w: {}, frozenset(), 0, refused=404
    ),
    "web: overzicht-instellingen": Case(
        "POST", lambda w: "/account/overzicht", lambda w: {"weekly": "nee"}, LOGGED_IN, 303
    ),
    "web: match beoordelen": Case(
        "POST",
        lambda w: f"/matches/{w.match}/beoordeling",
        lambda w: {"status": "geaccepteerd", "note": "ja"},
        frozenset({"coordinator"}),
        303,
        needs_match=True,
    ),
    "api: POST /matches/{id}/decision": Case(
        "POST",
        lambda w: f"/api/v1/matches/{w.match}/decision",
        lambda w: {"status": "afgewezen"},
        frozenset({"coordinator"}),
        200,
        form=False,
        needs_match=True,
    ),
    "api: POST /initiatives": Case(
        "POST",
        lambda w: "/api/v1/initiatives",
        lambda w: valid_initiative(external_id="GE-API"),
        frozenset({"medewerker_eigen"}),
        201,
        form=False,
    ),
    "api: PATCH /initiatives/{id}": Case(
        "PATCH",
        lambda w: f"/api/v1/initiatives/{w.gelderland}",
        lambda w: {"title": "Via de API gewijzigd"},
        frozenset({"medewerker_eigen"}),
        200,
        form=False,
        headers=(("If-Match", '"1"'),),
    ),
    "api: POST /initiatives/{id}/archive": Case(
        "POST",
        lambda w: f"/api/v1/initiatives/{w.gelderland}/archive",
        lambda w: {},
        frozenset({"medewerker_eigen"}),
        200,
        form=False,
        headers=(("If-Match", '"1"'),),
    ),
    "api: POST /collaborations": Case(
        "POST",
        lambda w: "/api/v1/collaborations",
        lambda w: {"initiatives": [w.gelderland, w.utrecht], "type": "opschalen"},
        frozenset({"coordinator"}),
        201,
        form=False,
        needs_collaboration=True,
    ),
    "api: POST /collaborations/{id}/stage": Case(
        "POST",
        lambda w: f"/api/v1/collaborations/{w.collaboration}/stage",
        lambda w: {"stage": "in_gesprek"},
        frozenset({"coordinator"}),
        200,
        form=False,
        needs_collaboration=True,
        headers=(("If-Match", '"1"'),),
    ),
    "api: POST /collaborations/{id}/next-action": Case(
        "POST",
        lambda w: f"/api/v1/collaborations/{w.collaboration}/next-action",
        lambda w: {"next_action": "Offerte opvragen", "due": "2030-01-31"},
        frozenset({"coordinator"}),
        200,
        form=False,
        needs_collaboration=True,
        headers=(("If-Match", '"1"'),),
    ),
    "api: POST /collaborations/{id}/owner": Case(
        "POST",
        lambda w: f"/api/v1/collaborations/{w.collaboration}/owner",
        lambda w: {"owner": w.second_coordinator},
        frozenset({"coordinator"}),
        200,
        form=False,
        needs_collaboration=True,
        headers=(("If-Match", '"1"'),),
    ),
    "api: POST /collaborations/{id}/notes": Case(
        "POST",
        lambda w: f"/api/v1/collaborations/{w.collaboration}/notes",
        lambda w: {"note": "Gebeld."},
        frozenset({"coordinator", "medewerker_eigen"}),
        201,
        form=False,
        needs_collaboration=True,
    ),
    "api: POST /collaborations/{id}/links": Case(
        "POST",
        lambda w: f"/api/v1/collaborations/{w.collaboration}/links",
        lambda w: {"url": "https://tenderned.example/1", "label": "Bestek"},
        frozenset({"coordinator", "medewerker_eigen"}),
        201,
        form=False,
        needs_collaboration=True,
    ),
    "web: samenwerking fase": Case(
        "POST",
        lambda w: f"/samenwerkingen/{w.collaboration}/fase",
        lambda w: {"stage": "in_gesprek", "version": "1"},
        frozenset({"coordinator"}),
        303,
        needs_collaboration=True,
    ),
    "web: samenwerking eigenaar": Case(
        "POST",
        lambda w: f"/samenwerkingen/{w.collaboration}/eigenaar",
        lambda w: {"owner": str(w.second_coordinator), "version": "1"},
        frozenset({"coordinator"}),
        303,
        needs_collaboration=True,
    ),
    "web: samenwerking notitie": Case(
        "POST",
        lambda w: f"/samenwerkingen/{w.collaboration}/notitie",
        lambda w: {"note": "Gebeld."},
        frozenset({"coordinator", "medewerker_eigen"}),
        303,
        needs_collaboration=True,
    ),
    "web: samenwerking link": Case(
        "POST",
        lambda w: f"/samenwerkingen/{w.collaboration}/link",
        lambda w: {"url": "https://tenderned.example/1", "label": "Bestek"},
        frozenset({"coordinator", "medewerker_eigen"}),
        303,
        needs_collaboration=True,
    ),
}


def send(browser: Browser, case: Case, world: World, headers: dict[str, str] | None = None):
    url, body = case.url(world), case.body(world)
    headers = {**dict(case.headers), **(headers or {})}
    if case.form:
        return browser.request(
            case.method, url, data={**body, "csrf_token": browser.csrf()}, headers=headers, follow_redirects=False
        )
    return browser.request(case.method, url, json=body, headers=headers, follow_redirects=False)


@pytest.mark.parametrize("who", [*ROLES, "anonymous"])
@pytest.mark.parametrize("name", CASES)
def test_who_may_change_what(anonymous: Browser, name: str, who: str):
    case = CASES[name]
    world = make_world(anonymous)
    if case.needs_match:
        world.match = make_match(anonymous, world)
    if case.needs_collaboration:
        make_collaboration(anonymous, world)
    user = log_in_as(anonymous, who)
    before = anonymous.run(snapshot)

    response = send(anonymous, case, world)

    after = anonymous.run(snapshot)
    if who in case.allowed:
        assert response.status_code == case.success, response.text
        assert after != before, "allowed, but nothing changed"
        return
    if who == "anonymous":
        if case.form:
            assert response.status_code == 303 and response.headers["location"].startswith("/inloggen")
        else:
            assert response.status_code == 401
    else:
        assert response.status_code == case.refused, response.text
    assert after == before, "refused, but the database changed"
    if user is not None and case.refused == 403:
        denied = anonymous.run(
            AuditEntry.filter(action="access_denied", result="geweigerd", actor_email=user.email).count
        )
        assert denied == 1


@pytest.mark.parametrize("who", ROLES)
def test_api_tokens_carry_the_same_rules_as_sessions(anonymous: Browser, who: str):
    """The same table over `Authorization: Bearer` instead of the session cookie (no login at all)."""
    world = make_world(anonymous)
    role, province = ROLES[who]
    headers = anonymous.bearer(province, role)
    for name in ("api: PATCH /initiatives/{id}", "api: POST /initiatives"):
        case = CASES[name]
        before = anonymous.run(snapshot)
        response = send(anonymous, case, world, headers=headers)
        after = anonymous.run(snapshot)
        if who in case.allowed:
            assert response.status_code == case.success, response.text
        else:
            assert response.status_code == 403 and after == before


# --- mass assignment -----------------------------------------------------------------------------------------


def current(browser: Browser, initiative_id: int) -> Initiative:
    return browser.run(Initiative.get, id=initiative_id)


def test_a_medewerker_cannot_move_their_initiative_to_another_province(client: Browser):
    initiative = client.create_initiative()
    patched = client.patch(
        f"/api/v1/initiatives/{initiative['id']}", json={"province": "NL-LI"}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 403
    form = {**as_form(valid_initiative(province="NL-LI")), "version": "1", "csrf_token": client.csrf()}
    edited = client.post(f"/initiatieven/{initiative['id']}/bewerken", data=form, follow_redirects=False)
    assert edited.status_code == 403
    stored = current(client, initiative["id"])
    assert (stored.province_id, stored.version) == ("NL-GE", 1)


def test_a_medewerker_cannot_create_for_another_province(client: Browser):
    api = client.post("/api/v1/initiatives", json=valid_initiative(province="Limburg", external_id="LI-1"))
    web = client.submit(
        "/initiatieven/nieuw", as_form(valid_initiative(province="NL-LI", external_id="LI-2")), follow_redirects=False
    )
    assert (api.status_code, web.status_code) == (403, 403)
    assert client.run(Initiative.all().count) == 0


@pytest.mark.parametrize("status", ["concept", "gearchiveerd"])
def test_a_medewerker_cannot_set_another_provinces_status(client: Browser, status: str):
    limburg = client.create_initiative(province="NL-LI", external_id="LI-1")
    patched = client.patch(f"/api/v1/initiatives/{limburg['id']}", json={"status": status})
    form = {
        **as_form(valid_initiative(province="NL-LI", external_id="LI-1", status=status)),
        "version": "1",
        "csrf_token": client.csrf(),
    }
    edited = client.post(f"/initiatieven/{limburg['id']}/bewerken", data=form, follow_redirects=False)
    assert (patched.status_code, edited.status_code) == (403, 403)
    assert str(current(client, limburg["id"]).status) == "gepubliceerd"


@pytest.mark.parametrize("field, value", [("id", 999), ("version", 40), ("created_by", 1), ("province_name", "x")])
def test_bookkeeping_fields_cannot_be_assigned(client: Browser, field: str, value: Any):
    initiative = client.create_initiative()
    response = client.patch(
        f"/api/v1/initiatives/{initiative['id']}",
        json={field: value, "title": "Nieuwe titel"},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 400
    stored = current(client, initiative["id"])
    assert (stored.id, stored.version, stored.title) == (initiative["id"], 1, initiative["title"])


# --- concepts --------------------------------------------------------------------------------------------------

CONCEPT_TITLE = "Geheim conceptplan voor slimme dijken"


def concept_is_visible(browser: Browser, initiative_id: int) -> dict[str, bool]:
    """Where a viewer finds the concept: each way of looking must agree."""
    return {
        "detail": browser.get(f"/initiatieven/{initiative_id}").status_code == 200,
        "api": browser.get(f"/api/v1/initiatives/{initiative_id}").status_code == 200,
        "list": CONCEPT_TITLE in browser.get("/initiatieven?status=concept").text,
        "api list": any(
            i["id"] == initiative_id for i in browser.get("/api/v1/initiatives?status=concept").json()["items"]
        ),
        "search": f'/initiatieven/{initiative_id}"' in browser.get("/zoeken?q=dijken&status=concept").text,
        "api search": any(
            hit["id"] == initiative_id for hit in browser.get("/api/v1/search?q=dijken&status=concept").json()["hits"]
        ),
    }


@pytest.mark.parametrize(
    "who, sees", [("medewerker_eigen", True), ("medewerker_ander", False), ("coordinator", True), ("beheerder", False)]
)
def test_concepts_are_visible_only_to_their_province_and_coordinators(anonymous: Browser, who: str, sees: bool):
    concept = anonymous.create_initiative(title=CONCEPT_TITLE, status="concept")
    log_in_as(anonymous, who)
    assert concept_is_visible(anonymous, concept["id"]) == dict.fromkeys(
        ["detail", "api", "list", "api list", "search", "api search"], sees
    )
    if not sees:
        assert anonymous.get(f"/initiatieven/{concept['id']}/bewerken").status_code == 404
        assert anonymous.patch(f"/api/v1/initiatives/{concept['id']}", json={"title": "x"}).status_code == 404


# --- login requirement ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/initiatieven",
        "/initiatieven/1",
        "/initiatieven/nieuw",
        "/zoeken?q=water",
        "/account",
        "/beheer/gebruikers",
        "/beheer/audit",
        "/matches",
    ],
)
def test_reading_pages_needs_a_login(anonymous: Browser, path: str):
    anonymous.create_initiative()
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/inloggen?volgende=")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/initiatives", "/api/v1/initiatives/1", "/api/v1/search?q=water", "/api/v1/provinces", "/api/v1/themes"],
)
def test_reading_the_api_needs_a_login_or_token(anonymous: Browser, path: str):
    anonymous.create_initiative()
    response = anonymous.get(path)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Wegdekinspectie" not in response.text


@pytest.mark.parametrize(
    "path", ["/inloggen", "/api/v1/openapi.json", "/toegankelijkheid", "/healthz", "/static/kennisbank.css"]
)
def test_public_paths_need_no_login(anonymous: Browser, path: str):
    assert anonymous.get(path, follow_redirects=False).status_code == 200


def test_an_unknown_bearer_token_reads_nothing(anonymous: Browser):
    anonymous.create_initiative()
    response = anonymous.get("/api/v1/initiatives", headers={"Authorization": "Bearer kb_geraden"})
    assert response.status_code == 401


# --- the crafted POST of issue 4, audited ----------------------------------------------------------------------


def test_a_crafted_post_on_another_provinces_initiative_is_refused_and_audited(anonymous: Browser):
    limburg = anonymous.create_initiative(province="NL-LI", external_id="LI-1")
    user = anonymous.login_as("medewerker", "NL-GE")
    assert "/bewerken" not in anonymous.get(f"/initiatieven/{limburg['id']}").text  # no edit button to begin with
    form = {**as_form(valid_initiative(province="NL-LI", external_id="LI-1", title="Overgenomen")), "version": "1"}
    response = anonymous.submit(f"/initiatieven/{limburg['id']}/bewerken", form, follow_redirects=False)
    assert response.status_code == 403 and "geen rechten" in response.text
    entry = anonymous.run(AuditEntry.get, action="access_denied")
    assert (entry.result, entry.actor_id, entry.actor_email, entry.object_type, entry.object_id) == (
        "geweigerd",
        user.id,
        user.email,
        "initiative",
        str(limburg["id"]),
    )
    assert entry.ip == "testclient"
    assert current(anonymous, limburg["id"]).title == limburg["title"]


def test_an_accepted_match_does_not_reveal_an_initiative_that_went_back_to_concept(anonymous: Browser):
    """Matched and accepted while both were published; then Gelderland turns theirs back into a concept.
    Limburg's detail page and weekly digest list accepted matches, but must no longer name Gelderland's concept."""
    world = make_world(anonymous)
    match_id = make_match(anonymous, world)
    limburg = anonymous.run(MatchSuggestion.get, id=match_id)
    limburg_id = limburg.b_id if limburg.a_id == world.gelderland else limburg.a_id
    anonymous.login_as("coordinator", None)
    assert (
        anonymous.submit(
            f"/matches/{match_id}/beoordeling", {"status": "geaccepteerd"}, follow_redirects=False
        ).status_code
        == 303
    )
    anonymous.cookies.clear()
    anonymous.login_as("medewerker", "NL-GE")
    secret_title = "Vertrouwelijk herzien plan"
    version = anonymous.get(f"/api/v1/initiatives/{world.gelderland}").headers["ETag"]
    patched = anonymous.patch(
        f"/api/v1/initiatives/{world.gelderland}",
        json={"status": "concept", "title": secret_title},
        headers={"If-Match": version},
    )
    assert patched.status_code == 200
    anonymous.cookies.clear()
    anonymous.login_as("medewerker", "NL-LI")
    page = anonymous.get(f"/initiatieven/{limburg_id}")
    assert page.status_code == 200
    assert secret_title not in page.text and f'href="/initiatieven/{world.gelderland}"' not in page.text
    digest = anonymous.get("/digest/voorbeeld")  # the weekly mail's "newly accepted matches" of this week
    assert digest.status_code == 200 and secret_title not in digest.text


def test_the_initiative_services_refuse_an_anonymous_actor_and_serve_the_system_actor(anonymous: Browser):
    """Safety must not rest on the middleware: a service called without a user refuses, and audits it."""
    from kennisbank.initiatives import service
    from kennisbank.initiatives.validation import parse_initiative

    data = parse_initiative(valid_initiative())
    nobody = Actor(None, "192.0.2.7")
    with pytest.raises(service.PermissionDenied):
        anonymous.run(service.create_initiative, nobody, data)
    created = anonymous.run(service.create_initiative, SYSTEM, data)  # the command line's import
    with pytest.raises(service.PermissionDenied):
        anonymous.run(service.update_initiative, nobody, created.id, data)
    with pytest.raises(service.PermissionDenied):
        anonymous.run(service.archive_initiative, nobody, created.id)
    denied = anonymous.run(AuditEntry.filter(action="access_denied", result=audit.DENIED).count)
    assert denied == 3
    assert anonymous.run(Initiative.filter(id=created.id).values_list, "status", flat=True) == ["gepubliceerd"]
