"""The introduction mail of a new collaboration against a real SMTP server (aiosmtpd on loopback):
previewed, sent exactly once per contact, retried after a failure, taken over from a run that died,
skipped on the coordinator's choice, and never sent to a contact who opted out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from tortoise import timezone

from kennisbank.models import Collaboration, IntroductionDelivery
from kennisbank.settings import Settings
from kennisbank.web.app import create_app
from tests.conftest import Browser
from tests.test_collaborations import accept, suggest
from tests.test_digest import Mailbox, mailbox  # noqa: F401 (the real SMTP server fixture)

COORDINATOR_NAME = "Carla Coördinator"


@pytest.fixture
def site(settings: Settings, mailbox) -> Iterator[tuple[Browser, Mailbox, dict]]:  # noqa: F811
    handler, port = mailbox
    configured = replace(
        settings, smtp_host="127.0.0.1", smtp_port=port, smtp_from="Kennisbank <kennisbank@test.example>"
    )
    with Browser(create_app(configured)) as browser:
        ge = browser.create_initiative(
            external_id="GE-1", contact_email="Ge@Gelderland.example", contact_name="Gea Gelder"
        )
        li = browser.create_initiative(
            external_id="LI-1",
            province="NL-LI",
            title="Wegdekscan in Limburg",
            contact_email="li@limburg.example",
            contact_name="Lies Limburg",
        )
        ut = browser.create_initiative(
            external_id="UT-1",
            province="NL-UT",
            title="Wegdekscan in Utrecht",
            contact_email="ut@utrecht.example",
            contact_name="Ute Utrecht",
        )
        browser.make_user("coordinator", None, email="carla@ida.example", name=COORDINATOR_NAME)
        browser.login("carla@ida.example")
        ids = {"ge": ge["id"], "li": li["id"], "ut": ut["id"]}
        yield browser, handler, ids


def started(browser: Browser, a: int, b: int) -> int:
    match = suggest(browser, a, b)
    accept(browser, match)
    return browser.run(lambda: Collaboration.filter(matches__id=match).first()).id


def test_preview_then_exactly_one_mail_per_contact(site):
    browser, box, ids = site
    cid = started(browser, ids["ge"], ids["li"])
    preview = browser.get(f"/samenwerkingen/{cid}/introductie")
    assert preview.status_code == 200
    assert "Gea Gelder" in preview.text and "Lies Limburg" in preview.text
    assert "Beide werken met leverancier RoadSense." in preview.text and box.messages == []

    sent = browser.submit(f"/samenwerkingen/{cid}/introductie", {"action": "versturen"}, follow_redirects=False)
    assert sent.status_code == 303
    assert sorted(r for rcpts, _ in box.messages for r in rcpts) == ["ge@gelderland.example", "li@limburg.example"]
    [to_limburg] = box.to("li@limburg.example")
    body = to_limburg.get_body(("plain",)).get_content()
    assert "Wegdekscan in Limburg" in body and "(Limburg)" in body and "(Gelderland)" in body
    assert "Beide werken met leverancier RoadSense." in body and COORDINATOR_NAME in body
    assert to_limburg["Reply-To"].addresses[0].addr_spec == "carla@ida.example"
    assert COORDINATOR_NAME in str(to_limburg["From"])

    again = browser.submit(f"/samenwerkingen/{cid}/introductie", {"action": "versturen"}, follow_redirects=False)
    assert again.status_code == 303 and len(box.messages) == 2
    assert browser.run(Collaboration.get, id=cid).introduction == "verzonden"


def test_a_contact_who_opted_out_gets_none(site):
    browser, box, ids = site
    cid = started(browser, ids["ge"], ids["li"])
    browser.submit(f"/samenwerkingen/{cid}/introductie", {"action": "versturen"})
    [to_limburg] = box.to("li@limburg.example")
    link = to_limburg["List-Unsubscribe"].strip("<>")
    assert to_limburg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = urlsplit(link).path + "?" + urlsplit(link).query
    # One click, as a mail provider does it: no session, no CSRF cookie, a POST to the signed link.
    browser.cookies.clear()
    assert browser.get(path).status_code == 200
    assert browser.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert browser.post(path.replace("token=", "token=x"), data={}).status_code == 400
    browser.login("carla@ida.example")

    second = browser.post(
        "/api/v1/collaborations",
        json={"initiatives": [ids["ut"], ids["li"]], "type": "opschalen"},
        headers=browser.bearer(None, "coordinator"),
    ).json()["id"]
    preview = browser.get(f"/samenwerkingen/{second}/introductie").text
    assert "Afgemeld voor kennismakingsmails" in preview
    browser.submit(f"/samenwerkingen/{second}/introductie", {"action": "versturen"})
    assert len(box.to("li@limburg.example")) == 1 and len(box.to("ut@utrecht.example")) == 1
    assert len(box.to("ge@gelderland.example")) == 1


def test_a_failed_contact_is_retried_and_the_others_are_not_mailed_twice(site):
    browser, box, ids = site
    cid = started(browser, ids["ge"], ids["li"])
    box.refuse.add("li@limburg.example")
    failed = browser.submit(f"/samenwerkingen/{cid}/introductie", {"action": "versturen"})
    assert failed.status_code == 502 and "Niet iedereen is bereikt" in failed.text
    assert len(box.messages) == 1
    box.refuse.clear()
    browser.submit(f"/samenwerkingen/{cid}/introductie", {"action": "versturen"})
    assert len(box.to("ge@gelderland.example")) == 1 and len(box.to("li@limburg.example")) == 1


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_claim_left_by_a_run_that_died_is_taken_over_and_a_live_one_is_not(site):
    browser, box, ids = site
    cid = started(browser, ids["ge"], ids["li"])
    host, now = socket.gethostname(), timezone.now()
    browser.run(
        IntroductionDelivery.create,
        collaboration_id=cid,
        email="ge@gelderland.example",
        state="geclaimd",
        attempts=1,
        claimed_by=f"{host}:{_dead_pid()}",
        claimed_at=now,
    )
    browser.run(
        IntroductionDelivery.create,
        collaboration_id=cid,
        email="li@limburg.example",
        state="geclaimd",
        attempts=1,
        claimed_by=f"{host}:{os.getpid()}",
        claimed_at=now,
    )  # still sending, elsewhere
    browser.submit(f"/samenwerkingen/{cid}/introductie", {"action": "versturen"})
    assert [r for rcpts, _ in box.messages for r in rcpts] == ["ge@gelderland.example"]
    states = dict(browser.run(lambda: IntroductionDelivery.filter(collaboration_id=cid).values_list("email", "state")))
    assert states == {"ge@gelderland.example": "verzonden", "li@limburg.example": "geclaimd"}


def test_the_coordinator_may_skip_and_only_coordinators_send(site):
    browser, box, ids = site
    cid = started(browser, ids["ge"], ids["li"])
    skipped = browser.submit(f"/samenwerkingen/{cid}/introductie", {"action": "overslaan"}, follow_redirects=False)
    assert skipped.status_code == 303
    refused = browser.submit(f"/samenwerkingen/{cid}/introductie", {"action": "versturen"})
    assert refused.status_code == 422 and box.messages == []
    browser.login_as("medewerker", "NL-LI")
    assert browser.get(f"/samenwerkingen/{cid}/introductie").status_code == 403
    assert browser.submit(f"/samenwerkingen/{cid}/introductie", {"action": "versturen"}).status_code == 403
    assert box.messages == []
