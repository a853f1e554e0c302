"""The facts behind the accessibility statement (/toegankelijkheid) and the privacy statement (/privacy).

Each fact is declared once. The browser tests take the axe-core version, the reflow viewports and the roles
they test from here, so the accessibility statement cannot claim a test that does not run; the privacy
statement reads its periods from the settings and classes that enforce them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .accounts.login_throttle import LoginThrottle
from .digest.service import SEND_WITHIN
from .settings import Settings
from .taxonomy import ROLE_LABELS, Role

#: The day both statements were last reviewed against the code; renew them at least once a year.
STATEMENT_DATE = date(2026, 12, 2)
REVIEW_WITHIN = timedelta(days=365)

#: The vendored axe-core (tests/vendor/axe-core-<version>.min.js) that checks every page.
AXE_CORE_VERSION = "4.14.1"

#: In CSS pixels: 1280 × 900 at 200 % zoom lays out as a 640 × 450 viewport.
REFLOW_VIEWPORTS: dict[str, dict[str, int]] = {
    "320 px breed": {"width": 320, "height": 640},
    "1280 px breed bij 200 % zoom": {"width": 640, "height": 450},
}

#: Who the browser tests log in as; "anoniem" is a visitor who has not logged in.
TESTED_ROLES: tuple[str, ...] = ("anoniem", Role.MEDEWERKER.value, Role.COORDINATOR.value, Role.BEHEERDER.value)

#: The compliance status of the model statement (digitoegankelijk.nl): A and B need a complete WCAG-EM
#: audit of at most three years old, C an audit planned within six months. Neither exists yet: D.
COMPLIANCE_STATUS = ("D", "maatregelen gepland")


@dataclass(frozen=True)
class Limitation:
    """A known shortcoming: what it is, what it means for a user, and what is done about it."""

    what: str
    effect: str
    measure: str


KNOWN_LIMITATIONS: tuple[Limitation, ...] = (
    Limitation(
        "Er is nog geen volledig toegankelijkheidsonderzoek volgens WCAG-EM door een onafhankelijke deskundige gedaan.",
        "Automatische tests vinden maar een deel van de problemen; er kunnen fouten zijn die niemand nog heeft gezien.",
        "Een onderzoek volgens WCAG-EM van alle pagina's, ook achter het inloggen.",
    ),
    Limitation(
        "Niet getest met schermlezers (zoals NVDA, JAWS, VoiceOver) of met spraakbesturing.",
        "Onderdelen die met htmx worden ververst (zoekresultaten, de lijst met matches) kunnen in een "
        "schermlezer anders klinken dan bedoeld.",
        "Handmatige tests met NVDA en VoiceOver als onderdeel van het WCAG-EM-onderzoek.",
    ),
    Limitation(
        "Teksten van initiatieven schrijven medewerkers van de provincies zelf, in Markdown.",
        "De Kennisbank controleert niet of een tekst begrijpelijk is of of een linktekst zegt waar de link heen gaat.",
        "Meld een onduidelijk initiatief bij de contactpersoon die op de pagina van het initiatief staat.",
    ),
    Limitation(
        "Van de wekelijkse e-mail zijn de voorbeeldpagina en de opbouw van de verzonden HTML getest "
        "(koppen, links, knoppen), niet de weergave in e-mailprogramma's.",
        "Een e-mailprogramma kan de opmaak anders tonen.",
        "De e-mail heeft ook een platte-tekstversie met dezelfde inhoud.",
    ),
    Limitation(
        "Exportbestanden (CSV en Excel) en de API zijn niet op toegankelijkheid onderzocht.",
        "Een spreadsheet met veel kolommen kan lastig te lezen zijn met een schermlezer.",
        "Dezelfde gegevens staan toegankelijk op de pagina's van de Kennisbank.",
    ),
)


def contact(settings: Settings) -> str:
    """The address for accessibility problems and privacy requests ("" when the operator set none)."""
    return settings.contact_email


def accessibility_facts(settings: Settings) -> dict[str, Any]:
    return {
        "statement_date": STATEMENT_DATE,
        "review_before": STATEMENT_DATE + REVIEW_WITHIN,
        "status_letter": COMPLIANCE_STATUS[0],
        "status_label": COMPLIANCE_STATUS[1],
        "axe_core_version": AXE_CORE_VERSION,
        "reflow_viewports": list(REFLOW_VIEWPORTS),
        "tested_roles": ["niet ingelogd" if role == "anoniem" else ROLE_LABELS[Role(role)] for role in TESTED_ROLES],
        "limitations": KNOWN_LIMITATIONS,
        "contact_email": contact(settings),
    }


def privacy_facts(settings: Settings, login_throttle: LoginThrottle) -> dict[str, Any]:
    return {
        "statement_date": STATEMENT_DATE,
        "session_idle_minutes": settings.session_idle_minutes,
        "session_max_hours": settings.session_max_hours,
        "audit_ip_days": settings.audit_ip_days,
        "digest_delivery_days": settings.digest_delivery_days,
        "digest_send_within_days": SEND_WITHIN.days,
        "throttle_forget_minutes": round(login_throttle.forget_after / 60),
        "role_labels": ROLE_LABELS,
        "contact_email": contact(settings),
    }
