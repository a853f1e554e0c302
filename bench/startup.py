"""Server start with 20,000 initiatives: how long until `kennisbank serve` answers /healthz, and until
its match engine is ready, against a start that runs the full rematch (the old path), in the same run.

    python bench/startup.py [--items 20000] [--keep]

The initiatives are generated as bench/match_scaling.py generates them (topics, pseudo-Dutch text,
technologies, suppliers, twelve provinces; random 384-dim vectors), written to a fresh database with
the default encoder's settings: every text's vector in the embedding cache, the search index in line
with the database (vectors included) and no job queued, as a platform whose queue was worked off. So
the start is the real one: migrations, the start-up reindex, the encoder, the match engine.

Two starts of the real server on SQLite, each on its own copy of that data directory:

* **new**: with the suggestions stored (by a full rematch during the set-up, as `kennisbank match`,
  the seed or the nightly job leaves them): the engine is loaded with `MatchEngine.load`.
* **old**: the same data without stored suggestions, so the start runs the full rematch that the
  server ran at every start before a3393df (a start-up that waited for its engine would answer only
  then).

Prints, for each, the seconds from starting the process until /healthz answers 200 and until the
server logs that its match engine is ready, and the slowest /healthz answer in between (asked every
0.1 s: whether the loading holds up requests); then the ratios. Exit 1 when the new start's /healthz
took 3 s or more (the goal of issue 12).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (bench/load.py: a free port)
import match_scaling  # noqa: E402  (the generated initiatives)

REPO = load.REPO
sys.path.insert(0, str(REPO))

from tortoise import connections  # noqa: E402

from kennisbank.db import database  # noqa: E402
from kennisbank.matching.service import Matcher  # noqa: E402
from kennisbank.models import Embedding, Initiative, MatchSuggestion  # noqa: E402
from kennisbank.searching.embedding_cache import _hash as text_hash  # noqa: E402
from kennisbank.searching.embedding_cache import initiative_text  # noqa: E402
from kennisbank.searching.indexing import open_embedder, open_search_index, reindex  # noqa: E402
from kennisbank.settings import Settings  # noqa: E402
from kennisbank.taxonomy import Status, find_theme  # noqa: E402
from search.embeddings import Embedder  # noqa: E402

GOAL_SECONDS = 3.0
READY = re.compile(r"match engine ready after ([0-9.]+) s")


async def store_generated(count: int, embedder: Embedder) -> None:
    """Write `count` generated initiatives (bench/match_scaling.py's) with their themes, and their vectors
    into the embedding cache, so nothing needs embedding; inside an open `database`."""
    items = match_scaling.generate(count, 384)
    await Initiative.bulk_create(
        [
            Initiative(
                external_id=f"START-{item.id}",
                province_id=item.province,
                kind=item.kind,
                title=item.title,
                summary=item.summary,
                description=item.body,
                phase=item.phase,
                technologies=list(item.technologies),
                suppliers=list(item.suppliers),
                start_date=item.start_date,
                end_date=item.end_date,
                tender_date=item.tender_date,
                seeks_partners=item.seeks_partners,
                status=Status.GEPUBLICEERD,
            )
            for item in items
        ],
        batch_size=1000,
    )
    ids = {row[0]: row[1] for row in await Initiative.all().values_list("external_id", "id")}
    themes = [(ids[f"START-{item.id}"], find_theme(name).slug) for item in items for name in item.themes]
    await connections.get("default").execute_many(
        "INSERT INTO initiative_theme (initiative_id, theme_id) VALUES (?, ?)", themes
    )
    vectors = {f"START-{item.id}": np.asarray(item.vector, dtype=np.float32) for item in items}
    cached: dict[str, bytes] = {}
    for initiative in await Initiative.all().order_by("id"):
        vector = vectors[initiative.external_id]
        cached[text_hash(initiative_text(initiative))] = (vector / np.linalg.norm(vector)).astype("<f4").tobytes()
    await Embedding.bulk_create(
        [Embedding(model=embedder.name, text_hash=h, dimensions=384, vector=blob) for h, blob in cached.items()],
        batch_size=1000,
    )


async def populate(settings: Settings, count: int, without_suggestions: Path) -> None:
    """Write `count` generated initiatives with cached vectors and an index in line; copy the data
    directory to `without_suggestions`; then store every suggestion with a full rematch."""
    embedder = open_embedder(settings)
    assert embedder is not None, "the benchmark runs with the default encoder"
    async with database(settings):
        await store_generated(count, embedder)
        index = open_search_index(settings, embedder)
        try:
            report = await reindex(index, embedder, embed=False)
        finally:
            index.close()
        assert report.queued == 0, "every text has its vector in the cache"
    shutil.copytree(settings.data_dir, without_suggestions)
    async with database(settings):
        started = time.perf_counter()
        await Matcher(embedder).rematch_all()
        print(
            f"  set-up: full rematch storing {await MatchSuggestion.filter(current=True).count()} suggestions "
            f"in {time.perf_counter() - started:.1f} s"
        )


def start(env: dict[str, str], log: Path) -> tuple[float, float, float]:
    """Start the real server; seconds until /healthz answers and until its match engine is ready, and
    the slowest /healthz answer in between (asked every 0.1 s: what the loading costs every request)."""
    port = load.free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    with log.open("w") as errors:
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "kennisbank", "serve", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            healthz = None
            while healthz is None:
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        healthz = time.perf_counter() - started
                except httpx.TransportError:
                    if server.poll() is not None:
                        raise SystemExit(f"the server exited: see {log}") from None
                    time.sleep(0.02)
            slowest = 0.0
            while not READY.search(log.read_text()):
                if time.perf_counter() - started > 900 or server.poll() is not None:
                    raise SystemExit(f"the match engine was not ready: see {log}")
                asked = time.perf_counter()
                httpx.get(url, timeout=60).raise_for_status()
                slowest = max(slowest, time.perf_counter() - asked)
                time.sleep(0.1)
            return healthz, time.perf_counter() - started, slowest
        finally:
            server.terminate()
            server.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the data directories and the server logs")
    args = parser.parse_args()
    if not 10 <= args.items <= 50_000:
        parser.error("between 10 and 50,000 initiatives")
    folder = Path(tempfile.mkdtemp(prefix="kennisbank-startup-"))
    env = {
        **os.environ,
        "KENNISBANK_DATA_DIR": str(folder / "new"),
        "KENNISBANK_DATABASE_URL": "",
        "KENNISBANK_LOG_LEVEL": "INFO",
    }
    env.pop("KENNISBANK_EMBEDDING_MODEL", None)  # the default encoder
    settings = Settings.from_env(env)
    print(f"Server start with {args.items} initiatives on SQLite, default encoder ({settings.embedding_model}):")
    started = time.perf_counter()
    asyncio.run(populate(settings, args.items, folder / "old"))
    print(f"  set-up in {time.perf_counter() - started:.0f} s")

    new_health, new_engine, new_slowest = start(env, folder / "new.log")
    print(
        f"  new (suggestions stored, engine loaded): /healthz after {new_health:.2f} s, "
        f"match engine ready after {new_engine:.1f} s, slowest /healthz meanwhile {new_slowest * 1000:.0f} ms"
    )
    old_health, old_engine, old_slowest = start({**env, "KENNISBANK_DATA_DIR": str(folder / "old")}, folder / "old.log")
    print(
        f"  old (full rematch at the start): /healthz after {old_health:.2f} s, "
        f"match engine ready after {old_engine:.1f} s, slowest /healthz meanwhile {old_slowest * 1000:.0f} ms"
    )
    print(
        f"  match engine ready: {old_engine / new_engine:.1f}x sooner than with the full rematch; /healthz "
        f"{old_engine / new_health:.0f}x sooner than a start-up that waited for the full rematch"
    )
    met = new_health < GOAL_SECONDS
    print(f"  goal /healthz < {GOAL_SECONDS:.0f} s: {'met' if met else 'NOT met'}")
    if args.keep:
        print(f"  data directories and server logs kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
