"""The pages' Jinja environment: `kennisbank.rendering`'s filters and labels plus the request-bound helpers
(the signed-in user, the CSRF token, the CSP nonce, query strings), and the one way routes render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from ..rendering import TEMPLATE_DIR, configure
from .middleware.auth import current_user
from .middleware.security_headers import csp_nonce


def query_with(request: Request, **changes: object) -> str:
    """The current query string with some parameters replaced (None removes one); for pagination links."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    items += [(k, str(v)) for k, v in changes.items() if v is not None]
    return "?" + urlencode(items) if items else "?"


def path_for(request: Request, name: str, /, **path_params: Any) -> str:
    """The path of the route named `name`, e.g. ``/initiatieven/12``: a path, not an absolute URL, as every
    link and redirect of the pages has always been."""
    return str(request.app.url_path_for(name, **path_params))


@jinja2.pass_context
def _template_path_for(context: jinja2.runtime.Context, name: str, /, **path_params: Any) -> str:
    """`path_for` in templates, with the page's request: ``{{ path_for("initiative_detail", initiative_id=1) }}``."""
    return path_for(context["request"], name, **path_params)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page from the app's templates: the one way every route renders HTML."""
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)


def wants_fragment(request: Request) -> bool:
    """An htmx update asks for the changed part only; a history restore (Back after a cache miss) and every
    ordinary navigation get the whole page."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


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


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    configure(templates.env)
    templates.env.globals.update(
        query_with=query_with,
        csrf_token=csrf_token,
        csp_nonce=csp_nonce,
        current_user=current_user,
        path_for=_template_path_for,
    )
    return templates
