"""What each credential may do (security audit, issue 13): an API token opens the API and nothing else,
sensitive changes ask for the current password again, a new password or a blocked account ends the
tokens, CSRF is skipped only for a valid bearer token, the login throttle cannot be raced, and the
client address comes from a proxy only when it is trusted."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest

from kennisbank.accounts.login_throttle import LoginThrottle
from kennisbank.models import ApiToken, AuditEntry, Initiative, User
from kennisbank.settings import Settings, SettingsError
from tests.conftest import REPO, TEST_PASSWORD, Browser, run_cli, valid_initiative
from tests.databases import database_url_for, execute
from tests.test_login import FrozenClock, create_token, frozen_throttle
from tests.test_permissions import login_beheerder

PROBLEM = "application/problem+json"
BEHEER_PAGES = [
    "/beheer/gebruikers",
    "/beheer/gebruikers.csv",
    "/beheer/gebruikers/nieuw",
    "/beheer/audit",
    "/beheer/audit.csv",
]
ACCOUNT_PAGES = ["/account", "/account/tweestaps"]


def token_of(browser: Browser, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(browser)}"}


def live_tokens(browser: Browser, email: str) -> int:
    return browser.run(lambda: ApiToken.filter(user__email=email, revoked_at=None).count())


def csrf_games() -> dict[str, str]:
    """A CSRF cookie and form value the attacker picks (double submit with values of their own)."""
    return {"Cookie": "kb_csrf=a"}


def raw(browser: Browser, method: str, path: str, **kwargs) -> httpx.Response:
    """One request from a client that holds nothing but what it sends (no cookie jar of ours)."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=browser.app, client=("198.51.100.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.request(method, path, **kwargs)

    return browser.run(go)


# --- 1. a token opens the API only ----------------------------------------------------------------------


