"""RFC 9457 problem details for the JSON API."""

from __future__ import annotations

from starlette.responses import JSONResponse

PROBLEM_TYPE = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str = "",
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    # ADR 2.2 makes detail mandatory: a problem without its own explanation repeats its title.
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status, "detail": detail or title}
    if errors:
        body["errors"] = [{"field": field or None, "messages": messages} for field, messages in errors.items()]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def invalid_parameters(errors: dict[str, list[str]], title: str = "Ongeldige parameters") -> JSONResponse:
    """400 for query parameters that do not parse, each error under its parameter."""
    return problem(400, title, "Een of meer parameters zijn ongeldig.", errors=errors)


def invalid_input(errors: dict[str, list[str]]) -> JSONResponse:
    """400 for a request body whose fields do not validate, each error under its field."""
    return problem(400, "Ongeldige invoer", "Een of meer velden zijn niet goed ingevuld.", errors=errors)
