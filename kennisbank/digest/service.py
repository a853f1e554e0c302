"""The weekly digest: per user, what happened in one ISO week that fits their subscriptions.

A period is an ISO week, Monday 00:00 to Monday 00:00 in Europe/Amsterdam. An initiative counts when
it was first published or its content changed materially in that week (`Initiative.published_at`,
`Initiative.material_change_at`), it is published now, and the user did not post it. Items are
grouped by the reason they are included (one subscription per group, then "related to my
province"), newest first, each initiative once. Match news and, for coordinators, the state of the
review queue and their collaborations with an overdue next action follow; medewerkers read the stage
changes of the collaborations their province takes part in.

Sending (`send_digests`) goes out exactly once per user and week: a `DigestDelivery` row is claimed
before the mail is handed to SMTP and marked sent right after. A second run skips what was sent; a
run that died leaves its in-flight claim behind, which the next run takes over once the process
that claimed it is gone; an SMTP failure is recorded for that user and retried by the next run,
without stopping the others. A week can be sent until `SEND_WITHIN` after it ended; the worker removes
the deliveries of weeks long past that (`remove_old_deliveries`), the privacy statement's retention.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import anyio.to_thread
from tortoise import timezone
from tortoise.expressions import Q

from search import SearchIndex, SearchUnavailable
from search.dutch import dutch_date

from .. import permissions
from ..db import flat_values
from ..initiatives.validation import InputError
from ..matching import collaborations
from ..models import (
    MAX_ERROR_LENGTH,
    Collaboration,
    CollaborationEvent,
    DigestDelivery,
    Initiative,
    MatchSuggestion,
    Subscription,
    User,
)
from ..searching import query as searching
from ..settings import Settings
from ..taxonomy import KIND_LABELS, PROVINCE_BY_CODE, THEME_BY_SLUG, DeliveryState, MatchStatus, Status
from . import mail

logger = logging.getLogger("kennisbank.digest")

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MAX_ATTEMPTS = 5
STALE_CLAIM = timedelta(minutes=30)
SEARCH_LIMIT = 100
MATCHES_SHOWN = 10
#: How long after its end a week's digest can still be sent (or a failed or interrupted run resumed). Later
#: it is no longer news, and its deliveries may already be removed (KENNISBANK_DIGEST_DELIVERY_DAYS).
SEND_WITHIN = timedelta(days=28)


#: Weeks a digest can be about (further out, the weeks around it overflow the calendar).
MIN_YEAR, MAX_YEAR = 2000, 2999


@dataclass(frozen=True)
class Period:
    """An ISO week in Europe/Amsterdam."""

    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-W47`` (also ``2026W47``); InputError in Dutch otherwise."""
        cleaned = text.strip().upper().replace("W", "-W").replace("--", "-")
        try:
            year_text, week_text = cleaned.split("-W")
            if not (year_text.isascii() and year_text.isdigit() and week_text.isascii() and week_text.isdigit()):
                raise ValueError(text)
            period = cls(int(year_text), int(week_text))
            if not MIN_YEAR <= period.year <= MAX_YEAR:
                raise ValueError(text)
            _ = period.start  # validates the week number
        except ValueError:
            raise InputError(
                {
                    "week": [
                        f"Geef een ISO-week zoals 2026-W47 (jaar {MIN_YEAR} tot en met {MAX_YEAR}), niet “{text[:20]}”."
                    ]
                }
            ) from None
        return period

    @classmethod
    def containing(cls, moment: datetime) -> Period:
        year, week, _ = moment.astimezone(AMSTERDAM).isocalendar()
        return cls(year, week)

    @classmethod
    def last_complete(cls, now: datetime | None = None) -> Period:
        """The week before the one ``now`` falls in: the default for the Monday-morning run."""
        return cls.containing((now or datetime.now(UTC)) - timedelta(days=7))

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), AMSTERDAM).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.first_day + timedelta(days=7), datetime.min.time(), AMSTERDAM).astimezone(UTC)

    @property
    def label(self) -> str:
        first, last = self.first_day, self.first_day + timedelta(days=6)
        if first.month == last.month:
            span = f"{first.day}–{dutch_date(last)}"
        elif first.year == last.year:
            span = f"{dutch_date(first, 'd MMMM')} – {dutch_date(last)}"
        else:  # the week of New Year names both years
            span = f"{dutch_date(first)} – {dutch_date(last)}"
        return f"week {self.week} ({span})"


