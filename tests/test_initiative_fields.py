"""Every declared field of an initiative reaches every place that shows, stores or exchanges it.

The fields are declared once (`validation.InitiativeInput`, read as `INITIATIVE_FIELDS`); these
tests build a value for each field from its widget alone, so a field added to the declaration is
checked here without touching this file: stored, on the form and read back from it, in the API's
answer and its OpenAPI schemas, in the export's columns and back through the import, and (for a
body field) in the text that search and the encoder read.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import markupsafe
import pytest

from kennisbank.initiatives.exporting import COLUMNS
from kennisbank.initiatives.fields import FORM_GROUPS, InitiativeField, Widget
from kennisbank.initiatives.validation import FIELD_LABELS, INITIATIVE_FIELDS, parse_initiative
from kennisbank.models import Initiative
from kennisbank.rendering import FIELD_CHOICES
from kennisbank.web.api.openapi import openapi_document
from kennisbank.web.forms import input_to_form
from tests.conftest import run_cli


def _choices(field: InitiativeField) -> list[tuple[str, str]]:
    return FIELD_CHOICES[field.spec.options]


def sample_value(field: InitiativeField, position: int) -> Any:
    """A valid value for `field` that differs from its default, chosen by its widget alone."""
    widget = field.widget
    if widget is Widget.SELECT:
        choices = [value for value, _ in _choices(field)]
        return choices[1] if len(choices) > 1 and field.name != "status" else choices[0]
    if widget is Widget.THEMES:
        return [_choices(field)[0][1]]
    if widget is Widget.DATE:
        return (date(2025, 1, 1) + timedelta(days=position)).isoformat()  # declared in order: start before end
    if widget is Widget.NUMBER:
        return 1000 + position
    if widget is Widget.CHECKBOX:
        return not field.default
    if widget is Widget.EMAIL:
        return f"{field.name.replace('_', '-')}@provincie.example"
    if widget is Widget.LINES:
        return [f"https://provincie.example/{field.name}/1", f"https://provincie.example/{field.name}/2"]
    if widget is Widget.TAGS:
        return [f"{field.name} een", f"{field.name} twee"]
    if widget is Widget.TEXTAREA:
        return f"Een tekst voor {field.name}.\n\nMet een tweede alinea."
    return f"{field.name}-{position}"


def sample_input() -> dict[str, Any]:
    return {field.name: sample_value(field, position) for position, field in enumerate(INITIATIVE_FIELDS)}


def test_the_sample_is_valid_and_sets_every_field_to_something_else_than_its_default():
    parsed = parse_initiative(sample_input())
    for field in INITIATIVE_FIELDS:
        assert getattr(parsed, field.name) not in (None, "", [], field.default), field.name


def test_every_field_has_a_label_a_form_group_and_a_column_of_the_stored_initiative():
    groups = {group.key for group in FORM_GROUPS}
    stored = Initiative._meta.fields_map
    for field in INITIATIVE_FIELDS:
        assert FIELD_LABELS[field.name] == field.label and field.label
        assert field.spec.group in groups
        assert field.name in stored, f"models.Initiative has no {field.name}"


def test_every_field_is_in_the_openapi_schemas_of_input_and_answer():
    schemas = openapi_document()["components"]["schemas"]
    for name in ("InitiativeInput", "Initiative", "InitiativePatch"):
        assert set(schemas[name]["properties"]) >= {field.name for field in INITIATIVE_FIELDS}, name


def test_every_field_is_on_the_form_and_a_posted_form_stores_it_as_the_api_returns_it(client):
    page = client.get("/initiatieven/nieuw").text
    for field in INITIATIVE_FIELDS:
        assert f'name="{field.name}"' in page, field.name
        assert str(markupsafe.escape(field.form_label)) in page, field.name
    data = {**sample_input(), "province": "NL-GE"}
    posted = input_to_form(data)
    form = {k: v for k, v in posted.items() if not isinstance(v, bool)}
    form.update(
        {field.name: "on" for field in INITIATIVE_FIELDS if field.widget is Widget.CHECKBOX and data[field.name]}
    )
    response = client.submit("/initiatieven/nieuw", form, follow_redirects=False)
    assert response.status_code == 303, response.text
    initiative_id = int(response.headers["location"].split("/")[2].split("?")[0])
    answer = client.get(f"/api/v1/initiatives/{initiative_id}", headers=client.bearer()).json()
    expected = parse_initiative(data).model_dump(mode="json")
    for field in INITIATIVE_FIELDS:
        got = answer[field.name]
        if field.widget is Widget.THEMES:
            got = sorted(parse_initiative({**data, field.name: got}).themes)
        assert got == expected[field.name], field.name


def test_every_field_is_an_export_column_and_comes_back_through_the_import(tmp_path, data_dir):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(sample_input(), ensure_ascii=False) + "\n", encoding="utf-8")
    assert run_cli(data_dir, "import", str(source)).returncode == 0
    assert set(COLUMNS) == {field.name for field in INITIATIVE_FIELDS}
    for fmt in ("csv", "jsonl"):
        exported = tmp_path / f"out.{fmt}"
        assert run_cli(data_dir, "export", "--format", fmt, "--output", str(exported)).returncode == 0
        other = tmp_path / f"other-{fmt}"
        assert run_cli(other, "import", str(exported)).returncode == 0
        assert run_cli(other, "export").stdout == run_cli(data_dir, "export").stdout, fmt
    row = json.loads(run_cli(data_dir, "export").stdout)
    assert parse_initiative(row) == parse_initiative(sample_input())


@pytest.mark.parametrize("field", [f for f in INITIATIVE_FIELDS if f.spec.in_body], ids=lambda f: f.name)
def test_a_body_field_is_in_the_text_search_and_the_encoder_read(field):
    value = sample_value(field, 0)
    initiative = Initiative(**{field.name: value})
    for part in value if isinstance(value, list) else value.split("\n\n"):
        assert part in initiative.body_text, part
