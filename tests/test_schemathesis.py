"""Audit issue 13, item 12: schemathesis generates requests from /api/v1/openapi.json and sends them to
the real app in process (the Starlette test client, real SQLite or PostgreSQL), as a medewerker with an
API token and anonymously. Every response must be no 5xx, have a documented status code and content
type, and match the documented schema.

The budget is fixed and small (`EXAMPLES` per operation and identity, derandomized, no example
database), so the run is the same every time and takes well under a minute."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kennisbank.web.api.openapi import SERVER_URL, openapi_document
from tests.conftest import Browser

EXAMPLES = int(__import__("os").environ.get("KB_ST_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = sorted((op.ok().method.upper(), op.ok().path) for op in SCHEMA.get_all_operations())


def send(browser: Browser, case: Any, headers: dict[str, str]):
    kwargs: dict[str, Any] = {
        "params": case.query or None,
        "headers": {**{k: str(v) for k, v in (case.headers or {}).items()}, **headers},
    }
    if case.body is not None and not isinstance(case.body, type(schemathesis.core.NOT_SET)):
        kwargs["json"] = case.body
    return browser.request(case.method, SERVER_URL + case.formatted_path, follow_redirects=False, **kwargs)


@pytest.mark.parametrize("who", ["medewerker", "anonymous"])
def test_every_operation_answers_as_documented(anonymous: Browser, who: str):
    started = time.monotonic()
    headers = anonymous.bearer("NL-GE") if who == "medewerker" else {}
    for n in range(3):  # something to find, edit and archive: ids 1 to 3
        anonymous.create_initiative(external_id=f"GE-ST-{n}", title=f"Schemathesis initiatief {n}")
    anonymous.send_csrf_header = False  # anonymous means no cookie tricks either
    seen: dict[tuple[str, str], set[int]] = {}

    for method, path in OPERATIONS:
        operation = SCHEMA[path][method]

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = send(anonymous, case, headers)
            seen.setdefault((method, path), set()).add(response.status_code)  # noqa: B023 (called in this pass)
            case.validate_response(response, checks=CHECKS)

        check()
    assert set(seen) == set(OPERATIONS)
    if who == "anonymous":
        assert all(statuses <= {401, 403, 400} for (_, path), statuses in seen.items() if path != "/openapi.json"), seen
    assert time.monotonic() - started < 60
