"""The OpenAPI 3.1 document of /api/v1, built from the same pydantic model that validates input."""

from __future__ import annotations

from functools import cache
from typing import Any

from ..validation import InitiativeInput

_JSON = "application/json"
_PROBLEM = "application/problem+json"
_ID = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}  # the id columns are 32-bit on PostgreSQL
VERSION_MISSING = "Geen If-Match meegestuurd: de versie is verplicht bij wijzigen en archiveren"
VERSION_STALE = "Intussen door iemand anders gewijzigd, of If-Match noemt geen geldige versie"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_PROBLEM: {"schema": _ref("Problem")}}}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _filter_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True}


#: Who may call an operation: an API token, or the session cookie of a logged-in browser (changes then
#: also need the X-CSRF-Token header, double-submitted from the kb_csrf cookie).
SECURITY_SCHEMES = {
    "bearerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "kb_…",
                    "description": "Persoonlijk API-token (Authorization: Bearer kb_…), aan te maken op /account."},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "kb_session",
                      "description": "De sessie van een ingelogde browser (__Host-kb_session onder https)."},
    "csrfHeader": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                   "description": "Bij een sessie: de waarde van de cookie kb_csrf, verplicht bij elke wijziging."},
}
_READ_SECURITY = [{"bearerToken": []}, {"sessionCookie": []}]
_WRITE_SECURITY = [{"bearerToken": []}, {"sessionCookie": [], "csrfHeader": []}]


def _forbidden_response() -> dict[str, Any]:
    return {"description": "Geen toegang: deze rol of provincie mag dit niet (problem+json), of bij een sessie "
                           "zonder geldige X-CSRF-Token een weigering als platte tekst",
            "content": {_PROBLEM: {"schema": _ref("Problem")}, "text/plain": {"schema": {"type": "string"}}}}


def _secure(paths: dict[str, Any]) -> None:
    """Every operation names its security and documents 401/403, and for a path id the 400 of a
    number that no id can be; changes that need a version document 428 and 412."""
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            writes = method in {"post", "patch", "put", "delete"}
            operation.setdefault("security", _WRITE_SECURITY if writes else _READ_SECURITY)
            responses.setdefault("401", _problem_response("Niet ingelogd: stuur een API-token of log in"))
            responses["403"] = _forbidden_response() | (
                {"description": responses["403"]["description"] + "; " + _forbidden_response()["description"]}
                if "403" in responses else {})
            if "{" in path:
                responses.setdefault("400", _problem_response("Ongeldige invoer of een nummer buiten bereik"))
            if writes and "requestBody" in operation:
                responses.setdefault("400", _problem_response("Ongeldige invoer"))
                responses.setdefault("415", _problem_response("Geen application/json"))


