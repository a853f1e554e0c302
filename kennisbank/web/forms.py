"""Reading the initiative form: HTML form fields to the dict that validation accepts, and back.

How each field is typed follows its widget in the one declaration (`validation.INITIATIVE_FIELDS`).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from ..initiatives.fields import Widget
from ..initiatives.validation import INITIATIVE_FIELDS
from ..taxonomy import find_theme


def split_tags(text: str) -> list[str]:
    """Tags typed in one box, separated by semicolons, commas or new lines."""
    return [part.strip() for part in re.split(r"[;,\n]", text) if part.strip()]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def form_to_input(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in INITIATIVE_FIELDS:
        text = str(form.get(field.name, "") or "")
        if field.widget is Widget.THEMES:
            data[field.name] = [str(v) for v in form.getlist(field.name)]
        elif field.widget is Widget.TAGS:
            data[field.name] = split_tags(text)
        elif field.widget is Widget.LINES:
            data[field.name] = _lines(text)
        elif field.widget is Widget.CHECKBOX:
            data[field.name] = form.get(field.name) == "on"
        else:
            data[field.name] = text
    return data


def input_to_form(data: dict[str, Any]) -> dict[str, Any]:
    """Values to put back into the form fields: lists become the text a person would type."""
    values = {k: ("" if v is None else v) for k, v in data.items()}
    for field in INITIATIVE_FIELDS:
        items = data.get(field.name) or []
        if field.widget is Widget.TAGS:
            values[field.name] = "; ".join(items)
        elif field.widget is Widget.LINES:
            values[field.name] = "\n".join(items)
        elif field.widget is Widget.THEMES:
            values[field.name] = [theme.slug for t in items if (theme := find_theme(t))]
    return values
