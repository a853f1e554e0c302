"""Start-up does not wait for the match engine (issue 12): with suggestions stored, the app answers
/healthz, serves pages and takes saves while `MatchEngine.load` still runs; a save meanwhile shows its
matches as "wordt verwerkt" and gets them once the engine is loaded. Real SQLite or PostgreSQL, the
real lifespan; only the loading is held back (until the test lets it go) so that "still loading" is
certain instead of a race against a fast machine."""

from __future__ import annotations

import asyncio
import threading
import time

from kennisbank import embedding_jobs
from kennisbank import initiatives as service
from kennisbank.db import database
from kennisbank.matches import Matcher
from kennisbank.models import MatchSuggestion
from kennisbank.validation import parse_initiative
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
            await service.upsert_initiatives([
                parse_initiative(valid_initiative(external_id=f"{code}-LOAD", province=code))
                for code in ("NL-GE", "NL-UT", "NL-ZE")])
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
        assert client.run(MatchSuggestion.filter(a_id=created["id"], current=True).count) \
            + client.run(MatchSuggestion.filter(b_id=created["id"], current=True).count) == 3
        assert "Wordt verwerkt" not in client.get(f"/initiatieven/{created['id']}").text
