"""Dutch reasons for a match, each naming the evidence both initiatives really share.

Reasons are ordered by how much their feature contributed to the score, so the
first one is the strongest argument; the phase reason leads for scaling up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache

from ..dutch import dutch_date
from .features import EARLY_PHASES, PROVEN_PHASES, ItemFacts, supplier_mentions, tag_key
from .types import MatchItem

PHASE_PHRASES: dict[str, str] = {
    "opgeschaald": "heeft dit opgeschaald",
    "implementatie": "past dit al toe (implementatiefase)",
    "pilot": "zit in de pilotfase",
    "verkenning": "zit in de verkenningsfase",
    "idee": "zit in de ideefase",
}
_PHASE_NOUNS: dict[str, str] = {
    "opgeschaald": "opgeschaalde fase",
    "implementatie": "implementatiefase",
    "pilot": "pilotfase",
    "verkenning": "verkenningsfase",
    "idee": "ideefase",
}
#: A semantic feature at least this high is worth a reason of its own.
SEMANTIC_REASON_AT = 0.5
#: A `semantic_gap` this high (two standard deviations above both initiatives' other nearest
#: neighbours) says the two resemble each other far more than anything else.
STANDS_OUT_AT = 0.7


def dutch_list(words: Sequence[str]) -> str:
    """'a', 'a en b', 'a, b en c'."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " en " + words[-1]


def shared_tags(
    a: Sequence[str], b: Sequence[str], keys: tuple[frozenset[str], frozenset[str]] | None = None
) -> list[str]:
    """Tags both name (compared folded), spelled as in `a`, in `a`'s order. `keys`, the tags of both as
    `tag_key` gives them (`ItemFacts` has them), settle at once that most pairs share none."""
    if keys is not None and keys[0].isdisjoint(keys[1]):
        return []
    keys_b = {tag_key(t) for t in b}
    seen: set[str] = set()
    shared = []
    for tag in a:
        key = tag_key(tag)
        if key in keys_b and key not in seen:
            seen.add(key)
            shared.append(tag.strip())
    return shared


@lru_cache(maxsize=4096)
def month(value: date) -> str:
    """ "maart 2026" (cached: Babel's formatting was a tenth of building a full rematch's reasons)."""
    return dutch_date(value, "MMMM y")


def build_reasons(
    a: MatchItem,
    b: MatchItem,
    facts: tuple[ItemFacts, ItemFacts],
    features: Mapping[str, float],
    contributions: Mapping[str, float],
    shared_terms: Sequence[str],
    match_type: str,
    witness: MatchItem | None = None,
    standout: float | None = None,
) -> tuple[str, ...]:
    """The reasons for the pair (a, b), strongest first; the first says why it has its type.

    `facts` are those of `a` and `b` (their text's words and product categories, read once per
    initiative). `standout` is given when the pair was suggested for standing out above both
    initiatives' other similarities (see search/matching/engine.py)."""
    candidates: list[tuple[float, str]] = [(float("inf"), _type_reason(a, b, match_type))]

    def add(feature: str, text: str) -> None:
        candidates.append((contributions.get(feature, 0.0), text))

    suppliers = shared_tags(a.suppliers, b.suppliers, (facts[0].suppliers, facts[1].suppliers))
    if suppliers:
        noun = "leverancier" if len(suppliers) == 1 else "leveranciers"
        add("suppliers", f"Beide werken met {noun} {dutch_list(suppliers)}")
    else:
        for owner, other, words in ((a, b, facts[1].words), (b, a, facts[0].words)):
            named = supplier_mentions(owner.suppliers, words)
            if named:
                add(
                    "suppliers",
                    f"{owner.province_name} werkt met {dutch_list(named)}, en ook "
                    f"{other.province_name} noemt {'die' if len(named) > 1 else 'deze'} leverancier",
                )
                break
    technologies = shared_tags(a.technologies, b.technologies, (facts[0].technologies, facts[1].technologies))
    if technologies:
        add("technologies", f"Beide gebruiken {dutch_list(technologies)}")
    categories = sorted(facts[0].categories & facts[1].categories)
    if categories and not technologies:
        add("categories", f"Zelfde soort product: {dutch_list(categories)}")
    if shared_terms:
        add("lexical", f"Gedeelde kernbegrippen: {', '.join(shared_terms)}")
    themes = shared_tags(a.themes, b.themes, (facts[0].themes, facts[1].themes))
    if themes:
        noun = "thema" if len(themes) == 1 else "thema's"
        add("themes", f"Zelfde {noun}: {dutch_list(themes)}")
    if features.get("semantic", 0.0) >= SEMANTIC_REASON_AT:
        add(
            "semantic",
            f"De beschrijvingen lijken inhoudelijk sterk op elkaar "
            f"(semantische gelijkenis {features['semantic']:.2f})".replace(".", ",", 1),
        )
    phase = _phase_reason(a, b)
    if phase:
        # Scaling up is about the phases: say that first.
        candidates.append((float("inf") if match_type == "scaling_up" else contributions.get("phase", 0.0), phase))
    timing = _timing_reason(a, b, features.get("timing", 0.0))
    if timing:
        add("timing", timing)
    partners = _partners_reason(a, b)
    if partners:
        add("partners", partners)
    if standout is not None or features.get("semantic_gap", 0.0) >= STANDS_OUT_AT:
        add(
            "semantic_gap" if standout is None else "semantic",
            "Deze twee lijken veel meer op elkaar dan op de initiatieven van andere provincies",
        )
    if witness is not None and features.get("corroboration", 0.0) > 0:
        add("corroboration", f"Beide lijken sterk op ‘{witness.title}’ ({witness.province_name})")
    candidates.sort(key=lambda pair: -pair[0])
    return tuple(text for _, text in candidates)


