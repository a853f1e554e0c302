"""The digest's collaboration sections: coordinators read their overdue next actions, medewerkers of a
participating province the stage changes of the week; sent through a real SMTP server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from kennisbank.audit import Actor
from kennisbank.digest import mail
from kennisbank.digest import service as digest
from kennisbank.matching import collaborations
from kennisbank.models import User
from tests.test_collaborations import accept, only_collaboration, world  # noqa: F401 (fixture)
from tests.test_digest import mailbox  # noqa: F401 (the real SMTP server fixture)

THIS_WEEK = digest.Period.containing(datetime.now(UTC))


def test_coordinators_read_overdue_actions_and_participants_stage_changes(world, mailbox, settings):  # noqa: F811
    browser = world["browser"]
    accept(browser, world["match"])
    collaboration = only_collaboration(browser)
    owner = browser.run(User.get, id=collaboration.owner_id)
    browser.run(
        collaborations.set_next_action,
        Actor(owner),
        collaboration.id,
        "Offerte opvragen",
        (datetime.now(UTC) - timedelta(days=10)).date(),
    )
    browser.run(collaborations.change_stage, Actor(owner), collaboration.id, "in_gesprek")
    limburg = browser.make_user("medewerker", "NL-LI", email="li.medewerker@test.example")
    utrecht = browser.make_user("medewerker", "NL-UT", email="ut.medewerker@test.example")

    for_owner = browser.run(digest.compose, owner, THIS_WEEK, None)
    assert [c.id for c in for_owner.overdue] == [collaboration.id] and for_owner.stage_changes == []
    for_limburg = browser.run(digest.compose, limburg, THIS_WEEK, None)
    assert [(e.from_stage, e.to_stage) for e in for_limburg.stage_changes] == [("voorgesteld", "in_gesprek")]
    assert for_limburg.overdue == []
    for_utrecht = browser.run(digest.compose, utrecht, THIS_WEEK, None)
    assert for_utrecht.stage_changes == [] and for_utrecht.overdue == []
    last_week = digest.Period.containing(datetime.now(UTC) - timedelta(days=7))
    assert browser.run(digest.compose, limburg, last_week, None).stage_changes == []

    handler, port = mailbox
    configured = replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    sender = mail.SMTPSender(configured)
    try:
        browser.run(digest.send_digests, configured, THIS_WEEK, None, sender)
    finally:
        sender.close()
    [to_limburg] = handler.to("li.medewerker@test.example")
    text = to_limburg.get_body(("plain",)).get_content()
    assert "== Uw samenwerkingen ==" in text and "van voorgesteld naar in gesprek" in text
    [to_owner] = handler.to(owner.email)
    owner_text = to_owner.get_body(("plain",)).get_content()
    assert "te late volgende actie" in owner_text and "Offerte opvragen" in owner_text
    assert "Uw samenwerkingen" in to_limburg.get_body(("html",)).get_content()
    assert "Uw samenwerkingen" not in "".join(
        m.get_body(("plain",)).get_content() for m in handler.to("ut.medewerker@test.example")
    )