@dataclass(frozen=True)
class DigestItem:
    initiative: Initiative
    new: bool  # first published this week; otherwise its content changed
    at: datetime


@dataclass(frozen=True)
class DigestSection:
    title: str
    items: list[DigestItem]


@dataclass(frozen=True)
class QueueState:
    proposed: int
    held: int
    new_this_week: int
    accepted_this_week: int
    rejected_this_week: int


@dataclass(frozen=True)
class Digest:
    user: User
    period: Period
    sections: list[DigestSection] = field(default_factory=list)
    matches: list[MatchSuggestion] = field(default_factory=list)
    queue: QueueState | None = None
    overdue: list[Collaboration] = field(default_factory=list)  # coordinators: their late next actions
    stage_changes: list[CollaborationEvent] = field(default_factory=list)  # participants: their collaborations

    @property
    def item_count(self) -> int:
        return (
            sum(len(s.items) for s in self.sections) + len(self.matches) + len(self.overdue) + len(self.stage_changes)
        )

    @property
    def is_empty(self) -> bool:
        return self.item_count == 0 and (self.queue is None or self.queue.new_this_week == 0)


def subscription_label(kind: str, value: str) -> str:
    """The Dutch name of a subscription, shown as the heading of its group."""
    if kind == "theme":
        return f"Thema: {THEME_BY_SLUG[value].name}" if value in THEME_BY_SLUG else f"Thema: {value}"
    if kind == "province":
        return f"Provincie: {PROVINCE_BY_CODE[value].name}" if value in PROVINCE_BY_CODE else value
    if kind == "kind":
        return f"Soort: {KIND_LABELS.get(value, value)}"
    query = parse_qs(value)
    words = (query.get("q") or [""])[0]
    names = {
        "province": {c: p.name for c, p in PROVINCE_BY_CODE.items()},
        "kind": KIND_LABELS,
        "theme": {slug: t.name for slug, t in THEME_BY_SLUG.items()},
    }
    filters = [names.get(name, {}).get(v, v) for name in searching.SEARCH_FILTERS for v in query.get(name, [])]
    label = f"Zoekopdracht: “{words}”" if words else "Zoekopdracht"
    return f"{label} ({', '.join(filters)})" if filters else label


async def changed_between(start: datetime, end: datetime) -> list[Initiative]:
    """Published initiatives first published or materially changed in [start, end), newest first."""
    window = Q(published_at__gte=start, published_at__lt=end) | Q(
        material_change_at__gte=start, material_change_at__lt=end
    )
    found = await Initiative.filter(window, status=Status.GEPUBLICEERD).prefetch_related("province", "themes")
    return sorted(found, key=lambda i: _moment(i, start, end), reverse=True)


async def changed_in(period: Period) -> list[Initiative]:
    return await changed_between(period.start, period.end)


async def fitting(
    subscription: Subscription, since: datetime, index: SearchIndex | None, limit: int = 50
) -> list[Initiative]:
    """What a subscription's feed shows: initiatives new or changed since ``since`` that fit it, newest first."""
    candidates = await changed_between(since, datetime.now(UTC) + timedelta(minutes=1))
    if subscription.kind == "search":
        found = await _search_ids(index, subscription.value)
        return [i for i in candidates if i.id in found][:limit]
    return [i for i in candidates if _fits(subscription, i)][:limit]


def _moment(initiative: Initiative, start: datetime, end: datetime) -> datetime:
    times = [t for t in (initiative.published_at, initiative.material_change_at) if t is not None and start <= t < end]
    return max(times) if times else initiative.updated_at


def _is_new(initiative: Initiative, period: Period) -> bool:
    return initiative.published_at is not None and period.start <= initiative.published_at < period.end


async def _search_ids(index: SearchIndex | None, query_string: str) -> set[int]:
    if index is None:
        return set()
    params = {k: v for k, v in parse_qs(query_string).items()}
    params["per_page"] = [str(SEARCH_LIMIT)]
    try:
        query = searching.parse_query(params)
    except InputError:
        return set()
    results = await anyio.to_thread.run_sync(index.search, query)
    return {hit.id for hit in results.hits}


def _found(ids: set[int], initiative: Initiative) -> bool:
    return initiative.id in ids


def _fits(subscription: Subscription, initiative: Initiative) -> bool:
    if subscription.kind == "theme":
        return any(t.slug == subscription.value for t in initiative.themes)
    if subscription.kind == "province":
        return initiative.province_id == subscription.value
    if subscription.kind == "kind":
        return str(initiative.kind) == subscription.value
    return False


