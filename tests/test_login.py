"""Logging in: password rules and hashes, throttling, two-step login, API tokens, the audit log and the
access-review export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
import time

import pyotp
import pytest

from kennisbank.accounts.login_throttle import LoginThrottle
from kennisbank.models import ApiToken, AuditEntry, User
from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from tests.conftest import TEST_PASSWORD, Browser, as_form, run_cli, valid_initiative
from tests.test_permissions import db, login_beheerder, make_match, make_world

PASSWORD_RULES = [  # (password, accepted)
    ("kort123", False),  # 7 characters
    ("kort1234", True),  # 8 characters
    ("een lange wachtzin " * 4, True),  # 76 characters: long passphrases are welcome
    ("Welkom01", False),  # on the list of common passwords
    ("wachtwoord123", False),
    ("alleen kleine letters", True),  # no composition rules
    (" " * 12, False),  # one character over and over: guessed first
    ("aaaaaaaaaa", False),
]


class FrozenClock:
    """A clock for LoginThrottle that only moves when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def frozen_throttle(browser_or_app) -> FrozenClock:
    clock = FrozenClock()
    app = getattr(browser_or_app, "app", browser_or_app)
    app.state.login_throttle = LoginThrottle(clock=clock)
    return clock


def stored_user(browser: Browser, email: str) -> User:
    return browser.run(User.get, email=email)


# --- password rules -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("password, accepted", PASSWORD_RULES)
def test_password_rules_on_the_command_line(data_dir, settings: Settings, password: str, accepted: bool):
    result = run_cli(
        data_dir,
        "user",
        "create",
        "--email",
        "nieuw@provincie.example",
        "--role",
        "medewerker",
        "--province",
        "Gelderland",
        "--password",
        password,
    )
    assert (result.returncode == 0) is accepted, result.stdout + result.stderr
    with Browser(create_app(settings)) as browser:
        user = browser.run(User.get_or_none, email="nieuw@provincie.example")
        if not accepted:
            assert user is None
            assert "wachtwoord" in result.stderr.lower()  # a Dutch reason, not a traceback
            assert "Traceback" not in result.stderr
            return
        assert user.password_hash.startswith("$argon2id$") and password not in user.password_hash
        assert browser.login(user.email, password).status_code == 303


def test_the_command_line_prompts_for_the_password_when_left_out(data_dir, settings: Settings):
    result = run_cli(
        data_dir,
        "user",
        "create",
        "--email",
        "Beheer@Provincie.example",
        "--role",
        "beheerder",
        stdin="een geheime wachtzin\neen geheime wachtzin\n",
    )
    assert result.returncode == 0, result.stderr
    assert "een geheime wachtzin" not in result.stdout + result.stderr
    with Browser(create_app(settings)) as browser:
        assert browser.login("beheer@provincie.example", "een geheime wachtzin").status_code == 303


@pytest.mark.parametrize("password, accepted", PASSWORD_RULES)
def test_password_rules_on_the_account_page(client: Browser, password: str, accepted: bool):
    email = "medewerker.nl-ge@test.example"
    before = stored_user(client, email).password_hash
    response = client.submit(
        "/account/wachtwoord", {"current_password": TEST_PASSWORD, "new_password": password}, follow_redirects=False
    )
    after = stored_user(client, email).password_hash
    if not accepted:
        assert response.status_code == 422 and after == before
        assert "wachtwoord" in response.text.lower()
        return
    assert response.status_code == 303 and after != before
    assert after.startswith("$argon2id$") and password not in after
    client.cookies.clear()
    assert client.login(email, TEST_PASSWORD).status_code == 401
    assert client.login(email, password).status_code == 303


def test_changing_the_password_needs_the_current_one(client: Browser):
    email = "medewerker.nl-ge@test.example"
    before = stored_user(client, email).password_hash
    response = client.submit(
        "/account/wachtwoord", {"current_password": "niet mijn wachtwoord", "new_password": "een heel nieuw wachtwoord"}
    )
    assert response.status_code == 422 and stored_user(client, email).password_hash == before


