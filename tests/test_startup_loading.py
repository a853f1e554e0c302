"""Start-up does not wait for the match engine or the start-up reindex (issue 12): with suggestions
stored, the app answers /healthz, serves pages and takes saves while `MatchEngine.load` still runs; a
save meanwhile shows its matches as "wordt verwerkt" and gets them once the engine is loaded. The
reindex, also in the background, still repairs the index and loses no save made while it ran. Real
SQLite or PostgreSQL, the real lifespan and index; only the loading or the reindex is held back
(until the test lets it go) so that "still running" is certain instead of a race against a fast
machine."""

from __future__ import annotations

import asyncio
import threading
import time

from kennisbank.db import database
from kennisbank.initiatives import service
from kennisbank.initiatives.validation import parse_initiative
from kennisbank.matching.service import Matcher
from kennisbank.models import Initiative, MatchSuggestion
from kennisbank.searching import embedding_jobs
from kennisbank.searching.indexing import open_search_index, reindex, to_documents
from kennisbank.web import app as web_app
from kennisbank.web.app import create_app
from search.matching import MatchEngine
from tests.conftest import Browser, valid_initiative

#: How long the loading is held back at most. A start-up that waits for the engine takes this long.
HELD_SECONDS = 20.0


class StartingBrowser(Browser):
    waits_for_the_match_engine = False  # the point is what it does before that


def test_the_app_answers_and_takes_saves_while_its_match_engine_is_still_loading(settings, monkeypatch):
    async def previous_run() -> None:  # what `kennisbank match`, the seed or the nightly job left stored
        async with database(settings):
            await service.upsert_initiatives(
                [
                    parse_initiative(valid_initiative(external_id=f"{code}-LOAD", province=code))
                    for code in ("NL-GE", "NL-UT", "NL-ZE")
                ]
            )
            await Matcher(None).rematch_all()
            assert await MatchSuggestion.filter(current=True).count() == 3

    asyncio.run(previous_run())

    loading, release = threading.Event(), threading.Event()
    load = MatchEngine.load

    def held_load(engine: MatchEngine, items) -> None:  # type: ignore[no-untyped-def]
        loading.set()
        release.wait(HELD_SECONDS)
        load(engine, items)

    monkeypatch.setattr(MatchEngine, "load", held_load)
    started = time.monotonic()
    with StartingBrowser(create_app(settings)) as client:
        assert time.monotonic() - started < HELD_SECONDS / 2, "start-up waited for the match engine"
        matcher = client.app.state.matcher
        assert client.get("/healthz").status_code == 200
        assert loading.wait(10), "the match engine never started loading"
        assert not matcher.prepared and not release.is_set()

        saving = time.monotonic()
        client.login_as("medewerker", "NL-NH")
        created = client.create_initiative(external_id="NL-NH-LOAD", province="NL-NH")
        assert time.monotonic() - saving < HELD_SECONDS / 2, "a save waited for the match engine"
        assert not matcher.prepared  # still loading: the save really did not wait
        page = client.get(f"/initiatieven/{created['id']}")
        assert page.status_code == 200 and "Wordt verwerkt" in page.text
        hits = client.get("/api/v1/search", params={"q": "wegdekinspectie"}).json()["hits"]
        assert created["id"] in {hit["id"] for hit in hits}  # keyword-searchable at once

        release.set()
        deadline = time.monotonic() + 30
        while not matcher.prepared or client.run(embedding_jobs.pending_count):
            assert time.monotonic() < deadline, "the save's job was not done after the loading"
            time.sleep(0.05)
        assert (
            client.run(MatchSuggestion.filter(a_id=created["id"], current=True).count)
            + client.run(MatchSuggestion.filter(b_id=created["id"], current=True).count)
            == 3
        )
        assert "Wordt verwerkt" not in client.get(f"/initiatieven/{created['id']}").text


def test_the_start_up_reindex_runs_while_serving_repairs_the_index_and_keeps_a_save_made_meanwhile(
    settings, monkeypatch
):
    async def crashed_run() -> tuple[int, int]:  # one initiative's document lost (a crash before the index write)
        async with database(settings):
            await service.upsert_initiatives(
                [
                    parse_initiative(
                        valid_initiative(external_id="GE-LOST", title="Kademuren monitoren met glasvezel")
                    ),
                    parse_initiative(valid_initiative(external_id="GE-EDIT", title="Bermbeheer met maairobots")),
                ]
            )
            lost = (await Initiative.get(external_id="GE-LOST")).id
            index = open_search_index(settings)
            try:
                await reindex(index)
                index.delete([lost])
            finally:
                index.close()
            return lost, (await Initiative.get(external_id="GE-EDIT")).id

    lost, edited = asyncio.run(crashed_run())
    reindexing, release = threading.Event(), threading.Event()

    async def held_reindex(index, embedder, **kwargs):  # type: ignore[no-untyped-def]
        # A reindex reads the rows first and writes their documents later: a save in between is
        # written over with what it read (modelled here by writing that read after the real reindex).
        read = await to_documents(await Initiative.all().prefetch_related("province", "themes"), embedder)
        reindexing.set()
        await asyncio.to_thread(release.wait, HELD_SECONDS)
        report = await reindex(index, embedder, **kwargs)
        await asyncio.to_thread(index.upsert, [document for document in read if document.id != lost])
        return report

    monkeypatch.setattr(web_app, "reindex", held_reindex)
    started = time.monotonic()
    with StartingBrowser(create_app(settings)) as client:
        assert time.monotonic() - started < HELD_SECONDS / 2, "start-up waited for its reindex"
        assert client.get("/healthz").status_code == 200
        assert reindexing.wait(10) and not client.app.state.reconciled.is_set()

        def found(query: str) -> set[int]:
            return {hit["id"] for hit in client.get("/api/v1/search", params={"q": query}).json()["hits"]}

        client.login_as("medewerker", "NL-GE")
        assert lost not in found("kademuren")  # not repaired yet
        created = client.create_initiative(external_id="GE-MEANWHILE", title="Zwerfafval herkennen met drones")
        assert (
            client.patch(
                f"/api/v1/initiatives/{edited}",
                json={"title": "Zwerfafval ruimen met robots"},
                headers={"If-Match": '"1"'},
            ).status_code
            == 200
        )
        assert found("zwerfafval") == {created["id"], edited}  # keyword-searchable at once, during the reindex

        release.set()
        deadline = time.monotonic() + 30
        while not client.app.state.reconciled.is_set():
            assert time.monotonic() < deadline, "the start-up reindex never finished"
            time.sleep(0.05)
        assert lost in found("kademuren")  # repaired
        assert found("zwerfafval") == {created["id"], edited}  # and the saves made meanwhile are kept
        assert edited not in found("bermbeheer")
