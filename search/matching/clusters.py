"""Clusters: three or more provinces working on the same thing, proposed as one joint effort.

A cluster is a connected component of the graph of *strong* pairs: accepted
pairs, and suggested pairs scoring at least `STRONG_SCORE` (0.25, where the
seed benchmark's precision is above 0.95) that nobody rejected. Components
spanning at least `MIN_PROVINCES` (3) provinces are proposed:

* as a **joint tender** (`joint_tender`) when most of their pairs are of type
  `joint_procurement` and none is `scaling_up`;
* otherwise as a **joint IDA project** (`joint_ida_project`): scale a proven
  solution up together, or pool the knowledge.

The strong threshold keeps unrelated topics from chaining into one component;
a coordinator who rejects the bridging pair splits the cluster.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from .features import PROVEN_PHASES, tag_key
from .reasons import dutch_list, month
from .types import Match, MatchItem

STRONG_SCORE = 0.25
MIN_PROVINCES = 3

Proposal = Literal["joint_tender", "joint_ida_project"]
PROPOSAL_LABELS: dict[str, str] = {
    "joint_tender": "Gezamenlijke aanbesteding",
    "joint_ida_project": "Gezamenlijk IDA-project",
}


@dataclass(frozen=True)
class Cluster:
    """A proposed joint effort. `label` is the title of its most connected initiative."""

    items: tuple[Hashable, ...]  # most connected first
    provinces: tuple[str, ...]  # province names, in order of `items`
    proposal: Proposal
    score: float  # mean score of its strong pairs
    label: str
    reasons: tuple[str, ...]
    pairs: tuple[tuple[Hashable, Hashable], ...]


def find_clusters(
    matches: Iterable[Match],
    items: Mapping[Hashable, MatchItem],
    *,
    min_score: float = STRONG_SCORE,
    accepted: Collection[tuple[Hashable, Hashable]] = (),
    rejected: Collection[tuple[Hashable, Hashable]] = (),
    min_provinces: int = MIN_PROVINCES,
) -> list[Cluster]:
    """Clusters from `matches` (and `accepted` pairs), best first; `rejected` pairs never count."""
    rejected_keys = {frozenset(pair) for pair in rejected}
    accepted_keys = {frozenset(pair) for pair in accepted}
    strong: dict[frozenset[Hashable], Match] = {}
    for match in matches:
        key = frozenset(match.pair)
        if key in rejected_keys or match.a not in items or match.b not in items:
            continue
        if match.score >= min_score or key in accepted_keys:
            strong[key] = match
    parent: dict[Hashable, Hashable] = {}

    def find(x: Hashable) -> Hashable:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for key in strong:
        a, b = tuple(key)
        parent[find(a)] = find(b)
    components: dict[Hashable, list[Match]] = defaultdict(list)
    for match in strong.values():
        components[find(match.a)].append(match)
    clusters = []
    for component in components.values():
        cluster = _cluster(component, items)
        if len(set(cluster.provinces)) >= min_provinces:
            clusters.append(cluster)
    clusters.sort(key=lambda c: (-len(set(c.provinces)), -c.score))
    return clusters


def _cluster(pairs: list[Match], items: Mapping[Hashable, MatchItem]) -> Cluster:
    strength: dict[Hashable, float] = defaultdict(float)
    for match in pairs:
        strength[match.a] += match.score
        strength[match.b] += match.score
    members = [item_id for item_id, _ in sorted(strength.items(), key=lambda kv: (-kv[1], str(kv[0])))]
    member_items = [items[m] for m in members]
    types = Counter(match.type for match in pairs)
    buy_together = types["joint_procurement"] * 2 > len(pairs) and not types["scaling_up"]
    proposal: Proposal = "joint_tender" if buy_together else "joint_ida_project"
    return Cluster(
        items=tuple(members),
        provinces=tuple(item.province_name for item in member_items),
        proposal=proposal,
        score=round(sum(m.score for m in pairs) / len(pairs), 4),
        label=member_items[0].title,
        reasons=_reasons(member_items, pairs, proposal),
        pairs=tuple(sorted((m.pair for m in pairs), key=str)),
    )


def _reasons(members: list[MatchItem], pairs: list[Match], proposal: Proposal) -> tuple[str, ...]:
    provinces = list(dict.fromkeys(item.province_name for item in members))
    reasons = [f"{len(provinces)} provincies werken hieraan: {dutch_list(provinces)}"]
    suppliers: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for item in members:
        for supplier in {tag_key(s): s.strip() for s in item.suppliers}.items():
            suppliers[supplier[0]] += 1
            spelling.setdefault(*supplier)
    common = [(spelling[key], count) for key, count in suppliers.most_common() if count >= 2]
    for name, count in common[:2]:
        reasons.append(f"{count} van de {len(members)} initiatieven werken met leverancier {name}")
    terms: Counter[str] = Counter(term for match in pairs for term in match.shared_terms)
    if terms:
        reasons.append(f"Gedeelde kernbegrippen: {', '.join(term for term, _ in terms.most_common(5))}")
    tenders: list[date] = sorted(item.tender_date for item in members if item.tender_date)
    if len(tenders) >= 2:
        reasons.append(f"{len(tenders)} willen aanbesteden tussen {month(tenders[0])} en {month(tenders[-1])}")
    proven = [item.province_name for item in members if item.phase in PROVEN_PHASES]
    early = [item for item in members if item.phase not in PROVEN_PHASES]
    if proven and early:
        names = list(dict.fromkeys(proven))
        verb = "heeft" if len(names) == 1 else "hebben"
        followers = "één ander initiatief kan" if len(early) == 1 else f"{len(early)} andere initiatieven kunnen"
        reasons.append(f"{dutch_list(names)} {verb} dit al in gebruik; {followers} daarop voortbouwen")
    if proposal == "joint_tender":
        reasons.append("Voorstel: één gezamenlijke aanbesteding in plaats van een aanbesteding per provincie")
    else:
        reasons.append(
            "Voorstel: een gezamenlijk IDA-project om de oplossing samen op te schalen of kennis te bundelen"
        )
    return tuple(reasons)
