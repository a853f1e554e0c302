"""Match suggestions in the platform: the engine of search/matching/engine.py fed from the database, its
suggestions persisted, and the coordinators' decisions on them.

The database keeps every suggested pair (`MatchSuggestion`) with its history (`MatchEvent`). A
recompute refreshes score, type, reasons and features, and never touches a decision: accepted and
held pairs stay as they are, and a rejected pair stays rejected unless one of its two initiatives
changed materially (its matching fingerprint differs from the one recorded at the decision), in
which case it is proposed again with a history line saying why.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

import anyio.to_thread
import numpy as np
from tortoise import timezone
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from search.embeddings import Embedder, is_multilingual_e5_small
from search.matching import Match, MatchEngine, MatchItem
from search.matching.clusters import Cluster, find_clusters
from search.matching.fingerprint import material_fingerprint
from search.matching.learning import Decision, LearningReport, learn_scorer
from search.matching.types import MatchType, Scorer

from .. import audit, permissions
from ..audit import Actor
from ..db import flat_values
from ..errors import NotFound, PermissionDenied, StaleVersion
from ..initiatives.service import as_reference
from ..initiatives.validation import InputError
from ..models import Initiative, MatchEvent, MatchSuggestion
from ..pagination import Page
from ..searching import embedding_jobs
from ..searching.embedding_cache import document_arrays, initiative_text
from ..taxonomy import MatchStatus, Status
from . import collaborations

#: How far before the last catch-up `Matcher.catch_up` looks again: a save's time is set before its
#: transaction commits, and another machine's clock may run a little behind.
CATCH_UP_MARGIN = timedelta(seconds=30)
#: More initiatives than this changed elsewhere: the engine is loaded afresh instead of rematching each.
CATCH_UP_RELOAD = 200

DECIDED = (MatchStatus.GEACCEPTEERD, MatchStatus.AFGEWEZEN, MatchStatus.AANGEHOUDEN)
MAX_NOTE_LENGTH = 2000


class MatchNotFound(NotFound):
    """No match with that id."""

    default_detail = "Er is geen match met dit nummer."


class DecisionConflict(StaleVersion):
    """Another coordinator decided on the match (or a rematch reopened it) after this one loaded it."""

    detail_template = (
        "Deze match is intussen al beoordeeld of heropend (nu versie {version}). Bekijk de huidige stand en "
        "beslis opnieuw."
    )


def decision_version(match: MatchSuggestion) -> int:
    """1 + how many times the match's status has changed (its history, events fetched): the version a
    decision names, so that it never overwrites one taken after the page or GET it was based on.
    A recompute of score or reasons does not count; a decision on fresher reasons is still the same."""
    return 1 + len(match.events)


def fingerprint(initiative: Initiative) -> str:
    """The matching fingerprint of an initiative (province and themes fetched): a change is material."""
    return material_fingerprint(to_item(initiative, None))


def to_item(initiative: Initiative, vector: Sequence[float] | np.ndarray | None) -> MatchItem:
    """The engine's view of an initiative (province and themes fetched)."""
    return MatchItem(
        id=initiative.id,
        province=initiative.province.code,
        province_name=initiative.province.name,
        kind=str(initiative.kind),
        phase=str(initiative.phase),
        themes=tuple(t.name for t in initiative.themes),
        technologies=tuple(initiative.technologies),
        suppliers=tuple(initiative.suppliers),
        seeks_partners=initiative.seeks_partners,
        tender_date=initiative.tender_date,
        start_date=initiative.start_date,
        end_date=initiative.end_date,
        title=initiative.title,
        summary=initiative.summary,
        body=initiative.body_text,
        vector=vector,
    )


@dataclass(frozen=True)
class RematchReport:
    suggested: int
    reopened: int
    withdrawn: int
    learning: LearningReport


#: Initiatives read from the database at a time when the engine is prepared.
READ_CHUNK = 500


