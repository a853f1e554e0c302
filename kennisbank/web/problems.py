"""RFC 9457 problem details for the JSON API."""

from __future__ import annotations

from starlette.responses import JSONResponse

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str = "", errors: dict[str, list[str]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    # ADR 2.2 makes detail mandatory: a problem without its own explanation repeats its title.
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status, "detail": detail or title}
    if errors:
        body["errors"] = [{"field": field or None, "messages": messages} for field, messages in errors.items()]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)