async def _related_to_province(province: str, candidates: Sequence[Initiative]) -> set[int]:
    """Candidates elsewhere that matching pairs with an initiative of ``province`` (rejected pairs excluded)."""
    ids = [i.id for i in candidates if i.province_id != province]
    if not ids:
        return set()
    rows = (
        await MatchSuggestion.filter(
            (Q(a_id__in=ids) & Q(b__province_id=province)) | (Q(b_id__in=ids) & Q(a__province_id=province)),
        )
        .exclude(status=MatchStatus.AFGEWEZEN)
        .values_list("a_id", "b_id")
    )
    wanted = set(ids)
    return {x for pair in rows for x in pair if x in wanted}


async def compose(user: User, period: Period, index: SearchIndex | None) -> Digest:
    """Everything ``user`` should hear about for ``period``; nothing they posted themselves."""
    candidates = [i for i in await changed_in(period) if i.created_by_id != user.id]
    taken: set[int] = set()
    sections: list[DigestSection] = []

    def add(title: str, chosen: Callable[[Initiative], bool]) -> None:
        items = [
            DigestItem(i, _is_new(i, period), _moment(i, period.start, period.end))
            for i in candidates
            if i.id not in taken and chosen(i)
        ]
        taken.update(item.initiative.id for item in items)
        if items:
            sections.append(DigestSection(title, items))

    for subscription in await Subscription.filter(user_id=user.id).order_by("id"):
        if subscription.kind == "search":
            found = await _search_ids(index, subscription.value)
            add(subscription.label, partial(_found, found))
        else:
            add(subscription.label, partial(_fits, subscription))
    if user.digest_related and user.province_id:
        related = await _related_to_province(user.province_id, candidates)
        add("Lijkt op initiatieven van uw provincie", lambda i: i.id in related)

    matches = await _match_news(user, period)
    queue = await _queue_state(period) if permissions.can_review_matches(user) else None
    overdue = await collaborations.overdue_owned_by(user, period.end.astimezone(AMSTERDAM).date())
    stage_changes = await collaborations.stage_changes_for(user, period.start, period.end)
    return Digest(user, period, sections, matches, queue, overdue, stage_changes)


async def _match_news(user: User, period: Period) -> list[MatchSuggestion]:
    """New suggestions and newly accepted matches of the week involving the user's province (all, for coordinators)."""
    news = Q(created_at__gte=period.start, created_at__lt=period.end, status=MatchStatus.VOORGESTELD, current=True) | Q(
        decided_at__gte=period.start, decided_at__lt=period.end, status=MatchStatus.GEACCEPTEERD
    )
    query = MatchSuggestion.filter(news)
    if not permissions.can_review_matches(user):  # reviewers see every province's matches
        if not user.province_id:
            return []
        query = query.filter(Q(a__province_id=user.province_id) | Q(b__province_id=user.province_id))
    rows = await query.order_by("-score").limit(MATCHES_SHOWN).prefetch_related("a__province", "b__province")
    # Either side may have gone back to concept since the match was accepted: name only what the user may see.
    return [row for row in rows if permissions.can_view(user, row.a) and permissions.can_view(user, row.b)]


async def _queue_state(period: Period) -> QueueState:
    in_week = {"decided_at__gte": period.start, "decided_at__lt": period.end}
    return QueueState(
        proposed=await MatchSuggestion.filter(status=MatchStatus.VOORGESTELD, current=True).count(),
        held=await MatchSuggestion.filter(status=MatchStatus.AANGEHOUDEN).count(),
        new_this_week=await MatchSuggestion.filter(
            created_at__gte=period.start, created_at__lt=period.end, current=True
        ).count(),
        accepted_this_week=await MatchSuggestion.filter(status=MatchStatus.GEACCEPTEERD, **in_week).count(),
        rejected_this_week=await MatchSuggestion.filter(status=MatchStatus.AFGEWEZEN, **in_week).count(),
    )


async def recipients() -> list[User]:
    return list(await User.filter(active=True, digest_weekly=True).order_by("id"))


# --- sending, exactly once ----------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    empty: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_is_stale(delivery: DigestDelivery, now: datetime) -> bool:
    host, _, pid = delivery.claimed_by.rpartition(":")
    if delivery.claimed_at is None or now - delivery.claimed_at > STALE_CLAIM:
        return True
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True  # the run that claimed it is gone
    except PermissionError:
        return False
    return False


