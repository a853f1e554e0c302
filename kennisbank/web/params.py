"""Reading request parameters, in one place and with bounds.

Every number a client sends (query parameters, path ids, the ``If-Match`` version, the version in
an edit form) is parsed here. ``str.isdigit`` is not enough: it accepts ``²`` and ``①``, which
``int`` refuses, and an id or version beyond the column overflows the database driver (SQLite at
2^63, PostgreSQL's ``integer`` columns already at 2^31). A bad value raises
`BadRequest`, which the app answers with 400: problem+json on the API, a Dutch error page otherwise.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response

from ..errors import InvalidInput, PreconditionFailed, PreconditionRequired
from ..initiatives.filters import range_message, whole_number
from .problems import problem

#: The largest id or version the database holds: the columns are ``integer`` (32-bit signed on
#: PostgreSQL; schemathesis found 2^31 overflowing asyncpg).
MAX_ID = 2**31 - 1
#: Longest JSON nesting a request body may have (an initiative is two levels deep).
MAX_JSON_DEPTH = 32


class BadRequest(InvalidInput):
    """A parameter is missing its shape or bounds. ``errors`` maps a parameter name to Dutch messages."""

    title = "Ongeldige parameters"
    default_detail = "Een of meer parameters zijn ongeldig."

    def __init__(self, errors: dict[str, list[str]], title: str | None = None) -> None:
        message = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        super().__init__(message, errors=errors, title=title)


def multi_params(request: Request) -> dict[str, list[str]]:
    """Query parameters as the services read them: every name with all of its values."""
    return {key: request.query_params.getlist(key) for key in request.query_params}


#: Query keys of the JSON API in camelCase (ADR /core/query-keys-camel-case), and the name the shared
#: parsers (which the HTML pages use with their own, unchanged keys) know each one by.
API_QUERY_KEYS = {"perPage": "per_page", "programmeLine": "programme_line", "minScore": "min_score"}
_INTERNAL_KEYS = {internal: key for key, internal in API_QUERY_KEYS.items()}


def api_params(request: Request) -> dict[str, list[str]]:
    """The API's query parameters under the names the shared parsers read: ``perPage`` becomes
    ``per_page``; a ``per_page`` sent as such is not an API key and is dropped like any unknown key."""
    params = multi_params(request)
    return {API_QUERY_KEYS.get(key, key): values for key, values in params.items() if key not in _INTERNAL_KEYS}


def api_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors keyed by the parsers' names, renamed to the query keys the API client sent."""
    return {_INTERNAL_KEYS.get(name, name): messages for name, messages in errors.items()}


def int_param(
    request: Request, name: str, default: int, low: int, high: int, errors: dict[str, list[str]]
) -> tuple[int, dict[str, list[str]]]:
    """An optional whole-number query parameter; a bad value adds a Dutch message to `errors`."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return default, errors
    value = whole_number(text, low, high)
    if value is None:
        return default, {**errors, name: [range_message(low, high)]}
    return value, errors


def check_numbers(params: dict[str, list[str]], bounds: dict[str, tuple[int, int]]) -> dict[str, list[str]]:
    """Dutch messages for the parameters in `bounds` whose first value is not a whole number in range
    (checked before parameters go on to code that would call ``int`` on them)."""
    errors: dict[str, list[str]] = {}
    for name, (low, high) in bounds.items():
        values = params.get(name)
        if values and values[0] and whole_number(values[0], low, high) is None:
            errors[name] = [range_message(low, high)]
    return errors


def page_param(request: Request, name: str = "pagina", high: int = 1_000_000) -> int:
    """The page number of an HTML listing (1 when absent); BadRequest when it is no number in range."""
    number, errors = int_param(request, name, 1, 1, high, {})
    if errors:
        raise BadRequest(errors)
    return number


class VersionMissing(PreconditionRequired):
    """A change without ``If-Match``: 428 Precondition Required."""


class VersionMalformed(PreconditionFailed):
    """An ``If-Match`` that names no current version of ours (weak, not a number, a list): 412."""


def if_match_version(
    request: Request, missing: VersionMissing | None = None, malformed: VersionMalformed | None = None
) -> int:
    """The version in ``If-Match: "<version>"``, as the ETag of GET gave it.

    Raises VersionMissing (or `missing`, which words it for the resource) without the header, and
    VersionMalformed (or `malformed`) for a weak tag (``W/"1"``, never a strong match), ``*``, a
    list or anything but a quoted whole number."""
    header = request.headers.get("if-match")
    if header is None or not header.strip():
        raise missing or VersionMissing()
    match = re.fullmatch(r'\s*"([0-9]{1,18})"\s*', header)
    if match is None or int(match.group(1)) > MAX_ID:
        raise malformed or VersionMalformed()
    return int(match.group(1))


def form_version(value: Any) -> int | None:
    """The version an edit form carries (None when the form has none); BadRequest when malformed."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    version = whole_number(text, 1, MAX_ID)
    if version is None:
        raise BadRequest({"version": ["De versie van het formulier is ongeldig. Open het formulier opnieuw."]})
    return version