class Matcher:
    """Keeps a prepared engine for one process, so saving an initiative rematches only that initiative."""

    def __init__(self, embedder: Embedder | None) -> None:
        self.embedder = embedder
        #: The shipped model's semantic space fits multilingual-e5-small's vectors only.
        self._space: Literal["model"] | None = (
            "model" if embedder is not None and is_multilingual_e5_small(embedder.name) else None
        )
        self.engine = self._new_engine()
        self.learning: LearningReport | None = None
        self._prepared = False
        self._lock = anyio.Lock()  # the engine is not thread-safe: one computation at a time
        # What the engine holds, for `catch_up`: each initiative's `updated_at` as last matched here,
        # when changes were last looked for, and those changed elsewhere whose semantic job was pending.
        self._known: dict[int, datetime] = {}
        self._since: datetime | None = None
        self._awaiting: set[int] = set()

    def _new_engine(self, scorer: Scorer | None = None) -> MatchEngine:
        """An engine comparing vectors in the space that fits this process's embedder."""
        return MatchEngine(scorer=scorer, space=self._space)

    async def _published(self) -> tuple[list[Initiative], list[MatchItem]]:
        """Every published initiative and its engine item, read a chunk at a time: the event loop serves
        requests in between (20,000 read at once held it, and so every request, for seconds)."""
        ids = await flat_values(Initiative.filter(status=Status.GEPUBLICEERD).order_by("id"), "id", int)
        initiatives: list[Initiative] = []
        items: list[MatchItem] = []
        for start in range(0, len(ids), READ_CHUNK):
            chunk = (
                await Initiative.filter(id__in=ids[start : start + READ_CHUNK])
                .order_by("id")
                .prefetch_related("province", "themes")
            )
            initiatives.extend(chunk)
            items.extend(await self._items(chunk))
        return initiatives, items

    async def _items(self, initiatives: Sequence[Initiative]) -> list[MatchItem]:
        vectors: Sequence[np.ndarray | None] = [None] * len(initiatives)
        if self.embedder is not None and initiatives:
            vectors = await document_arrays(self.embedder, [initiative_text(i) for i in initiatives])
        return [to_item(i, v) for i, v in zip(initiatives, vectors, strict=True)]

    @property
    def prepared(self) -> bool:
        """True once a full rematch has loaded every published initiative into the engine."""
        return self._prepared

    async def ensure_prepared(self) -> bool:
        """Prepare the engine unless it is; True when that took a full rematch (which stored every
        pair). With suggestions already stored (from `kennisbank match`, the seed or the nightly job)
        the engine is only loaded, and what changed since comes from the job queue."""
        async with self._lock:
            return False if self._prepared else await self._prepare()

    async def _prepare(self) -> bool:
        """Load the engine, or fully rematch when nothing is stored; True for the full rematch."""
        if not await MatchSuggestion.filter(current=True).exists():
            await self._rematch_all()
            return True
        await self._load()
        return False

    async def _load(self) -> None:
        """A fresh engine with every published initiative, their pairs taken as stored."""
        started = timezone.now()
        scorer, learning = learn_scorer(await _decisions())
        engine = self._new_engine(scorer)
        initiatives, items = await self._published()
        await anyio.to_thread.run_sync(engine.load, items)
        self.engine, self.learning, self._prepared = engine, learning, True
        self._loaded(initiatives, started)

    def _loaded(self, initiatives: Iterable[Initiative], started: datetime) -> None:
        self._known = {i.id: i.updated_at for i in initiatives}
        self._since, self._awaiting = started, set()

    async def catch_up(self) -> int:
        """Bring the engine up to date with what other processes matched; returns how many it took in.

        Each process (the server, `kennisbank worker`, an import that waits for its rows) keeps its
        own engine and rematches the initiatives of the jobs it claims. An engine that only learnt
        from its own jobs never saw the others' initiatives, so a later save missed its pairs with
        them. Before a batch, a consumer therefore takes in the initiatives saved since it last
        looked, once their semantic job is done (their vector exists): a few are rematched here (the
        pairs the other engine could not see are stored too), many mean a fresh load."""
        async with self._lock:
            if not self._prepared or self._since is None:
                return 0  # the first preparation reads everything anyway
            started = timezone.now()
            saved = Q(updated_at__gte=self._since - CATCH_UP_MARGIN) | Q(id__in=sorted(self._awaiting))
            changed = {
                int(i)
                for i, at in await Initiative.filter(saved).values_list("id", "updated_at")
                if self._known.get(int(i)) != at
            }
            pending = await embedding_jobs.pending_ids(changed)
            ready = sorted(changed - pending)
            if len(ready) > CATCH_UP_RELOAD:
                await self._load()
            else:
                for initiative in await Initiative.filter(id__in=ready).prefetch_related("province", "themes"):
                    await self._rematch(initiative)
                self._since = started
            self._awaiting = pending
            return len(ready)

    async def rematch_all(self) -> RematchReport:
        """Recompute every pair (``kennisbank match``, the nightly job, and a first start with none stored)."""
        async with self._lock:
            return await self._rematch_all()

    async def _rematch_all(self) -> RematchReport:
        scorer, learning = learn_scorer(await _decisions())
        self.engine = self._new_engine(scorer)
        self.learning = learning
        started = timezone.now()
        published, items = await self._published()
        found = await anyio.to_thread.run_sync(self.engine.match_all, items)
        self._prepared = True
        self._loaded(published, started)
        by_id = {i.id: i for i in published}
        suggested, reopened, withdrawn = await _store(found, by_id, Q())
        return RematchReport(suggested, reopened, withdrawn, learning)

    async def rematch(self, initiative: Initiative) -> int:
        """Recompute one initiative's pairs right after it was saved; returns how many pairs it has."""
        async with self._lock:
            return await self._rematch(initiative)

    async def _rematch(self, initiative: Initiative) -> int:
        if not self._prepared and await self._prepare():  # the full rematch just now included it
            return await MatchSuggestion.filter(Q(a_id=initiative.id) | Q(b_id=initiative.id), current=True).count()
        self._known[initiative.id] = initiative.updated_at
        if initiative.status != Status.GEPUBLICEERD:
            await anyio.to_thread.run_sync(self.engine.remove, initiative.id)
            await MatchSuggestion.filter(
                Q(a_id=initiative.id) | Q(b_id=initiative.id), status=MatchStatus.VOORGESTELD
            ).update(current=False)
            return 0
        [item] = await self._items([initiative])
        found = await anyio.to_thread.run_sync(self.engine.match_one, item)
        ids = {m.a for m in found} | {m.b for m in found} | {initiative.id}
        by_id = {i.id: i for i in await Initiative.filter(id__in=list(ids)).prefetch_related("province", "themes")}
        kept, _reopened, _withdrawn = await _store(found, by_id, Q(a_id=initiative.id) | Q(b_id=initiative.id))
        return kept


