"""The platform's full rematch (`kennisbank match`, `Matcher.rematch_all`) at 20,000 initiatives on
SQLite: where its time goes, and the stored rows, against the service of another git revision.

    python bench/match_store.py [--items 20000] [--baseline main]

The initiatives are generated and stored as bench/startup.py stores them (topics, pseudo-Dutch text,
technologies, suppliers, twelve provinces; random 384-dim vectors in the embedding cache of the
default encoder), without a search index: a full rematch reads none. Three situations, each run by
both services on its own copy of the same database file:

* **first**: no suggestion stored yet (every pair is new: a first `kennisbank match`, a new start).
* **recompute**: every stored suggestion's score differs from what the engine computes now (as after
  a refit of the scorer), 9 pairs accepted (too few for the scorer to learn from: the engine suggests
  the same pairs), 1 % held, 2 % rejected (half of them with an initiative changed since, which
  reopens them), and 500 stored proposals for pairs the engine no longer suggests (withdrawn).
* **again**: the same rematch once more, nothing changed since.

The baseline is kennisbank/matching/service.py at `--baseline` (default main), imported beside the
working tree's under another name: the rest of the platform is the working tree's. Prints, for each
run, the seconds of `rematch_all`, of reading texts and vectors, of the engine and of storing (the
rest: learning, `_store` and the withdrawal), and whether both services left exactly the same rows
in match_suggestion and match_event (every column but the creation and update times, and the
history's time).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import match_scaling  # noqa: E402  (the generated initiatives)
import startup  # noqa: E402  (bench/startup.py: the same stored set-up)

REPO = match_scaling.REPO

from tortoise import connections  # noqa: E402

from kennisbank.db import database  # noqa: E402
from kennisbank.matching import service  # noqa: E402
from kennisbank.models import Initiative, MatchSuggestion  # noqa: E402
from kennisbank.searching.indexing import open_embedder  # noqa: E402
from kennisbank.settings import Settings  # noqa: E402
from kennisbank.taxonomy import MatchStatus  # noqa: E402
from search.embeddings import Embedder  # noqa: E402
from search.matching import MatchEngine  # noqa: E402

DATABASE = "kennisbank.sqlite3"


def settings_for(data_dir: Path) -> Settings:
    env = {**os.environ, "KENNISBANK_DATA_DIR": str(data_dir), "KENNISBANK_DATABASE_URL": ""}
    env.pop("KENNISBANK_EMBEDDING_MODEL", None)  # the default encoder
    return Settings.from_env(env)


def baseline_service(ref: str, into: Path) -> ModuleType:
    """kennisbank/matching/service.py at `ref`, as the module kennisbank.matching.baseline_service."""
    source = subprocess.run(
        ["git", "show", f"{ref}:kennisbank/matching/service.py"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    path = into / "baseline_service.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("kennisbank.matching.baseline_service", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def populate(settings: Settings, count: int, embedder: Embedder) -> None:
    """`count` generated initiatives with their vectors cached (bench/startup.py's set-up, no index)."""
    async with database(settings):
        await startup.store_generated(count, embedder)


async def review(settings: Settings) -> None:
    """The recompute situation on a database with every suggestion stored (see the module's text)."""
    rng = random.Random(12)
    async with database(settings):
        connection = connections.get("default")
        await connection.execute_query("UPDATE match_suggestion SET score = score + 0.0001")
        rows = (
            await MatchSuggestion.all()
            .order_by("id")
            .prefetch_related("a__province", "a__themes", "b__province", "b__themes")
        )
        picked = rng.sample(rows, 9 + len(rows) * 3 // 100)
        accepted, held, rejected = picked[:9], picked[9 : 9 + len(rows) // 100], picked[9 + len(rows) // 100 :]
        for row in accepted:
            await MatchSuggestion.filter(id=row.id).update(
                status=MatchStatus.GEACCEPTEERD, note="Goed", reviewer_id=None
            )
        for row in held:
            await MatchSuggestion.filter(id=row.id).update(status=MatchStatus.AANGEHOUDEN, note="Later")
        for n, row in enumerate(rejected):
            current = (service.fingerprint(row.a), service.fingerprint(row.b))
            stale = ("oud", current[1]) if n % 2 else current
            await MatchSuggestion.filter(id=row.id).update(
                status=MatchStatus.AFGEWEZEN, note="Nee", fingerprint_a=stale[0], fingerprint_b=stale[1], current=False
            )
        suggested = {(row.a_id, row.b_id) for row in rows}
        initiatives = await Initiative.all().values_list("id", "province_id")
        gone = 0
        while gone < 500:
            (a, pa), (b, pb) = sorted(rng.sample(initiatives, 2))
            if pa != pb and (a, b) not in suggested:
                suggested.add((a, b))
                await MatchSuggestion.create(a_id=a, b_id=b, score=0.5, type="knowledge_exchange", reasons=["weg"])
                gone += 1


def rows(data_dir: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every column of match_suggestion but its creation and update times, and match_event but its time."""
    with sqlite3.connect(data_dir / DATABASE) as db:
        columns = [
            c[1] for c in db.execute("PRAGMA table_info(match_suggestion)") if c[1] not in {"created_at", "updated_at"}
        ]
        suggestions = db.execute(f"SELECT {', '.join(columns)} FROM match_suggestion ORDER BY id").fetchall()
        events = db.execute(
            "SELECT id, match_id, user_id, from_status, to_status, note FROM match_event ORDER BY id"
        ).fetchall()
    db.close()
    return suggestions, events


class Timed:
    """Seconds spent in a coroutine function or a function, added up."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def around(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed

    def around_async(self, function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


async def rematch(module: ModuleType, data_dir: Path, embedder: Embedder) -> dict[str, float]:
    """One full rematch by `module`'s Matcher on the database in `data_dir`, with its parts timed."""
    reading, engine, storing = Timed(), Timed(), Timed()
    saved = module.Matcher._published, MatchEngine.match_all, module._store
    module.Matcher._published = reading.around_async(saved[0])
    MatchEngine.match_all = engine.around(saved[1])  # type: ignore[method-assign]
    module._store = storing.around_async(saved[2])
    try:
        async with database(settings_for(data_dir)):
            started = time.perf_counter()
            report = await module.Matcher(embedder).rematch_all()
            total = time.perf_counter() - started
    finally:
        module.Matcher._published, MatchEngine.match_all, module._store = saved  # type: ignore[method-assign]
    return {
        "total": total,
        "reading": reading.seconds,
        "engine": engine.seconds,
        "storing": total - reading.seconds - engine.seconds,
        "_store": storing.seconds,
        "suggested": report.suggested,
        "reopened": report.reopened,
        "withdrawn": report.withdrawn,
    }


def line(name: str, figures: dict[str, float]) -> str:
    return (
        f"  {name:<9} rematch_all {figures['total']:5.1f} s: reading {figures['reading']:4.1f} s, engine "
        f"{figures['engine']:4.1f} s, storing {figures['storing']:5.2f} s (_store {figures['_store']:5.2f} s); "
        f"{figures['suggested']:.0f} suggested, {figures['reopened']:.0f} reopened, {figures['withdrawn']:.0f} withdrawn"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--baseline", default="main", help="git revision of the service to compare with")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kennisbank-match-store-"))
    try:
        old = baseline_service(args.baseline, folder)
        base = folder / "base"
        embedder = open_embedder(settings_for(base))
        assert embedder is not None, "the benchmark runs with the default encoder"
        started = time.perf_counter()
        await populate(settings_for(base), args.items, embedder)
        print(f"{args.items} initiatives on SQLite, set up in {time.perf_counter() - started:.0f} s")
        same = True
        for situation in ("first", "recompute", "again"):
            if situation == "recompute":
                await review(settings_for(base))
            figures = {}
            for name, module in (("baseline", old), ("this tree", service)):
                copy = folder / f"{situation}-{name.replace(' ', '-')}"
                shutil.copytree(base, copy)
                figures[name] = await rematch(module, copy, embedder)
                figures[name]["rows"] = rows(copy)  # type: ignore[assignment]
            equal = figures["baseline"]["rows"] == figures["this tree"]["rows"]
            same &= equal
            print(f"{situation}: {'the same rows' if equal else 'DIFFERENT ROWS'} in match_suggestion and match_event")
            print(line(f"{args.baseline}", figures["baseline"]))
            print(line("this tree", figures["this tree"]))
            ratio = figures["baseline"]["storing"] / max(figures["this tree"]["storing"], 1e-9)
            print(
                f"  storing {ratio:.0f}x faster, rematch_all {figures['baseline']['total'] / figures['this tree']['total']:.2f}x"
            )
            shutil.rmtree(base)
            shutil.copytree(folder / f"{situation}-this-tree", base)
        return 0 if same else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
