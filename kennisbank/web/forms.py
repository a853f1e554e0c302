"""Reading the initiative form: HTML form fields to the dict that validation accepts, and back."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from ..taxonomy import find_theme

_TEXT_FIELDS = (
    "external_id",
    "province",
    "kind",
    "title",
    "summary",
    "description",
    "programme_line",
    "phase",
    "budget_eur",
    "start_date",
    "end_date",
    "contact_name",
    "contact_email",
    "status",
    "lessons_learned",
    "results",
    "tender_date",
)


def split_tags(text: str) -> list[str]:
    """Tags typed in one box, separated by semicolons, commas or new lines."""
    return [part.strip() for part in re.split(r"[;,\n]", text) if part.strip()]


def form_to_input(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {name: str(form.get(name, "") or "") for name in _TEXT_FIELDS}
    data["themes"] = [str(v) for v in form.getlist("themes")]
    data["technologies"] = split_tags(str(form.get("technologies", "")))
    data["suppliers"] = split_tags(str(form.get("suppliers", "")))
    data["links"] = [line.strip() for line in str(form.get("links", "")).splitlines() if line.strip()]
    data["seeks_partners"] = form.get("seeks_partners") == "on"
    return data


def input_to_form(data: dict[str, Any]) -> dict[str, Any]:
    """Values to put back into the form fields: lists become the text a person would type."""
    values = {k: ("" if v is None else v) for k, v in data.items()}
    values["technologies"] = "; ".join(data.get("technologies") or [])
    values["suppliers"] = "; ".join(data.get("suppliers") or [])
    values["links"] = "\n".join(data.get("links") or [])
    values["themes"] = [theme.slug for t in data.get("themes") or [] if (theme := find_theme(t))]
    return values