async def _decisions() -> list[Decision]:
    rows = await MatchSuggestion.filter(status__in=[MatchStatus.GEACCEPTEERD, MatchStatus.AFGEWEZEN])
    return [Decision(features=row.features, accepted=row.status == MatchStatus.GEACCEPTEERD) for row in rows]


LOOKUP_BATCH = 1000  # ids per IN (...) query: far below SQLite's and PostgreSQL's parameter limits

#: The columns a recompute writes, and with a reopened rejection its status.
REFRESHED = ("score", "type", "reasons", "features", "shared_terms", "current")


@dataclass(frozen=True)
class _Stored:
    """What deciding how to store a pair needs of its stored row."""

    id: int
    status: str
    fingerprints: tuple[str, str]


async def _stored_pairs(a_ids: set[int]) -> dict[tuple[int, int], _Stored]:
    """The stored suggestions whose first initiative is one of ``a_ids``, by pair, in a few queries
    (their columns as values: a model instance of each of 35,000 rows took seconds)."""
    ordered = sorted(a_ids)
    stored: dict[tuple[int, int], _Stored] = {}
    for start in range(0, len(ordered), LOOKUP_BATCH):
        rows = await MatchSuggestion.filter(a_id__in=ordered[start : start + LOOKUP_BATCH]).values_list(
            "id", "a_id", "b_id", "status", "fingerprint_a", "fingerprint_b"
        )
        for row_id, a_id, b_id, status, fingerprint_a, fingerprint_b in rows:
            stored[(a_id, b_id)] = _Stored(row_id, status, (fingerprint_a, fingerprint_b))
    return stored