def test_an_attacker_with_a_beheerders_token_alone_opens_no_page_and_changes_nothing(anonymous: Browser):
    beheerder, _secret = login_beheerder(anonymous)
    token = token_of(anonymous, beheerder.email)
    victim = anonymous.make_user("medewerker", "NL-UT", email="slachtoffer@test.example")
    anonymous.cookies.clear()
    assert anonymous.get("/api/v1/initiatives", headers=token).status_code == 200  # what a token is for

    users_before = anonymous.run(lambda: User.all().count())
    for path in BEHEER_PAGES + ACCOUNT_PAGES:
        response = raw(anonymous, "GET", path, headers=token)
        assert response.status_code == 303 and response.headers["location"].startswith("/inloggen"), path
    posts = {
        "/beheer/gebruikers/nieuw": {
            "email": "indringer@test.example",
            "role": "beheerder",
            "province": "",
            "password": "een lang wachtwoord van de aanvaller",
            "active": "on",
        },
        f"/beheer/gebruikers/{victim.id}": {"role": "beheerder", "province": "", "active": "on"},
        f"/beheer/gebruikers/{victim.id}/sessies-beeindigen": {},
        "/account/tokens": {"name": "nog een", "current_password": ""},
        "/account/tweestaps": {"secret": pyotp.random_base32(), "code": "000000"},
        "/account/tweestaps/uitzetten": {},
        "/account/wachtwoord": {"current_password": "", "new_password": "het wachtwoord van de aanvaller"},
        "/account/overzicht": {"weekly": "nee"},
    }
    for path, form in posts.items():
        for headers in ({**token, **csrf_games()}, token, {**token, "X-CSRF-Token": "a", **csrf_games()}):
            response = raw(anonymous, "POST", path, data={**form, "csrf_token": "a"}, headers=headers)
            assert response.status_code in (303, 403), (path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/inloggen"), path
    assert anonymous.run(lambda: User.all().count()) == users_before
    assert anonymous.run(User.get_or_none, email="indringer@test.example") is None
    assert anonymous.run(User.get, id=victim.id).role == "medewerker"
    assert live_tokens(anonymous, beheerder.email) == 1

    anonymous.login(beheerder.email)  # the owner changes the password: the stolen token is dead
    anonymous.submit("/inloggen/code", {"code": pyotp.TOTP(_secret).at(time.time() + 30)})
    changed = anonymous.submit(
        "/account/wachtwoord", {"current_password": TEST_PASSWORD, "new_password": "een nieuwe wachtzin na het lek"}
    )
    assert changed.status_code == 200 and "API-tokens" in changed.text and "ingetrokken" in changed.text
    refused = raw(anonymous, "GET", "/api/v1/initiatives", headers=token)
    assert refused.status_code == 401 and refused.headers["content-type"].startswith(PROBLEM)


def test_a_medewerkers_token_can_neither_mint_tokens_nor_switch_on_two_step_login(anonymous: Browser):
    user = anonymous.login_as("medewerker", "NL-GE")
    token = token_of(anonymous, user.email)
    secret = pyotp.random_base32()
    minted = raw(
        anonymous,
        "POST",
        "/account/tokens",
        data={"name": "van de aanvaller", "csrf_token": "a"},
        headers={**token, **csrf_games()},
    )
    assert minted.status_code != 201 and live_tokens(anonymous, user.email) == 1
    locked = raw(
        anonymous,
        "POST",
        "/account/tweestaps",
        headers={**token, **csrf_games()},
        data={"secret": secret, "code": pyotp.TOTP(secret).now(), "csrf_token": "a"},
    )
    assert locked.status_code == 303 and locked.headers["location"].startswith("/inloggen")
    assert anonymous.run(User.get, id=user.id).totp_secret == ""


def test_a_stolen_session_cannot_make_a_token_or_enrol_without_the_password(client: Browser):
    email = "medewerker.nl-ge@test.example"
    for password, message in (
        ("", "Vul ‘Huidig wachtwoord’ in"),
        ("geraden wachtwoord", "Het huidige wachtwoord klopt niet"),
    ):
        refused = client.submit("/account/tokens", {"name": "script", "current_password": password})
        assert refused.status_code == 422 and live_tokens(client, email) == 0
        assert re.search(r'id="fout-token_password">\s*<span>Fout: ' + message, refused.text), password
    page = client.get("/account/tweestaps").text
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page).group(1)
    refused = client.submit(
        "/account/tweestaps",
        {"secret": secret, "code": pyotp.TOTP(secret).now(), "current_password": "geraden wachtwoord"},
    )
    assert refused.status_code == 422 and client.run(User.get, email=email).totp_secret == ""
    assert re.search(r'id="fout-current_password">\s*<span>Fout: Het huidige wachtwoord klopt niet', refused.text)
    assert client.run(AuditEntry.filter(action="reauthenticate", result="mislukt").count) == 3

    assert create_token(client).startswith("kb_")  # with the password it works
    enrolled = client.submit(
        "/account/tweestaps",
        {"secret": secret, "code": pyotp.TOTP(secret).now(), "current_password": TEST_PASSWORD},
        follow_redirects=False,
    )
    assert enrolled.status_code == 303 and client.run(User.get, email=email).totp_secret == secret


def test_guessing_the_password_on_the_account_page_is_throttled(client: Browser):
    frozen_throttle(client)
    for _ in range(5):
        assert client.submit("/account/tokens", {"name": "s", "current_password": "fout"}).status_code == 422
    throttled = client.submit("/account/tokens", {"name": "s", "current_password": TEST_PASSWORD})
    assert throttled.status_code == 429 and "Te veel mislukte pogingen" in throttled.text
    assert live_tokens(client, "medewerker.nl-ge@test.example") == 0


def test_a_beheerder_enrolling_after_the_first_login_step_confirms_the_password(anonymous: Browser):
    user = anonymous.make_user("beheerder", None)
    anonymous.login(user.email)
    page = anonymous.get("/account/tweestaps").text
    assert 'name="current_password"' in page
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page).group(1)
    refused = anonymous.submit("/account/tweestaps", {"secret": secret, "code": pyotp.TOTP(secret).now()})
    assert refused.status_code == 422 and anonymous.run(User.get, id=user.id).totp_secret == ""