async def _claim(user: User, period: Period) -> DigestDelivery | None:
    """Take this user's delivery for the period, or None when it is done, given up on or being sent."""
    now = timezone.now()
    delivery, _ = await DigestDelivery.get_or_create(
        user_id=user.id, period=period.key, defaults={"state": DeliveryState.OPEN, "attempts": 0}
    )
    if delivery.state in (DeliveryState.SENT, DeliveryState.EMPTY):
        return None
    if delivery.state == DeliveryState.FAILED and delivery.attempts >= MAX_ATTEMPTS:
        return None
    if delivery.state == DeliveryState.CLAIMED and not _claim_is_stale(delivery, now):
        return None
    taken = await DigestDelivery.filter(id=delivery.id, state=delivery.state, attempts=delivery.attempts).update(
        state=DeliveryState.CLAIMED, claimed_by=_me(), claimed_at=now, attempts=delivery.attempts + 1
    )
    if not taken:  # another run claimed it in between
        return None
    return await DigestDelivery.get(id=delivery.id)


def can_send(period: Period, now: datetime | None = None) -> bool:
    """Whether ``period`` ended at most `SEND_WITHIN` ago (a week still running can be sent too)."""
    return period.end + SEND_WITHIN >= (now or timezone.now())


async def send_digests(
    settings: Settings, period: Period, index: SearchIndex | None, sender: mail.Sender
) -> SendReport:
    """Send every subscriber's digest for ``period`` once; see the module docstring. A week that ended more
    than `SEND_WITHIN` ago is refused (InputError): its deliveries, the record of what was sent, may be gone."""
    if not can_send(period):
        raise InputError(
            {
                "week": [
                    f"{period.key} is meer dan {SEND_WITHIN.days} dagen voorbij; het overzicht "
                    f"van die week wordt niet meer verstuurd."
                ]
            }
        )
    report = SendReport()
    for user in await recipients():
        delivery = await _claim(user, period)
        if delivery is None:
            report.skipped += 1
            continue
        try:
            digest = await compose(user, period, index)
        except SearchUnavailable as exc:  # saved searches need the index: try this user again next run
            await DigestDelivery.filter(id=delivery.id).update(
                state=DeliveryState.FAILED, error=f"zoekindex: {exc}"[:MAX_ERROR_LENGTH]
            )
            report.failed += 1
            report.failures.append(f"{user.email}: zoekindex niet bereikbaar")
            continue
        if digest.is_empty:
            await DigestDelivery.filter(id=delivery.id).update(state=DeliveryState.EMPTY, items=0, error="")
            report.empty += 1
            continue
        message = mail.digest_message(settings, digest)
        try:
            await anyio.to_thread.run_sync(sender.send, message)
        except mail.SendFailed as exc:
            logger.warning("digest for user %s (%s) failed: %s", user.id, period.key, exc)
            await DigestDelivery.filter(id=delivery.id).update(
                state=DeliveryState.FAILED, error=str(exc)[:MAX_ERROR_LENGTH]
            )
            report.failed += 1
            report.failures.append(f"{user.email}: {exc}")
            continue
        await DigestDelivery.filter(id=delivery.id).update(
            state=DeliveryState.SENT, sent_at=timezone.now(), items=digest.item_count, error=""
        )
        report.sent += 1
    return report


async def remove_old_deliveries(before: datetime) -> int:
    """Delete the deliveries of every week that ended before ``before`` (the privacy statement's
    KENNISBANK_DIGEST_DELIVERY_DAYS); return how many.

    A delivery is the record that a user's digest of a week was sent (or was empty, or failed for good),
    so a week whose deliveries are gone would go out again if it were sent again. It cannot be:
    `send_digests` refuses a week that ended more than `SEND_WITHIN` (28 days) ago, and the setting keeps
    deliveries at least settings.MIN_DIGEST_DELIVERY_DAYS (60) after the week ended, so every week that
    can still be sent keeps all of its deliveries. Of the weeks removed nothing can be resent or resumed,
    whatever state their rows were left in (sent, empty, failed, or a claim whose run died): they all go.
    The weeks are compared by their end, not by the text of their key, so no database collation matters.
    Introduction deliveries are not touched: they are the only record of which contacts already had the
    introduction of a collaboration that can still be sent, and stay while the collaboration does.
    """
    weeks = await flat_values(DigestDelivery.all().order_by("period").distinct(), "period", str)
    old = [key for key in weeks if Period.parse(key).end <= before]
    return await DigestDelivery.filter(period__in=old).delete() if old else 0