def _type_reason(a: MatchItem, b: MatchItem, match_type: str) -> str:
    """Why the pair has its type, in IDA's words (see `match_type` in search/matching/engine.py)."""
    if match_type == "scaling_up":
        proven = a if a.phase in PROVEN_PHASES else b
        return f"Opschalen: hetzelfde doel en dezelfde aanpak, en {proven.province_name} heeft de ervaring al"
    if match_type == "joint_procurement":
        in_use = a.phase in PROVEN_PHASES and b.phase in PROVEN_PHASES
        if in_use:
            return (
                "Gezamenlijke inkoop: beide gebruiken al hetzelfde soort product of dienst; bundel de "
                "contracten bij verlenging of deel een raamcontract"
            )
        return "Gezamenlijke inkoop: beide hebben hetzelfde soort product of dezelfde dienst nodig"
    experienced = [item for item in (a, b) if item.phase in PROVEN_PHASES]
    if len(experienced) == 1:
        return (
            f"Kennisuitwisseling: hetzelfde doel met een andere aanpak; {experienced[0].province_name} heeft er "
            "al ervaring mee"
        )
    return "Kennisuitwisseling: hetzelfde doel met een andere aanpak; leer van elkaars ervaring"


def _phase_reason(a: MatchItem, b: MatchItem) -> str | None:
    if a.phase in PROVEN_PHASES and b.phase in EARLY_PHASES:
        return f"{a.province_name} {PHASE_PHRASES[a.phase]}; {b.province_name} {PHASE_PHRASES[b.phase]}"
    if b.phase in PROVEN_PHASES and a.phase in EARLY_PHASES:
        return f"{b.province_name} {PHASE_PHRASES[b.phase]}; {a.province_name} {PHASE_PHRASES[a.phase]}"
    if a.phase and a.phase == b.phase and a.phase in _PHASE_NOUNS:
        return f"Beide zitten in de {_PHASE_NOUNS[a.phase]}"
    return None


def _timing_reason(a: MatchItem, b: MatchItem, timing: float) -> str | None:
    if timing < 1.0:
        return None
    if a.tender_date and b.tender_date:
        return (
            f"Beide willen binnen een jaar van elkaar aanbesteden ({a.province_name} {month(a.tender_date)}, "
            f"{b.province_name} {month(b.tender_date)})"
        )
    return "Beide lopen in dezelfde periode"


def _partners_reason(a: MatchItem, b: MatchItem) -> str | None:
    def plans(item: MatchItem) -> bool:
        return item.seeks_partners or item.tender_date is not None

    if plans(a) and plans(b):
        if a.seeks_partners and b.seeks_partners:
            return "Beide zoeken partners"
        return "Beide zoeken partners of plannen een aanbesteding"
    return None