def _initiative_id(key: Hashable) -> int:
    """A key the matcher hands back: search/ types item keys as Hashable, kennisbank's are initiative ids."""
    if not isinstance(key, int):
        raise TypeError(f"not an initiative id: {key!r}")
    return key


async def _update_by_id(connection: BaseDBAsyncClient, fields: Sequence[str], rows: list[tuple[int, dict]]) -> None:
    """``UPDATE match_suggestion SET <fields> WHERE id = ?`` for each (id, values), as one prepared
    statement executed for every row (executemany): the values converted as ``QuerySet.update``
    converts them, the statement as it writes it for this database."""
    if not rows:
        return
    columns = MatchSuggestion._meta.fields_map
    statement = MatchSuggestion.filter(id=rows[0][0]).update(**{f: rows[0][1][f] for f in fields}).sql()
    await connection.execute_many(
        statement,
        [[columns[f].to_db_value(values[f], MatchSuggestion) for f in fields] + [row_id] for row_id, values in rows],
    )


async def _insert(connection: BaseDBAsyncClient, rows: list[dict[str, Any]]) -> None:
    """Insert new suggestions, each with the column values in ``rows`` and the model's defaults for
    the others, by the statement ``Model.create`` uses, executed for every row (executemany): the
    values converted as ``bulk_create`` converts them, without building a model instance of each
    (that cost 140 us a row). Every row gets the same creation time."""
    if not rows:
        return
    columns = MatchSuggestion._meta.fields_map
    executor = connection.executor_class(MatchSuggestion, connection)
    template = MatchSuggestion(**rows[0])
    defaults = [columns[f].to_db_value(getattr(template, f), template) for f in executor.regular_columns]
    given = [(i, f) for i, f in enumerate(executor.regular_columns) if f in rows[0]]
    values = []
    for row in rows:
        line = list(defaults)
        for i, f in given:
            line[i] = columns[f].to_db_value(row[f], template)
        values.append(line)
    await connection.execute_many(executor.insert_query, values)


async def _store(found: Iterable[Match], initiatives: dict[int, Initiative], proposals: Q) -> tuple[int, int, int]:
    """Upsert suggestions; decisions are kept, a rejected pair reopens only on a material change.
    The current proposals among `proposals` that this computation did not suggest are withdrawn.
    Returns how many pairs are suggested, reopened and withdrawn.

    What is stored is read first, then everything is written in one transaction, in bulk: new pairs
    by multi-row INSERTs, stored pairs by one prepared UPDATE executed for each, withdrawn proposals
    by id. A stored pair's status is written only when it reopens, as before.
    """
    reopened = 0
    now = timezone.now()
    found = [m for m in found if m.a in initiatives and m.b in initiatives]
    stored = await _stored_pairs({_initiative_id(m.a) for m in found})
    open_before = await MatchSuggestion.filter(proposals, status=MatchStatus.VOORGESTELD, current=True).values_list(
        "id", "a_id", "b_id"
    )
    kept: set[tuple[int, int]] = set()
    new: list[dict[str, Any]] = []
    refreshed: list[tuple[int, dict]] = []
    reopening: list[tuple[int, dict]] = []
    events: list[MatchEvent] = []
    for match in found:
        a, b = initiatives[_initiative_id(match.a)], initiatives[_initiative_id(match.b)]
        values: dict[str, Any] = {
            "score": round(float(match.score), 4),
            "type": match.type,
            "reasons": list(match.reasons),
            "features": {k: round(float(v), 4) for k, v in match.features.items()},
            "shared_terms": list(match.shared_terms),
            "current": True,
        }
        existing = stored.get((a.id, b.id))
        if existing is None:
            new.append({"a_id": a.id, "b_id": b.id, **values})
            kept.add((a.id, b.id))
            continue
        if existing.status == MatchStatus.AFGEWEZEN:
            if existing.fingerprints == (fingerprint(a), fingerprint(b)):
                refreshed.append((existing.id, {**values, "current": False}))
                continue
            events.append(
                MatchEvent(
                    match_id=existing.id,
                    at=now,
                    user=None,
                    from_status=existing.status,
                    to_status=MatchStatus.VOORGESTELD,
                    note="Opnieuw voorgesteld: een van beide initiatieven is inhoudelijk gewijzigd.",
                )
            )
            reopening.append((existing.id, {**values, "status": MatchStatus.VOORGESTELD}))
            reopened += 1
        else:
            refreshed.append((existing.id, values))
        kept.add((a.id, b.id))
    withdrawn_ids = [row_id for row_id, a_id, b_id in open_before if (a_id, b_id) not in kept]
    withdrawn = 0
    async with in_transaction() as connection:
        await _update_by_id(connection, REFRESHED, refreshed)
        await _update_by_id(connection, (*REFRESHED, "status"), reopening)
        await _insert(connection, new)
        if events:
            await MatchEvent.bulk_create(events, batch_size=LOOKUP_BATCH)
        for start in range(0, len(withdrawn_ids), LOOKUP_BATCH):
            withdrawn += await MatchSuggestion.filter(
                id__in=withdrawn_ids[start : start + LOOKUP_BATCH], status=MatchStatus.VOORGESTELD, current=True
            ).update(current=False)
    return len(kept), reopened, withdrawn


