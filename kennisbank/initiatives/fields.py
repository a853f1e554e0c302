"""How each field of an initiative is shown and used, attached to its one declaration.

`validation.InitiativeInput` declares every field once: its type and limits (pydantic) and, as
`FieldSpec` metadata in the same `Annotated`, its Dutch label, form widget and place on the form,
and its roles (a material change for the digest, part of the searchable body). Everything else
reads `INITIATIVE_FIELDS` (in `validation`): the labels of error messages and import reports, the
form and how it is read, the import's and export's columns, the API's representation, the OpenAPI
schema (generated from the same model) and the body text the index and the encoder read. Adding a
field is one line there, a column on `models.Initiative` and a migration;
`tests/test_initiative_fields.py` fails when one of those places does not know a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel


class Widget(StrEnum):
    """How a field is typed on the form, and with it how its value is read from a form or a file."""

    TEXT = "text"
    EMAIL = "email"
    NUMBER = "number"
    DATE = "date"
    TEXTAREA = "textarea"
    SELECT = "select"
    CHECKBOX = "checkbox"
    TAGS = "tags"  # one text box, values separated by semicolons: a list
    LINES = "lines"  # a textarea with one value per line: a list
    THEMES = "themes"  # a group of check boxes with the themes: a list


LIST_WIDGETS = frozenset({Widget.TAGS, Widget.LINES, Widget.THEMES})
#: Widgets whose text keeps its line breaks (tab and line feed are allowed characters).
MULTILINE_WIDGETS = frozenset({Widget.TEXTAREA})


@dataclass(frozen=True)
class FormGroup:
    """A fieldset of the initiative form."""

    key: str
    legend: str


#: The form's fieldsets, in order; a field names its group by key.
FORM_GROUPS: tuple[FormGroup, ...] = (
    FormGroup("wat", "Wat is het initiatief?"),
    FormGroup("waar", "Waar en wanneer?"),
    FormGroup("themas", "Thema's (maatschappelijke opgaven)"),
    FormGroup("markt", "Techniek en markt"),
    FormGroup("resultaten", "Voor living labs en goede voorbeelden"),
    FormGroup("portfolio", "Voor portfolioprojecten"),
    FormGroup("contact", "Contact en publicatie"),
)


@dataclass(frozen=True)
class FieldSpec:
    """What a field means to people and to the rest of the platform (pydantic metadata)."""

    label: str  #: Dutch name in error messages, import reports and the error summary
    widget: Widget
    group: str  #: the `FormGroup` key
    form_label: str = ""  #: the form's wording, when it says more than `label`
    hint: str = ""
    rows: int = 5  #: height of a textarea
    autocomplete: str = "off"
    options: str = ""  #: for a select or the themes: its choices' name in `rendering.FIELD_CHOICES`
    empty_option: str = ""  #: for a select: the text of the empty choice
    required_on_form: bool = False  #: marked required on the form though validation has a default
    material: bool = False  #: a change of it is a change of the content (the digest's "gewijzigd")
    in_body: bool = False  #: part of the body text that search and the encoder read


@dataclass(frozen=True)
class InitiativeField:
    """A declared field: its name, its `FieldSpec`, and what validation says about it."""

    name: str
    spec: FieldSpec
    required: bool
    default: Any

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def form_label(self) -> str:
        return self.spec.form_label or self.spec.label

    @property
    def widget(self) -> Widget:
        return self.spec.widget

    @property
    def is_list(self) -> bool:
        return self.spec.widget in LIST_WIDGETS

    @property
    def multiline(self) -> bool:
        return self.spec.widget in MULTILINE_WIDGETS

    @property
    def required_on_form(self) -> bool:
        return self.required or self.spec.required_on_form

    def empty_value(self, value: Any) -> Any:
        """`value`, or the field's default when `value` is how a form, file or client leaves it empty:
        None for a text, list or yes/no field, and a blank text for a field whose default is None (a
        date, number or optional choice). A required field keeps its empty value, to be reported."""
        if self.required:
            return value
        if value is None and (self.default == "" or self.default is False or self.default == []):
            return self.default
        if isinstance(value, str) and not value.strip() and (self.default is None or self.default is False):
            return self.default
        return value


def declared_fields(model: type[BaseModel]) -> tuple[InitiativeField, ...]:
    """The fields of `model` with their `FieldSpec`, in declaration order (the form's order).

    Raises TypeError for a field without one, or naming an unknown form group: a field nobody can
    see on the form or read in an error is a mistake, caught at import time."""
    groups = {group.key for group in FORM_GROUPS}
    declared = []
    for name, info in model.model_fields.items():
        specs = [item for item in info.metadata if isinstance(item, FieldSpec)]
        if len(specs) != 1:
            raise TypeError(f"{model.__name__}.{name} needs exactly one FieldSpec in its Annotated metadata")
        if specs[0].group not in groups:
            raise TypeError(f"{model.__name__}.{name} names an unknown form group {specs[0].group!r}")
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        declared.append(InitiativeField(name=name, spec=specs[0], required=info.is_required(), default=default))
    return tuple(declared)


def form_groups(fields: tuple[InitiativeField, ...]) -> list[tuple[FormGroup, list[InitiativeField]]]:
    """The form's fieldsets with their fields, in order (a group without fields is left out)."""
    return [(group, members) for group in FORM_GROUPS if (members := [f for f in fields if f.spec.group == group.key])]
