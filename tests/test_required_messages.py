"""Every form names the field it asks for: an empty required field never gets a bare "Dit veld is verplicht.".

Each test submits a real form (or API call) with its required fields empty and reads the page the user gets."""

from __future__ import annotations

import html

import pytest

from kennisbank.accounts.service import ACCOUNT_FIELD_LABELS
from kennisbank.initiatives.validation import FIELD_LABELS, required_message
from kennisbank.matching.collaborations import FIELD_LABELS as COLLABORATION_FIELD_LABELS
from tests.conftest import TEST_PASSWORD, Browser, as_form, valid_initiative
from tests.test_collaborations import accept, only_collaboration, world  # noqa: F401
from tests.test_permissions import login_beheerder

GENERIC = ("Dit veld is verplicht.", "Vul dit veld in.")


def assert_named(page: str, *labels: str) -> None:
    """The page names each field in its required message and shows no generic one."""
    text = html.unescape(page)
    for generic in GENERIC:
        assert generic not in text, f"generic message {generic!r} on the page"
    for label in labels:
        assert required_message(label) in text, label


def test_the_message_names_the_field():
    assert required_message("Titel") == "Vul ‘Titel’ in; dit veld is verplicht."


def test_the_initiative_form(client: Browser):
    form = as_form(valid_initiative(title="", summary="", kind="", phase=""))
    form["themes"] = []
    response = client.submit("/initiatieven/nieuw", form)
    assert response.status_code == 422
    assert_named(response.text, *(FIELD_LABELS[f] for f in ("title", "summary", "kind", "phase", "themes")))


def test_the_api_names_the_field(client: Browser):
    response = client.post("/api/v1/initiatives", json=valid_initiative(title="", summary=""))
    assert response.status_code == 400
    fields = {e["field"]: e["messages"] for e in response.json()["errors"]}
    assert fields == {"title": [required_message("Titel")], "summary": [required_message("Samenvatting")]}


def test_the_login_form_names_the_empty_field_and_costs_no_attempt(anonymous: Browser):
    user = anonymous.make_user()
    response = anonymous.submit("/inloggen", {"email": "", "password": ""})
    assert response.status_code == 422
    assert_named(response.text, ACCOUNT_FIELD_LABELS["email"], ACCOUNT_FIELD_LABELS["password"])
    only_password = anonymous.submit("/inloggen", {"email": user.email, "password": ""})
    assert_named(only_password.text, ACCOUNT_FIELD_LABELS["password"])
    assert required_message(ACCOUNT_FIELD_LABELS["email"]) not in html.unescape(only_password.text)
    assert anonymous.login(user.email).status_code == 303  # the empty tries did not slow the real one


def test_the_password_change_form(client: Browser):
    response = client.submit("/account/wachtwoord", {"current_password": "", "new_password": ""})
    assert response.status_code == 422
    assert_named(response.text, ACCOUNT_FIELD_LABELS["current_password"], ACCOUNT_FIELD_LABELS["new_password"])
    wrong = client.submit("/account/wachtwoord", {"current_password": "niet het wachtwoord", "new_password": ""})
    assert "Het huidige wachtwoord klopt niet." in html.unescape(wrong.text)


def test_the_api_token_form(client: Browser):
    response = client.submit("/account/tokens", {"name": "scripts", "current_password": ""})
    assert response.status_code == 422
    assert_named(response.text, ACCOUNT_FIELD_LABELS["current_password"])
    nameless = client.submit("/account/tokens", {"name": "", "current_password": TEST_PASSWORD})
    assert_named(nameless.text)
    assert "Geef het token een naam" in nameless.text


def test_the_subscription_form(client: Browser):
    response = client.submit("/account/abonnementen", {"kind": "", "value": ""})
    assert response.status_code == 422
    assert_named(response.text)
    assert "Kies een thema, provincie, soort of zoekopdracht." in response.text


def test_the_new_account_form_of_a_beheerder(anonymous: Browser):
    login_beheerder(anonymous)
    response = anonymous.submit(
        "/beheer/gebruikers/nieuw", {"email": "", "name": "", "role": "", "province": "", "password": ""}
    )
    assert response.status_code == 422
    assert_named(response.text, *(ACCOUNT_FIELD_LABELS[f] for f in ("email", "role", "password")))


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("notitie", {"note": "  "}, "note"),
        ("link", {"url": "", "label": "Bestek"}, "url"),
    ],
)
def test_the_collaboration_forms(world, path, data, field):  # noqa: F811
    browser = world["browser"]
    accept(browser, world["match"])
    cid = only_collaboration(browser).id
    browser.login_as("coordinator", None)
    response = browser.submit(f"/samenwerkingen/{cid}/{path}", data)
    assert response.status_code == 422, response.text
    assert_named(response.text, COLLABORATION_FIELD_LABELS[field])
