"""Doing the queued semantic work in batches: embed, write the vectors to the index, rematch.

The server runs one consumer as a background task of its lifespan, ``kennisbank worker`` runs one,
and ``kennisbank import`` and ``reindex`` drain the queue with one before they return; all share the
queue in the database (kennisbank/searching/embedding_jobs.py), so any of them may finish what another began.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import anyio
import anyio.to_thread

from search import SearchIndex
from search.embeddings import Embedder

from ..matching.service import Matcher
from ..models import EmbeddingJob, Initiative
from ..settings import Settings
from . import embedding_jobs
from .indexing import to_documents

logger = logging.getLogger("kennisbank.jobs")

DEFAULT_BATCH = 32
UNENCODED_BATCH = 1000
DEFAULT_LEASE_SECONDS = 300.0
#: How long an idle consumer sleeps before looking again; a save in the same process wakes it at once.
POLL_SECONDS = 2.0


class JobConsumer:
    """Claims batches of jobs and does their work with one encoder, index and match engine.

    ``rematch_when_idle``: a match engine that is not prepared yet is prepared once, when the queue is
    empty, instead of by the first job (a bulk import would otherwise embed everything in that job,
    outside the batches). The server leaves it off: it prepares its engine itself at start-up."""

    def __init__(
        self,
        embedder: Embedder | None,
        index: SearchIndex,
        matcher: Matcher,
        *,
        batch_size: int = DEFAULT_BATCH,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        rematch_when_idle: bool = False,
    ) -> None:
        self.embedder = embedder
        self.index = index
        self.matcher = matcher
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.rematch_when_idle = rematch_when_idle
        self._deferred: set[int] = set()
        self._wake = anyio.Event()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        embedder: Embedder | None,
        index: SearchIndex,
        matcher: Matcher,
        *,
        rematch_when_idle: bool = False,
    ) -> JobConsumer:
        # Without an encoder a batch costs an index commit and no embedding: take more at a time.
        batch_size = settings.job_batch if embedder is not None else max(settings.job_batch, UNENCODED_BATCH)
        return cls(
            embedder,
            index,
            matcher,
            batch_size=batch_size,
            lease_seconds=float(settings.job_lease_seconds),
            rematch_when_idle=rematch_when_idle,
        )

    def notify(self) -> None:
        """A job was queued in this process: look now instead of at the next poll."""
        self._wake.set()

    async def run_batch(self, initiative_ids: Sequence[int] | None = None) -> int:
        """Claim and do one batch; returns how many jobs were claimed (0: nothing claimable).

        A failed batch keeps its claim, so it is retried when the lease expires, by whichever consumer."""
        jobs = await embedding_jobs.claim(self.batch_size, self.lease_seconds, initiative_ids)
        if jobs:
            await self._do(jobs)
        return len(jobs)

    async def work_now(self, initiative_id: int) -> bool:
        """Do one initiative's queued work at once (a save without an encoder to wait for); False when
        it was not done here (another consumer holds it, or it failed and stays queued)."""
        jobs = await embedding_jobs.claim(self.batch_size, self.lease_seconds, [initiative_id])
        return bool(jobs) and await self._do(jobs)

    async def _do(self, jobs: Sequence[EmbeddingJob]) -> bool:
        try:
            await self._work(sorted({job.initiative_id for job in jobs}))
        except Exception as exc:
            logger.exception("semantic jobs %s failed; retried after the lease", [j.id for j in jobs])
            await embedding_jobs.fail(jobs, f"{type(exc).__name__}: {exc}")
            return False
        await embedding_jobs.complete(jobs)
        return True

    async def _work(self, ids: list[int]) -> None:
        initiatives = await Initiative.filter(id__in=ids).prefetch_related("province", "themes")
        if not initiatives:
            return
        documents = await to_documents(initiatives, self.embedder)  # batch embedding, through the cache
        await anyio.to_thread.run_sync(self.index.upsert, documents)
        if self.rematch_when_idle and not self.matcher.prepared:
            self._deferred.update(i.id for i in initiatives)
            return
        await self.matcher.catch_up()  # what other consumers matched meanwhile, before pairing with it
        for initiative in initiatives:
            await self.matcher.rematch(initiative)

    async def settle(self) -> None:
        """Compute the matches deferred while the engine was not prepared."""
        if not self._deferred:
            return
        deferred, self._deferred = sorted(self._deferred), set()
        if await self.matcher.ensure_prepared():
            return  # the full rematch just now included them
        for initiative in await Initiative.filter(id__in=deferred).prefetch_related("province", "themes"):
            await self.matcher.rematch(initiative)

    async def drain(
        self, on_batch: Callable[[int], None] | None = None, on_settle: Callable[[], None] | None = None
    ) -> int:
        """Work until no job is claimable; returns the number of jobs claimed. `on_settle` is called
        before the matches deferred while the engine was not prepared are computed (a full rematch,
        which takes a while at scale: a progress bar can say so)."""
        done = 0
        while claimed := await self.run_batch():
            done += claimed
            if on_batch is not None:
                on_batch(claimed)
        if self._deferred and on_settle is not None:
            on_settle()
        await self.settle()
        return done

    async def run(self) -> None:
        """Consume forever (cancel to stop): the server's background task and ``kennisbank worker``."""
        while True:
            try:
                if await self.run_batch():
                    continue
                await self.settle()
            except Exception:  # the database is briefly unreachable, say: look again at the next poll
                logger.exception("the semantic job consumer failed; retrying")
            with anyio.move_on_after(POLL_SECONDS):
                await self._wake.wait()
            self._wake = anyio.Event()
