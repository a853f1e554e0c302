"""Old digest deliveries are removed every night (KENNISBANK_DIGEST_DELIVERY_DAYS), and removing them cannot
make a week's digest go out twice: real database, the real CLI, a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from tortoise import timezone

from kennisbank import worker
from kennisbank.digest import service as digest
from kennisbank.models import DigestDelivery
from kennisbank.settings import MIN_DIGEST_DELIVERY_DAYS, Settings, SettingsError
from kennisbank.taxonomy import DeliveryState
from tests.test_digest import mailbox, run_cli, smtp, subscriber  # noqa: F401 (mailbox: the real SMTP server)


def _week(days_ago: int) -> digest.Period:
    return digest.Period.containing(datetime.now(UTC) - timedelta(days=days_ago))


async def _deliveries() -> list[tuple[str, str, str]]:
    rows = await DigestDelivery.all().order_by("period").values_list("user__email", "period", "state")
    return sorted(rows)


async def _add(email: str, period: digest.Period, state: str) -> None:
    from kennisbank.models import User

    user = await User.get(email=email)
    await DigestDelivery.create(
        user_id=user.id,
        period=period.key,
        state=state,
        attempts=1,
        claimed_by="elders:1",
        claimed_at=period.end,
        sent_at=period.end,
    )


def test_the_night_removes_the_deliveries_of_long_past_weeks_and_a_week_still_sendable_is_not_sent_again(
    anonymous,
    settings,
    data_dir,
    mailbox,  # noqa: F811
):
    handler, port = mailbox
    days = settings.digest_delivery_days
    for address in ("a@test.example", "b@test.example"):
        subscriber(anonymous, address, "NL-GE", theme="water")
    anonymous.create_initiative(external_id="LI-1", province="NL-LI", themes=["water"])
    this_week, kept_week, old_week = _week(0), _week(days - 8), _week(days + 8)  # kept ends after the cutoff
    anonymous.run(_add, "a@test.example", old_week, DeliveryState.SENT)
    anonymous.run(_add, "b@test.example", old_week, DeliveryState.EMPTY)
    anonymous.run(_add, "b@test.example", _week(days + 15), DeliveryState.FAILED)
    anonymous.run(_add, "b@test.example", _week(days + 30), DeliveryState.CLAIMED)  # a run that died long ago
    anonymous.run(_add, "a@test.example", kept_week, DeliveryState.SENT)
    anonymous.run(_add, "a@test.example", this_week, DeliveryState.SENT)  # a's digest of this week already went out

    anonymous.run(worker.nightly_maintenance, settings)

    assert anonymous.run(_deliveries) == [
        ("a@test.example", kept_week.key, DeliveryState.SENT),
        ("a@test.example", this_week.key, DeliveryState.SENT),
    ]
    sent = run_cli(data_dir, "digest", "--week", this_week.key, "--send", **smtp(port))
    assert sent.returncode == 0, sent.stderr
    assert not handler.to("a@test.example")  # its delivery of this week stayed: nothing twice
    assert len(handler.to("b@test.example")) == 1


def test_a_week_whose_deliveries_may_be_gone_is_not_sent(anonymous, data_dir, mailbox):  # noqa: F811
    """The guard that makes the removal safe: past SEND_WITHIN a week is refused, before anything is claimed."""
    handler, port = mailbox
    subscriber(anonymous, "a@test.example", "NL-GE", theme="water")
    too_late = _week(digest.SEND_WITHIN.days + 8)
    refused = run_cli(data_dir, "digest", "--week", too_late.key, "--send", **smtp(port))
    assert refused.returncode != 0 and "niet meer verstuurd" in refused.stderr, refused.stdout + refused.stderr
    assert anonymous.run(_deliveries) == [] and handler.messages == []
    still = _week(digest.SEND_WITHIN.days - 8)
    assert run_cli(data_dir, "digest", "--week", still.key, "--send", **smtp(port)).returncode == 0
    assert [period for _, period, _ in anonymous.run(_deliveries)] == [still.key]


def test_removal_reaches_exactly_the_weeks_that_ended_before_the_cutoff(anonymous, settings):
    subscriber(anonymous, "a@test.example", "NL-GE")
    week = _week(400)
    anonymous.run(_add, "a@test.example", week, DeliveryState.SENT)
    assert anonymous.run(digest.remove_old_deliveries, week.end - timedelta(seconds=1)) == 0
    assert anonymous.run(digest.remove_old_deliveries, week.end) == 1
    assert anonymous.run(_deliveries) == []
    assert anonymous.run(digest.remove_old_deliveries, timezone.now()) == 0  # nothing left: nothing fails


def test_the_retention_outlasts_every_week_that_can_still_be_sent():
    """Removal is safe only while a week is removed long after the last moment it can be sent."""
    assert timedelta(days=MIN_DIGEST_DELIVERY_DAYS) >= digest.SEND_WITHIN + timedelta(days=28)
    assert Settings().digest_delivery_days == 365
    assert Settings.from_env({"KENNISBANK_DIGEST_DELIVERY_DAYS": "90"}).digest_delivery_days == 90
    for wrong in (str(MIN_DIGEST_DELIVERY_DAYS - 1), "jaar", "3651"):
        with pytest.raises(SettingsError, match="KENNISBANK_DIGEST_DELIVERY_DAYS"):
            Settings.from_env({"KENNISBANK_DIGEST_DELIVERY_DAYS": wrong})


def test_a_shorter_setting_removes_more(anonymous, settings):
    subscriber(anonymous, "a@test.example", "NL-GE")
    anonymous.run(_add, "a@test.example", _week(100), DeliveryState.SENT)
    anonymous.run(worker.nightly_maintenance, settings)
    assert len(anonymous.run(_deliveries)) == 1  # within the default 365 days
    anonymous.run(worker.nightly_maintenance, dataclasses.replace(settings, digest_delivery_days=90))
    assert anonymous.run(_deliveries) == []
