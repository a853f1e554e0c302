"""A real headless Chromium against a real server on loopback: what a new user sees and does."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.browser

PASSWORD = "een lange zin als wachtwoord"
UTRECHT = "medewerker@utrecht.example"
GELDERLAND = "medewerker@gelderland.example"
COORDINATOR = "coordinator@ida.example"
BEHEERDER = "beheerder@ida.example"
# A long address, as some provinces hand out: it must wrap on the account page instead of widening it.
LONG_EMAIL = "a.van.der.heijden-de.groot.projectleider.digitalisering@provincie-utrecht.example"
ACCOUNTS = [
    (UTRECHT, "medewerker", "NL-UT"),
    (GELDERLAND, "medewerker", "NL-GE"),
    (COORDINATOR, "coordinator", None),
    (LONG_EMAIL, "medewerker", "NL-UT"),
    (BEHEERDER, "beheerder", None),
]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    assert run_cli(data_dir, "seed").returncode == 0
    with serving(data_dir) as url:
        yield url


@contextmanager
def serving(data_dir: Path, embedding_model: str = "none") -> Iterator[str]:
    """`kennisbank serve` on `data_dir` with ACCOUNTS created, at the URL it yields."""
    for email, role, province in ACCOUNTS:
        where = ["--province", province] if province else []
        created = run_cli(data_dir, "user", "create", "--email", email, "--role", role, *where, "--password", PASSWORD)
        assert created.returncode == 0, created.stderr
    port = _free_port()
    env = {**os.environ, "KENNISBANK_DATA_DIR": str(data_dir), "KENNISBANK_EMBEDDING_MODEL": embedding_model}
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
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; `make test` installs it from Debian's packages")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


def log_in(page, server: str, email: str) -> None:
    page.goto(server + "/inloggen")
    page.fill("#veld-email", email)
    page.fill("#veld-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(server + "/")


@pytest.fixture
def page(browser, server):
    """A browser tab logged in as a medewerker of Utrecht."""
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    log_in(tab, server, UTRECHT)
    yield tab
    context.close()


@pytest.fixture
def coordinator(browser, server):
    """A browser tab logged in as an IDA coordinator."""
    context = browser.new_context(locale="nl-NL")
    tab = context.new_page()
    log_in(tab, server, COORDINATOR)
    yield tab
    context.close()


def test_missing_title_shows_dutch_error_next_to_title_and_keeps_the_form(server, page):
    page.goto(server + "/initiatieven/nieuw")
    page.select_option("#veld-kind", "living_lab")
    page.fill("#veld-summary", "Sensoren op fietsen meten de luchtkwaliteit in de stad.")
    page.select_option("#veld-province", "NL-UT")
    page.select_option("#veld-phase", "pilot")
    page.check("#thema-mobiliteit")
    page.fill("#veld-suppliers", "SnuffelTech")
    page.click("main button[type=submit]")

    assert page.evaluate("document.activeElement.id") == "foutoverzicht"  # focus on the error summary
    title_field = page.locator("div.field", has=page.locator("#veld-title"))
    assert "Fout: Vul ‘Titel’ in; dit veld is verplicht." in title_field.inner_text()
    assert page.locator("#veld-title").get_attribute("aria-invalid") == "true"
    assert page.title().startswith("Fout:")
    assert page.input_value("#veld-summary") == "Sensoren op fietsen meten de luchtkwaliteit in de stad."
    assert page.input_value("#veld-province") == "NL-UT"
    assert page.input_value("#veld-suppliers") == "SnuffelTech"
    assert page.is_checked("#thema-mobiliteit")

    page.click('.error-summary a[href="#veld-title"]')
    assert page.evaluate("document.activeElement.id") == "veld-title"
    page.fill("#veld-title", "Snuffelfiets in Utrecht")
    page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Snuffelfiets in Utrecht"
    assert "Het initiatief is opgeslagen." in page.inner_text("main")


def test_filters_update_results_in_place_and_in_the_url(server, page):
    page.goto(server + "/initiatieven")
    total_before = page.inner_text(".count")
    page.evaluate("window.__notReloaded = true")
    page.check("#f-province-12")  # Limburg, the last province in the list
    page.wait_for_function("before => document.querySelector('.count').innerText !== before", arg=total_before)
    assert page.evaluate("window.__notReloaded") is True
    assert "province=NL-LI" in page.url
    metas = page.locator(".card .meta").all_inner_texts()
    assert metas and all("Limburg" in meta for meta in metas)


def test_keyboard_user_reaches_content_with_the_skip_link(server, page):
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inhoud"


def test_home_screenshot(server, page, tmp_path: Path):
    page.goto(server + "/")
    path = tmp_path / "home.png"
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("KENNISBANK_SCREENSHOT"):
        shutil.copy(path, os.environ["KENNISBANK_SCREENSHOT"])
    assert path.stat().st_size > 10_000
    assert page.locator("h1").inner_text() == "Wat doen de andere provincies?"


def test_typing_a_typo_shows_nitrogen_initiatives_highlighted(server, page):
    page.goto(server + "/zoeken")
    page.evaluate("window.__notReloaded = true")
    page.locator("#q").press_sequentially("stikstf", delay=30)
    page.wait_for_url("**/zoeken?q=stikstf*")
    page.locator(".count", has_text="stikstf").wait_for()
    assert page.evaluate("window.__notReloaded") is True
    assert "q=stikstf" in page.url
    marks = page.locator(".results mark").all_inner_texts()
    assert marks and all(m.lower().startswith("stikstof") for m in marks)

    before = page.inner_text(".count")
    page.check("#facet-province-NL-GE")
    page.wait_for_function("before => document.querySelector('.count').innerText !== before", arg=before)
    metas = page.locator(".results .meta").all_inner_texts()
    assert metas and all(meta.startswith("Gelderland") for meta in metas)
    assert page.evaluate("document.activeElement.id") == "facet-province-NL-GE"


def test_a_gelderland_medewerker_cannot_edit_a_limburg_initiative(server, browser, tmp_path_factory):
    context = browser.new_context(locale="nl-NL")
    tab = context.new_page()
    log_in(tab, server, GELDERLAND)
    tab.goto(server + "/initiatieven?province=NL-LI")
    tab.locator(".card h3 a").first.click()
    tab.wait_for_url("**/initiatieven/*")
    limburg_url = tab.url
    assert "Limburg" in tab.inner_text(".initiative .meta")
    assert tab.locator("a", has_text="Bewerken").count() == 0
    assert tab.locator("button", has_text="Archiveren").count() == 0

    csrf = next(c["value"] for c in context.cookies() if c["name"] == "kb_csrf")
    crafted = tab.request.post(limburg_url + "/archiveren", form={"csrf_token": csrf}, max_redirects=0)
    assert crafted.status == 403 and "geen rechten" in crafted.text()
    tab.goto(limburg_url)
    assert "Gearchiveerd" not in tab.inner_text("main")

    tab.goto(server + "/initiatieven?province=NL-GE")
    tab.locator(".card h3 a").first.click()
    tab.wait_for_url("**/initiatieven/*")
    assert tab.locator("a", has_text="Bewerken").count() == 1
    context.close()


def test_a_coordinator_accepts_the_top_suggestion_with_the_keyboard_and_sees_it_on_both_pages(server, coordinator):
    tab = coordinator
    tab.goto(server + "/matches")
    tab.locator(".results .card h3 a").first.click()
    tab.wait_for_url("**/matches/*")
    ids = [
        href.rsplit("/", 1)[1]
        for href in tab.locator(".side-by-side h2 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    ]
    tab.evaluate("window.__notReloaded = true")
    for _ in range(60):  # Tab through the page until the note has focus: no mouse, no focus() call
        tab.keyboard.press("Tab")
        if tab.evaluate("document.activeElement.id") == "veld-note":
            break
    assert tab.evaluate("document.activeElement.id") == "veld-note"
    tab.keyboard.type("Samen verder in het IDA-programma")
    tab.keyboard.press("Tab")  # to the Accepteren button
    assert tab.evaluate("document.activeElement.textContent.trim()") == "Accepteren"
    tab.keyboard.press("Enter")
    tab.locator("#beoordeling-status", has_text="Geaccepteerd").wait_for()
    assert tab.evaluate("window.__notReloaded") is True
    assert "Geaccepteerd" in tab.locator("#beoordeling-melding[aria-live=polite]").text_content()
    assert tab.evaluate("document.activeElement.id") == "knop-geaccepteerd"  # focus survives the swap
    for initiative_id in ids:
        tab.goto(f"{server}/initiatieven/{initiative_id}")
        section = tab.locator("section", has=tab.locator("#samenwerking"))
        assert "Samen verder in het IDA-programma" in section.inner_text()


@pytest.mark.parametrize(
    "start, change, result_link",
    [
        ("/zoeken?q=stikstf", "#facet-province-NL-GE", ".results h3 a"),
        ("/initiatieven", "#f-province-5", ".card h3 a"),
    ],
)
def test_back_after_an_htmx_update_shows_the_whole_page(server, page, start, change, result_link):
    page.goto(server + start)
    before = page.inner_text(".count")
    page.check(change)
    page.wait_for_function("before => document.querySelector('.count').innerText !== before", arg=before)
    updated_url = page.url
    page.locator(result_link).first.click()
    page.wait_for_url("**/initiatieven/*")
    page.go_back()
    page.wait_for_url(updated_url)
    page.locator("main h1").wait_for()
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert page.locator("header.site-header nav").is_visible()
    assert page.title().endswith("Kennisbank provincies")
    assert page.is_checked(change)


def test_back_after_filtering_the_match_queue_shows_the_whole_page(server, coordinator):
    tab = coordinator
    tab.goto(server + "/matches")
    before = tab.inner_text(".count")
    tab.select_option("#f-province", "NL-GE")
    tab.wait_for_function("before => document.querySelector('.count').innerText !== before", arg=before)
    updated_url = tab.url
    tab.locator(".results .card h3 a").first.click()
    tab.wait_for_url("**/matches/*")
    tab.go_back()
    tab.wait_for_url(updated_url)
    tab.locator("main h1").wait_for()
    assert tab.evaluate("document.documentElement.lang") == "nl"
    assert tab.locator("header.site-header nav").is_visible()
    assert tab.input_value("#f-province") == "NL-GE"


@pytest.mark.parametrize(
    "start, change", [("/zoeken?q=stikstof", "#facet-province-NL-GE"), ("/initiatieven", "#f-province-5")]
)
def test_the_new_count_is_announced_by_a_live_region_that_the_update_keeps(server, page, start, change):
    page.goto(server + start)
    assert page.locator("#resultaten[aria-live], #zoekgebied[aria-live]").count() == 0  # not the whole block
    page.evaluate("document.getElementById('aantal-melding').dataset.kept = 'ja'")
    before = page.inner_text(".count")
    page.check(change)
    page.wait_for_function("before => document.querySelector('.count').innerText !== before", arg=before)
    region = page.locator("#aantal-melding")
    assert region.get_attribute("role") == "status" and region.get_attribute("aria-live") == "polite"
    assert region.get_attribute("data-kept") == "ja"  # the same node: a region inserted by the swap may go unread
    assert region.text_content().strip() == page.inner_text(".count").strip()


def test_a_skip_link_takes_the_keyboard_from_the_search_field_past_the_facets(server, page):
    page.goto(server + "/zoeken?q=stikstof")
    page.focus("#q")
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Direct naar de resultaten":
            break
    assert page.evaluate("document.activeElement.textContent.trim()") == "Direct naar de resultaten"
    assert page.locator("a[href='#resultaten-kop']").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "resultaten-kop"
    assert page.locator("details.facet-group:not([open])").count() >= 3  # the other facet groups are folded


def test_after_a_failed_login_focus_is_on_the_error_message(server, browser):
    context = browser.new_context(locale="nl-NL")
    tab = context.new_page()
    tab.goto(server + "/inloggen")
    tab.fill("#veld-email", "niemand@test.example")
    tab.fill("#veld-password", "niet het wachtwoord")
    tab.click("main button[type=submit]")
    tab.locator("#foutoverzicht").wait_for()
    assert tab.evaluate("document.activeElement.id") == "foutoverzicht"  # not left on body
    assert tab.title().startswith("Fout:")
    context.close()


def test_the_match_queue_announces_its_new_count_in_a_region_the_update_keeps(server, coordinator):
    tab = coordinator
    tab.goto(server + "/matches")
    tab.evaluate("document.getElementById('aantal-melding').dataset.kept = 'ja'")
    before = tab.inner_text(".count")
    tab.select_option("#f-province", "NL-GE")
    tab.wait_for_function("before => document.querySelector('.count').innerText !== before", arg=before)
    region = tab.locator("#aantal-melding")
    assert region.get_attribute("role") == "status" and region.get_attribute("aria-live") == "polite"
    assert region.get_attribute("data-kept") == "ja"
    count = region.text_content().strip()
    assert count.endswith(("match", "matches")) and count.split()[0] in tab.inner_text(".count")


def test_back_after_filtering_the_collaboration_board_shows_the_whole_page(server, coordinator):
    tab = coordinator
    tab.goto(server + "/samenwerkingen")
    kinds = tab.locator("#veld-type option").evaluate_all("options => options.map(o => o.value).filter(v => v)")
    link = "#samenwerkingen-bord a[href^='/samenwerkingen/']"
    for kind in kinds:  # a kind that the seed's collaborations have
        tab.evaluate("document.getElementById('samenwerkingen-bord').dataset.old = 'ja'")
        tab.select_option("#veld-type", kind)
        tab.wait_for_url(f"**type={kind}**")
        tab.wait_for_function("!document.getElementById('samenwerkingen-bord').dataset.old")  # swapped
        if tab.locator(link).count():
            break
    updated_url = tab.url
    tab.locator(link).first.click()
    tab.wait_for_url(re.compile(r"/samenwerkingen/\d+$"))
    tab.go_back()
    tab.wait_for_url(updated_url)
    tab.locator("main h1").wait_for()
    assert tab.evaluate("document.documentElement.lang") == "nl"
    assert tab.locator("header.site-header nav").is_visible()
    assert tab.input_value("#veld-type") == kind
