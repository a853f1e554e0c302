"""The filters of the match queue and the collaboration board, read from query parameters: one reading
for the page and for the API, with Dutch errors per field."""

from __future__ import annotations

from search.matching import MATCH_TYPES

from ..initiatives.filters import read_filters, whole_number
from ..matching import collaborations
from ..matching import service as matches
from ..taxonomy import THEME_BY_SLUG, CollaborationStage, CollaborationType, MatchStatus
from .params import MAX_ID


def match_filters(params: dict[str, list[str]]) -> tuple[matches.MatchFilters, dict[str, list[str]]]:
    """Match filters from query parameters (status, type, province, theme, min_score); Dutch errors per field."""
    values, errors = read_filters(params, ("province", "theme"))
    statuses = tuple(v for v in params.get("status", []) if v)
    if any(s not in {m.value for m in MatchStatus} for s in statuses):
        errors["status"] = ["Kies voorgesteld, geaccepteerd, afgewezen of aangehouden."]
        statuses = ()
    types = tuple(v for v in params.get("type", []) if v)
    if any(t not in MATCH_TYPES for t in types):
        errors["type"] = ["Kies joint_procurement, scaling_up of knowledge_exchange."]
        types = ()
    min_score = 0.0
    text = (params.get("min_score") or [""])[0]
    if text:
        try:
            min_score = float(text)
            if not 0 <= min_score <= 1:
                raise ValueError
        except ValueError:
            errors["min_score"] = ["Geef een getal van 0 tot en met 1."]
            min_score = 0.0
    themes = tuple(THEME_BY_SLUG[slug].name for slug in values.get("theme", ()))
    return matches.MatchFilters(
        status=statuses or (MatchStatus.VOORGESTELD,),
        type=types,
        province=tuple(values.get("province", ())),
        theme=themes,
        min_score=min_score,
    ), errors


def collaboration_filters(
    params: dict[str, list[str]], owner_key: str = "owner"
) -> tuple[collaborations.CollaborationFilters, dict[str, list[str]]]:
    """Board and API filters (type, stage, province, theme, owner, overdue); Dutch errors per field."""
    values, errors = read_filters(params, ("province", "theme"))
    types = tuple(v for v in params.get("type", []) if v)
    if any(t not in {c.value for c in CollaborationType} for t in types):
        errors["type"] = ["Kies gezamenlijke_inkoop, opschalen of kennisuitwisseling."]
        types = ()
    stages = tuple(v for v in params.get("stage", []) if v)
    if any(s not in {c.value for c in CollaborationStage} for s in stages):
        errors["stage"] = ["Kies een bestaande fase."]
        stages = ()
    owner = None
    owner_text = (params.get(owner_key) or [""])[0].strip()
    if owner_text:
        owner = whole_number(owner_text, 1, MAX_ID)
        if owner is None:
            errors[owner_key] = ["Kies een eigenaar uit de lijst."]
    overdue_text = (params.get("overdue") or [""])[0].strip().lower()
    if overdue_text not in {"", "1", "true", "ja", "on", "0", "false", "nee"}:
        errors["overdue"] = ["Gebruik 1 (alleen te laat) of laat het leeg."]
    return collaborations.CollaborationFilters(
        type=types,
        stage=stages,
        province=tuple(values.get("province", ())),
        theme=tuple(values.get("theme", ())),
        owner=owner,
        overdue=overdue_text in {"1", "true", "ja", "on"},
    ), errors