# --- 2. a new password or a blocked account ends the tokens ---------------------------------------------


def test_a_password_change_by_the_user_revokes_every_token_and_says_so(client: Browser):
    token = token_of(client, "medewerker.nl-ge@test.example")
    create_token(client, "tweede")
    response = client.submit(
        "/account/wachtwoord", {"current_password": TEST_PASSWORD, "new_password": "een heel nieuw wachtwoord"}
    )
    assert response.status_code == 200
    assert "al uw API-tokens zijn ingetrokken" in response.text
    assert live_tokens(client, "medewerker.nl-ge@test.example") == 0
    assert client.get("/api/v1/initiatives", headers=token).status_code == 401
    revoked = client.run(AuditEntry.filter(action="token_revoke").values_list, "detail", flat=True)
    assert [entry["reason"] for entry in revoked] == ["wachtwoord gewijzigd"] * 2
    change = client.run(AuditEntry.get, action="password_change", result="ok")
    assert change.detail["api_keys_revoked"] == 2


def test_set_password_on_the_command_line_revokes_the_tokens(anonymous: Browser, data_dir: Path):
    headers = anonymous.bearer("NL-GE")
    assert anonymous.get("/api/v1/initiatives", headers=headers).status_code == 200
    result = run_cli(
        data_dir,
        "user",
        "set-password",
        "--email",
        "api.medewerker.nl-ge@test.example",
        "--password",
        "een nieuw wachtwoord van de operator",
    )
    assert result.returncode == 0, result.stderr
    assert "API-tokens ingetrokken" in result.stdout
    assert anonymous.get("/api/v1/initiatives", headers=headers).status_code == 401


def test_blocking_an_account_revokes_its_tokens_for_good(anonymous: Browser):
    headers = anonymous.bearer("NL-UT")
    user = anonymous.run(User.get, email="api.medewerker.nl-ut@test.example")
    login_beheerder(anonymous)
    blocked = anonymous.submit(
        f"/beheer/gebruikers/{user.id}", {"role": "medewerker", "province": "NL-UT"}, follow_redirects=False
    )
    assert blocked.status_code == 303
    assert anonymous.run(AuditEntry.get, action="token_revoke").detail["reason"] == "account geblokkeerd"
    anonymous.submit(f"/beheer/gebruikers/{user.id}", {"role": "medewerker", "province": "NL-UT", "active": "on"})
    assert anonymous.run(User.get, id=user.id).active
    assert anonymous.get("/api/v1/initiatives", headers=headers).status_code == 401  # unblocking revives nothing


# --- 3 and 5. CSRF on the API, and the API's answers ------------------------------------------------------


def test_another_authorization_scheme_does_not_skip_csrf_for_a_session(client: Browser):
    initiative = client.post("/api/v1/initiatives", json=valid_initiative()).json()
    client.send_csrf_header = False
    response = client.post(
        f"/api/v1/initiatives/{initiative['id']}/archive",  # If-Match: only CSRF may stop it
        headers={"Authorization": "Basic Zm9vOmJhcg==", "If-Match": f'"{initiative["version"]}"'},
    )
    assert response.status_code == 403 and response.headers["content-type"].startswith(PROBLEM)
    assert "CSRF" in response.json()["detail"]
    assert client.run(Initiative.get, id=initiative["id"]).status == "gepubliceerd"


def test_an_invalid_bearer_token_with_a_session_is_401_not_the_session(client: Browser):
    initiative = client.post("/api/v1/initiatives", json=valid_initiative()).json()
    response = client.post(
        f"/api/v1/initiatives/{initiative['id']}/archive",
        headers={
            "Authorization": "Bearer kb_geraden",
            "X-CSRF-Token": client.csrf(),
            "If-Match": f'"{initiative["version"]}"',
        },
    )
    assert response.status_code == 401 and response.headers["content-type"].startswith(PROBLEM)
    assert client.run(Initiative.get, id=initiative["id"]).status == "gepubliceerd"


