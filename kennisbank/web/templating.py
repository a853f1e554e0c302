"""The Jinja environment: autoescaping on, Dutch labels and formatting helpers available to templates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from search.matching import MATCH_TYPE_LABELS

from .. import permissions, taxonomy
from ..richtext import render_markdown
from ..accounts import ACCOUNT_FIELD_LABELS
from ..collaborations import FIELD_LABELS as COLLABORATION_FIELD_LABELS
from ..validation import FIELD_LABELS
from .auth import current_user
from .security_headers import csp_nonce

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december")


def dutch_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def dutch_number(value: float | int | None, decimals: int = 0) -> str:
    """The one Dutch number format of the interface: 1.234,5 (point between thousands, decimal comma)."""
    if value is None:
        return ""
    english = f"{value:,.{decimals}f}"
    return english.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


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
AUDIT_OBJECT_LABELS = {"user": "Account", "initiative": "Initiatief", "match": "Match", "token": "API-token",
                       "api_key": "API-token", "subscription": "Abonnement", "session": "Sessie"}
AUDIT_RESULT_LABELS = {"ok": "Gelukt", "geweigerd": "Geweigerd", "mislukt": "Mislukt"}


def query_with(request: Request, **changes: object) -> str:
    """The current query string with some parameters replaced (None removes one); for pagination links."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    items += [(k, str(v)) for k, v in changes.items() if v is not None]
    return "?" + urlencode(items) if items else "?"


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page from the app's templates: the one way every route renders HTML."""
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)


def wants_fragment(request: Request) -> bool:
    """An htmx update asks for the changed part only; a history restore (Back after a cache miss) and every
    ordinary navigation get the whole page."""
    return (request.headers.get("hx-request") == "true"
            and request.headers.get("hx-history-restore-request") != "true")


def render_page_or_fragment(request: Request, page: str, fragment: str, context: dict[str, Any]) -> Response:
    """The full page or, for an htmx update, only its fragment, on the same URL.

    The browser must never show a stored fragment as the page for that URL (Back after leaving the page
    would show it bare): both variants say they vary on HX-Request, and a fragment is never stored."""
    fragment_wanted = wants_fragment(request)
    response = render(request, fragment if fragment_wanted else page, {**context, "fragment": fragment_wanted})
    response.headers.append("Vary", "HX-Request")
    if fragment_wanted:
        response.headers["Cache-Control"] = "no-store"
    return response


def csrf_token(request: Request) -> str:
    return request.scope.get("state", {}).get("csrf_token", "")


def _escaped(template_name: str | None) -> bool:
    return not (template_name or "").endswith(".txt")


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env = templates.env
    env.autoescape = _escaped  # everything but plain-text mail
    env.filters.update(markdown=render_markdown, dutch_date=dutch_date, euro=euro, number=dutch_number,
                       score=score)
    env.globals.update(
        kind_labels=taxonomy.KIND_LABELS,
        phase_labels=taxonomy.PHASE_LABELS,
        status_labels=taxonomy.STATUS_LABELS,
        programme_line_labels=taxonomy.PROGRAMME_LINE_LABELS,
        provinces=taxonomy.PROVINCES,
        themes=taxonomy.THEMES,
        province_options=[(p.code, p.name) for p in taxonomy.PROVINCES],
        theme_options=[(t.slug, t.name) for t in taxonomy.THEMES],
        field_labels={**FIELD_LABELS, **ACCOUNT_FIELD_LABELS, **COLLABORATION_FIELD_LABELS},
        province_names={p.code: p.name for p in taxonomy.PROVINCES},
        query_with=query_with,
        audit_object_labels=AUDIT_OBJECT_LABELS,
        audit_result_labels=AUDIT_RESULT_LABELS,
        csrf_token=csrf_token,
        csp_nonce=csp_nonce,
        current_user=current_user,
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
    )
    return templates
