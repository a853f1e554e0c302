"""The fixed vocabularies of the platform: provinces, themes and the enumerations of an initiative.

Each vocabulary keeps its machine value (stored, used in the API) next to its Dutch label (shown).
Lookups are forgiving about case, diacritics and the common alternative spellings people type.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


def fold(text: str) -> str:
    """Lower-case, strip diacritics and collapse whitespace: the key for forgiving lookups."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", without_marks).strip().lower()


@dataclass(frozen=True)
class Province:
    code: str  # ISO 3166-2
    name: str
    aliases: tuple[str, ...] = ()


PROVINCES: tuple[Province, ...] = (
    Province("NL-GR", "Groningen"),
    Province("NL-FR", "Fryslân", ("Friesland", "Fryslan")),
    Province("NL-DR", "Drenthe"),
    Province("NL-OV", "Overijssel"),
    Province("NL-FL", "Flevoland"),
    Province("NL-GE", "Gelderland"),
    Province("NL-UT", "Utrecht"),
    Province("NL-NH", "Noord-Holland"),
    Province("NL-ZH", "Zuid-Holland"),
    Province("NL-ZE", "Zeeland"),
    Province("NL-NB", "Noord-Brabant"),
    Province("NL-LI", "Limburg"),
)

PROVINCE_BY_CODE: dict[str, Province] = {p.code: p for p in PROVINCES}

_PROVINCE_LOOKUP: dict[str, Province] = {}
for _province in PROVINCES:
    for _key in (_province.code, _province.code.removeprefix("NL-"), _province.name, *_province.aliases):
        _PROVINCE_LOOKUP[fold(_key)] = _province
        _PROVINCE_LOOKUP[fold(_key).replace("-", " ")] = _province


def find_province(text: str) -> Province | None:
    """Resolve a province from its ISO code, short code, name or known alias (any case, with or without diacritics)."""
    key = fold(text)
    return _PROVINCE_LOOKUP.get(key) or _PROVINCE_LOOKUP.get(key.replace("-", " "))


@dataclass(frozen=True)
class Theme:
    slug: str
    name: str


THEME_NAMES: tuple[str, ...] = (
    "energietransitie",
    "klimaatadaptatie",
    "mobiliteit",
    "wonen",
    "stikstof",
    "natuur en biodiversiteit",
    "water",
    "landbouw",
    "regionale economie",
    "arbeidsmarkt",
    "cultuur en erfgoed",
    "vrijetijdseconomie",
    "dienstverlening",
    "bedrijfsvoering",
    "open overheid",
    "informatieveiligheid",
    "data en AI",
    "digitale vaardigheden",
)

THEMES: tuple[Theme, ...] = tuple(Theme(slug=fold(name).replace(" ", "-"), name=name) for name in THEME_NAMES)
THEME_BY_SLUG: dict[str, Theme] = {t.slug: t for t in THEMES}
_THEME_LOOKUP: dict[str, Theme] = {}
for _theme in THEMES:
    _THEME_LOOKUP[fold(_theme.name)] = _theme
    _THEME_LOOKUP[_theme.slug] = _theme


def find_theme(text: str) -> Theme | None:
    """Resolve a theme by name or slug, case-insensitively."""
    key = fold(text)
    return _THEME_LOOKUP.get(key) or _THEME_LOOKUP.get(key.replace("-", " "))


class Kind(StrEnum):
    BEST_PRACTICE = "best_practice"
    LIVING_LAB = "living_lab"
    PORTFOLIO_PROJECT = "portfolio_project"


class Phase(StrEnum):
    IDEE = "idee"
    VERKENNING = "verkenning"
    PILOT = "pilot"
    IMPLEMENTATIE = "implementatie"
    OPGESCHAALD = "opgeschaald"


class Status(StrEnum):
    CONCEPT = "concept"
    GEPUBLICEERD = "gepubliceerd"
    GEARCHIVEERD = "gearchiveerd"


class ProgrammeLine(StrEnum):
    DATA = "data"
    DIENSTVERLENING = "dienstverlening"
    INNOVATIE = "innovatie"
    BEDRIJFSVOERING = "bedrijfsvoering"


class Role(StrEnum):
    """What an account may do; see kennisbank/permissions.py for the rules."""

    MEDEWERKER = "medewerker"  # provincial staff: creates and edits initiatives of their own province
    COORDINATOR = "coordinator"  # IDA: reviews matches, sees everything, edits no province's initiatives
    BEHEERDER = "beheerder"  # administrator: manages accounts


class MatchStatus(StrEnum):
    VOORGESTELD = "voorgesteld"
    GEACCEPTEERD = "geaccepteerd"
    AFGEWEZEN = "afgewezen"
    AANGEHOUDEN = "aangehouden"


