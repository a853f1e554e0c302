"""Issue 15's walk on a phone-sized screen, in a real Chromium: log in, search, open a result, go back, and as
coordinator reject a match, with no sideways scrolling at any step (WCAG 1.4.10). The page sweep
(test_browser_pages.py) checks each page as loaded; this checks the states a user reaches by using them."""

from __future__ import annotations

import pytest

from kennisbank.statements import REFLOW_VIEWPORTS
from tests.test_browser import COORDINATOR, PASSWORD, UTRECHT, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

PHONE = REFLOW_VIEWPORTS["320 px breed"]


def _phone(browser):  # noqa: F811
    return browser.new_context(locale="nl-NL", viewport=PHONE, is_mobile=True, has_touch=True)


def _fits(tab, step: str) -> None:
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{step}: the page is {width} px wide on a {PHONE['width']} px screen"


def _log_in(tab, server: str, email: str) -> None:  # noqa: F811
    tab.goto(server + "/inloggen")
    _fits(tab, "inloggen")
    tab.fill("#veld-email", email)
    tab.fill("#veld-password", PASSWORD)
    tab.tap("main button[type=submit]")
    tab.wait_for_url(server + "/")
    _fits(tab, "home after login")


def test_on_a_phone_a_medewerker_searches_opens_a_result_and_goes_back(server, browser):  # noqa: F811
    context = _phone(browser)
    tab = context.new_page()
    _log_in(tab, server, UTRECHT)
    tab.fill("#home-q", "stikstof")
    tab.press("#home-q", "Enter")
    tab.wait_for_url("**/zoeken?q=stikstof*")
    tab.locator(".results h3 a").first.wait_for()
    _fits(tab, "search results")
    results_url = tab.url
    tab.locator(".results h3 a").first.tap()
    tab.wait_for_url("**/initiatieven/*")
    _fits(tab, "a result")
    tab.go_back()
    tab.wait_for_url(results_url)
    tab.locator("main h1").wait_for()
    assert tab.locator("header.site-header").is_visible() and tab.input_value("#q") == "stikstof"
    _fits(tab, "back on the results")
    context.close()


def test_on_a_phone_a_coordinator_rejects_a_match(server, browser):  # noqa: F811
    context = _phone(browser)
    tab = context.new_page()
    _log_in(tab, server, COORDINATOR)
    tab.goto(server + "/matches")
    _fits(tab, "the match queue")
    tab.locator(".results .card h3 a").first.tap()
    tab.wait_for_url("**/matches/*")
    _fits(tab, "a match")
    reject = tab.locator("#knop-afgewezen")
    reject.scroll_into_view_if_needed()
    box = reject.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # "Afwijzen" is on the screen
    tab.fill("#veld-note", "Te verschillend van opzet")
    reject.tap()
    tab.locator("#beoordeling-status", has_text="Afgewezen").wait_for()
    _fits(tab, "after the rejection")
    context.close()
