"""Subscriptions, saved searches, the digest preview, Atom feeds and unsubscribing, through the web app."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import httpx
import pytest

from kennisbank import signing
from kennisbank.digest.mail import UNSUBSCRIBE_PURPOSE, unsubscribe_url
from kennisbank.models import Subscription, User
from tests.conftest import Browser


class CookieLess:
    """Requests to the same running app without any cookie, as a feed reader or a mail server sends them."""

    def __init__(self, client: Browser) -> None:
        self.client = client

    def _request(self, method: str, url: str, **kwargs) -> httpx.Response:
        saved = list(self.client.cookies.jar)
        self.client.cookies.clear()
        try:
            return self.client.request(method, url, **kwargs)
        finally:
            self.client.cookies.clear()
            for cookie in saved:
                self.client.cookies.jar.set_cookie(cookie)

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self._request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self._request("POST", url, **kwargs)


@pytest.fixture
def anonymous_twin(client: Browser) -> CookieLess:
    return CookieLess(client)


def subscription_list(html: str) -> str:
    match = re.search(r'<ul class="subscriptions">.*?</ul>', html, flags=re.S)
    return match.group(0) if match else ""


ATOM = "{http://www.w3.org/2005/Atom}"


def feed_url(client: Browser, label: str) -> str:
    html = client.get("/account").text
    item = next(li for li in re.findall(r"<li>.*?</li>", html, flags=re.S) if label in li)
    return re.search(r'href="(/feeds/[^"]+\.atom)"', item).group(1)


def test_subscriptions_are_added_shown_and_removed_on_the_account_page(client):
    for choice in ("theme:stikstof", "province:NL-LI", "kind:living_lab"):
        assert client.submit("/account/abonnementen", {"choice": choice}, follow_redirects=False).status_code == 303
    listed = subscription_list(client.get("/account").text)
    for label in ("Thema: stikstof", "Provincie: Limburg", "Soort: Living lab"):
        assert label in listed
    [stikstof] = client.run(Subscription.filter, kind="theme", value="stikstof")
    client.submit(f"/account/abonnementen/{stikstof.id}/verwijderen", {})
    assert "Thema: stikstof" not in subscription_list(client.get("/account").text)
    bad = client.submit("/account/abonnementen", {"choice": "theme:bestaat-niet"})
    assert bad.status_code == 422 and "Kies een waarde uit de lijst." in bad.text


def test_a_search_page_can_be_saved_as_a_subscription(client):
    page = client.get("/zoeken", params={"q": "stikstof", "province": "NL-GE"}).text
    assert 'form="bewaar-zoekopdracht"' in page
    value = re.search(r'form="bewaar-zoekopdracht" name="value" value="([^"]*)"', page).group(1)
    saved = client.submit(
        "/account/abonnementen",
        {"kind": "search", "value": value.replace("&amp;", "&"), "terug": "zoeken"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "bewaard=1" in saved.headers["location"]
    [subscription] = client.run(Subscription.all)
    assert subscription.kind == "search" and subscription.value == "q=stikstof&province=NL-GE"
    assert "Zoekopdracht: “stikstof”" in subscription_list(client.get("/account").text)


def test_nitrogen_posted_elsewhere_shows_in_my_preview_but_my_own_post_does_not(client):
    client.submit("/account/abonnementen", {"kind": "search", "value": "q=stikstof", "terug": "zoeken"})
    client.submit("/account/abonnementen", {"choice": "theme:stikstof"})
    client.submit("/initiatieven/nieuw", {**_form(title="Stikstofmetingen door onszelf", external_id="GE-EIGEN")})
    client.create_initiative(
        external_id="LI-N",
        province="NL-LI",
        themes=["stikstof"],
        title="Stikstofdepositie meten rond Limburgse Natura 2000-gebieden",
    )
    html = client.get("/digest/voorbeeld").text
    items = html.split('<h2 id="matches-kop">')[0]  # matches with our own initiative are news; items are not
    assert "Stikstofdepositie meten rond Limburgse Natura 2000-gebieden" in items
    assert "Stikstofmetingen door onszelf" not in items


def _form(**changes):
    from tests.conftest import as_form, valid_initiative

    return as_form(valid_initiative(themes=["stikstof"], **changes))


def test_a_subscription_has_an_atom_feed_that_escapes_titles_and_needs_no_login(client, anonymous_twin):
    client.submit("/account/abonnementen", {"choice": "province:NL-LI"})
    client.create_initiative(external_id="LI-X", province="NL-LI", title="Kwallen <script>alert(1)</script> tellen")
    url = feed_url(client, "Provincie: Limburg")
    response = anonymous_twin.get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    assert "<script>" not in response.text
    feed = ElementTree.fromstring(response.content)
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "Kwallen <script>alert(1)</script> tellen"
    assert anonymous_twin.get("/feeds/geraden.atom").status_code == 404


def test_unsubscribing_needs_a_valid_token_and_a_post(client, settings, anonymous_twin):
    user = client.run(User.get, email="medewerker.nl-ge@test.example")
    url = unsubscribe_url(settings, user.id).removeprefix(settings.base_url)
    forged = url.replace(f"token={user.id}.", f"token={user.id + 1}.")
    assert anonymous_twin.post(forged).status_code == 400
    page = anonymous_twin.get(url)
    assert page.status_code == 200 and "Ja, afmelden" in page.text
    assert client.run(User.get, id=user.id).digest_weekly  # GET changed nothing
    one_click = anonymous_twin.post(url, data={"List-Unsubscribe": "One-Click"})  # no cookies, as a mail server
    assert one_click.status_code == 200 and "U bent afgemeld" in one_click.text
    assert not client.run(User.get, id=user.id).digest_weekly
    assert signing.unsign(settings, UNSUBSCRIBE_PURPOSE, url.split("token=")[1]) == str(user.id)


def test_other_digest_routes_still_need_the_csrf_token(client):
    client.send_csrf_header = False
    assert client.post("/account/abonnementen", data={"choice": "theme:water"}).status_code == 403
    assert client.run(Subscription.all) == []


def test_digest_settings_are_saved(client):
    client.submit("/account/overzicht", {"weekly": "nee"})
    user = client.run(User.get, email="medewerker.nl-ge@test.example")
    assert not user.digest_weekly and not user.digest_related
    client.submit("/account/overzicht", {"weekly": "ja", "related": "on"})
    user = client.run(User.get, id=user.id)
    assert user.digest_weekly and user.digest_related