async def decide(
    actor: Actor, match_id: int, status: str, note: str = "", expected_version: int | None = None
) -> MatchSuggestion:
    """Record a coordinator's decision (accept, reject, hold, or back to proposed) with a note; with
    `expected_version` only if no other status change came after it (`DecisionConflict`)."""
    if not permissions.can_review_matches(actor.user):
        await audit.record(
            actor,
            "access_denied",
            result=audit.DENIED,
            object_type="match",
            object_id=match_id,
            detail={"attempt": "match_decide"},
        )
        raise PermissionDenied(match_id)
    if status not in {s.value for s in MatchStatus}:
        raise InputError({"status": ["Kies geaccepteerd, afgewezen, aangehouden of voorgesteld."]})
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InputError({"note": [f"Gebruik maximaal {MAX_NOTE_LENGTH} tekens."]})
    match = await get_match(match_id)
    now = timezone.now()
    async with in_transaction() as connection:
        # Compare and set: the version is read again with the row locked (PostgreSQL; SQLite's
        # transactions hold the write lock from their start), so of two decisions naming one version
        # exactly one is taken.
        current = await MatchSuggestion.select_for_update().using_db(connection).get(id=match.id)
        version = 1 + await MatchEvent.filter(match_id=match.id).using_db(connection).count()
        if expected_version is not None and expected_version != version:
            raise DecisionConflict(version)
        previous = current.status
        await (
            MatchSuggestion.filter(id=match.id)
            .using_db(connection)
            .update(
                status=MatchStatus(status),
                note=note,
                reviewer_id=actor.user.id,
                decided_at=now,
                fingerprint_a=fingerprint(match.a),
                fingerprint_b=fingerprint(match.b),
            )
        )
        await MatchEvent.create(
            match_id=match.id,
            at=now,
            user=actor.user,
            from_status=previous,
            to_status=status,
            note=note,
            using_db=connection,
        )
    await audit.record(
        actor, "match_decide", object_type="match", object_id=match.id, detail={"from": str(previous), "to": status}
    )
    if status == MatchStatus.GEACCEPTEERD and previous != MatchStatus.GEACCEPTEERD:
        await collaborations.from_accepted_match(actor, match)
    return await get_match(match.id)


async def get_match(match_id: int) -> MatchSuggestion:
    match = await MatchSuggestion.get_or_none(id=match_id).prefetch_related(
        "a__province", "a__themes", "b__province", "b__themes", "reviewer", "events__user"
    )
    if match is None:
        raise MatchNotFound(match_id)
    return match


@dataclass(frozen=True)
class MatchFilters:
    status: tuple[str, ...] = (MatchStatus.VOORGESTELD,)
    type: tuple[str, ...] = ()
    province: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()  # theme names
    min_score: float = 0.0


