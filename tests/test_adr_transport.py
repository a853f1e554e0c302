"""ADR rules the Spectral linter cannot see, checked on the running app (kennisbank/web/middleware/api_transport.py)."""

from __future__ import annotations

import pytest

from kennisbank.web.middleware.api_transport import accepts_json
from kennisbank.web.middleware.security_headers import API_VERSION
from tests.conftest import Browser

PROBLEM = "application/problem+json"


def test_a_trailing_slash_is_404_problem_json_not_a_redirect(client: Browser):
    response = client.get("/api/v1/initiatives/", follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM and response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/initiatives", "/api/v1/openapi.json", "/api/v1/bestaat-niet"])
def test_api_answers_are_never_cached_and_name_the_full_version(client: Browser, path: str):
    response = client.get(path)
    assert response.headers["cache-control"] == "no-store"
    assert (
        response.headers["api-version"] == API_VERSION == client.get("/api/v1/openapi.json").json()["info"]["version"]
    )


def test_refusals_are_not_cached_either(anonymous: Browser):
    assert anonymous.get("/api/v1/initiatives").headers["cache-control"] == "no-store"


def test_an_accept_without_json_is_406_problem_json(client: Browser):
    refused = client.get("/api/v1/initiatives", headers={"Accept": "application/xml"})
    assert refused.status_code == 406
    assert refused.headers["content-type"] == PROBLEM and refused.json()["detail"]
    for accept in ("application/json", "*/*", "text/html, application/json;q=0.9", "application/problem+json"):
        assert client.get("/api/v1/initiatives", headers={"Accept": accept}).status_code == 200, accept


@pytest.mark.parametrize(
    ("accept", "admitted"),
    [
        ("", True),
        ("application/*", True),
        ("application/xml", False),
        ("application/json;q=0", False),
        ("text/html", False),
    ],
)
def test_accepts_json(accept: str, admitted: bool):
    assert accepts_json(accept) is admitted


def test_the_openapi_document_may_be_read_from_any_origin(anonymous: Browser):
    response = anonymous.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/bestaat-niet", 404),
        ("DELETE", "/api/v1/initiatives", 405),
        ("GET", "/api/v1/initiatives?perPage=0", 400),
        ("GET", "/api/v1/initiatives/99", 404),
    ],
)
def test_every_problem_has_a_detail(client: Browser, method: str, path: str, status: int):
    response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"].strip()


@pytest.mark.parametrize(
    ("path", "unknown"),
    [
        ("/api/v1/initiatives?provincie=Limburg", "provincie"),  # Dutch for the key `province`
        ("/api/v1/initiatives?per_page=5", "per_page"),  # the body's snake_case, not the query key
        ("/api/v1/search?q=water&jaar=2024", "jaar"),
        ("/api/v1/initiatives/1?fields=title", "fields"),
    ],
)
def test_a_query_key_the_operation_does_not_declare_is_refused_by_name(client: Browser, path: str, unknown: str):
    """A misspelt filter was dropped, and the answer held everything as if it had been applied."""
    response = client.get(path)
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    [error] = response.json()["errors"]
    assert error["field"] == unknown and "Onbekende parameter" in error["messages"][0]
    assert client.get("/api/v1/initiatives?province=Limburg&perPage=5&page=1").status_code == 200
