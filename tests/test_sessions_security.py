"""Sessions (fixation, logout, timeouts, ending them), CSRF, XSS, security headers, cookies and error pages."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import httpx
import pytest
from starlette.requests import Request
from tortoise import timezone

from kennisbank.accounts import sessions
from kennisbank.models import Initiative, User, UserSession
from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from kennisbank.web.middleware.security_headers import API_VERSION
from tests.conftest import TEST_PASSWORD, Browser, as_form, valid_initiative
from tests.test_permissions import db, login_beheerder

COOKIE = "kb_session"
DOMAIN = "testserver.local"  # where httpx files the test server's cookies


def session_works(browser: Browser, token: str) -> bool:
    """Whether a request carrying this session cookie (say, replayed by an attacker) is logged in.
    The browser's own session cookie is put back afterwards."""
    own = browser.cookies.get(COOKIE)
    browser.cookies.set(COOKIE, token, domain=DOMAIN)
    try:
        response = browser.get("/account", follow_redirects=False)
    finally:
        browser.cookies.delete(COOKIE)
        if own:
            browser.cookies.set(COOKIE, own, domain=DOMAIN)
    assert response.status_code in (200, 303)
    return response.status_code == 200


def start_session(browser: Browser, user: User) -> str:
    """A logged-in session of ``user`` that another browser holds."""
    return browser.run(sessions.start, user, ip="", second_factor_done=True)


# --- sessions -------------------------------------------------------------------------------------------------


def test_login_issues_a_new_session_id_and_a_planted_one_is_worthless(anonymous: Browser):
    user = anonymous.make_user()
    planted = start_session(anonymous, user)  # e.g. an attacker's own valid session, pushed into the victim's browser
    anonymous.cookies.set(COOKIE, planted, domain=DOMAIN)
    anonymous.login(user.email)
    after = anonymous.cookies[COOKIE]
    assert after != planted
    assert not session_works(anonymous, planted)
    assert session_works(anonymous, after)

    anonymous.login(user.email)  # logging in again also renews the id
    assert anonymous.cookies[COOKIE] != after and not session_works(anonymous, after)


def test_an_invented_session_cookie_is_ignored(anonymous: Browser):
    anonymous.make_user()
    anonymous.cookies.set(COOKIE, "door-de-aanvaller-gekozen", domain=DOMAIN)
    assert anonymous.get("/", follow_redirects=False).headers["location"].startswith("/inloggen")
    anonymous.login("medewerker.nl-ge@test.example")
    assert anonymous.cookies[COOKIE] != "door-de-aanvaller-gekozen"


def test_logout_ends_the_server_session(client: Browser):
    token = client.cookies[COOKIE]
    response = client.submit("/uitloggen", {}, follow_redirects=False)
    assert response.status_code == 303
    assert client.run(UserSession.all().count) == 0
    assert not session_works(client, token)  # replaying the old cookie does not bring it back


def test_logout_needs_a_post(client: Browser):
    """A GET (an <img src="/uitloggen"> on another site) changes nothing."""
    assert client.get("/uitloggen").status_code == 405
    assert session_works(client, client.cookies[COOKIE])


@pytest.mark.parametrize(
    "column, age, alive",
    [
        ("last_seen_at", timedelta(minutes=59), True),
        ("last_seen_at", timedelta(minutes=61), False),  # idle timeout: 60 minutes by default
        ("created_at", timedelta(hours=11, minutes=59), True),
        ("created_at", timedelta(hours=12, minutes=1), False),  # absolute timeout: 12 hours by default
    ],
)
def test_sessions_expire_when_idle_and_at_the_latest_after_the_maximum(
    client: Browser, column: str, age: timedelta, alive: bool
):
    token = client.cookies[COOKIE]
    db(client, lambda: UserSession.all().update(**{column: timezone.now() - age}))
    assert session_works(client, token) is alive
    assert client.run(UserSession.all().count) == int(alive)  # an expired session is deleted, not just ignored