@cache
def openapi_document() -> dict[str, Any]:
    input_schema = InitiativeInput.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = input_schema.pop("$defs", {})
    patch_schema = {**input_schema, "required": [], "title": "InitiativePatch",
                    "description": "Any subset of the initiative's fields; the rest keeps its value."}
    resource_schema = {
        "type": "object",
        "title": "Initiative",
        "properties": {
            "id": {"type": "integer"},
            **input_schema["properties"],
            "province_name": {"type": "string"},
            "version": {"type": "integer", "description": "Increases with every change; send it back as If-Match."},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
        "required": ["id", *input_schema["properties"], "province_name", "version", "created_at", "updated_at"],
        "additionalProperties": False,
    }
    id_param = {"name": "initiative_id", "in": "path", "required": True, "schema": _ID}
    match_id_param = {"name": "match_id", "in": "path", "required": True, "schema": _ID}
    if_match = {"name": "If-Match", "in": "header", "required": True,
                "description": 'De versie als ETag van GET, bijvoorbeeld "3". Zonder: 428; verouderd of ongeldig '
                               '(ook W/"3"): 412.',
                "schema": {"type": "string", "pattern": '^"[0-9]{1,18}"$'}}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Kennisbank API", "version": "1.0.0",
                 "description": "Initiatieven van de twaalf provincies. Fouten volgen RFC 9457 (problem+json)."},
        "paths": {
            "/api/v1/initiatives": {
                "get": {
                    "summary": "Initiatieven zoeken op filters",
                    "parameters": [
                        _filter_param("province", "ISO-code of naam; herhaal voor meer provincies"),
                        _filter_param("kind", "best_practice, living_lab of portfolio_project"),
                        _filter_param("theme", "Themanaam of slug"),
                        _filter_param("phase", "idee, verkenning, pilot, implementatie of opgeschaald"),
                        _filter_param("status", "concept, gepubliceerd of gearchiveerd (standaard gepubliceerd)"),
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                        {"name": "per_page", "in": "query",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                    ],
                    "responses": {
                        "200": _json_response("Eén pagina initiatieven", _ref("InitiativePage")),
                        "400": _problem_response("Ongeldige parameters"),
                    },
                },
                "post": {
                    "summary": "Initiatief aanmaken",
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("InitiativeInput")}}},
                    "responses": {
                        "201": _json_response("Aangemaakt", _ref("Initiative")),
                        "400": _problem_response("Ongeldige invoer, met fouten per veld"),
                        "415": _problem_response("Geen application/json"),
                    },
                },
            },
            "/api/v1/initiatives/{initiative_id}": {
                "get": {
                    "summary": "Eén initiatief",
                    "parameters": [id_param],
                    "responses": {"200": _json_response("Het initiatief", _ref("Initiative")),
                                  "404": _problem_response("Niet gevonden")},
                },
                "patch": {
                    "summary": "Initiatief wijzigen (alleen de meegegeven velden)",
                    "parameters": [id_param, if_match],
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("InitiativePatch")}}},
                    "responses": {
                        "200": _json_response("Gewijzigd", _ref("Initiative")),
                        "400": _problem_response("Ongeldige invoer"),
                        "404": _problem_response("Niet gevonden"),
                        "412": _problem_response(VERSION_STALE),
                        "415": _problem_response("Geen application/json"),
                        "428": _problem_response(VERSION_MISSING),
                    },
                },
            },
            "/api/v1/initiatives/{initiative_id}/archive": {
                "post": {
                    "summary": "Initiatief archiveren (in plaats van verwijderen)",
                    "parameters": [id_param, if_match],
                    "responses": {"200": _json_response("Gearchiveerd", _ref("Initiative")),
                                  "404": _problem_response("Niet gevonden"),
                                  "412": _problem_response(VERSION_STALE),
                                  "428": _problem_response(VERSION_MISSING)},
                },
            },
            "/api/v1/search": {
                "get": {
                    "summary": "Zoeken: trefwoorden met Nederlandse taalkennis, filters, facetten en markeringen",
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                        _filter_param("province", "ISO-code of naam"),
                        _filter_param("theme", "Themanaam of slug"),
                        _filter_param("kind", "Soort initiatief"),
                        _filter_param("phase", "Fase"),
                        _filter_param("programme_line", "IDA-programmalijn"),
                        _filter_param("year", "Startjaar (JJJJ)"),
                        _filter_param("status", "Standaard gepubliceerd"),
                        {"name": "sort", "in": "query", "schema": {"enum": ["relevance", "date"]}},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    ],
                    "responses": {
                        "200": _json_response("Resultaten met facetten", _ref("SearchResult")),
                        "400": _problem_response("Ongeldige zoekopdracht"),
                        "503": _problem_response("De zoekserver is tijdelijk niet bereikbaar"),
                    },
                },
            },
            "/api/v1/matches": {
                "get": {
                    "summary": "Matchvoorstellen tussen provincies, sterkste eerst (alleen IDA-coördinatoren)",
                    "parameters": [
                        _filter_param("status", "voorgesteld (standaard), geaccepteerd, afgewezen of aangehouden"),
                        _filter_param("type", "joint_procurement, scaling_up of knowledge_exchange"),
                        _filter_param("province", "ISO-code of naam: matches waarin deze provincie voorkomt"),
                        _filter_param("theme", "Themanaam of slug"),
                        {"name": "min_score", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 1}},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                        {"name": "per_page", "in": "query",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                    ],
                    "responses": {"200": _json_response("Eén pagina matches", _ref("MatchPage")),
                                  "400": _problem_response("Ongeldige parameters"),
                                  "403": _problem_response("Geen IDA-coördinator")},
                },
            },
            "/api/v1/matches/{match_id}": {
                "get": {
                    "summary": "Eén match",
                    "parameters": [match_id_param],
                    "responses": {"200": _json_response("De match", _ref("Match")),
                                  "403": _problem_response("Geen IDA-coördinator"),
                                  "404": _problem_response("Niet gevonden")},
                },
            },
            "/api/v1/matches/{match_id}/decision": {
                "post": {
                    "summary": "Een match beoordelen: accepteren, afwijzen, aanhouden of terug naar voorgesteld",
                    "parameters": [match_id_param],
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("MatchDecision")}}},
                    "responses": {"200": _json_response("De beoordeelde match", _ref("Match")),
                                  "400": _problem_response("Ongeldige invoer, met fouten per veld"),
                                  "403": _problem_response("Geen IDA-coördinator"),
                                  "404": _problem_response("Niet gevonden")},
                },
            },
            "/api/v1/provinces": {"get": {"summary": "De twaalf provincies", "responses": {
                "200": _json_response("Provincies", _ref("ProvinceList"))}}},
            "/api/v1/themes": {"get": {"summary": "Maatschappelijke opgaven", "responses": {
                "200": _json_response("Thema's", _ref("ThemeList"))}}},
        },
        "components": {
            "schemas": {
                **definitions,
                "InitiativeInput": input_schema,
                "InitiativePatch": patch_schema,
                "Initiative": resource_schema,
                "InitiativePage": {
                    "type": "object",
                    "properties": {"total": {"type": "integer"}, "page": {"type": "integer"},
                                   "per_page": {"type": "integer"},
                                   "items": {"type": "array", "items": _ref("Initiative")}},
                    "required": ["total", "page", "per_page", "items"],
                },
                "SearchResult": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
                        "took_ms": {"type": "number"},
                        "hits": {"type": "array", "items": {"type": "object", "properties": {
                            "id": {"type": "integer"}, "external_id": {"type": "string"},
                            "province": {"type": "string"}, "province_name": {"type": "string"},
                            "title": {"type": "string"}, "kind": {"type": "string"}, "phase": {"type": "string"},
                            "score": {"type": "number"},
                            "highlight": {"type": "object", "additionalProperties": {"type": "string"},
                                          "description": "HTML: escaped text with <mark> around matches"},
                        }, "required": ["id", "external_id", "province", "title", "kind", "score", "highlight"]}},
                        "facets": {"type": "object", "additionalProperties": {
                            "type": "object", "additionalProperties": {"type": "integer"}}},
                    },
                    "required": ["total", "hits", "facets", "took_ms"],
                },
                "MatchSide": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "external_id": {"type": "string"}, "province": {"type": "string"},
                    "province_name": {"type": "string"}, "title": {"type": "string"}},
                    "required": ["id", "external_id", "province", "title"]},
                "Match": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "a": _ref("MatchSide"), "b": _ref("MatchSide"),
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "type": {"enum": ["joint_procurement", "scaling_up", "knowledge_exchange"]},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "shared_terms": {"type": "array", "items": {"type": "string"}},
                    "status": {"enum": ["voorgesteld", "geaccepteerd", "afgewezen", "aangehouden"]},
                    "note": {"type": "string"},
                    "features": {"type": "object", "additionalProperties": {"type": "number"}},
                    "decided_at": {"type": ["string", "null"], "format": "date-time"}},
                    "required": ["id", "a", "b", "score", "type", "reasons", "status"]},
                "MatchPage": {"type": "object", "properties": {
                    "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
                    "items": {"type": "array", "items": _ref("Match")}},
                    "required": ["total", "page", "per_page", "items"]},
                "MatchDecision": {"type": "object", "additionalProperties": False, "properties": {
                    "status": {"enum": ["voorgesteld", "geaccepteerd", "afgewezen", "aangehouden"]},
                    "note": {"type": "string", "maxLength": 2000}}, "required": ["status"]},
                "ProvinceList": {"type": "object", "properties": {"items": {"type": "array", "items": {
                    "type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                    "required": ["code", "name"]}}}},
                "ThemeList": {"type": "object", "properties": {"items": {"type": "array", "items": {
                    "type": "object", "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
                    "required": ["slug", "name"]}}}},
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object", "properties": {
                            "field": {"type": ["string", "null"]},
                            "messages": {"type": "array", "items": {"type": "string"}}}}},
                    },
                    "required": ["title", "status"],
                },
            },
            "securitySchemes": SECURITY_SCHEMES,
        },
        "security": _READ_SECURITY,
    }
    _secure(document["paths"])
    return document
