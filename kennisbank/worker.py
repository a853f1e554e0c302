"""The scheduled jobs of the `worker` service, run by APScheduler (cron triggers in Europe/Amsterdam).

- Monday 07:00: the weekly digest of the week that just ended (`digest.send_digests`: exactly once per
  user, so a restart or a second worker cannot send twice).
- Every night 02:30: recompute all match suggestions and reconcile the search index with the
  database (it repairs what a crash or a search-server outage left behind; what lacks an embedding
  is queued).
- Every night 02:30 as well: delete the login sessions that have expired (and the IP address each holds),
  shorten old audit-log IP addresses and delete the digest deliveries of long-past weeks (the retention
  periods of the privacy statement).
- All the time: the semantic job queue (embeddings, vectors, matches of saved initiatives), shared
  with the server's own consumer (kennisbank/searching/job_consumer.py).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from tortoise import timezone

from search import SearchUnavailable

from . import audit
from .accounts import sessions
from .db import database
from .digest import mail
from .digest import service as digest
from .matching.service import Matcher
from .searching.indexing import open_embedder, open_search_index, reindex
from .searching.job_consumer import JobConsumer
from .settings import Settings

logger = logging.getLogger("kennisbank.worker")
AMSTERDAM_TZ = "Europe/Amsterdam"


async def weekly_digest(settings: Settings) -> digest.SendReport:
    period = digest.Period.last_complete()
    index = open_search_index(settings)
    sender = mail.SMTPSender(settings)
    try:
        report = await digest.send_digests(settings, period, index, sender)
    finally:
        sender.close()
        index.close()
    logger.info("digest %s: %s sent, %s empty, %s failed", period.key, report.sent, report.empty, report.failed)
    return report


def _days_ago(days: int) -> datetime:
    """The moment a retention period of ``days`` reaches back to."""
    return timezone.now() - timedelta(days=days)


async def nightly_maintenance(settings: Settings) -> None:
    expired = await sessions.remove_expired(sessions.policy(settings))
    logger.info("nightly: %s expired sessions removed", expired)
    shortened = await audit.shorten_old_ips(_days_ago(settings.audit_ip_days))
    logger.info("nightly: %s audit-log IP addresses shortened", shortened)
    removed = await digest.remove_old_deliveries(_days_ago(settings.digest_delivery_days))
    logger.info("nightly: %s old digest deliveries removed", removed)
    embedder = open_embedder(settings)
    index = open_search_index(settings)
    try:
        try:
            indexed = (await reindex(index, embedder, embed=False)).indexed
        except SearchUnavailable:  # the rematch needs only the database; the next night reconciles the index
            logger.warning("nightly: search index unreachable, reindex skipped")
            indexed = 0
        matched = await Matcher(embedder).rematch_all()
    finally:
        index.close()
    logger.info("nightly: %s reindexed, %s matches suggested", indexed, matched.suggested)


def schedule(scheduler: AsyncIOScheduler, settings: Settings) -> None:
    """Register the jobs; `coalesce` runs a missed job once, not once per missed time."""
    scheduler.add_job(
        weekly_digest,
        CronTrigger(day_of_week="mon", hour=7, minute=0, timezone=AMSTERDAM_TZ),
        args=[settings],
        id="weekly_digest",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,
    )
    scheduler.add_job(
        nightly_maintenance,
        CronTrigger(hour=2, minute=30, timezone=AMSTERDAM_TZ),
        args=[settings],
        id="nightly_maintenance",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )


async def run_worker(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, with the database open."""
    async with database(settings):
        scheduler = AsyncIOScheduler(timezone=AMSTERDAM_TZ)
        schedule(scheduler, settings)
        scheduler.start()
        embedder = open_embedder(settings)
        index = open_search_index(settings)
        consumer = JobConsumer.from_settings(settings, embedder, index, Matcher(embedder), rematch_when_idle=True)
        jobs = asyncio.create_task(consumer.run())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            jobs.cancel()
            await asyncio.gather(jobs, return_exceptions=True)
            scheduler.shutdown(wait=False)
            index.close()
