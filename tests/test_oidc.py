"""Logging in through the province's own identity provider (OIDC), against a real provider on loopback.

The provider is a small Starlette app served by uvicorn in a thread: discovery, an authorization
endpoint that approves at once, a token endpoint that checks the client secret and the PKCE verifier,
and a JWKS. Tests change what it signs (audience, nonce, expiry, key, e-mail) to see each refusal.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pyotp
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from kennisbank import audit
from kennisbank.models import AuditEntry, User
from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from tests.conftest import Browser
from tests.databases import database_url_for

CLIENT_ID = "kennisbank-test"
CLIENT_SECRET = secrets.token_urlsafe(24)  # made per run: no secret in the repository
FAILED_MESSAGE = "Inloggen via uw organisatie is mislukt"


@dataclass
class Provider:
    """The identity provider's state; `claims` overrides and `signing_key` are what a test changes."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "echt"}))
    signing_key: RSAKey | None = None
    email: str = "jan@gelderland.example"
    claims: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: int = 0

    def reset(self) -> None:
        self.signing_key, self.email, self.claims, self.codes, self.token_requests = (
            None,
            "jan@gelderland.example",
            {},
            {},
            0,
        )

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )

        async def authorize(request: Request) -> Response:
            """Approves at once, as if the user had logged in at the province."""
            query = request.query_params
            assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
            assert set(query["scope"].split()) == {"openid", "email", "profile"}
            assert query["code_challenge_method"] == "S256"
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "nonce": query["nonce"],
                "challenge": query["code_challenge"],
                "redirect_uri": query["redirect_uri"],
            }
            return RedirectResponse(
                f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}", status_code=302
            )

        async def token(request: Request) -> Response:
            self.token_requests += 1
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            form = await request.form()
            issued = self.codes.pop(str(form.get("code", "")), None)
            verifier = str(form.get("code_verifier", ""))
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if (
                issued is None
                or form.get("grant_type") != "authorization_code"
                or form.get("redirect_uri") != issued["redirect_uri"]
                or challenge != issued["challenge"]
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "sub": "medewerker-123",
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "nonce": issued["nonce"],
                "email": self.email,
                "email_verified": True,
                **self.claims,
            }
            key = self.signing_key or self.key
            id_token = jwt.encode({"alg": "RS256", "kid": "echt"}, claims, key)
            return JSONResponse(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": id_token,
                }
            )

        async def jwks(request: Request) -> Response:
            return JSONResponse(KeySet([self.key]).as_dict(private=False))

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
                Route("/jwks", jwks),
            ]
        )


@pytest.fixture(scope="module")
def running_provider() -> Iterator[Provider]:
    """The provider served by uvicorn on a free loopback port, stopped when the module's tests are done."""
    provider = Provider()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    provider.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}/realms/provincie"
    # The provider's routes live under the issuer's path, as with Keycloak realms.
    app = Starlette(routes=[Mount("/realms/provincie", app=provider.app())])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test identity provider did not start"
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def provider(running_provider: Provider) -> Provider:
    running_provider.reset()
    return running_provider


@pytest.fixture
def browser(data_dir: Path, provider: Provider) -> Iterator[Browser]:
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url_for(data_dir),
        embedding_model="none",
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_label="Inloggen met uw Gelderland-account",
    )
    with Browser(create_app(settings)) as test_client:
        yield test_client


def round_trip(browser: Browser, target: str = "/", tamper: dict[str, str] | None = None) -> httpx.Response:
    """Leave for the provider, let it approve, and come back to the callback (optionally with altered
    query parameters); the answer of the callback."""
    leaving = browser.get(f"/inloggen/oidc?{urlencode({'volgende': target})}", follow_redirects=False)
    assert leaving.status_code == 303, leaving.text
    approved = httpx.get(leaving.headers["location"], follow_redirects=False)
    assert approved.status_code == 302
    back = urlsplit(approved.headers["location"])
    assert back.path == "/inloggen/oidc/terug"
    query = {name: values[0] for name, values in parse_qs(back.query).items()} | (tamper or {})
    return browser.get(f"{back.path}?{urlencode(query)}", follow_redirects=False)


def oidc_logins(browser: Browser) -> list[AuditEntry]:
    return [
        entry for entry in browser.run(AuditEntry.filter(action="login").all) if entry.detail.get("method") == "oidc"
    ]


def assert_refused(browser: Browser, response: httpx.Response, reason_part: str) -> None:
    assert response.status_code == 403
    assert FAILED_MESSAGE in response.text
    assert not browser.cookies.get("kb_session")
    assert browser.get("/", follow_redirects=False).headers["location"].startswith("/inloggen")
    entries = oidc_logins(browser)
    assert [entry.result for entry in entries] == [audit.FAILED]
    assert reason_part in entries[0].detail["reason"], entries[0].detail


def test_the_login_page_offers_the_provider(browser: Browser):
    page = browser.get("/inloggen?volgende=/initiatieven")
    assert "Inloggen met uw Gelderland-account" in page.text
    assert 'href="/inloggen/oidc?volgende=/initiatieven"' in page.text


