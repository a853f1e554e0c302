"""What an initiative must look like, checked in one place for the web forms, the API and imports.

The pydantic model is also the source of the OpenAPI schema, so the documented contract and the
accepted input cannot drift apart. Errors come out as Dutch messages keyed by field name.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from ..errors import InvalidInput
from ..taxonomy import CHOICE_LABELS, THEMES, Kind, Phase, ProgrammeLine, Status, find_province, find_theme
from .fields import FieldSpec, InitiativeField, declared_fields
from .fields import Widget as W

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]{2,}$")
_TAG_MAX = 60
_TAGS_MAX = 20


#: A whole amount in euros as typed: digits, or Dutch thousands groups ("250.000", never "250.5").
_EUROS = re.compile(r"-?(?:[0-9]{1,18}|[0-9]{1,3}(?:\.[0-9]{3}){1,5})")


def _error(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _clean_tags(values: list[str], *, lower: bool) -> list[str]:
    """Trim, collapse whitespace and drop case-insensitive duplicates, keeping the first spelling."""
    seen: set[str] = set()
    cleaned: list[str] = []
    for value in values:
        tag = re.sub(r"\s+", " ", str(value)).strip()
        if not tag:
            continue
        if len(tag) > _TAG_MAX:
            raise _error("tag_too_long", f"“{tag[:20]}…” is te lang (maximaal {_TAG_MAX} tekens per label).")
        tag = tag.lower() if lower else tag
        if tag.casefold() in seen:
            continue
        seen.add(tag.casefold())
        cleaned.append(tag)
    if len(cleaned) > _TAGS_MAX:
        raise _error("too_many_tags", f"Maximaal {_TAGS_MAX} labels.")
    return cleaned


Text = Annotated[str, Field(max_length=20_000)]
#: The years an initiative's dates may fall in (first and last, inclusive).
PLAUSIBLE_YEARS = (1950, 2100)
_DATE_HINT = "Kies een datum of typ die in zoals het veld aangeeft."


def _without_invisible_ends(value: str) -> str:
    """`value` without the invisible format characters (zero-width spaces, a byte-order mark) at its
    ends, and "" when nothing visible is left: a title of four zero-width spaces was accepted, a card
    link with nothing to read. Within a text they stay (an emoji sequence joins with one)."""
    start, end = 0, len(value)
    while start < end and unicodedata.category(value[start]) == "Cf":
        start += 1
    while end > start and unicodedata.category(value[end - 1]) == "Cf":
        end -= 1
    if all(char.isspace() or unicodedata.category(char) == "Cf" for char in value[start:end]):
        return ""
    return value[start:end]


#: Characters that turn the reading direction of what follows (embeddings, overrides, isolates): in a
#: title they make a text read differently from how it is stored ("Trojan source").
_DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """A Dutch description of the first character no text may hold, or None.

    Control characters (C0, DEL, C1; tab and line feed only in texts of several lines), lone
    surrogates and the non-characters U+FFFE/U+FFFF: they cannot be stored as UTF-8, break XML (the
    Atom feeds) or hide text."""
    for char in value:
        if multiline and char in "\t\n":
            continue
        if char in _DIRECTION_CONTROLS:
            return (
                f"Bevat een niet-toegestaan teken (U+{ord(char):04X}, een teken dat de leesrichting omdraait). "
                "Verwijder het en probeer het opnieuw."
            )
        category = unicodedata.category(char)
        if category == "Cc" or category == "Cs" or char in "\ufffe\uffff":
            what = (
                "een ongeldig half teken (surrogaat)"
                if category == "Cs"
                else "een stuurteken"
                if category == "Cc"
                else "geen geldig teken"
            )
            return f"Bevat een niet-toegestaan teken (U+{ord(char):04X}, {what}). Verwijder het en probeer het opnieuw."
    return None


def check_text(value: str, *, multiline: bool = False) -> str:
    """`value`, or PydanticCustomError when it holds a `forbidden_character`."""
    problem = forbidden_character(value, multiline=multiline)
    if problem:
        raise _error("invalid_character", problem)
    return value


class InitiativeInput(BaseModel):
    """A complete initiative as submitted by a person or a file: the one declaration of its fields
    (type, limits, and as `FieldSpec` its label, form widget and roles; see `kennisbank.initiatives.fields`).
    The order is the form's; the export's columns and the API's representation follow it."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    kind: Annotated[Kind, FieldSpec("Soort", W.SELECT, "wat", options="kind_labels", material=True)]
    title: Annotated[
        str,
        Field(min_length=3, max_length=200),
        FieldSpec(
            "Titel",
            W.TEXT,
            "wat",
            hint="Kort en specifiek, bijvoorbeeld ‘Wegdekinspectie met camera’s op provinciale wegen’.",
            material=True,
        ),
    ]
    summary: Annotated[
        str,
        Field(min_length=10, max_length=1000),
        FieldSpec(
            "Samenvatting",
            W.TEXTAREA,
            "wat",
            hint="Eén tot drie zinnen: welk probleem, welke aanpak.",
            rows=3,
            material=True,
        ),
    ]
    description: Annotated[
        Text,
        FieldSpec(
            "Beschrijving",
            W.TEXTAREA,
            "wat",
            hint="Aanleiding, aanpak en stand van zaken. U kunt Markdown gebruiken.",
            rows=8,
            material=True,
            in_body=True,
        ),
    ] = ""
    province: Annotated[
        str,
        Field(description="ISO 3166-2 code (NL-GE) or name (Gelderland, Fryslân, Friesland)."),
        FieldSpec("Provincie", W.SELECT, "waar", options="province_options"),
    ]
    phase: Annotated[Phase, FieldSpec("Fase", W.SELECT, "waar", options="phase_labels", material=True)]
    programme_line: Annotated[
        ProgrammeLine | None,
        FieldSpec(
            "IDA-programmalijn",
            W.SELECT,
            "waar",
            options="programme_line_labels",
            empty_option="Geen",
            material=True,
        ),
    ] = None
    start_date: Annotated[date | None, FieldSpec("Startdatum", W.DATE, "waar", hint=_DATE_HINT)] = None
    end_date: Annotated[date | None, FieldSpec("Einddatum", W.DATE, "waar", hint=_DATE_HINT)] = None
    budget_eur: Annotated[
        int | None,
        Field(ge=0, le=10_000_000_000),
        FieldSpec(
            "Budget",
            W.NUMBER,
            "waar",
            form_label="Budget in euro",
            hint="Een heel getal, bijvoorbeeld 250000 of 250.000.",
        ),
    ] = None
    external_id: Annotated[
        str,
        Field(
            max_length=64,
            description="The id in the province's own portfolio; unique per province. Generated when empty.",
        ),
        FieldSpec(
            "Kenmerk",
            W.TEXT,
            "waar",
            form_label="Kenmerk in het portfolio van uw provincie",
            hint="Laat leeg als er geen is; dan maken wij er een.",
        ),
    ] = ""
    themes: Annotated[
        list[str],
        Field(min_length=1, description="Theme names or slugs from /api/v1/themes."),
        FieldSpec("Thema's", W.THEMES, "themas", options="theme_options", material=True),
    ]
    technologies: Annotated[
        list[str],
        Field(default_factory=list, max_length=50),
        FieldSpec(
            "Technologieën",
            W.TAGS,
            "markt",
            hint="Gescheiden door puntkomma’s, bijvoorbeeld: computer vision; iot-sensoren",
            material=True,
        ),
    ]
    suppliers: Annotated[
        list[str],
        Field(default_factory=list, max_length=50),
        FieldSpec("Leveranciers", W.TAGS, "markt", hint="Gescheiden door puntkomma’s.", material=True),
    ]
    partners: Annotated[
        list[str],
        Field(default_factory=list, max_length=50),
        FieldSpec(
            "Samenwerkingspartners",
            W.TAGS,
            "markt",
            hint="Organisaties waarmee u samenwerkt, gescheiden door puntkomma’s, bijvoorbeeld: Rijkswaterstaat; "
            "Waterschap Rijn en IJssel",
            material=True,
            in_body=True,
        ),
    ]
    links: Annotated[
        list[str],
        Field(default_factory=list, max_length=10),
        FieldSpec("Links", W.LINES, "markt", hint="Eén link per regel, beginnend met https://", rows=3),
    ]
    results: Annotated[Text, FieldSpec("Resultaten", W.TEXTAREA, "resultaten", rows=4, material=True, in_body=True)] = (
        ""
    )
    lessons_learned: Annotated[
        Text, FieldSpec("Geleerde lessen", W.TEXTAREA, "resultaten", rows=4, material=True, in_body=True)
    ] = ""
    seeks_partners: Annotated[
        bool,
        FieldSpec(
            "Zoekt partners",
            W.CHECKBOX,
            "portfolio",
            form_label="Wij zoeken andere provincies om mee samen te werken of in te kopen",
            material=True,
        ),
    ] = False
    tender_date: Annotated[
        date | None,
        FieldSpec(
            "Geplande aanbesteding",
            W.DATE,
            "portfolio",
            hint="Bij benadering. Kies een datum of typ die in zoals het veld aangeeft.",
            material=True,
        ),
    ] = None
    contact_name: Annotated[
        str,
        Field(max_length=120),
        FieldSpec("Contactpersoon", W.TEXT, "contact", form_label="Contactpersoon of team", autocomplete="name"),
    ] = ""
    contact_email: Annotated[
        str,
        Field(max_length=254),
        FieldSpec("E-mailadres contactpersoon", W.EMAIL, "contact", form_label="E-mailadres", autocomplete="email"),
    ] = ""
    status: Annotated[
        Status, FieldSpec("Status", W.SELECT, "contact", options="status_labels", required_on_form=True)
    ] = Status.GEPUBLICEERD

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        field = FIELDS_BY_NAME[info.field_name or ""]
        if isinstance(value, str):
            value = _without_invisible_ends(value)
        if field.multiline and isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n")  # one kind of line break
        return field.empty_value(value)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        multiline = FIELDS_BY_NAME[info.field_name or ""].multiline
        if isinstance(value, str):
            check_text(value, multiline=multiline)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    check_text(item)
        return value

    @field_validator("kind", "phase", "programme_line", "status", mode="before")
    @classmethod
    def _choice_as_written(cls, value: Any, info: ValidationInfo) -> Any:
        """A choice by its code in any case ("Pilot", "best practice") or by its Dutch label ("Goed
        voorbeeld"): how a spreadsheet's cell says it. Anything else is left to the enum's own error."""
        choice = _CHOICES.get(info.field_name or "")
        if choice is None or not isinstance(value, str):
            return value
        written = " ".join(value.casefold().replace("_", " ").replace("-", " ").split())
        for code, label in CHOICE_LABELS[choice].items():
            if written in (code.replace("_", " "), " ".join(label.casefold().split())):
                return code
        return value

    @field_validator("budget_eur", mode="before")
    @classmethod
    def _whole_euros(cls, value: Any) -> Any:
        """A typed amount: digits, or digits in groups of three with Dutch thousands dots ("250.000").
        Pydantic's own reading of a string took "250.000" for 250.0, so 250 euros, and let "+100" and
        "1_000_000" through."""
        if not isinstance(value, str) or not value.strip():
            return value
        text = value.strip()
        if _EUROS.fullmatch(text):
            return int(text.replace(".", ""))
        if text.isascii() and text.lstrip("-").isdigit():
            return text  # too many digits: pydantic's "too large"
        raise _error(
            "budget_parsing", "Vul een heel getal in euro in, zoals 250000 of 250.000 (zonder euroteken of decimalen)."
        )

    @field_validator("province")
    @classmethod
    def _known_province(cls, value: str) -> str:
        if not value.strip():  # a list left at its empty choice: missing, not an unknown name
            raise _error("missing", "")
        province = find_province(value)
        if province is None:
            raise _error(
                "unknown_province",
                f"Onbekende provincie “{value}”. Gebruik een naam of ISO-code, zoals Gelderland of NL-GE.",
            )
        return province.code

    @field_validator("themes")
    @classmethod
    def _known_themes(cls, values: list[str]) -> list[str]:
        slugs: list[str] = []
        unknown: list[str] = []
        for value in values:
            theme = find_theme(value)
            if theme is None:
                unknown.append(value)
            elif theme.slug not in slugs:
                slugs.append(theme.slug)
        if unknown:
            names = ", ".join(f"“{u}”" for u in unknown)
            known = ", ".join(theme.name for theme in THEMES)
            raise _error("unknown_theme", f"Onbekend thema: {names}. Kies uit: {known}.")
        return sorted(slugs)

    @field_validator("technologies")
    @classmethod
    def _clean_technologies(cls, values: list[str]) -> list[str]:
        return _clean_tags(values, lower=True)

    @field_validator("suppliers", "partners")
    @classmethod
    def _clean_names(cls, values: list[str]) -> list[str]:
        return _clean_tags(values, lower=False)

    @field_validator("contact_email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        if value and not _EMAIL.match(value):
            raise _error("invalid_email", "Geen geldig e-mailadres (bijvoorbeeld naam@provincie.nl).")
        return value.lower()

    @field_validator("links")
    @classmethod
    def _http_links(cls, values: list[str]) -> list[str]:
        links = [v.strip() for v in values if v and v.strip()]
        for link in links:
            if not re.match(r"^https?://[^\s/$.?#][^\s<>\"]*$", link, flags=re.IGNORECASE):
                raise _error(
                    "invalid_link", f"“{link[:60]}” is geen geldige link; alleen http:// en https:// zijn toegestaan."
                )
        return links

    @field_validator("external_id")
    @classmethod
    def _external_id_chars(cls, value: str) -> str:
        if value and not re.fullmatch(r"[\w.\-/:]+", value):
            raise _error("invalid_external_id", "Een kenmerk bevat alleen letters, cijfers en . - _ / :")
        return value

    @field_validator("start_date", "end_date", "tender_date")
    @classmethod
    def _plausible_year(cls, value: date | None) -> date | None:
        """A year outside `PLAUSIBLE_YEARS` is a typing slip ("0202" for 2020, "2205"), not a plan."""
        if value is not None and not PLAUSIBLE_YEARS[0] <= value.year <= PLAUSIBLE_YEARS[1]:
            first, last = PLAUSIBLE_YEARS
            raise _error(
                "invalid_year",
                f"Het jaartal {value.year} lijkt niet te kloppen; kies een datum tussen {first} en {last}.",
            )
        return value

    @field_validator("end_date")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value and start and value < start:
            raise _error("end_before_start", "De einddatum ligt vóór de startdatum.")
        return value

    def with_external_id(self) -> InitiativeInput:
        """Give an initiative without a portfolio id a stable one of our own, so exports re-import cleanly."""
        if self.external_id:
            return self
        return self.model_copy(update={"external_id": f"KB-{secrets.token_hex(4).upper()}"})


#: Every field of an initiative, in the form's order, with its label, widget and roles.
INITIATIVE_FIELDS: tuple[InitiativeField, ...] = declared_fields(InitiativeInput)
#: The choice fields (a `CHOICE_LABELS` type, optional or not) and their type.
_CHOICES: dict[str, type[StrEnum]] = {
    name: choice
    for name, info in InitiativeInput.model_fields.items()
    for choice in (info.annotation, *get_args(info.annotation))
    if choice in CHOICE_LABELS
}
FIELDS_BY_NAME: dict[str, InitiativeField] = {field.name: field for field in INITIATIVE_FIELDS}
#: The Dutch name of each field (and of the version an edit is based on), for messages about it.
FIELD_LABELS: dict[str, str] = {**{field.name: field.label for field in INITIATIVE_FIELDS}, "version": "Versie"}
#: Fields whose change is a change of the content (the digest's "gewijzigd"; not contact or status).
MATERIAL_FIELDS = frozenset(field.name for field in INITIATIVE_FIELDS if field.spec.material)
#: Fields whose value is a list (one cell of a file holds them separated by semicolons).
LIST_FIELDS = tuple(field.name for field in INITIATIVE_FIELDS if field.is_list)
#: Long texts that together form the body that search and the encoder read, in this order.
BODY_FIELDS = tuple(field.name for field in INITIATIVE_FIELDS if field.spec.in_body)


def required_message(label: str) -> str:
    """The one message for an empty required field, on every form, in the API and in import reports.

    It names the field, so it is clear on its own: in the error summary, read out by a screen reader, or
    in a list of import errors."""
    return f"Vul ‘{label}’ in; dit veld is verplicht."


_MESSAGES: dict[str, str] = {
    "string_too_short": "Vul minimaal {min_length} tekens in.",
    "string_too_long": "Gebruik maximaal {max_length} tekens.",
    "too_short": "Kies er minimaal {min_length}.",
    "too_long": "Maximaal {max_length} items.",
    "enum": "Kies een van: {expected}.",
    "int_parsing": "Vul een heel getal in (zonder punten of euroteken).",
    "int_parsing_size": "Het getal is te groot.",
    "int_from_float": "Vul een heel getal in.",
    "finite_number": "Vul een heel getal in.",
    "int_type": "Vul een heel getal in.",
    "greater_than_equal": "Het getal mag niet negatief zijn.",
    "less_than_equal": "Het getal is te groot.",
    "date_from_datetime_parsing": "Geen geldige datum; gebruik JJJJ-MM-DD.",
    "date_parsing": "Geen geldige datum; gebruik JJJJ-MM-DD.",
    "date_type": "Geen geldige datum; gebruik JJJJ-MM-DD.",
    "date_from_datetime_inexact": "Geef alleen een datum, zonder tijd.",
    "bool_parsing": "Kies ja of nee.",
    "bool_type": "Kies ja of nee.",
    "string_type": "Vul tekst in.",
    "string_unicode": "Bevat een ongeldig teken (een half surrogaatpaar). Verwijder het en probeer het opnieuw.",
    "list_type": "Geef een lijst.",
    "extra_forbidden": "Onbekend veld.",
    "model_type": "Verwacht een object met velden.",
}


class InputError(InvalidInput):
    """Input did not validate. ``errors`` maps a field name ("" for the whole object) to Dutch messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k or 'algemeen'}: {' '.join(v)}" for k, v in errors.items()), errors=errors)


def translate_errors(error: ValidationError) -> dict[str, list[str]]:
    """Turn pydantic's errors into Dutch messages per top-level field."""
    errors: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        loc = item["loc"]
        kind = item["type"]
        field = str(loc[0]) if loc else ""
        context = item.get("ctx") or {}
        if not kind.startswith(_OWN_ERROR_PREFIXES) and _is_blank(item.get("input")):
            kind = "missing"
        template = _MESSAGES.get(kind)
        if kind == "missing":
            message = required_message(FIELD_LABELS.get(field, field))
        elif kind == "enum" and field in _CHOICES:
            message = choice_message(_CHOICES[field])
        elif template is not None:
            message = template.format(**{k: _dutch_expected(v) for k, v in context.items()})
        else:
            message = item["msg"]
        if len(loc) > 1 and isinstance(loc[1], int):
            message = f"Item {loc[1] + 1}: {message}"
        errors.setdefault(field, [])
        if message not in errors[field]:
            errors[field].append(message)
    return errors


def choice_message(choice: type[StrEnum]) -> str:
    """What to choose, by label and code: a form offers the labels, a file may hold either."""
    options = [
        label if label.casefold() == code.replace("_", " ") else f"{label} ({code})"
        for code, label in CHOICE_LABELS[choice].items()
    ]
    return f"Kies een van: {', '.join(options[:-1])} of {options[-1]}."


# Our own checks say precisely what is wrong; pydantic's generic ones on an empty value mean "missing".
_OWN_ERROR_PREFIXES = ("unknown_", "invalid_", "tag_", "too_many_", "end_before", "extra_forbidden")


def _is_blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _dutch_expected(value: Any) -> Any:
    return value.replace(" or ", " of ") if isinstance(value, str) else value


def parse_initiative(data: dict[str, Any]) -> InitiativeInput:
    """Validate a dict of raw values; raise InputError with Dutch messages when it is not acceptable."""
    try:
        return InitiativeInput.model_validate(data)
    except ValidationError as exc:
        raise InputError(translate_errors(exc)) from None


def parse_json_initiative(body: Mapping[str, Any], data: dict[str, Any] | None = None) -> InitiativeInput:
    """`parse_initiative` of `data` (default `body`) for the API, where the JSON `body` must also give
    each field the JSON type the OpenAPI schema declares (`json_type_errors`); every field's problem
    is reported at once."""
    errors = json_type_errors(body)
    try:
        parsed = parse_initiative(dict(body) if data is None else data)
    except InputError as exc:
        raise InputError({**exc.errors, **errors}) from None
    if errors:
        raise InputError(errors)
    return parsed


#: What a value of each JSON type must look like, said to someone writing JSON.
_JSON_TYPE_MESSAGES = {
    "string": "tekst tussen aanhalingstekens",
    "integer": "een getal zonder aanhalingstekens, zoals 25000",
    "boolean": "true of false, zonder aanhalingstekens",
    "array": 'een lijst, zoals ["eerste", "tweede"]',
    "date": 'een datum als tekst, zoals "2026-03-01"',
}


def json_type_errors(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """The fields of a JSON body whose value has another JSON type than `InitiativeInput` declares:
    "1000" for a whole number, 1 for true. The API's contract is its OpenAPI schema, made from the
    same model; forms and files hold only text and are read by the model as text. null and "" stay
    "empty" for every field, as everywhere else (the model then says whether the field may be empty)."""
    errors: dict[str, list[str]] = {}
    for name, value in body.items():
        declared = _json_types().get(name)
        if declared is None or value is None or value == "":
            continue  # an unknown field is the model's to refuse
        kind, items = declared
        if not _has_json_type(value, kind):
            errors[name] = [f"Geef {_JSON_TYPE_MESSAGES[kind]}, of null voor leeg."]
        elif kind == "array" and items and not all(_has_json_type(item, items) for item in value):
            errors[name] = [f"Geef elk element van de lijst als {_JSON_TYPE_MESSAGES[items]}."]
    return errors


def _has_json_type(value: Any, kind: str) -> bool:
    if kind == "integer":  # a float is the model's to refuse or accept (NaN, 1e400, 25000.0)
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, str)  # string, date


@lru_cache(maxsize=1)
def _json_types() -> dict[str, tuple[str, str | None]]:
    """Per field of `InitiativeInput`'s JSON schema: its JSON type (a date counted apart) besides null,
    and for a list its elements' type."""
    schema = InitiativeInput.model_json_schema()
    definitions = schema.get("$defs", {})

    def kind_of(option: dict[str, Any]) -> str:
        option = definitions[option["$ref"].rsplit("/", 1)[1]] if "$ref" in option else option
        return "date" if option.get("format") == "date" else str(option.get("type", "string"))

    types: dict[str, tuple[str, str | None]] = {}
    for name, prop in schema["properties"].items():
        options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
        kind = kind_of(options[0])
        items = kind_of(options[0]["items"]) if kind == "array" and "items" in options[0] else None
        types[name] = (kind, items)
    return types
