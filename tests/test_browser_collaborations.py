"""A coordinator in a real Chromium, keyboard only: accepts a match, follows it to the collaboration, previews
and sends the introduction (to a real SMTP server), moves it to "in gesprek" with a next action; axe-core
reports nothing on the board, the detail page and the dashboard."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from kennisbank.statements import AXE_CORE_VERSION
from tests.conftest import REPO, run_cli
from tests.test_browser import CHROMIUM_FLAGS, COORDINATOR, PASSWORD, _free_port, browser, log_in  # noqa: F401
from tests.test_digest import Mailbox

pytestmark = pytest.mark.browser

AXE_SCRIPT = (Path(__file__).parent / "vendor" / f"axe-core-{AXE_CORE_VERSION}.min.js").read_text() + "\n;true"


@pytest.fixture(scope="module")
def smtp_and_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Mailbox]]:
    handler, smtp_port = Mailbox(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    data_dir = tmp_path_factory.mktemp("collab-browser") / "data"
    assert run_cli(data_dir, "seed").returncode == 0
    created = run_cli(
        data_dir, "user", "create", "--email", COORDINATOR, "--role", "coordinator", "--password", PASSWORD
    )
    assert created.returncode == 0, created.stderr
    port = _free_port()
    env = {
        **os.environ,
        "KENNISBANK_DATA_DIR": str(data_dir),
        "KENNISBANK_EMBEDDING_MODEL": "none",
        "KENNISBANK_SMTP_HOST": "127.0.0.1",
        "KENNISBANK_SMTP_PORT": str(smtp_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kennisbank", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, handler
    finally:
        process.terminate()
        process.wait(timeout=10)
        controller.stop()


def tab_to(tab, predicate: str, backwards: bool = False, limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until the focused element satisfies a JS predicate on ``el``."""
    for _ in range(limit):
        tab.keyboard.press("Shift+Tab" if backwards else "Tab")
        if tab.evaluate(f"(el => !!el && ({predicate}))(document.activeElement)"):
            return
    raise AssertionError(f"never reached {predicate}")


def fresh_match(tab, server: str) -> str:
    """The strongest suggestion whose initiatives are in no collaboration yet (the seed made some)."""
    for href in tab.locator(".results .card h3 a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        sides = re.findall(
            r'<h2 id="kant-[0-9]"><a href="(/initiatieven/[0-9]+)"', tab.request.get(server + href).text()
        )
        if sides and all('id="samenwerkingen-kop"' not in tab.request.get(server + side).text() for side in sides):
            return href
    raise AssertionError("no suggestion without a collaboration on the first page")


def no_axe_violations(tab) -> list[str]:
    tab.evaluate(AXE_SCRIPT)
    result = tab.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{tab.url}: {v['id']} ({len(v['nodes'])}×): {v['help']}" for v in result["violations"]]


def test_a_coordinator_takes_a_match_to_in_gesprek_with_the_keyboard_only(smtp_and_server, browser):  # noqa: F811
    server, mailbox = smtp_and_server
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    log_in(tab, server, COORDINATOR)
    tab.goto(server + "/matches")
    tab.goto(server + fresh_match(tab, server))

    tab_to(tab, "el.id === 'veld-note'")
    tab.keyboard.type("Samen inkopen")
    tab.keyboard.press("Tab")
    tab.keyboard.press("Enter")  # Accepteren
    tab.locator("#samenwerking-link a").wait_for()
    tab_to(tab, "el.closest('#samenwerking-link') !== null", backwards=True)
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/samenwerkingen/*")
    problems = no_axe_violations(tab)

    tab_to(tab, "el.textContent.includes('Introductiemail')")
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/introductie")
    assert tab.locator("pre.mail-preview").count() >= 2
    problems += no_axe_violations(tab)
    tab_to(tab, "el.id === 'knop-versturen'")
    tab.keyboard.press("Enter")
    tab.wait_for_url("**melding=verzonden")
    assert len(mailbox.messages) >= 2

    tab_to(tab, "el.id === 'veld-stage'")
    tab.keyboard.press("ArrowDown")  # voorgesteld → in gesprek
    assert tab.input_value("#veld-stage") == "in_gesprek"
    tab_to(tab, "el.textContent.trim() === 'Fase opslaan'")
    tab.keyboard.press("Enter")
    tab.wait_for_url("**melding=opgeslagen")
    assert tab.inner_text("#fase") == "In gesprek"

    tab_to(tab, "el.id === 'veld-next_action'")
    tab.keyboard.type("Gezamenlijk programma van eisen opstellen")
    tab.keyboard.press("Tab")
    tab.keyboard.type("2030-12-31")  # the date field, JJJJ-MM-DD as its label says
    assert tab.input_value("#veld-next_action_due") == "2030-12-31"
    tab_to(tab, "el.textContent.trim() === 'Volgende actie opslaan'")
    with tab.expect_navigation(url="**melding=opgeslagen"):  # the URL already ends so: wait for the new load
        tab.keyboard.press("Enter")
    assert "Gezamenlijk programma van eisen opstellen, uiterlijk 31 december 2030" in tab.inner_text("main")
    assert "fase van “Voorgesteld” naar “In gesprek”" in tab.inner_text("main")
    problems += no_axe_violations(tab)

    tab.goto(server + "/samenwerkingen")
    assert "Gezamenlijk programma van eisen opstellen" in tab.inner_text("main")
    for stage in ("afspraken_gemaakt", "gestart", "afgerond", "gestopt"):  # the seed's examples
        assert tab.locator(f"section:has(#fase-{stage}) li").count() >= 1, stage
    assert "te laat" in tab.inner_text("main")
    problems += no_axe_violations(tab)
    tab.evaluate("window.sameDocument = true")  # gone after a full reload
    tab.select_option("#veld-type", "opschalen")  # htmx: only the board is fetched and swapped
    tab.wait_for_url("**type=opschalen**")
    tab.wait_for_function("document.querySelector('#aantal-melding').textContent.includes('gevonden')")
    assert tab.evaluate("window.sameDocument === true")
    assert "Gezamenlijk programma van eisen opstellen" not in tab.inner_text("#samenwerkingen-bord")
    problems += no_axe_violations(tab)
    tab.goto(server + "/dashboard")
    assert tab.locator("svg[role=img] title").count() == 3  # heatmap, matches, stages as charts
    problems += no_axe_violations(tab)
    context.close()
    assert not problems, "\n".join(problems)