def test_a_valid_bearer_token_ignores_the_session_cookie(client: Browser):
    """The session is a Gelderland medewerker's, the token a Limburg one's: the token decides."""
    initiative = client.post("/api/v1/initiatives", json=valid_initiative()).json()
    version = {"If-Match": f'"{initiative["version"]}"'}
    limburg = client.bearer("NL-LI")
    response = client.post(f"/api/v1/initiatives/{initiative['id']}/archive", headers={**limburg, **version})
    assert response.status_code == 403 and response.headers["content-type"].startswith(PROBLEM)
    gelderland = client.bearer("NL-GE")
    client.cookies.clear()
    archived = client.post(f"/api/v1/initiatives/{initiative['id']}/archive", headers={**gelderland, **version})
    assert archived.status_code == 200


def test_a_token_works_for_the_chosen_time_and_then_says_it_has_expired(client: Browser):
    created = client.submit(
        "/account/tokens", {"name": "koppeling", "valid_days": "30", "current_password": TEST_PASSWORD}
    )
    assert created.status_code == 201
    token = re.search(r"\bkb_[A-Za-z0-9_-]{20,}", created.text).group(0)
    record = client.run(ApiToken.get, name="koppeling")
    assert timedelta(days=29, hours=23) < record.expires_at - record.created_at <= timedelta(days=30, minutes=1)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/initiatives", headers=bearer).status_code == 200
    client.run(ApiToken.filter(id=record.id).update, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    expired = client.get("/api/v1/initiatives", headers=bearer)
    assert expired.status_code == 401 and expired.headers["content-type"].startswith(PROBLEM)
    assert "verlopen op" in expired.json()["detail"] and "nieuw token" in expired.json()["detail"]
    assert re.search(r"<td>koppeling</td>.*?verlopen</td>", client.get("/account").text, re.S)


def test_a_token_lifetime_that_is_not_offered_is_refused_next_to_its_field(client: Browser):
    response = client.submit(
        "/account/tokens", {"name": "eeuwig", "valid_days": "36500", "current_password": TEST_PASSWORD}
    )
    assert response.status_code == 422
    assert 'id="fout-valid_days"' in response.text and "Kies hoe lang het token werkt" in response.text
    assert client.run(ApiToken.filter(name="eeuwig").count) == 0


def test_a_token_client_gets_no_csrf_cookie_and_a_browser_still_does(client: Browser):
    headers = client.bearer("NL-GE")
    client.cookies.clear()
    for response in (
        client.get("/api/v1/initiatives", headers=headers),
        client.post("/api/v1/initiatives", json=valid_initiative(), headers=headers),
    ):
        assert response.status_code in {200, 201} and "set-cookie" not in response.headers, response.headers
    assert "kb_csrf=" in client.get("/inloggen").headers["set-cookie"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_anonymous_api_changes_get_a_problem_json_401(anonymous: Browser, method: str):
    anonymous.send_csrf_header = False
    for url in ("/api/v1/initiatives", "/api/v1/initiatives/1", "/api/v1/initiatives/1/archive"):
        response = anonymous.request(method, url, json=valid_initiative())
        assert response.status_code == 401, (method, url)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "Log in" in response.json()["detail"]


def test_a_csrf_failure_on_the_api_is_a_problem_json_403(client: Browser):
    client.send_csrf_header = False
    response = client.post("/api/v1/initiatives", json=valid_initiative(), headers={"X-CSRF-Token": "fout"})
    assert response.status_code == 403 and response.headers["content-type"].startswith(PROBLEM)
    assert client.run(Initiative.all().count) == 0


# --- 4. the login throttle -------------------------------------------------------------------------------


def concurrent_logins(browser: Browser, logins: list[tuple[str, str]]) -> list[int]:
    """POST every (email, password) to /inloggen at once, from one address (an httpx client on the app's loop)."""

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=browser.app, client=("10.1.2.3", 4000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies={"kb_csrf": "c"}
        ) as http:
            responses = await asyncio.gather(
                *(
                    http.post("/inloggen", data={"email": email, "password": password, "csrf_token": "c"})
                    for email, password in logins
                )
            )
        return [response.status_code for response in responses]

    return browser.run(go)


def test_forty_concurrent_wrong_passwords_get_no_more_tries_than_sequential_ones(anonymous: Browser):
    frozen_throttle(anonymous)
    user = anonymous.make_user()
    statuses = concurrent_logins(anonymous, [(user.email, f"geraden {n}") for n in range(40)])
    assert sorted(statuses) == [401] * 5 + [429] * 35


def test_the_count_lives_in_the_database_for_every_process(anonymous: Browser):
    clock = frozen_throttle(anonymous)
    user = anonymous.make_user()
    for _ in range(5):
        assert anonymous.login(user.email, "geraden").status_code == 401
    anonymous.app.state.login_throttle = LoginThrottle(clock=clock)  # another process: its own object, same rows
    assert anonymous.login(user.email).status_code == 429


def test_failures_on_many_accounts_behind_one_nat_do_not_lock_the_real_user_out(anonymous: Browser):
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    anonymous.app.state.login_throttle = LoginThrottle(clock=FrozenClock(), sleep=sleep)
    user = anonymous.make_user()
    statuses = concurrent_logins(anonymous, [(f"willekeurig{n}@test.example", "geraden") for n in range(55)])
    assert statuses == [401] * 55
    assert concurrent_logins(anonymous, [(user.email, TEST_PASSWORD)]) == [303]  # slowed, not blocked
    assert slept and max(slept) <= 3.0


# --- trusted proxies --------------------------------------------------------------------------------------


def test_trusted_proxies_are_validated_and_passed_to_uvicorn():
    from kennisbank.cli import proxy_options

    assert Settings.from_env({}).trusted_proxies == ()
    assert proxy_options(Settings.from_env({})) == {"proxy_headers": False, "forwarded_allow_ips": []}
    settings = Settings.from_env({"KENNISBANK_TRUSTED_PROXIES": " 172.18.0.1, 10.0.0.0/8 ,::1,192.168.1.7/32"})
    assert settings.trusted_proxies == ("172.18.0.1", "10.0.0.0/8", "::1", "192.168.1.7")
    assert proxy_options(settings) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["172.18.0.1", "10.0.0.0/8", "::1", "192.168.1.7"],
    }
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"KENNISBANK_TRUSTED_PROXIES": "172.18.0.1,proxy.example,*"})
    assert len(error.value.problems) == 2 and "KENNISBANK_TRUSTED_PROXIES" in error.value.problems[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("trusted, logged_ip", [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.9")])
def test_the_served_app_believes_x_forwarded_for_only_from_a_trusted_proxy(
    tmp_path: Path, trusted: str, logged_ip: str
):
    data_dir = tmp_path / "data"
    port = _free_port()
    env = {
        **os.environ,
        "KENNISBANK_DATA_DIR": str(data_dir),
        "KENNISBANK_EMBEDDING_MODEL": "none",
        "KENNISBANK_DATABASE_URL": database_url_for(data_dir),
        "KENNISBANK_TRUSTED_PROXIES": trusted,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kennisbank", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(300):
                try:
                    http.get("/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            http.get("/inloggen")
            response = http.post(
                "/inloggen",
                headers={"X-Forwarded-For": "203.0.113.9"},
                data={"email": "wie@test.example", "password": "geraden", "csrf_token": http.cookies["kb_csrf"]},
            )
            assert response.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert [row[0] for row in execute(data_dir, "SELECT ip FROM audit_entry WHERE action = 'login'")] == [logged_ip]