def test_the_round_trip_logs_an_existing_account_in(browser: Browser, provider: Provider):
    user = browser.make_user("medewerker", "NL-GE", email="jan@gelderland.example")
    leaving = browser.get("/inloggen/oidc?volgende=/initiatieven", follow_redirects=False)
    cookie = leaving.headers["set-cookie"]
    assert "kb_oidc=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    authorize = parse_qs(urlsplit(leaving.headers["location"]).query)
    assert authorize["state"][0] not in cookie and authorize["nonce"][0] not in cookie  # not readable in the clear
    browser.cookies.clear()
    provider.email = "Jan@Gelderland.example"  # providers do not all lower-case
    response = round_trip(browser, "/initiatieven")
    assert response.status_code == 303 and response.headers["location"] == "/initiatieven"
    assert browser.cookies.get("kb_session")
    assert not browser.cookies.get("kb_oidc")
    assert browser.get("/", follow_redirects=False).status_code == 200
    entries = oidc_logins(browser)
    assert [(entry.result, entry.actor_id) for entry in entries] == [(audit.OK, user.id)]
    assert provider.token_requests == 1


def test_the_session_id_changes_at_login(browser: Browser):
    browser.make_user("medewerker", "NL-GE", email="jan@gelderland.example")
    browser.login("jan@gelderland.example")
    before = browser.cookies.get("kb_session")
    assert round_trip(browser).status_code == 303
    assert browser.cookies.get("kb_session") not in {None, before}


def test_a_beheerder_still_needs_the_code(browser: Browser):
    user = browser.make_user("beheerder", None, email="jan@gelderland.example")
    browser.run(User.filter(id=user.id).update, totp_secret=pyotp.random_base32())
    response = round_trip(browser, "/beheer/gebruikers")
    assert response.status_code == 303
    assert response.headers["location"] == "/inloggen/code?volgende=%2Fbeheer%2Fgebruikers"
    assert browser.get("/", follow_redirects=False).headers["location"] == "/inloggen/code"


def test_an_unknown_email_is_refused_and_audited(browser: Browser, provider: Provider):
    provider.email = "onbekend@gelderland.example"
    response = round_trip(browser)
    assert "geen actief account" in response.text
    assert_refused(browser, response, "onbekend account")
    assert oidc_logins(browser)[0].actor_email == "onbekend@gelderland.example"
    assert browser.run(User.get_or_none, email="onbekend@gelderland.example") is None  # never created


def test_a_disabled_account_is_refused(browser: Browser):
    user = browser.make_user("medewerker", "NL-GE", email="jan@gelderland.example")
    browser.run(User.filter(id=user.id).update, active=False)
    assert_refused(browser, round_trip(browser), "geblokkeerd")


def test_a_wrong_state_is_refused_before_the_code_is_used(browser: Browser, provider: Provider):
    browser.make_user("medewerker", "NL-GE", email="jan@gelderland.example")
    assert_refused(browser, round_trip(browser, tamper={"state": "vervalst"}), "state")
    assert provider.token_requests == 0


def test_a_callback_without_the_attempt_cookie_is_refused(browser: Browser, provider: Provider):
    browser.make_user("medewerker", "NL-GE", email="jan@gelderland.example")
    leaving = browser.get("/inloggen/oidc", follow_redirects=False)
    approved = httpx.get(leaving.headers["location"], follow_redirects=False)
    browser.cookies.delete("kb_oidc")
    back = urlsplit(approved.headers["location"])
    assert_refused(browser, browser.get(f"{back.path}?{back.query}", follow_redirects=False), "verlopen")
    assert provider.token_requests == 0


@pytest.mark.parametrize(
    "change, reason_part",
    [
        ({"aud": "een-andere-applicatie"}, "aud"),
        ({"nonce": "een-andere-nonce"}, "nonce"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"iss": "http://127.0.0.1:1/nep"}, "iss"),
        ({"email_verified": False}, "niet geverifieerd"),
    ],
)
def test_an_id_token_with_wrong_claims_is_refused(
    browser: Browser, provider: Provider, change: dict[str, Any], reason_part: str
):
    browser.make_user("medewerker", "NL-GE", email="jan@gelderland.example")
    provider.claims = change
    assert_refused(browser, round_trip(browser), reason_part)


def test_an_id_token_signed_by_another_key_is_refused(browser: Browser, provider: Provider):
    browser.make_user("medewerker", "NL-GE", email="jan@gelderland.example")
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "echt"})
    assert_refused(browser, round_trip(browser), "handtekening")


def test_an_error_from_the_provider_is_refused(browser: Browser, provider: Provider):
    browser.make_user("medewerker", "NL-GE", email="jan@gelderland.example")
    assert_refused(browser, round_trip(browser, tamper={"error": "access_denied", "code": ""}), "access_denied")
    assert provider.token_requests == 0


def test_no_token_is_ever_audited(browser: Browser, provider: Provider):
    browser.make_user("medewerker", "NL-GE", email="jan@gelderland.example")
    leaving = browser.get("/inloggen/oidc", follow_redirects=False)
    code = parse_qs(urlsplit(httpx.get(leaving.headers["location"]).headers["location"]).query)
    browser.cookies.clear()
    round_trip(browser)
    logged = repr([(entry.detail, entry.object_id) for entry in browser.run(AuditEntry.all)])
    assert code["code"][0] not in logged and CLIENT_SECRET not in logged and "eyJ" not in logged


def test_without_oidc_settings_the_routes_do_not_exist(anonymous: Browser):
    assert anonymous.get("/inloggen/oidc", follow_redirects=False).status_code == 404
    assert anonymous.get("/inloggen/oidc/terug?code=x&state=y", follow_redirects=False).status_code == 404
    assert "/inloggen/oidc" not in anonymous.get("/inloggen").text