class _NotANumber(ValueError):
    """NaN, Infinity, or a number too large for a float: Python's reader takes them, JSON has none."""


def _not_json(name: str) -> Any:
    raise _NotANumber(f"geen geldige JSON ({name} is geen JSON-getal)")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotANumber(f"een getal in de JSON is te groot ({text[:20]})")
    return value


def parse_json(raw: bytes) -> Any:
    """A request body as JSON; ValueError with a Dutch reason for invalid JSON, JSON nested deeper
    than `MAX_JSON_DEPTH`, or a number too long to read (more than 4,300 digits)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("de inhoud is geen UTF-8") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise ValueError(f"de JSON is dieper genest dan {MAX_JSON_DEPTH} niveaus")
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except _NotANumber as exc:
        raise ValueError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"geen geldige JSON ({exc.msg}, regel {exc.lineno}, kolom {exc.colno})") from None
    except RecursionError:
        raise ValueError("de JSON is te diep genest") from None
    except ValueError:  # int() refuses more than 4,300 digits
        raise ValueError("een getal in de JSON is te lang") from None


def _depth(text: str) -> int:
    """Deepest nesting of [ and { outside strings (a cheap scan before the parser recurses)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


class IdConvertor(Convertor[int]):
    """``{name:int}`` in every route: a database id, so at most `MAX_ID`. A larger number is a
    BadRequest (400) instead of an OverflowError deep in the database driver (500)."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        number = whole_number(value, 0, MAX_ID)
        if number is None:
            raise BadRequest({"id": [f"Een nummer is een heel getal van 0 tot en met {MAX_ID}."]})
        return number

    def to_string(self, value: int) -> str:
        value = int(value)
        assert 0 <= value <= MAX_ID, "an id is not negative and fits its column"
        return str(value)


def install_id_convertor() -> None:
    """Make ``:int`` in route paths mean `IdConvertor`; must run before the route modules are imported."""
    register_url_convertor("int", IdConvertor())


MAX_PER_PAGE = 100


#: Whole-number parameters of a search, checked before searching.parse_query reads them.
SEARCH_NUMBERS = {"page": (1, 10_000), "pagina": (1, 10_000), "per_page": (1, MAX_PER_PAGE)}


async def json_object(request: Request) -> dict[str, Any] | Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return problem(415, "Verkeerd inhoudstype", "Stuur de gegevens als application/json.")
    try:
        body = parse_json(await request.body())
    except ValueError as exc:
        return problem(400, "Ongeldige JSON", f"De inhoud is geen geldige JSON: {exc}.")
    if not isinstance(body, dict):
        return problem(400, "Ongeldige JSON", "Verwacht een JSON-object met de velden van een initiatief.")
    return body