class DeliveryState(StrEnum):
    """Where one mail delivery stands: a user's digest of one week, or a collaboration's introduction to one
    contact address (kennisbank/digest/service.py, kennisbank/matching/introductions.py). A run claims an open (or failed,
    or stale claimed) delivery before it sends, so each mail goes out once."""

    OPEN = "open"
    CLAIMED = "geclaimd"
    SENT = "verzonden"
    EMPTY = "leeg"  # a digest with nothing in it for its week: nothing sent
    FAILED = "mislukt"  # tried again on the next run, up to digest.MAX_ATTEMPTS attempts
    OPTED_OUT = "afgemeld"  # an introduction to an address that opted out: never sent


class IntroductionStatus(StrEnum):
    """A collaboration's introduction mail as a whole: not yet decided, sent to every contact, or skipped."""

    OPEN = "open"
    SENT = "verzonden"
    SKIPPED = "overgeslagen"


KIND_LABELS: dict[str, str] = {
    Kind.BEST_PRACTICE: "Goed voorbeeld",
    Kind.LIVING_LAB: "Living lab",
    Kind.PORTFOLIO_PROJECT: "Portfolioproject",
}
PHASE_LABELS: dict[str, str] = {
    Phase.IDEE: "Idee",
    Phase.VERKENNING: "Verkenning",
    Phase.PILOT: "Pilot",
    Phase.IMPLEMENTATIE: "Implementatie",
    Phase.OPGESCHAALD: "Opgeschaald",
}
STATUS_LABELS: dict[str, str] = {
    Status.CONCEPT: "Concept",
    Status.GEPUBLICEERD: "Gepubliceerd",
    Status.GEARCHIVEERD: "Gearchiveerd",
}
PROGRAMME_LINE_LABELS: dict[str, str] = {
    ProgrammeLine.DATA: "Data",
    ProgrammeLine.DIENSTVERLENING: "Dienstverlening",
    ProgrammeLine.INNOVATIE: "Innovatie",
    ProgrammeLine.BEDRIJFSVOERING: "Bedrijfsvoering",
}
#: The Dutch label of each value of the initiative's choice fields, by the choice's type: what a form
#: offers, what a message lists and what an imported cell may say instead of the code.
CHOICE_LABELS: dict[type[StrEnum], dict[str, str]] = {
    Kind: KIND_LABELS,
    Phase: PHASE_LABELS,
    Status: STATUS_LABELS,
    ProgrammeLine: PROGRAMME_LINE_LABELS,
}
ROLE_LABELS: dict[str, str] = {
    Role.MEDEWERKER: "Medewerker provincie",
    Role.COORDINATOR: "IDA-coördinator",
    Role.BEHEERDER: "Beheerder",
}
MATCH_STATUS_LABELS: dict[str, str] = {
    MatchStatus.VOORGESTELD: "Voorgesteld",
    MatchStatus.GEACCEPTEERD: "Geaccepteerd",
    MatchStatus.AFGEWEZEN: "Afgewezen",
    MatchStatus.AANGEHOUDEN: "Aangehouden",
}


class CollaborationType(StrEnum):
    GEZAMENLIJKE_INKOOP = "gezamenlijke_inkoop"
    OPSCHALEN = "opschalen"
    KENNISUITWISSELING = "kennisuitwisseling"


class CollaborationStage(StrEnum):
    """The way from a match to a joint result; `GESTOPT` may follow any stage and needs a reason."""

    VOORGESTELD = "voorgesteld"
    IN_GESPREK = "in_gesprek"
    AFSPRAKEN_GEMAAKT = "afspraken_gemaakt"
    GESTART = "gestart"  # gezamenlijke aanbesteding of opschaling gestart
    AFGEROND = "afgerond"
    GESTOPT = "gestopt"


COLLABORATION_TYPE_LABELS: dict[str, str] = {
    CollaborationType.GEZAMENLIJKE_INKOOP: "Gezamenlijke inkoop",
    CollaborationType.OPSCHALEN: "Opschalen",
    CollaborationType.KENNISUITWISSELING: "Kennisuitwisseling",
}
COLLABORATION_STAGE_LABELS: dict[str, str] = {
    CollaborationStage.VOORGESTELD: "Voorgesteld",
    CollaborationStage.IN_GESPREK: "In gesprek",
    CollaborationStage.AFSPRAKEN_GEMAAKT: "Afspraken gemaakt",
    CollaborationStage.GESTART: "Gezamenlijke aanbesteding of opschaling gestart",
    CollaborationStage.AFGEROND: "Afgerond",
    CollaborationStage.GESTOPT: "Gestopt",
}
#: The collaboration type a match type leads to (the engine's types in search/matching/engine.py).
COLLABORATION_TYPE_FOR_MATCH: dict[str, str] = {
    "joint_procurement": CollaborationType.GEZAMENLIJKE_INKOOP,
    "scaling_up": CollaborationType.OPSCHALEN,
    "knowledge_exchange": CollaborationType.KENNISUITWISSELING,
}
