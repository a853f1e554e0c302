"""The accessibility and privacy statements: public, linked from every page, and stating what the code does."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import timedelta
from pathlib import Path

import pytest

from kennisbank.accounts import sessions
from kennisbank.digest import service as digest
from kennisbank.models import UserSession
from kennisbank.rendering import dutch_date
from kennisbank.statements import AXE_CORE_VERSION, KNOWN_LIMITATIONS, REFLOW_VIEWPORTS, STATEMENT_DATE
from kennisbank.web.app import create_app
from tests.conftest import Browser

STATEMENTS = {"/toegankelijkheid": "Toegankelijkheidsverklaring", "/privacy": "Privacyverklaring"}


def text_of(page: str) -> str:
    """The visible text of a page, whitespace collapsed, entities decoded."""
    body = re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1])
    return re.sub(r"\s+", " ", html.unescape(body))


@pytest.fixture
def configured(settings):
    """An app whose statements must show non-default settings: they are read, not repeated."""
    changed = dataclasses.replace(
        settings,
        contact_email="toegankelijkheid@ida.example",
        session_idle_minutes=45,
        session_max_hours=9,
        audit_ip_days=30,
        digest_delivery_days=90,
    )
    with Browser(create_app(changed)) as browser:
        yield browser


@pytest.mark.parametrize("path", STATEMENTS)
def test_a_statement_is_public_and_linked_from_the_footer_of_every_page(anonymous, client, path):
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code == 200
    assert f"<h1>{STATEMENTS[path]}</h1>" in response.text
    for page in ("/inloggen", path):
        footer = anonymous.get(page).text.split("<footer", 1)[1]
        assert f'href="{path}">{STATEMENTS[path]}</a>' in footer, page
    for page in ("/", "/initiatieven", "/zoeken", "/account"):  # and after login
        footer = client.get(page).text.split("<footer", 1)[1]
        assert f'href="{path}">{STATEMENTS[path]}</a>' in footer, page


def test_the_accessibility_statement_follows_the_model(configured):
    text = text_of(configured.get("/toegankelijkheid").text)
    assert "WCAG) 2.1 op niveau A en AA" in text and "EN 301 549" in text
    assert "Nalevingsstatus: D – maatregelen gepland" in text
    assert f"axe-core {AXE_CORE_VERSION}" in text
    assert all(name in text for name in REFLOW_VIEWPORTS)
    assert "niet ingelogd, Medewerker provincie, IDA-coördinator, Beheerder" in text
    assert "Toetsenbordtests" in text
    assert f"bijgewerkt op {dutch_date(STATEMENT_DATE)}" in text
    assert f"uiterlijk op {dutch_date(STATEMENT_DATE + timedelta(days=365))}" in text
    for limitation in KNOWN_LIMITATIONS:
        assert limitation.what in text
    assert "toegankelijkheid@ida.example" in text and "Nationale ombudsman" in text


def test_the_tests_the_statement_names_exist():
    """The statement claims axe-core runs on every page: its version is the vendored file the browser test loads."""
    vendor = Path(__file__).parent / "vendor"
    assert (vendor / f"axe-core-{AXE_CORE_VERSION}.min.js").is_file()
    browser_pages = (Path(__file__).parent / "test_browser_pages.py").read_text(encoding="utf-8")
    assert "AXE_CORE_VERSION" in browser_pages and "REFLOW_VIEWPORTS" in browser_pages
    assert '"/privacy"' in browser_pages and '"/toegankelijkheid"' in browser_pages


def test_the_privacy_statement_reads_its_periods_from_the_settings(configured):
    text = text_of(configured.get("/privacy").text)
    assert "na 45 minuten zonder gebruik en uiterlijk 9 uur na het inloggen" in text
    forget = round(configured.app.state.login_throttle.forget_after / 60)
    assert f"na {forget} minuten niet meer mee" in text
    for heading in (
        "Uw account",
        "Sessies",
        "Mislukte inlogpogingen",
        "Het auditlog",
        "Contactpersonen van initiatieven",
        "Introductiemails",
        "Abonnementen en de wekelijkse e-mail",
        "Waarom: de grondslag",
        "Uw rechten",
    ):
        assert heading in text, heading
    assert "artikel 6, lid 1, onder e" in text and "Autoriteit Persoonsgegevens" in text
    assert "Na 30 dagen wordt het IP-adres ingekort" in text  # the audit log's retention, from the setting
    assert "Het verzendoverzicht van een week wordt 90 dagen na het einde van die week verwijderd" in text
    assert f"tot {digest.SEND_WITHIN.days} dagen na het einde van de week" in text
    assert 'href="mailto:toegankelijkheid@ida.example"' in configured.get("/privacy").text


def test_without_a_contact_address_the_statements_name_a_route_instead(anonymous):
    for path in STATEMENTS:
        page = anonymous.get(path).text
        assert "mailto:" not in page.split("<main", 1)[1].split("</main>")[0]
        assert "functioneel beheerder van de Kennisbank in uw provincie" in text_of(page)


def test_expired_sessions_are_removed_with_their_ip_address(anonymous, settings):
    """What the privacy statement promises: the nightly run deletes sessions that can no longer be resumed."""
    user = anonymous.make_user()
    policy = sessions.policy(settings)

    async def scenario() -> tuple[int, set[str]]:
        live = await sessions.start(user, ip="192.0.2.1", second_factor_done=True)
        idle = await sessions.start(user, ip="192.0.2.2", second_factor_done=True)
        old = await sessions.start(user, ip="192.0.2.3", second_factor_done=True)
        now = await UserSession.get(id=sessions.token_hash(live))
        await UserSession.filter(id=sessions.token_hash(idle)).update(
            last_seen_at=now.last_seen_at - policy.idle - timedelta(minutes=1)
        )
        await UserSession.filter(id=sessions.token_hash(old)).update(
            created_at=now.created_at - policy.absolute - timedelta(minutes=1)
        )
        removed = await sessions.remove_expired(policy)
        return removed, {s.ip for s in await UserSession.filter(user_id=user.id)}

    removed, left = anonymous.run(scenario)
    assert removed == 2
    assert left == {"192.0.2.1"}


def test_the_contact_address_setting_is_validated():
    from kennisbank.settings import Settings, SettingsError

    assert (
        Settings.from_env({"KENNISBANK_CONTACT_EMAIL": " kennisbank@ida.example "}).contact_email
        == "kennisbank@ida.example"
    )
    with pytest.raises(SettingsError, match="KENNISBANK_CONTACT_EMAIL"):
        Settings.from_env({"KENNISBANK_CONTACT_EMAIL": "IDA <kennisbank@ida.example>"})


def test_old_audit_ip_addresses_are_shortened_to_their_network_and_the_lines_stay(anonymous, settings):
    """What the privacy statement promises for the audit log (KENNISBANK_AUDIT_IP_DAYS)."""
    from tortoise import timezone

    from kennisbank import audit
    from kennisbank.models import AuditEntry

    async def scenario() -> tuple[int, list[tuple[str, str]]]:
        now = timezone.now()
        for action, ip, age in (
            ("oud4", "192.0.2.77", 200),
            ("oud6", "2001:db8:1:2::5", 200),
            ("nieuw", "192.0.2.78", 5),
            ("kapot", "geen-adres", 200),
        ):
            await AuditEntry.create(at=now - timedelta(days=age), action=action, ip=ip, result=audit.OK)
        changed = await audit.shorten_old_ips(now - timedelta(days=settings.audit_ip_days))
        again = await audit.shorten_old_ips(now - timedelta(days=settings.audit_ip_days))
        assert again == 0  # idempotent: a shortened address stays as it is
        return changed, sorted(
            await AuditEntry.filter(action__in=["oud4", "oud6", "nieuw", "kapot"]).values_list("action", "ip")
        )

    changed, rows = anonymous.run(scenario)
    assert changed == 3
    assert rows == [("kapot", ""), ("nieuw", "192.0.2.78"), ("oud4", "192.0.2.0"), ("oud6", "2001:db8:1::")]


def test_the_audit_ip_retention_setting_is_validated():
    from kennisbank.settings import Settings, SettingsError

    assert Settings.from_env({"KENNISBANK_AUDIT_IP_DAYS": "90"}).audit_ip_days == 90
    with pytest.raises(SettingsError, match="KENNISBANK_AUDIT_IP_DAYS"):
        Settings.from_env({"KENNISBANK_AUDIT_IP_DAYS": "0"})
