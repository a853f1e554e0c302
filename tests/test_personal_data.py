"""One person's data (the privacy statement's promise): a beheerder downloads it all and can erase it."""

from __future__ import annotations

import json

import pytest

from kennisbank import audit
from kennisbank.accounts import personal_data
from kennisbank.models import ApiToken, AuditEntry, Initiative, Subscription, User, UserSession
from tests.conftest import Browser
from tests.test_permissions import login_beheerder

PERSON = "p.jansen@provincie.example"


@pytest.fixture
def person(anonymous: Browser) -> tuple[Browser, User]:
    """A medewerker with a session, a token, a subscription, audit lines and an initiative naming them."""
    user = anonymous.make_user("medewerker", "NL-GE", email=PERSON, name="Piet Jansen")
    anonymous.create_initiative(external_id="PD-1", contact_name="Piet Jansen", contact_email=PERSON)
    anonymous.login(PERSON)  # a session from 'testclient', audited
    anonymous.submit("/account/tokens", {"name": "script", "current_password": "correct paard batterij nietje"})
    anonymous.run(
        Subscription.create, user_id=user.id, kind="search", value="q=stikstof", label="stikstof", feed_token="f" * 64
    )
    anonymous.cookies.clear()
    login_beheerder(anonymous)
    return anonymous, user


def test_a_beheerder_downloads_everything_kept_about_a_person_without_secrets(person):
    client, user = person
    response = client.get(f"/beheer/gebruikers/{user.id}/persoonsgegevens.json")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    document = response.json()
    assert document["account"]["email"] == PERSON and document["account"]["name"] == "Piet Jansen"
    assert document["sessions"] and document["api_tokens"][0]["name"] == "script"
    assert document["subscriptions"][0]["label"] == "stikstof"
    assert {"login", "token_create"} <= {e["action"] for e in document["audit_log"]}
    assert [i["external_id"] for i in document["contact_of_initiatives"]] == ["PD-1"]
    text = json.dumps(document)
    stored = client.run(User.get, id=user.id)
    assert stored.password_hash not in text and "token_hash" not in text and "feed_token" not in text
    assert client.run(AuditEntry.filter(action="personal_data_export", object_id=str(user.id)).count) == 1


def test_erasing_empties_what_identifies_the_person_and_keeps_the_history(person):
    client, user = person
    page = client.get(f"/beheer/gebruikers/{user.id}").text
    assert "Persoonsgegevens verwijderen" in page
    unconfirmed = client.submit(f"/beheer/gebruikers/{user.id}/persoonsgegevens-verwijderen", {"confirm_email": "x"})
    assert unconfirmed.status_code == 422 and "Typ het e-mailadres van dit account" in unconfirmed.text
    assert client.run(User.get, id=user.id).email == PERSON  # nothing happened
    done = client.submit(
        f"/beheer/gebruikers/{user.id}/persoonsgegevens-verwijderen",
        {"confirm_email": PERSON.upper()},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("gedaan=verwijderd")
    erased = client.run(User.get, id=user.id)
    assert erased.email.endswith("@" + personal_data.ERASED_DOMAIN) and erased.name == "" and not erased.active
    assert erased.password_hash == "" and erased.totp_secret == ""
    for model in (UserSession, ApiToken, Subscription):
        assert client.run(model.filter(user_id=user.id).count) == 0, model
    lines = client.run(AuditEntry.filter(actor_id=user.id).values_list, "actor_email", "ip")
    assert lines and all(line == ("", "") for line in lines)  # the lines stay, without who and where
    assert client.run(AuditEntry.filter(action="personal_data_erase", object_id=str(user.id)).count) == 1
    assert client.run(Initiative.filter(external_id="PD-1").count) == 1  # the province's initiative stays
    assert client.login(PERSON).status_code == 401


def test_only_a_beheerder_erases_and_never_their_own_account(anonymous: Browser):
    target = anonymous.make_user("medewerker", "NL-GE", email=PERSON)
    anonymous.login_as("coordinator", None)
    refused = anonymous.submit(
        f"/beheer/gebruikers/{target.id}/persoonsgegevens-verwijderen",
        {"confirm_email": PERSON},
        follow_redirects=False,
    )
    assert refused.status_code in (403, 303) and anonymous.run(User.get, id=target.id).email == PERSON
    assert anonymous.get(f"/beheer/gebruikers/{target.id}/persoonsgegevens.json").status_code in (403, 303)
    nobody = audit.Actor(None, "192.0.2.9")
    with pytest.raises(personal_data.ErasureRefused):
        anonymous.run(personal_data.erase, nobody, target.id)
    anonymous.cookies.clear()
    beheerder, _secret = login_beheerder(anonymous)
    with pytest.raises(personal_data.ErasureRefused):
        anonymous.run(personal_data.erase, audit.Actor(beheerder, ""), beheerder.id)
    assert anonymous.run(User.get, id=beheerder.id).active
