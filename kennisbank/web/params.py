"""Query parameters as the services read them: every name with all of its values."""

from __future__ import annotations

from starlette.requests import Request


def multi_params(request: Request) -> dict[str, list[str]]:
    return {key: request.query_params.getlist(key) for key in request.query_params}
