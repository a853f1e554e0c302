"""Rendering shared by the web pages and the mail: where the templates are, Dutch formatting, labels.

No web imports: the digest and introduction mails render with `mail_environment()` without loading
Starlette, and `kennisbank.web.templating` adds the request-bound helpers for pages on top.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import jinja2
from babel.numbers import format_decimal

from search.dutch import DUTCH_LOCALE
from search.dutch import dutch_date as format_dutch_date
from search.matching import MATCH_TYPE_LABELS

from . import permissions, taxonomy
from .accounts.service import ACCOUNT_FIELD_LABELS
from .initiatives.fields import form_groups
from .initiatives.validation import FIELD_LABELS, INITIATIVE_FIELDS
from .matching.collaborations import FIELD_LABELS as COLLABORATION_FIELD_LABELS
from .resources import resource_dir
from .richtext import render_markdown

TEMPLATE_DIR = resource_dir("templates")
STATIC_DIR = resource_dir("static")


def dutch_date(value: date | datetime | None) -> str:
    """The templates' date: 1 maart 2026, and nothing for a missing date."""
    return "" if value is None else format_dutch_date(value)


def dutch_number(value: float | int | None, decimals: int = 0) -> str:
    """The one Dutch number format of the interface: 1.234,5 (point between thousands, decimal comma)."""
    if value is None:
        return ""
    return format_decimal(value, "#,##0" + ("." + "0" * decimals if decimals else ""), locale=DUTCH_LOCALE)


def euro(value: int | None) -> str:
    if value is None:
        return ""
    return "€ " + dutch_number(value)


def score(value: float | None) -> str:
    """A match score (0-1 in the engine) as a coordinator reads it: a whole number out of 100."""
    if value is None:
        return ""
    return f"{dutch_number(round(value * 100))} van 100"


#: Human names for what the audit log records; the stored values stay as they are.
AUDIT_OBJECT_LABELS = {
    "user": "Account",
    "initiative": "Initiatief",
    "match": "Match",
    "token": "API-token",
    "api_key": "API-token",
    "subscription": "Abonnement",
    "session": "Sessie",
}
AUDIT_RESULT_LABELS = {"ok": "Gelukt", "geweigerd": "Geweigerd", "mislukt": "Mislukt"}


#: The (value, label) choices of a select or check-box field, by the name its `FieldSpec.options`
#: gives; the filter forms show the province and theme choices too.
FIELD_CHOICES: dict[str, list[tuple[str, str]]] = {
    "kind_labels": list(taxonomy.KIND_LABELS.items()),
    "phase_labels": list(taxonomy.PHASE_LABELS.items()),
    "status_labels": list(taxonomy.STATUS_LABELS.items()),
    "programme_line_labels": list(taxonomy.PROGRAMME_LINE_LABELS.items()),
    "province_options": [(p.code, p.name) for p in taxonomy.PROVINCES],
    "theme_options": [(t.slug, t.name) for t in taxonomy.THEMES],
}


def _escaped(template_name: str | None) -> bool:
    return not (template_name or "").endswith(".txt")


def configure(env: jinja2.Environment) -> jinja2.Environment:
    """Autoescaping (all but plain-text mail), the Dutch filters and the labels and rules templates ask."""
    env.autoescape = _escaped
    env.filters.update(markdown=render_markdown, dutch_date=dutch_date, euro=euro, number=dutch_number, score=score)
    env.globals.update(
        kind_labels=taxonomy.KIND_LABELS,
        phase_labels=taxonomy.PHASE_LABELS,
        status_labels=taxonomy.STATUS_LABELS,
        programme_line_labels=taxonomy.PROGRAMME_LINE_LABELS,
        provinces=taxonomy.PROVINCES,
        themes=taxonomy.THEMES,
        province_options=FIELD_CHOICES["province_options"],
        theme_options=FIELD_CHOICES["theme_options"],
        initiative_form=form_groups(INITIATIVE_FIELDS),
        field_choices=FIELD_CHOICES,
        field_labels={**FIELD_LABELS, **ACCOUNT_FIELD_LABELS, **COLLABORATION_FIELD_LABELS, "bestand": "Bestand"},
        province_names={p.code: p.name for p in taxonomy.PROVINCES},
        audit_object_labels=AUDIT_OBJECT_LABELS,
        audit_result_labels=AUDIT_RESULT_LABELS,
        role_labels=taxonomy.ROLE_LABELS,
        match_type_labels=MATCH_TYPE_LABELS,
        can_create=permissions.can_create,
        can_edit=permissions.can_edit,
        can_manage_accounts=permissions.can_manage_accounts,
        can_review_matches=permissions.can_review_matches,
        can_manage_collaborations=permissions.can_manage_collaborations,
        must_use_second_factor=permissions.must_use_second_factor,
        collaboration_stage_labels=taxonomy.COLLABORATION_STAGE_LABELS,
        collaboration_type_labels=taxonomy.COLLABORATION_TYPE_LABELS,
        delivery_state=taxonomy.DeliveryState,
        introduction_status=taxonomy.IntroductionStatus,
    )
    return env


@lru_cache(maxsize=1)
def mail_environment() -> jinja2.Environment:
    """The one environment mails render with (built once per process, not per mail)."""
    return configure(jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR))))