async def next_suggestion(excluding: int) -> MatchSuggestion | None:
    """The best open suggestion other than `excluding`: where a coordinator goes after a decision."""
    return (
        await MatchSuggestion.filter(status=MatchStatus.VOORGESTELD, current=True)
        .exclude(id=excluding)
        .order_by("-score", "id")
        .prefetch_related("a__province", "b__province")
        .first()
    )


async def list_matches(filters: MatchFilters, page: int = 1, per_page: int = 20) -> Page[MatchSuggestion]:
    """Matches best first. Suggestions the last computation withdrew are left out; decided ones never are."""
    query = MatchSuggestion.filter(Q(current=True) | Q(status__in=list(DECIDED)))
    if filters.status:
        query = query.filter(status__in=list(filters.status))
    if filters.type:
        query = query.filter(type__in=list(filters.type))
    if filters.province:
        query = query.filter(
            Q(a__province_id__in=list(filters.province)) | Q(b__province_id__in=list(filters.province))
        )
    if filters.theme:
        query = query.filter(Q(a__themes__name__in=list(filters.theme)) | Q(b__themes__name__in=list(filters.theme)))
    if filters.min_score:
        query = query.filter(score__gte=filters.min_score)
    query = query.distinct()
    total = await query.count()
    page = max(1, page)
    items = (
        await query.order_by("-score", "id")
        .offset((page - 1) * per_page)
        .limit(per_page)
        .prefetch_related("a__province", "a__themes", "b__province", "b__themes", "reviewer")
    )
    return Page(list(items), total, page, per_page)


async def accepted_for(initiative_id: int) -> list[tuple[MatchSuggestion, Initiative]]:
    """Accepted matches of one initiative, each with the other initiative: for its detail page."""
    rows = await MatchSuggestion.filter(
        Q(a_id=initiative_id) | Q(b_id=initiative_id), status=MatchStatus.GEACCEPTEERD
    ).prefetch_related("a__province", "b__province")
    return [(row, row.b if row.a_id == initiative_id else row.a) for row in rows]


def as_json(match: MatchSuggestion) -> dict:
    """A match as the API and ``kennisbank matches --json`` give it."""
    return {
        "id": match.id,
        "a": as_reference(match.a),
        "b": as_reference(match.b),
        "score": match.score,
        "type": match.type,
        "reasons": list(match.reasons),
        "shared_terms": list(match.shared_terms),
        "status": str(match.status),
        "note": match.note,
        "features": dict(match.features),
        "decided_at": match.decided_at.isoformat() if match.decided_at else None,
    }


@dataclass(frozen=True)
class ProposedCluster:
    cluster: Cluster
    initiatives: list[Initiative]  # in the cluster's order


async def clusters() -> list[ProposedCluster]:
    """Groups of three or more provinces working on the same thing, from the current and accepted pairs."""
    rows = await MatchSuggestion.filter(Q(current=True) | Q(status=MatchStatus.GEACCEPTEERD)).prefetch_related(
        "a__province", "a__themes", "b__province", "b__themes"
    )
    initiatives = {i.id: i for row in rows for i in (row.a, row.b)}
    items: dict[Hashable, MatchItem] = {i.id: to_item(i, None) for i in initiatives.values()}
    # the type column holds only the matcher's own Match.type values (a CharField is typed as any str)
    found = [
        Match(
            a=row.a_id,
            b=row.b_id,
            score=row.score,
            type=cast(MatchType, row.type),
            reasons=tuple(row.reasons),
            features=row.features,
            shared_terms=tuple(row.shared_terms),
        )
        for row in rows
        if row.status != MatchStatus.AFGEWEZEN
    ]
    accepted = [(row.a_id, row.b_id) for row in rows if row.status == MatchStatus.GEACCEPTEERD]
    rejected = [(row.a_id, row.b_id) for row in rows if row.status == MatchStatus.AFGEWEZEN]
    result = await anyio.to_thread.run_sync(lambda: find_clusters(found, items, accepted=accepted, rejected=rejected))
    return [ProposedCluster(c, [initiatives[_initiative_id(i)] for i in c.items]) for c in result]