def test_the_server_hashes_at_the_argon2_librarys_recommended_cost():
    """The tests hash cheaply in-process (conftest.py); a real process must use the recommended cost."""
    from argon2 import Parameters, extract_parameters, profiles

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from kennisbank.accounts.passwords import hash_password; print(hash_password('een wachtzin'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    parameters: Parameters = extract_parameters(result.stdout.strip())
    recommended = profiles.RFC_9106_LOW_MEMORY
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        recommended.time_cost,
        recommended.memory_cost,
        recommended.parallelism,
    )


def test_only_an_argon2id_hash_is_stored(anonymous: Browser):
    user = anonymous.make_user()
    stored = anonymous.run(User.filter(id=user.id).values)[0]
    assert stored["password_hash"].startswith("$argon2id$")
    assert TEST_PASSWORD not in json.dumps(stored, default=str)


# --- throttling ---------------------------------------------------------------------------------------------


def test_throttle_waits_grow_and_a_success_resets_them(anonymous: Browser):
    clock = FrozenClock()
    throttle = LoginThrottle(clock=clock)
    run = anonymous.run
    for _ in range(5):  # a few free attempts: a user who mistypes is not slowed
        assert run(throttle.claim, "a@x.nl", "10.0.0.1") == 0
        run(throttle.failed, "a@x.nl", "10.0.0.1")
    waits = []
    for _ in range(5):
        waits.append(run(throttle.claim, "a@x.nl", "10.0.0.1"))  # refused, and not counted
        clock.now += waits[-1]
        assert run(throttle.claim, "a@x.nl", "10.0.0.1") == 0  # once the wait is over, one more try is heard
        run(throttle.failed, "a@x.nl", "10.0.0.1")
    assert waits == [1, 2, 4, 8, 16]
    assert run(throttle.retry_after, "A@X.nl", "10.0.0.1") == 32  # the e-mail address is case-insensitive
    assert run(throttle.retry_after, "a@x.nl", "10.9.9.9") == 0  # the real user elsewhere is not locked out
    for _ in range(20):
        clock.now += 900
        run(throttle.claim, "a@x.nl", "10.0.0.1")
    assert run(throttle.retry_after, "a@x.nl", "10.0.0.1") == 900  # capped at 15 minutes
    run(throttle.succeeded, "a@x.nl", "10.0.0.1")
    assert run(throttle.retry_after, "a@x.nl", "10.0.0.1") == 0


def test_throttle_slows_an_address_that_tries_many_accounts_but_never_blocks_it(anonymous: Browser):
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    throttle = LoginThrottle(clock=FrozenClock(), sleep=sleep)
    for n in range(50):
        anonymous.run(throttle.failed, f"user{n}@x.nl", "10.0.0.1")
    assert anonymous.run(throttle.address_delay, "10.0.0.1") > 0
    assert anonymous.run(throttle.address_delay, "10.0.0.2") == 0
    assert anonymous.run(throttle.claim, "nog-een@x.nl", "10.0.0.1") == 0  # heard, after a short wait
    assert slept and 0 < slept[0] <= throttle.per_address_max_delay


def test_login_is_throttled_with_a_dutch_429_but_the_user_elsewhere_gets_in(settings: Settings):
    app = create_app(settings)
    clock = frozen_throttle(app)
    with Browser(app) as attacker:
        user = attacker.make_user()
        for _ in range(5):
            assert attacker.login(user.email, "raden raden raden").status_code == 401
        refused = attacker.login(user.email, TEST_PASSWORD)  # even the right password waits its turn
        assert refused.status_code == 429
        assert "Te veel mislukte pogingen" in refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        assert attacker.run(AuditEntry.filter(action="login", result="geweigerd").count) == 1
    with Browser(app, client=("1.2.3.4", 123)) as real_user:
        assert real_user.login(user.email).status_code == 303
    with Browser(app) as attacker:
        assert attacker.login(user.email).status_code == 429
        clock.now += 3600
        assert attacker.login(user.email).status_code == 303


# --- two-step login ---------------------------------------------------------------------------------------------


def enrol(browser: Browser, password: str = TEST_PASSWORD) -> str:
    """Set up two-step login on /account/tweestaps as a user would; returns the secret."""
    page = browser.get("/account/tweestaps")
    assert page.status_code == 200
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page.text).group(1)
    wrong = browser.submit(
        "/account/tweestaps", {"secret": secret, "code": "000000", "current_password": password}, follow_redirects=False
    )
    assert wrong.status_code == 422
    response = browser.submit(
        "/account/tweestaps",
        {"secret": secret, "code": pyotp.TOTP(secret).now(), "current_password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return secret


def next_code(secret: str) -> str:
    """The code of the next 30-second step (accepted for clock drift): the current one was used to enrol."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def log_out(browser: Browser) -> None:
    browser.submit("/uitloggen", {})
    browser.cookies.clear()


def test_two_step_login_each_code_once(client: Browser):
    email = "medewerker.nl-ge@test.example"
    secret = enrol(client)
    assert stored_user(client, email).totp_secret == secret
    log_out(client)

    first = client.login(email)
    assert first.status_code == 303 and first.headers["location"].startswith("/inloggen/code")
    assert client.get("/", follow_redirects=False).headers["location"] == "/inloggen/code"  # half logged in
    assert client.get("/api/v1/initiatives").status_code == 401
    code = next_code(secret)
    assert client.submit("/inloggen/code", {"code": code}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    log_out(client)

    client.login(email)
    replay = client.submit("/inloggen/code", {"code": code}, follow_redirects=False)
    assert replay.status_code == 401 and "al gebruikt" in replay.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/inloggen/code"


def test_wrong_codes_are_refused_and_throttled(client: Browser):
    frozen_throttle(client)
    secret = enrol(client)
    log_out(client)
    client.login("medewerker.nl-ge@test.example")
    for _ in range(5):
        assert (
            client.submit(
                "/inloggen/code",
                {"code": "123456" if next_code(secret) != "123456" else "654321"},
                follow_redirects=False,
            ).status_code
            == 401
        )
    throttled = client.submit("/inloggen/code", {"code": next_code(secret)}, follow_redirects=False)
    assert throttled.status_code == 429 and "Te veel mislukte pogingen" in throttled.text
    assert "Retry-After" in throttled.headers
    assert client.get("/", follow_redirects=False).headers["location"] == "/inloggen/code"


def test_a_session_is_renewed_after_the_second_step(client: Browser):
    secret = enrol(client)
    log_out(client)
    client.login("medewerker.nl-ge@test.example")
    half = client.cookies["kb_session"]
    client.submit("/inloggen/code", {"code": next_code(secret)})
    assert client.cookies["kb_session"] != half


@pytest.mark.parametrize("path", ["/", "/initiatieven", "/account", "/beheer/gebruikers", "/zoeken"])
def test_a_beheerder_must_enrol_before_anything_else(anonymous: Browser, path: str):
    user = anonymous.make_user("beheerder", None)
    assert anonymous.login(user.email).status_code == 303
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/account/tweestaps"
    assert anonymous.get("/api/v1/initiatives").status_code == 401
    assert (
        anonymous.submit(
            "/beheer/gebruikers/nieuw",
            {"email": "x@y.nl", "role": "beheerder", "password": "een lang wachtwoord"},
            follow_redirects=False,
        ).headers["location"]
        == "/account/tweestaps"
    )
    enrol(anonymous)
    assert anonymous.get(path, follow_redirects=False).status_code == 200


def test_a_beheerder_cannot_switch_two_step_login_off(anonymous: Browser):
    user, secret = login_beheerder(anonymous)
    response = anonymous.submit("/account/tweestaps/uitzetten", {}, follow_redirects=False)
    assert response.status_code == 403
    assert stored_user(anonymous, user.email).totp_secret == secret


def test_a_medewerker_can_switch_two_step_login_off(client: Browser):
    enrol(client)
    assert client.submit("/account/tweestaps/uitzetten", {}, follow_redirects=False).status_code == 303
    assert stored_user(client, "medewerker.nl-ge@test.example").totp_secret == ""


# --- API tokens -------------------------------------------------------------------------------------------------


def create_token(browser: Browser, name: str = "mijn script", password: str = TEST_PASSWORD) -> str:
    response = browser.submit("/account/tokens", {"name": name, "current_password": password})
    assert response.status_code == 201
    return re.search(r"\bkb_[A-Za-z0-9_-]{20,}", response.text).group(0)


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(client: Browser):
    token = create_token(client)
    record = client.run(ApiToken.get, name="mijn script")
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(client.run(ApiToken.all().values), default=str)
    assert token not in client.get("/account").text  # shown once

    bearer = {"Authorization": f"Bearer {token}"}
    client.cookies.clear()  # the token alone is enough
    assert client.get("/api/v1/initiatives", headers=bearer).status_code == 200
    assert client.post("/api/v1/initiatives", json=valid_initiative(), headers=bearer).status_code == 201

    client.login_as()
    assert client.submit(f"/account/tokens/{record.id}/intrekken", {}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    refused = client.get("/api/v1/initiatives", headers=bearer)
    assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")


def test_a_disabled_users_token_stops_working(anonymous: Browser):
    headers = anonymous.bearer("NL-GE")
    assert anonymous.get("/api/v1/initiatives", headers=headers).status_code == 200
    db(anonymous, lambda: User.filter(email="api.medewerker.nl-ge@test.example").update(active=False))
    assert anonymous.get("/api/v1/initiatives", headers=headers).status_code == 401


def test_a_token_in_the_wrong_scheme_or_garbled_is_refused(anonymous: Browser):
    token = anonymous.bearer("NL-GE")["Authorization"].split()[1]
    for header in (f"Bearer {token}x", f"Bearer {token[:-1]}", f"Basic {token}", token):
        response = anonymous.get("/api/v1/initiatives", headers={"Authorization": header})
        assert response.status_code == 401, header


# --- audit log ----------------------------------------------------------------------------------------------


def test_audited_actions_are_logged_and_no_secret_ever_is(anonymous: Browser):
    wrong_password = "dit is het verkeerde wachtwoord"
    new_account_password = "startwachtwoord voor de nieuwe collega"
    changed_password = "mijn nieuwe wachtzin voor de kennisbank"
    browser = anonymous
    medewerker = browser.make_user()

    browser.login(medewerker.email, wrong_password)  # login failure
    browser.login_as()  # login success
    token = create_token(browser, "script")
    token_id = browser.run(ApiToken.get, name="script").id
    browser.submit(f"/account/tokens/{token_id}/intrekken", {})
    browser.submit("/account/wachtwoord", {"current_password": TEST_PASSWORD, "new_password": changed_password})
    secret = enrol(browser, changed_password)
    initiative = browser.post("/api/v1/initiatives", json=valid_initiative()).json()
    browser.submit(
        f"/initiatieven/{initiative['id']}/bewerken",
        {**as_form(valid_initiative(title="Nieuwe titel")), "version": "1"},
    )
    browser.submit(f"/initiatieven/{initiative['id']}/archiveren", {})
    log_out(browser)

    codes = [next_code(secret)]
    browser.login(medewerker.email, changed_password)
    browser.submit("/inloggen/code", {"code": "000001"})  # a wrong code
    browser.submit("/inloggen/code", {"code": codes[0]})
    log_out(browser)

    login_beheerder(browser)
    created = browser.submit(
        "/beheer/gebruikers/nieuw",
        {
            "email": "collega@test.example",
            "role": "medewerker",
            "province": "NL-UT",
            "password": new_account_password,
            "active": "on",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    colleague = stored_user(browser, "collega@test.example")
    browser.submit(f"/beheer/gebruikers/{colleague.id}", {"role": "medewerker", "province": "NL-FR", "active": "on"})
    browser.submit(f"/beheer/gebruikers/{colleague.id}", {"role": "medewerker", "province": "NL-FR"})

    rows = browser.run(AuditEntry.all().order_by("id").values)
    logged = {(row["action"], row["result"]) for row in rows}
    for expected in [
        ("login", "mislukt"),
        ("login", "ok"),
        ("logout", "ok"),
        ("token_create", "ok"),
        ("token_revoke", "ok"),
        ("password_change", "ok"),
        ("totp_enable", "ok"),
        ("login_second_factor", "mislukt"),
        ("initiative_create", "ok"),
        ("initiative_update", "ok"),
        ("initiative_archive", "ok"),
        ("account_create", "ok"),
        ("account_update", "ok"),
        ("account_disable", "ok"),
    ]:
        assert expected in logged, expected
    failure = next(row for row in rows if row["action"] == "login" and row["result"] == "mislukt")
    assert failure["actor_email"] == medewerker.email and failure["ip"] == "testclient"
    assert all(row["at"].tzinfo is not None and row["at"].utcoffset().total_seconds() == 0 for row in rows)

    everything = json.dumps([{k: v for k, v in row.items()} for row in rows], default=str, ensure_ascii=False)
    for secret_value in (
        TEST_PASSWORD,
        wrong_password,
        new_account_password,
        changed_password,
        token,
        token[3:],
        secret,
    ):
        assert secret_value not in everything, "a secret in the audit log"
    without_times = json.dumps([{k: v for k, v in row.items() if k != "at"} for row in rows], default=str)
    for code in codes:
        assert code not in without_times, "a one-time code in the audit log"


def test_audit_log_is_only_for_beheerders(client: Browser):
    assert client.get("/beheer/audit").status_code == 403
    assert client.get("/beheer/audit.csv").status_code == 403


# --- the access-review export -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["medewerker", "coordinator"])
def test_accounts_csv_is_for_beheerders_only(anonymous: Browser, role: str):
    db(anonymous, lambda: User.create(email="andere.collega@test.example", role="beheerder"))
    anonymous.login_as(role, "NL-GE" if role == "medewerker" else None)
    response = anonymous.get("/beheer/gebruikers.csv")
    assert response.status_code == 403 and not response.headers["content-type"].startswith("text/csv")
    assert "andere.collega" not in response.text


def test_accounts_csv_lists_every_account_and_role(anonymous: Browser):
    for role, province, name in [("medewerker", "NL-LI", '=HYPERLINK("http://x")'), ("coordinator", None, "Ida")]:
        db(
            anonymous,
            lambda role=role, province=province, name=name: User.create(
                email=f"{role}@test.example", role=role, province_id=province, name=name
            ),
        )
    login_beheerder(anonymous)
    db(
        anonymous,
        lambda: User.create(email="geblokkeerd@test.example", role="medewerker", province_id="NL-GE", active=False),
    )
    response = anonymous.get("/beheer/gebruikers.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = {row["e-mail"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert set(rows) == {
        "medewerker@test.example",
        "coordinator@test.example",
        "geblokkeerd@test.example",
        "beheerder.ida@test.example",
    }
    assert [rows[e]["rol"] for e in sorted(rows)] == [
        "Beheerder",
        "IDA-coördinator",
        "Medewerker provincie",
        "Medewerker provincie",
    ]
    assert (rows["medewerker@test.example"]["provincie"], rows["geblokkeerd@test.example"]["actief"]) == (
        "Limburg",
        "nee",
    )
    assert rows["beheerder.ida@test.example"]["tweestapsverificatie"] == "ja"
    assert rows["medewerker@test.example"]["naam"].startswith("'=")  # no formula runs in a spreadsheet
    assert "password" not in response.text and "$argon2" not in response.text


def test_what_an_anonymous_visitor_types_cannot_become_a_formula_or_markup_in_the_audit_log(anonymous: Browser):
    """A failed login records the typed e-mail address; a beheerder later opens the log in a browser and
    the CSV export in a spreadsheet."""
    typed = '=HYPERLINK("http://aanvaller.example","klik")<script>alert(1)</script>'
    assert anonymous.login(typed, "wat dan ook").status_code == 401
    login_beheerder(anonymous)
    page = anonymous.get("/beheer/audit").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    rows = list(csv.reader(io.StringIO(anonymous.get("/beheer/audit.csv").text)))
    cells = [cell for row in rows for cell in row]
    assert any("hyperlink" in cell.lower() for cell in cells)
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells if "hyperlink" in cell.lower())
    db(anonymous, lambda: User.create(email="=1+2@test.example", role="coordinator"))
    accounts_rows = list(csv.reader(io.StringIO(anonymous.get("/beheer/gebruikers.csv").text)))
    assert ["'=1+2@test.example"] == [row[0] for row in accounts_rows if "1+2" in row[0]]


@pytest.mark.parametrize(
    "target, lands",
    [
        ("/initiatieven?province=NL-GE", "/initiatieven?province=NL-GE"),
        ("//aanvaller.example", "/"),
        ("https://aanvaller.example/", "/"),
        ("/\\aanvaller.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_after_login_only_a_path_on_this_site_is_followed(anonymous: Browser, target: str, lands: str):
    """No open redirect through the ?volgende= of a login link."""
    user = anonymous.make_user()
    anonymous.get("/inloggen", params={"volgende": target})
    response = anonymous.post(
        "/inloggen",
        params={"volgende": target},
        follow_redirects=False,
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": anonymous.csrf()},
    )
    assert response.status_code == 303 and response.headers["location"] == lands


def test_a_match_decision_is_audited(anonymous: Browser):
    world = make_world(anonymous)
    match_id = make_match(anonymous, world)
    coordinator = anonymous.login_as("coordinator", None)
    response = anonymous.post(
        f"/api/v1/matches/{match_id}/decision", json={"status": "geaccepteerd", "note": "Samen inkopen"}
    )
    assert response.status_code == 200
    entry = anonymous.run(AuditEntry.get, action="match_decide")
    assert (entry.actor_email, entry.object_type, entry.object_id, entry.result) == (
        coordinator.email,
        "match",
        str(match_id),
        "ok",
    )


def test_old_failures_are_forgotten_so_typos_over_months_lock_nobody_out(anonymous: Browser):
    """An office behind one address mistypes now and then; weeks of ordinary typos must not add up
    to a 15-minute wait for everyone there (the count is about guessing in a burst)."""
    clock = FrozenClock()
    throttle = LoginThrottle(clock=clock)
    for day in range(80):
        anonymous.run(throttle.claim, f"collega{day % 7}@provincie.example", "10.0.0.1")
        anonymous.run(throttle.failed, f"collega{day % 7}@provincie.example", "10.0.0.1")
        clock.now += 24 * 3600
    anonymous.run(throttle.claim, "collega1@provincie.example", "10.0.0.1")  # today's single typo
    anonymous.run(throttle.failed, "collega1@provincie.example", "10.0.0.1")
    assert anonymous.run(throttle.retry_after, "collega2@provincie.example", "10.0.0.1") == 0
    assert anonymous.run(throttle.retry_after, "collega1@provincie.example", "10.0.0.1") == 0
    assert anonymous.run(throttle.address_delay, "10.0.0.1") == 0


def test_replacing_the_two_step_device_needs_a_code_from_the_current_one(client: Browser):
    email = "medewerker.nl-ge@test.example"
    old_secret = enrol(client)
    page = client.get("/account/tweestaps").text
    assert 'name="current_code"' in page
    new_secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page).group(1)
    new_code = pyotp.TOTP(new_secret).now()
    refused = client.submit(
        "/account/tweestaps",
        {"secret": new_secret, "code": new_code, "current_code": "", "current_password": TEST_PASSWORD},
    )
    assert refused.status_code == 422 and stored_user(client, email).totp_secret == old_secret
    swapped = client.submit(
        "/account/tweestaps",
        {
            "secret": new_secret,
            "code": new_code,
            "current_code": next_code(old_secret),
            "current_password": TEST_PASSWORD,
        },
        follow_redirects=False,
    )
    assert swapped.status_code == 303 and stored_user(client, email).totp_secret == new_secret


def test_a_new_password_ends_the_other_sessions_but_not_this_one(client: Browser):
    email = "medewerker.nl-ge@test.example"
    phone = client.cookies["kb_session"]  # the session of the login in the fixture: another device
    client.cookies.clear()
    assert client.login(email).status_code == 303
    laptop = client.cookies["kb_session"]
    changed = client.submit(
        "/account/wachtwoord",
        {"current_password": TEST_PASSWORD, "new_password": "een heel nieuw wachtwoord"},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert client.get("/account", follow_redirects=False).status_code == 200  # this session goes on
    client.cookies.clear()
    client.cookies.set("kb_session", phone)
    assert client.get("/account", follow_redirects=False).status_code == 303  # the other one has ended
    assert laptop != phone


def test_non_ascii_in_a_code_a_csrf_token_or_a_signed_link_is_refused_not_a_500(client: Browser):
    """hmac.compare_digest raises TypeError on non-ASCII text: '²²²²²²' passes str.isdigit(), a forged
    header or link can hold anything. Each is an ordinary refusal."""
    email = "medewerker.nl-ge@test.example"
    enrol(client)
    log_out(client)
    assert client.login(email).status_code == 303
    refused = client.submit("/inloggen/code", {"code": "²²²²²²"}, follow_redirects=False)
    assert refused.status_code in (400, 401, 422) and "Traceback" not in refused.text
    token = client.csrf()
    forged = client.post("/uitloggen", headers={"X-CSRF-Token": ("é" + token[1:]).encode()}, follow_redirects=False)
    assert forged.status_code == 403
    link = client.get("/digest/afmelden", params={"token": "1.é"})
    assert link.status_code == 400
