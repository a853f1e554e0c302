"""The durable queue of semantic work: after a save, its embedding, its vector in the index and its matches.

A save commits its initiative and its job in one transaction and returns; the encoder never runs
inside a request. Consumers (the server's background task and ``kennisbank worker``) claim jobs in
batches with an atomic compare-and-set UPDATE that works the same on SQLite and PostgreSQL: only
rows that are unclaimed, or whose claim is older than the lease, are taken, so two consumers never
hold the same job and a job of a process that died mid-batch is taken again once its lease expires.
A job is deleted only by the claim that finished it. Work is idempotent (the embedding cache is
unique per model and text), so a job done twice costs time, never a duplicate.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from tortoise import timezone
from tortoise.expressions import F, Q

from ..db import flat_values
from ..models import MAX_ERROR_LENGTH, EmbeddingJob

CLAIM_TRIES = 5  # rounds a claim that lost every candidate to another consumer looks again
LOOKUP_BATCH = 1000  # ids per IN (...): far below SQLite's and PostgreSQL's parameter limits


async def enqueue(initiative_ids: Iterable[int]) -> None:
    """Queue the semantic work of these initiatives (call inside the save's transaction)."""
    now = timezone.now()
    jobs = [EmbeddingJob(initiative_id=i, enqueued_at=now) for i in dict.fromkeys(initiative_ids)]
    if jobs:
        await EmbeddingJob.bulk_create(jobs, batch_size=1000)


def _claim_token() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _claimable(expired_before: datetime) -> Q:
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=expired_before)


async def claim(limit: int, lease_seconds: float, initiative_ids: Sequence[int] | None = None) -> list[EmbeddingJob]:
    """Take up to `limit` jobs (oldest first), optionally only those of `initiative_ids`.

    The UPDATE repeats the claimable condition, so a row another consumer took between the SELECT
    and the UPDATE is left alone (PostgreSQL re-checks the condition after waiting for the row lock;
    SQLite runs one writer at a time)."""
    for _ in range(CLAIM_TRIES):
        now = timezone.now()
        expired_before = now - timedelta(seconds=lease_seconds)
        candidates = EmbeddingJob.filter(_claimable(expired_before))
        if initiative_ids is not None:
            candidates = candidates.filter(initiative_id__in=list(initiative_ids))
        ids = list(await candidates.order_by("id").limit(limit).values_list("id", flat=True))
        if not ids:
            return []
        token = _claim_token()
        await EmbeddingJob.filter(_claimable(expired_before), id__in=ids).update(
            claimed_by=token, claimed_at=now, attempts=F("attempts") + 1
        )
        claimed = list(await EmbeddingJob.filter(claimed_by=token, id__in=ids))
        if claimed:
            return claimed
        # another consumer took all of these between our SELECT and UPDATE: look at the next ones
    return []


async def complete(jobs: Sequence[EmbeddingJob]) -> int:
    """Delete finished jobs; a job claimed again meanwhile (our lease ran out) stays with its new owner."""
    done = 0
    for token in {job.claimed_by for job in jobs}:
        done += await EmbeddingJob.filter(
            claimed_by=token, id__in=[j.id for j in jobs if j.claimed_by == token]
        ).delete()
    return done


async def fail(jobs: Sequence[EmbeddingJob], error: str) -> None:
    """Record why a batch failed. The claim stays: the jobs are retried once the lease expires,
    so a job that keeps failing does not spin."""
    for token in {job.claimed_by for job in jobs}:
        await EmbeddingJob.filter(claimed_by=token, id__in=[j.id for j in jobs]).update(
            last_error=error[:MAX_ERROR_LENGTH]
        )


async def pending_ids(initiative_ids: Iterable[int]) -> set[int]:
    """Which of these initiatives still have semantic work queued."""
    wanted = sorted(set(initiative_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), LOOKUP_BATCH):
        found |= set(
            await flat_values(
                EmbeddingJob.filter(initiative_id__in=wanted[start : start + LOOKUP_BATCH])
                .order_by("initiative_id")
                .distinct(),
                "initiative_id",
                int,
            )
        )
    return found


async def is_pending(initiative_id: int) -> bool:
    return await EmbeddingJob.filter(initiative_id=initiative_id).exists()


async def pending_count() -> int:
    """Initiatives with work queued (several saves of one initiative count once)."""
    # ordered by the selected column: PostgreSQL refuses DISTINCT ordered by another (the model's id)
    return len(await EmbeddingJob.all().order_by("initiative_id").distinct().values_list("initiative_id", flat=True))
