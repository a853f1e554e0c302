"""The OpenAPI 3.0 document of /api/v1, built from the same pydantic model that validates input.

OpenAPI 3.0.3, not 3.1: the ADR 2.1 linter accepts 3.0 only, and ADR 2.2 any 3.x. pydantic writes JSON
Schema 2020-12 (``anyOf`` with ``null``), which `as_openapi_30` turns into 3.0's ``nullable``."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

from search.matching import MATCH_TYPES

from ...initiatives.validation import InitiativeInput
from ...matching.collaborations import MAX_ACTION, MAX_LABEL, MAX_NOTE, MAX_REASON, MAX_TITLE, MAX_URL
from ...matching.service import MAX_NOTE_LENGTH
from ...searching.query import MAX_QUERY_LENGTH
from ...taxonomy import (
    PROVINCES,
    THEMES,
    CollaborationStage,
    CollaborationType,
    Kind,
    MatchStatus,
    Phase,
    ProgrammeLine,
    Status,
)
from ..middleware.security_headers import API_VERSION
from ..params import MAX_ID

_JSON = "application/json"
_PROBLEM = "application/problem+json"
_ID = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
VERSION_MISSING = "Geen If-Match meegestuurd: de versie is verplicht bij wijzigen en archiveren"
VERSION_STALE = "Intussen door iemand anders gewijzigd, of If-Match noemt geen geldige versie"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_PROBLEM: {"schema": _ref("Problem")}}}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _filter_param(name: str, description: str, values: list[str] | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string"} | ({"enum": values} if values else {})
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "array", "items": items},
        "style": "form",
        "explode": True,
    }


def _values(members: type[StrEnum]) -> list[str]:
    return [member.value for member in members]


#: The fixed values a filter accepts (the parsers also take other spellings: any case, short codes, aliases).
_PROVINCE_VALUES = [p.code for p in PROVINCES] + [p.name for p in PROVINCES]
_THEME_VALUES = list(dict.fromkeys([t.slug for t in THEMES] + [t.name for t in THEMES]))
_MATCH_TYPES: list[str] = list(MATCH_TYPES)
#: What a search answer says of each initiative it names (`searching.query._reference`).
_SEARCH_REFERENCE: dict[str, Any] = {
    "id": {"type": "integer"},
    "external_id": {"type": "string"},
    "province": {"type": "string"},
    "province_name": {"type": "string"},
    "title": {"type": "string"},
    "kind": {"type": "string"},
    "phase": {"type": "string"},
}
_PER_PAGE = {
    "name": "perPage",
    "in": "query",
    "description": "Aantal per pagina",
    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
}
_PAGE = {
    "name": "page",
    "in": "query",
    "description": "Paginanummer, vanaf 1",
    "schema": {"type": "integer", "minimum": 1, "default": 1},
}

#: Who answers questions about this API (ADR /core/doc-openapi-contact). The operator of an
#: installation replaces these with its own service desk.
CONTACT = {
    "name": "Beheer Kennisbank (IDA), in te vullen door de beheerder",
    "email": "kennisbank@example.org",
    "url": "https://example.org/kennisbank",
}
#: The base of every path in the document (ADR /core/uri-version: the major version in the URI).
SERVER_URL = "/api/v1"

#: operationId, tag and description per operation (ADR 2.1's spectral:oas warnings ask for all three).
_OPERATIONS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("get", "/initiatives"): (
        "listInitiatives",
        "Initiatieven",
        "Initiatieven die de aanroeper mag zien, gefilterd en per pagina.",
    ),
    ("post", "/initiatives"): (
        "createInitiative",
        "Initiatieven",
        "Een nieuw initiatief van de eigen provincie; de velden worden gevalideerd.",
    ),
    ("get", "/initiatives/{initiative_id}"): (
        "getInitiative",
        "Initiatieven",
        "Eén initiatief, met zijn versie als ETag.",
    ),
    ("patch", "/initiatives/{initiative_id}"): (
        "updateInitiative",
        "Initiatieven",
        "Alleen de meegestuurde velden wijzigen; If-Match is verplicht.",
    ),
    ("post", "/initiatives/{initiative_id}/archive"): (
        "archiveInitiative",
        "Initiatieven",
        "Archiveren in plaats van verwijderen; If-Match is verplicht.",
    ),
    ("get", "/search"): (
        "searchInitiatives",
        "Zoeken",
        "Trefwoorden en betekenis (hybride zoeken), met filters, facetten en markeringen.",
    ),
    ("get", "/matches"): ("listMatches", "Matches", "Matchvoorstellen, sterkste eerst; alleen IDA-coördinatoren."),
    ("get", "/matches/{match_id}"): ("getMatch", "Matches", "Eén matchvoorstel met zijn redenen."),
    ("post", "/matches/{match_id}/decision"): (
        "decideMatch",
        "Matches",
        "Een match accepteren, afwijzen, aanhouden of terugzetten.",
    ),
    ("get", "/collaborations"): (
        "listCollaborations",
        "Samenwerkingen",
        "Samenwerkingen die de aanroeper helemaal mag zien, gefilterd.",
    ),
    ("post", "/collaborations"): (
        "createCollaboration",
        "Samenwerkingen",
        "Een samenwerking starten tussen initiatieven van minstens twee provincies.",
    ),
    ("get", "/collaborations/{collaboration_id}"): (
        "getCollaboration",
        "Samenwerkingen",
        "Eén samenwerking met tijdlijn en links, met haar versie als ETag.",
    ),
    ("post", "/collaborations/{collaboration_id}/stage"): (
        "changeCollaborationStage",
        "Samenwerkingen",
        "De fase wijzigen; If-Match is verplicht.",
    ),
    ("post", "/collaborations/{collaboration_id}/notes"): (
        "addCollaborationNote",
        "Samenwerkingen",
        "Een notitie op de tijdlijn zetten.",
    ),
    ("get", "/collaborations/{collaboration_id}/links"): (
        "listCollaborationLinks",
        "Samenwerkingen",
        "De links van een samenwerking, met wie ze toevoegde en wanneer.",
    ),
    ("post", "/collaborations/{collaboration_id}/links"): (
        "addCollaborationLink",
        "Samenwerkingen",
        "Een link (aanbestedingsstuk, afspraken) toevoegen.",
    ),
    ("post", "/collaborations/{collaboration_id}/next-action"): (
        "setCollaborationNextAction",
        "Samenwerkingen",
        "De volgende actie en haar uiterste datum zetten of wissen; If-Match is verplicht.",
    ),
    ("post", "/collaborations/{collaboration_id}/owner"): (
        "setCollaborationOwner",
        "Samenwerkingen",
        "Een andere IDA-coördinator eigenaar maken; If-Match is verplicht.",
    ),
    ("get", "/provinces"): ("listProvinces", "Naslag", "De twaalf provincies met hun ISO-code."),
    ("get", "/themes"): ("listThemes", "Naslag", "De maatschappelijke opgaven met hun slug."),
    ("get", "/openapi.json"): ("getOpenApiDocument", "Naslag", "Dit OpenAPI-document."),
}
_TAGS = [
    {"name": "Initiatieven", "description": "Initiatieven van de provincies"},
    {"name": "Zoeken", "description": "Zoeken in de initiatieven"},
    {"name": "Matches", "description": "Matchvoorstellen tussen provincies"},
    {"name": "Samenwerkingen", "description": "Samenwerkingen na een geaccepteerde match"},
    {"name": "Naslag", "description": "Vaste lijsten en dit document"},
]
_VERSION_HEADER = {"$ref": "#/components/headers/API-Version"}
_HEADERS = {
    "API-Version": {
        "description": "De volledige versie van de API (ADR /core/version-header)",
        "schema": {"type": "string", "example": API_VERSION},
    }
}


def as_openapi_30(node: Any) -> Any:
    """A JSON Schema 2020-12 schema (as pydantic writes it) as an OpenAPI 3.0 schema object: a null
    option becomes ``nullable``, a type list one type, ``const`` an enum, ``examples`` one example,
    and a ``$ref`` with siblings an ``allOf``."""
    if isinstance(node, list):
        return [as_openapi_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key in {"properties", "$defs", "patternProperties"}:  # names, not schemas
            converted[key] = {name: as_openapi_30(schema) for name, schema in value.items()}
        else:
            converted[key] = as_openapi_30(value)
    for key in ("anyOf", "oneOf"):
        options = converted.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            del converted[key]
            if len(rest) == 1 and "$ref" not in rest[0]:
                converted = {**rest[0], **converted}
            elif len(rest) == 1:
                converted["allOf"] = rest
            else:
                converted[key] = rest
            converted["nullable"] = True
    if isinstance(converted.get("type"), list):
        listed = converted.pop("type")
        types = [t for t in listed if t != "null"]
        if len(types) < len(listed):
            converted["nullable"] = True
        if len(types) == 1:
            converted["type"] = types[0]
        else:
            converted["anyOf"] = [{"type": t} for t in types]
    if "$ref" in converted and len(converted) > 1:  # 3.0 ignores a $ref's siblings (a default, say)
        converted = {"allOf": [{"$ref": converted.pop("$ref")}], **converted}
    if "const" in converted:
        converted["enum"] = [converted.pop("const")]
    if "examples" in converted:
        converted["example"] = converted.pop("examples")[0]
    if converted.get("default", ...) is None:
        converted["nullable"] = True
    return converted


def _document_operations(paths: dict[str, Any]) -> None:
    """Every operation gets its id, tag and description, a 400 (ADR /core/error-handling/invalid-input),
    the 406 of `middleware.api_transport`, and the API-Version header on every 2xx response."""
    for path, operations in paths.items():
        for method, operation in operations.items():
            operation_id, tag, description = _OPERATIONS[(method, path)]
            operation.update(operationId=operation_id, tags=[tag], description=description)
            if path != "/openapi.json":
                operation["responses"].setdefault("400", _problem_response("Ongeldige parameters"))
            operation["responses"]["406"] = _problem_response("De Accept-header laat geen JSON toe")
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    response.setdefault("headers", {})["API-Version"] = _VERSION_HEADER


#: Who may call an operation: an API token, or the session cookie of a logged-in browser (changes then
#: also need the X-CSRF-Token header, double-submitted from the kb_csrf cookie).
SECURITY_SCHEMES = {
    "bearerToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "kb_…",
        "description": "Persoonlijk API-token (Authorization: Bearer kb_…), aan te maken op /account; het werkt "
        "30 dagen tot een jaar (401 daarna, met de datum in detail).",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "kb_session",
        "description": "De sessie van een ingelogde browser (__Host-kb_session onder https).",
    },
    "csrfHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "Bij een sessie: de waarde van de cookie kb_csrf, verplicht bij elke wijziging.",
    },
}
_READ_SECURITY: list[dict[str, list[str]]] = [{"bearerToken": []}, {"sessionCookie": []}]
_WRITE_SECURITY: list[dict[str, list[str]]] = [{"bearerToken": []}, {"sessionCookie": [], "csrfHeader": []}]


def _forbidden_response() -> dict[str, Any]:
    return {
        "description": "Geen toegang: deze rol of provincie mag dit niet (problem+json), of bij een sessie "
        "zonder geldige X-CSRF-Token een weigering als platte tekst",
        "content": {_PROBLEM: {"schema": _ref("Problem")}, "text/plain": {"schema": {"type": "string"}}},
    }


def _secure(paths: dict[str, Any]) -> None:
    """Every operation names its security and documents 401/403, and for a path id the 400 of a
    number that no id can be; changes that need a version document 428 and 412."""
    for path, operations in paths.items():
        if path == "/openapi.json":  # public: anyone may read how to call the API
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            writes = method in {"post", "patch", "put", "delete"}
            operation.setdefault("security", _WRITE_SECURITY if writes else _READ_SECURITY)
            responses.setdefault("401", _problem_response("Niet ingelogd: stuur een API-token of log in"))
            responses["403"] = _forbidden_response() | (
                {"description": responses["403"]["description"] + "; " + _forbidden_response()["description"]}
                if "403" in responses
                else {}
            )
            if "{" in path:
                responses.setdefault("400", _problem_response("Ongeldige invoer of een nummer buiten bereik"))
            if writes and "requestBody" in operation:
                responses.setdefault("400", _problem_response("Ongeldige invoer"))
                responses.setdefault("415", _problem_response("Geen application/json"))


def _collaboration_schemas() -> dict[str, Any]:
    stages, types = _values(CollaborationStage), _values(CollaborationType)
    nullable_date = {"type": ["string", "null"], "format": "date"}
    summary = {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "type": {"type": "string", "enum": types},
        "stage": {"type": "string", "enum": stages},
        "next_action": {"type": "string"},
        "next_action_due": nullable_date,
        "version": {"type": "integer"},
    }
    return {
        "CollaborationSummary": {
            "type": "object",
            "properties": {**summary, "provinces": {"type": "array", "items": {"type": "string"}}},
            "required": [*summary, "provinces"],
        },
        "CollaborationList": {
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "items": {"type": "array", "items": _ref("CollaborationSummary")},
            },
            "required": ["total", "items"],
        },
        "Collaboration": {
            "type": "object",
            "properties": {
                **summary,
                "stop_reason": {"type": "string"},
                "owner": {
                    "type": ["object", "null"],
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                },
                "initiatives": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "title": {"type": "string"},
                            "province": {"type": "string"},
                        },
                        "required": ["id", "title", "province"],
                    },
                },
                "created_at": {"type": "string", "format": "date-time"},
                "timeline": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "at": {"type": "string", "format": "date-time"},
                            "kind": {"type": "string"},
                            "by": {"type": ["string", "null"]},
                            "from_stage": {"type": ["string", "null"]},
                            "to_stage": {"type": ["string", "null"]},
                            "text": {"type": "string"},
                        },
                        "required": ["at", "kind", "text"],
                    },
                },
                "links": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"url": {"type": "string"}, "label": {"type": "string"}},
                        "required": ["url", "label"],
                    },
                },
            },
            "required": [*summary, "stop_reason", "owner", "initiatives", "timeline", "links"],
        },
        "CollaborationInput": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "initiatives": {
                    "type": "array",
                    "minItems": 2,
                    "items": _ID,
                    "description": "Gepubliceerde initiatieven van minstens twee provincies",
                },
                "type": {"type": "string", "enum": types},
                "title": {"type": "string", "maxLength": MAX_TITLE},
                "owner": {**_ID, "description": "Nummer van een IDA-coördinator; standaard de aanroeper"},
            },
            "required": ["initiatives", "type"],
        },
        "CollaborationStageChange": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "stage": {"type": "string", "enum": stages},
                "reason": {"type": "string", "maxLength": MAX_REASON, "description": "Verplicht bij gestopt"},
            },
            "required": ["stage"],
        },
        "CollaborationNote": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"note": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE}},
            "required": ["note"],
        },
        "CollaborationLinkInput": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "url": {
                    "type": "string",
                    "format": "uri",
                    "maxLength": MAX_URL,
                    "description": "Begint met http:// of https://",
                },
                "label": {
                    "type": "string",
                    "maxLength": MAX_LABEL,
                    "description": "Omschrijving; standaard de link zelf",
                },
            },
            "required": ["url"],
        },
        "CollaborationLinkList": {
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "url": {"type": "string"},
                            "label": {"type": "string"},
                            "added_at": {"type": "string", "format": "date-time"},
                            "added_by": {"type": ["string", "null"]},
                        },
                        "required": ["url", "label", "added_at", "added_by"],
                    },
                },
            },
            "required": ["total", "items"],
        },
        "CollaborationNextAction": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "next_action": {
                    "type": "string",
                    "maxLength": MAX_ACTION,
                    "description": "Leeg wist de volgende actie",
                },
                "due": {**nullable_date, "description": "Uiterste datum; alleen met een actie"},
            },
            "required": ["next_action"],
        },
        "CollaborationOwner": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"owner": {**_ID, "description": "Nummer van een actieve IDA-coördinator"}},
            "required": ["owner"],
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    input_schema = InitiativeInput.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = input_schema.pop("$defs", {})
    patch_schema = {
        **{k: v for k, v in input_schema.items() if k != "required"},
        "title": "InitiativePatch",
        "description": "Any subset of the initiative's fields; the rest keeps its value.",
    }
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
    collaboration_id_param = {"name": "collaboration_id", "in": "path", "required": True, "schema": _ID}
    match_id_param = {"name": "match_id", "in": "path", "required": True, "schema": _ID}
    if_match = {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "description": 'De versie als ETag van GET, bijvoorbeeld "3". Zonder: 428; verouderd of ongeldig '
        '(ook W/"3"): 412.',
        "schema": {"type": "string", "pattern": '^"[0-9]{1,18}"$'},
    }
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "Kennisbank API",
            "version": API_VERSION,
            "contact": CONTACT,
            "description": "Initiatieven van de twaalf provincies. Fouten volgen RFC 9457 (problem+json). "
            "Volgt de API Design Rules 2.1.0 van Logius (en 2.2.0-rc.1).",
        },
        "servers": [{"url": SERVER_URL, "description": "Deze installatie"}],
        "tags": _TAGS,
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "Het OpenAPI-document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Dit document",
                            "headers": {
                                "access-control-allow-origin": {  # the ADR 2.1 rule reads this spelling
                                    "description": "Altijd *: iedereen mag het document lezen (ADR /core/publish-openapi)",
                                    "schema": {"type": "string", "enum": ["*"]},
                                }
                            },
                            "content": {_JSON: {"schema": {"type": "object"}}},
                        }
                    },
                },
            },
            "/initiatives": {
                "get": {
                    "summary": "Initiatieven zoeken op filters",
                    "parameters": [
                        _filter_param("province", "ISO-code of naam; herhaal voor meer provincies", _PROVINCE_VALUES),
                        _filter_param("kind", "Soort initiatief", _values(Kind)),
                        _filter_param("theme", "Themanaam of slug", _THEME_VALUES),
                        _filter_param("phase", "Fase", _values(Phase)),
                        _filter_param("status", "Standaard gepubliceerd", _values(Status)),
                        _PAGE,
                        _PER_PAGE,
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
            "/initiatives/{initiative_id}": {
                "get": {
                    "summary": "Eén initiatief",
                    "parameters": [id_param],
                    "responses": {
                        "200": _json_response("Het initiatief", _ref("Initiative")),
                        "404": _problem_response("Niet gevonden"),
                    },
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
            "/initiatives/{initiative_id}/archive": {
                "post": {
                    "summary": "Initiatief archiveren (in plaats van verwijderen)",
                    "parameters": [id_param, if_match],
                    "responses": {
                        "200": _json_response("Gearchiveerd", _ref("Initiative")),
                        "404": _problem_response("Niet gevonden"),
                        "412": _problem_response(VERSION_STALE),
                        "428": _problem_response(VERSION_MISSING),
                    },
                },
            },
            "/search": {
                "get": {
                    "summary": "Zoeken: trefwoorden met Nederlandse taalkennis, filters, facetten en markeringen",
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH}},
                        _filter_param("province", "ISO-code of naam", _PROVINCE_VALUES),
                        _filter_param("theme", "Themanaam of slug", _THEME_VALUES),
                        _filter_param("kind", "Soort initiatief", _values(Kind)),
                        _filter_param("phase", "Fase", _values(Phase)),
                        _filter_param("programmeLine", "IDA-programmalijn", _values(ProgrammeLine)),
                        _filter_param("year", "Startjaar (JJJJ)"),
                        _filter_param("status", "Standaard gepubliceerd", _values(Status)),
                        {
                            "name": "sort",
                            "in": "query",
                            "description": "Volgorde: relevantie of datum",
                            "schema": {"type": "string", "enum": ["relevance", "date"], "default": "relevance"},
                        },
                        {**_PAGE, "schema": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1}},
                        _PER_PAGE,
                    ],
                    "responses": {
                        "200": _json_response("Resultaten met facetten", _ref("SearchResult")),
                        "400": _problem_response("Ongeldige zoekopdracht"),
                        "503": _problem_response("De zoekserver is tijdelijk niet bereikbaar"),
                    },
                },
            },
            "/matches": {
                "get": {
                    "summary": "Matchvoorstellen tussen provincies, sterkste eerst (alleen IDA-coördinatoren)",
                    "parameters": [
                        _filter_param("status", "Standaard voorgesteld", _values(MatchStatus)),
                        _filter_param("type", "Soort samenwerking", _MATCH_TYPES),
                        _filter_param(
                            "province", "ISO-code of naam: matches waarin deze provincie voorkomt", _PROVINCE_VALUES
                        ),
                        _filter_param("theme", "Themanaam of slug", _THEME_VALUES),
                        {
                            "name": "minScore",
                            "in": "query",
                            "description": "Minimale score, van 0 tot en met 1",
                            "schema": {"type": "number", "minimum": 0, "maximum": 1},
                        },
                        _PAGE,
                        _PER_PAGE,
                    ],
                    "responses": {
                        "200": _json_response("Eén pagina matches", _ref("MatchPage")),
                        "400": _problem_response("Ongeldige parameters"),
                        "403": _problem_response("Geen IDA-coördinator"),
                    },
                },
            },
            "/matches/{match_id}": {
                "get": {
                    "summary": "Eén match",
                    "parameters": [match_id_param],
                    "responses": {
                        "200": _json_response("De match", _ref("Match")),
                        "403": _problem_response("Geen IDA-coördinator"),
                        "404": _problem_response("Niet gevonden"),
                    },
                },
            },
            "/matches/{match_id}/decision": {
                "post": {
                    "summary": "Een match beoordelen: accepteren, afwijzen, aanhouden of terug naar voorgesteld",
                    "parameters": [
                        match_id_param,
                        {
                            **if_match,
                            "required": False,
                            "description": 'De versie als ETag van GET, bijvoorbeeld "2": de beoordeling gaat '
                            "alleen door als niemand de status intussen veranderde (anders 412).",
                        },
                    ],
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("MatchDecision")}}},
                    "responses": {
                        "200": _json_response("De beoordeelde match", _ref("Match")),
                        "400": _problem_response("Ongeldige invoer, met fouten per veld"),
                        "403": _problem_response("Geen IDA-coördinator"),
                        "404": _problem_response("Niet gevonden"),
                        "412": _problem_response(VERSION_STALE),
                    },
                },
            },
            "/collaborations": {
                "get": {
                    "summary": "Samenwerkingen (IDA-coördinatoren: alle; medewerkers: die van hun provincie)",
                    "parameters": [
                        _filter_param("type", "Soort samenwerking", _values(CollaborationType)),
                        _filter_param("stage", "Fase", _values(CollaborationStage)),
                        _filter_param(
                            "province",
                            "ISO-code of naam: samenwerkingen waarin deze provincie meedoet",
                            _PROVINCE_VALUES,
                        ),
                        _filter_param("theme", "Themanaam of slug", _THEME_VALUES),
                        {
                            "name": "owner",
                            "in": "query",
                            "description": "Nummer van de eigenaar (een coördinator)",
                            "schema": _ID,
                        },
                        {
                            "name": "overdue",
                            "in": "query",
                            "description": "1: alleen met een te late volgende actie",
                            "schema": {"type": "string", "enum": ["0", "1"]},
                        },
                    ],
                    "responses": {
                        "200": _json_response("De samenwerkingen", _ref("CollaborationList")),
                        "400": _problem_response("Ongeldige parameters"),
                    },
                },
                "post": {
                    "summary": "Samenwerking starten (alleen IDA-coördinatoren)",
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("CollaborationInput")}}},
                    "responses": {
                        "201": _json_response("Gestart", _ref("Collaboration")),
                        "400": _problem_response("Ongeldige invoer, met fouten per veld"),
                        "403": _problem_response("Geen IDA-coördinator"),
                    },
                },
            },
            "/collaborations/{collaboration_id}": {
                "get": {
                    "summary": "Eén samenwerking",
                    "parameters": [collaboration_id_param],
                    "responses": {
                        "200": _json_response("De samenwerking", _ref("Collaboration")),
                        "403": _problem_response("Geen deelnemer of IDA-coördinator"),
                        "404": _problem_response("Niet gevonden"),
                    },
                },
            },
            "/collaborations/{collaboration_id}/stage": {
                "post": {
                    "summary": "Fase wijzigen (alleen IDA-coördinatoren); stoppen vraagt een reden",
                    "parameters": [collaboration_id_param, if_match],
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("CollaborationStageChange")}}},
                    "responses": {
                        "200": _json_response("De samenwerking in haar nieuwe fase", _ref("Collaboration")),
                        "400": _problem_response("Ongeldige invoer, met fouten per veld"),
                        "403": _problem_response("Geen IDA-coördinator"),
                        "404": _problem_response("Niet gevonden"),
                        "412": _problem_response(VERSION_STALE),
                        "428": _problem_response(VERSION_MISSING),
                    },
                },
            },
            "/collaborations/{collaboration_id}/notes": {
                "post": {
                    "summary": "Notitie toevoegen (coördinatoren en medewerkers van een deelnemende provincie)",
                    "parameters": [collaboration_id_param],
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("CollaborationNote")}}},
                    "responses": {
                        "201": _json_response("De samenwerking met de notitie", _ref("Collaboration")),
                        "400": _problem_response("Ongeldige invoer, met fouten per veld"),
                        "403": _problem_response("Geen deelnemer of IDA-coördinator"),
                        "404": _problem_response("Niet gevonden"),
                    },
                },
            },
            "/collaborations/{collaboration_id}/links": {
                "get": {
                    "summary": "Links van een samenwerking (coördinatoren en medewerkers van een deelnemende provincie)",
                    "parameters": [collaboration_id_param],
                    "responses": {
                        "200": _json_response("De links", _ref("CollaborationLinkList")),
                        "403": _problem_response("Geen deelnemer of IDA-coördinator"),
                        "404": _problem_response("Niet gevonden"),
                    },
                },
                "post": {
                    "summary": "Link toevoegen (coördinatoren en medewerkers van een deelnemende provincie)",
                    "parameters": [collaboration_id_param],
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("CollaborationLinkInput")}}},
                    "responses": {
                        "201": _json_response("De samenwerking met de link", _ref("Collaboration")),
                        "400": _problem_response("Ongeldige invoer, met fouten per veld"),
                        "403": _problem_response("Geen deelnemer of IDA-coördinator"),
                        "404": _problem_response("Niet gevonden"),
                    },
                },
            },
            "/collaborations/{collaboration_id}/next-action": {
                "post": {
                    "summary": "Volgende actie met uiterste datum (alleen IDA-coördinatoren)",
                    "parameters": [collaboration_id_param, if_match],
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("CollaborationNextAction")}}},
                    "responses": {
                        "200": _json_response("De samenwerking met haar volgende actie", _ref("Collaboration")),
                        "400": _problem_response("Ongeldige invoer, met fouten per veld"),
                        "403": _problem_response("Geen IDA-coördinator"),
                        "404": _problem_response("Niet gevonden"),
                        "412": _problem_response(VERSION_STALE),
                        "428": _problem_response(VERSION_MISSING),
                    },
                },
            },
            "/collaborations/{collaboration_id}/owner": {
                "post": {
                    "summary": "Eigenaar wijzigen (alleen IDA-coördinatoren)",
                    "parameters": [collaboration_id_param, if_match],
                    "requestBody": {"required": True, "content": {_JSON: {"schema": _ref("CollaborationOwner")}}},
                    "responses": {
                        "200": _json_response("De samenwerking met haar nieuwe eigenaar", _ref("Collaboration")),
                        "400": _problem_response("Ongeldige invoer, met fouten per veld"),
                        "403": _problem_response("Geen IDA-coördinator"),
                        "404": _problem_response("Niet gevonden"),
                        "412": _problem_response(VERSION_STALE),
                        "428": _problem_response(VERSION_MISSING),
                    },
                },
            },
            "/provinces": {
                "get": {
                    "summary": "De twaalf provincies",
                    "responses": {"200": _json_response("Provincies", _ref("ProvinceList"))},
                }
            },
            "/themes": {
                "get": {
                    "summary": "Maatschappelijke opgaven",
                    "responses": {"200": _json_response("Thema's", _ref("ThemeList"))},
                }
            },
        },
        "components": {
            "schemas": {
                **definitions,
                "InitiativeInput": input_schema,
                "InitiativePatch": patch_schema,
                "Initiative": resource_schema,
                "InitiativePage": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                        "items": {"type": "array", "items": _ref("Initiative")},
                    },
                    "required": ["total", "page", "per_page", "items"],
                },
                "SearchResult": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                        "took_ms": {"type": "number"},
                        "hits": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    **_SEARCH_REFERENCE,
                                    "score": {"type": "number"},
                                    "highlight": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                        "description": "HTML: escaped text with <mark> around matches",
                                    },
                                },
                                "required": ["id", "external_id", "province", "title", "kind", "score", "highlight"],
                            },
                        },
                        "facets": {
                            "type": "object",
                            "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}},
                        },
                        "related": {
                            "type": "array",
                            "description": (
                                "Misschien verwant: only when nothing was found, up to three initiatives close in "
                                "meaning to a query that did not show enough to count as hits. Not results: "
                                "counted in no total or facet."
                            ),
                            "items": {
                                "type": "object",
                                "properties": _SEARCH_REFERENCE,
                                "required": ["id", "external_id", "province", "title", "kind"],
                            },
                        },
                    },
                    "required": ["total", "hits", "facets", "took_ms", "related"],
                },
                "MatchSide": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "external_id": {"type": "string"},
                        "province": {"type": "string"},
                        "province_name": {"type": "string"},
                        "title": {"type": "string"},
                    },
                    "required": ["id", "external_id", "province", "title"],
                },
                "Match": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "a": _ref("MatchSide"),
                        "b": _ref("MatchSide"),
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "type": {"type": "string", "enum": _MATCH_TYPES},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                        "shared_terms": {"type": "array", "items": {"type": "string"}},
                        "status": {"enum": _values(MatchStatus)},
                        "note": {"type": "string"},
                        "features": {"type": "object", "additionalProperties": {"type": "number"}},
                        "decided_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                    "required": ["id", "a", "b", "score", "type", "reasons", "status"],
                },
                "MatchPage": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                        "items": {"type": "array", "items": _ref("Match")},
                    },
                    "required": ["total", "page", "per_page", "items"],
                },
                "MatchDecision": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "status": {"enum": _values(MatchStatus)},
                        "note": {"type": "string", "maxLength": MAX_NOTE_LENGTH},
                    },
                    "required": ["status"],
                },
                **_collaboration_schemas(),
                "ProvinceList": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                                "required": ["code", "name"],
                            },
                        }
                    },
                },
                "ThemeList": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
                                "required": ["slug", "name"],
                            },
                        }
                    },
                },
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "field": {"type": ["string", "null"]},
                                    "messages": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                    },
                    "required": ["title", "status", "detail"],
                },
            },
            "headers": _HEADERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
        "security": _READ_SECURITY,
    }
    _secure(document["paths"])
    _document_operations(document["paths"])
    document["components"]["schemas"] = as_openapi_30(document["components"]["schemas"])
    return document