def test_disabling_an_account_ends_its_sessions(anonymous: Browser):
    victim = anonymous.make_user("medewerker", "NL-GE")
    token = start_session(anonymous, victim)
    login_beheerder(anonymous)
    response = anonymous.submit(
        f"/beheer/gebruikers/{victim.id}", {"role": "medewerker", "province": "NL-GE"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert not session_works(anonymous, token)
    assert anonymous.run(UserSession.filter(user_id=victim.id).count) == 0
    assert anonymous.login(victim.email).status_code == 401  # and the account cannot log in again


def test_a_beheerder_ends_someones_sessions(anonymous: Browser):
    victim = anonymous.make_user("medewerker", "NL-GE")
    tokens = [start_session(anonymous, victim) for _ in range(2)]
    login_beheerder(anonymous)
    own = anonymous.cookies[COOKIE]
    response = anonymous.submit(f"/beheer/gebruikers/{victim.id}/sessies-beeindigen", {}, follow_redirects=False)
    assert response.status_code == 303
    assert [session_works(anonymous, token) for token in tokens] == [False, False]
    assert session_works(anonymous, own)  # the beheerder's own session is untouched


def test_a_role_change_ends_sessions(anonymous: Browser):
    victim = anonymous.make_user("medewerker", "NL-GE")
    token = start_session(anonymous, victim)
    login_beheerder(anonymous)
    anonymous.submit(f"/beheer/gebruikers/{victim.id}", {"role": "coordinator", "province": "", "active": "on"})
    assert not session_works(anonymous, token)


# --- CSRF -----------------------------------------------------------------------------------------------------


def initiative_count(browser: Browser) -> int:
    return browser.run(Initiative.all().count)


def test_a_cross_site_post_is_refused(client: Browser):
    for url, kwargs in [
        ("/initiatieven/nieuw", {"data": {**as_form(valid_initiative()), "csrf_token": client.csrf()}}),
        ("/api/v1/initiatives", {"json": valid_initiative()}),
        ("/uitloggen", {"data": {"csrf_token": client.csrf()}}),
    ]:
        response = client.post(url, headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False, **kwargs)
        assert response.status_code == 403, url
    assert initiative_count(client) == 0
    assert session_works(client, client.cookies[COOKIE])


def test_a_cross_site_post_with_a_bearer_token_is_refused_too(client: Browser):
    response = client.post(
        "/api/v1/initiatives", json=valid_initiative(), headers={**client.bearer(), "Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403 and initiative_count(client) == 0


@pytest.mark.parametrize("token", [None, "", "geraden", "x" * 43])
def test_a_form_post_without_the_right_token_is_refused(client: Browser, token: str | None):
    form = as_form(valid_initiative())
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/initiatieven/nieuw", data=form, follow_redirects=False)
    assert response.status_code == 403 and initiative_count(client) == 0


def test_a_same_site_form_post_with_the_token_is_accepted(client: Browser):
    response = client.submit(
        "/initiatieven/nieuw",
        as_form(valid_initiative()),
        follow_redirects=False,
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 303 and initiative_count(client) == 1


@pytest.mark.parametrize("header", [None, "geraden"])
def test_an_api_post_on_the_session_cookie_needs_the_csrf_header(client: Browser, header: str | None):
    client.send_csrf_header = False
    headers = {"X-CSRF-Token": header} if header else {}
    response = client.post("/api/v1/initiatives", json=valid_initiative(), headers=headers)
    assert response.status_code == 403 and initiative_count(client) == 0
    response = client.post("/api/v1/initiatives", json=valid_initiative(), headers={"X-CSRF-Token": client.csrf()})
    assert response.status_code == 201


def test_an_api_post_with_a_bearer_token_needs_no_csrf_header(anonymous: Browser):
    anonymous.send_csrf_header = False
    response = anonymous.post("/api/v1/initiatives", json=valid_initiative(), headers=anonymous.bearer())
    assert response.status_code == 201


# --- XSS -------------------------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
PAYLOAD = SCRIPT + BREAKOUT
RAW = ("<script>alert", "<img src=x", '"><img')  # what must never reach a page unescaped


@pytest.fixture
def hostile(client: Browser) -> int:
    """An initiative with the payload in every text field the schema lets it into."""
    created = client.create_initiative(
        title="Zoekwoord " + PAYLOAD,
        summary="Zoekwoord samenvatting " + PAYLOAD,
        description=f'Beschrijving {PAYLOAD}\n\n[klik](javascript:alert(1)) <a href="javascript:alert(2)">a</a>',
        contact_name=PAYLOAD[:120],
        lessons_learned=PAYLOAD,
        results=PAYLOAD,
        technologies=[SCRIPT, BREAKOUT],
        suppliers=[SCRIPT, BREAKOUT],
    )
    return created["id"]


@pytest.mark.parametrize(
    "page",
    [
        "/initiatieven/{id}",
        "/initiatieven",
        "/zoeken?q=zoekwoord",
        "/zoeken?q=alert",
        "/initiatieven/{id}/bewerken",
        "/",
    ],
)
def test_a_script_in_every_text_field_renders_inert(client: Browser, hostile: int, page: str):
    html = client.get(page.format(id=hostile)).text
    assert f"/initiatieven/{hostile}" in html  # the initiative is really on the page
    for raw in RAW:
        assert raw not in html, f"{raw!r} unescaped on {page}"
    assert not re.search(r"<a\b[^>]*href=[\"']?javascript:", html, flags=re.IGNORECASE)
    assert "&lt;script&gt;" in html  # shown as text, not dropped


def test_the_edit_form_keeps_the_payload_as_text_in_its_fields(client: Browser, hostile: int):
    html = client.get(f"/initiatieven/{hostile}/bewerken").text
    title = re.search(r'<input[^>]*name="title"[^>]*>', html).group(0)
    assert 'value="Zoekwoord &lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img' in title


def test_links_other_than_http_are_refused(client: Browser):
    response = client.post("/api/v1/initiatives", json=valid_initiative(links=["javascript:alert(1)"]))
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["links"]


# --- headers, cookies, error pages -------------------------------------------------------------------------------


def test_csp_nonce_matches_the_script_tags_and_changes_per_request(client: Browser):
    nonces = []
    for _ in range(2):
        response = client.get("/")
        csp = response.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
        scripts = re.findall(r"<script\b[^>]*>", response.text)
        assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 16


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/inloggen",
        "/api/v1/initiatives",
        "/api/v1/openapi.json",
        "/bestaat-niet",
        "/initiatieven/999",
        "/static/kennisbank.css",
        "/healthz",
    ],
)
def test_security_headers_on_every_response(client: Browser, path: str):
    headers = client.get(path, follow_redirects=False).headers
    csp = headers["content-security-policy"]
    for directive in ("object-src 'none'", "frame-ancestors 'none'", "default-src 'self'", "base-uri 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["strict-transport-security"].startswith("max-age=")
    assert int(headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 15552000
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}
    assert headers["api-version"] == API_VERSION


def test_headers_also_on_refusals_and_redirects(anonymous: Browser):
    for response in (
        anonymous.get("/", follow_redirects=False),
        anonymous.get("/api/v1/initiatives"),
        anonymous.post("/initiatieven/nieuw", data={}),
    ):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["api-version"] == API_VERSION


def set_cookies(response: httpx.Response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def test_cookies_are_httponly_and_samesite_lax(anonymous: Browser):
    anonymous.make_user()
    csrf = set_cookies(anonymous.get("/inloggen"))["kb_csrf"]
    session = set_cookies(anonymous.login("medewerker.nl-ge@test.example"))[COOKIE]
    for cookie in (csrf, session):
        attributes = cookie.lower()
        assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
        assert "domain=" not in attributes


def test_over_https_cookies_are_secure_and_host_prefixed(settings: Settings):
    https = dataclasses.replace(settings, base_url="https://kennisbank.example")
    with Browser(create_app(https), base_url="https://testserver") as browser:
        browser.make_user()
        csrf = set_cookies(browser.get("/inloggen"))["__Host-csrf"]
        response = browser.post(
            "/inloggen",
            follow_redirects=False,
            data={
                "email": "medewerker.nl-ge@test.example",
                "password": TEST_PASSWORD,
                "csrf_token": browser.cookies["__Host-csrf"],
            },
        )
        assert response.status_code == 303, response.text
        session = set_cookies(response)["__Host-kb_session"]
        for cookie in (csrf, session):
            attributes = cookie.lower()
            assert "; secure" in attributes and "path=/" in attributes and "domain=" not in attributes
            assert "httponly" in attributes and "samesite=lax" in attributes
        assert browser.get("/account", follow_redirects=False).status_code == 200


def boom(request: Request):
    raise RuntimeError("geheime-interne-details /srv/kennisbank/db.py")


@pytest.mark.parametrize("path", ["/boem", "/api/v1/boem"])
def test_error_pages_show_no_stack_trace(settings: Settings, path: str):
    app = create_app(settings)
    app.add_route(path, boom)
    with Browser(app, raise_server_exceptions=False) as browser:
        browser.login_as()
        response = browser.get(path)
    assert response.status_code == 500
    for leak in ("Traceback", "RuntimeError", "geheime-interne-details", 'File "', ".py"):
        assert leak not in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_not_found_and_wrong_method_pages_show_no_internals(client: Browser):
    for response in (
        client.get("/bestaat-niet"),
        client.get("/api/v1/bestaat-niet"),
        client.put("/initiatieven/nieuw", data={"csrf_token": client.csrf()}),
    ):
        assert response.status_code in (404, 405)
        assert "Traceback" not in response.text and "starlette" not in response.text.lower()


@pytest.mark.parametrize(
    "path, param",
    [
        ("/zoeken", "q"),
        ("/initiatieven", "province"),
        ("/zoeken", "province"),
        ("/initiatieven/lijkt-op", "title"),
        ("/inloggen", "volgende"),
    ],
)
def test_what_a_link_puts_in_the_query_is_not_reflected_as_markup(client: Browser, path: str, param: str):
    """Reflected XSS: a crafted link sent to a logged-in colleague."""
    client.create_initiative()
    response = client.get(path, params={param: "/" + PAYLOAD})
    for raw in RAW:
        assert raw not in response.text, f"{raw!r} reflected by {path}"
