"""The weekly digest against a real SMTP server (aiosmtpd) on loopback, sent by the real CLI."""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from kennisbank import signing
from kennisbank.digest import service as digest
from kennisbank.digest import subscriptions
from kennisbank.digest.mail import UNSUBSCRIBE_PURPOSE
from kennisbank.models import DigestDelivery, User
from kennisbank.taxonomy import DeliveryState
from tests.conftest import REPO, TEST_PASSWORD, Browser, cli_env, run_cli

THIS_WEEK = digest.Period.containing(datetime.now(UTC)).key


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and can refuse one address or stop a sender."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.refuse: set[str] = set()
        self.kill_pid_at: tuple[int, int] | None = None  # (pid, number of the message that kills it)
        self.attempts = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd API)
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.attempts += 1
        if self.kill_pid_at and self.attempts == self.kill_pid_at[1]:
            os.kill(self.kill_pid_at[0], signal.SIGKILL)  # the sender dies before this message is accepted
            return "451 4.3.0 Try again later"
        self.messages.append(
            (list(envelope.rcpt_tos), email.message_from_bytes(envelope.original_content, policy=default_policy))
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [message for rcpts, message in self.messages if address in rcpts]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler, port = Mailbox(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def smtp(port: int) -> dict[str, str]:
    return {"smtp_host": "127.0.0.1", "smtp_port": str(port), "smtp_from": "Kennisbank <kennisbank@test.example>"}


def subscriber(
    client: Browser,
    email_address: str,
    province: str | None,
    *,
    theme: str | None = None,
    name: str = "",
    role: str = "medewerker",
) -> User:
    user = client.make_user(role, province, email=email_address, name=name)
    if theme:
        client.run(subscriptions.subscribe, user, "theme", theme)
    return user


def test_each_subscriber_gets_what_fits_their_subscriptions_and_nothing_they_posted(anonymous, data_dir, mailbox):
    handler, port = mailbox
    client = anonymous
    water = subscriber(client, "water@gelderland.example", "NL-GE", theme="water")
    subscriber(client, "stikstof@utrecht.example", "NL-UT", theme="stikstof")
    own = client.create_initiative(
        external_id="GE-W", province="NL-GE", themes=["water"], title="Waterkwaliteit meten met drones"
    )
    client.create_initiative(
        external_id="LI-W", province="NL-LI", themes=["water"], title="Slimme stuwen tegen droogte in Limburg"
    )
    client.create_initiative(
        external_id="ZE-S", province="NL-ZE", themes=["stikstof"], title="Stikstofsensoren langs Zeeuwse natuurgebieden"
    )
    # The Gelderland initiative was posted by the Gelderland API account: make the subscriber its author.
    client.run(_set_author, own["id"], water.id)
    # All three share valid_initiative's supplier, so matching relates them: leave "related" out here.
    client.run(subscriptions.set_digest, water, weekly=True, related=False)

    result = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port))
    assert result.returncode == 0, result.stderr

    [water_mail] = handler.to("water@gelderland.example")
    text = water_mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "== Thema: water ==\n" in text and "- Slimme stuwen tegen droogte in Limburg (Limburg, nieuw)" in text
    assert "- Waterkwaliteit meten met drones (" not in text  # posted by this user (its matches may be news)
    assert "- Stikstofsensoren" not in text
    [stikstof_mail] = handler.to("stikstof@utrecht.example")
    html = stikstof_mail.get_body(("html",)).get_content()
    assert "Stikstofsensoren langs Zeeuwse natuurgebieden" in html and "<h2" in html and 'lang="nl"' in html


async def _set_author(initiative_id: int, user_id: int) -> None:
    from kennisbank.models import Initiative

    await Initiative.filter(id=initiative_id).update(created_by_id=user_id)


def test_a_second_run_for_the_same_week_sends_nothing(anonymous, data_dir, mailbox):
    handler, port = mailbox
    subscriber(anonymous, "a@test.example", "NL-GE", theme="water")
    anonymous.create_initiative(external_id="LI-1", province="NL-LI", themes=["water"])
    assert run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port)).returncode == 0
    second = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port))
    assert second.returncode == 0 and "0 verzonden" in second.stdout
    assert len(handler.to("a@test.example")) == 1


def test_a_run_killed_halfway_sends_the_rest_next_time_and_nothing_twice(anonymous, data_dir, mailbox):
    handler, port = mailbox
    addresses = [f"lezer{n}@test.example" for n in range(5)]
    for address in addresses:
        subscriber(anonymous, address, "NL-GE", theme="water")
    anonymous.create_initiative(external_id="LI-1", province="NL-LI", themes=["water"])

    process = subprocess.Popen(
        [sys.executable, "-m", "kennisbank", "digest", "--week", THIS_WEEK, "--send"],
        cwd=REPO,
        env=cli_env(data_dir, **smtp(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    handler.kill_pid_at = (process.pid, 3)
    process.wait(timeout=120)
    assert process.returncode == -signal.SIGKILL
    assert len(handler.messages) == 2

    handler.kill_pid_at = None
    resumed = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port))
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(len(handler.to(address)) for address in addresses) == [1] * 5


def test_one_failing_recipient_is_recorded_and_retried_without_stopping_the_others(anonymous, data_dir, mailbox):
    handler, port = mailbox
    for address in ("eerste@test.example", "kapot@test.example", "derde@test.example"):
        subscriber(anonymous, address, "NL-GE", theme="water")
    anonymous.create_initiative(external_id="LI-1", province="NL-LI", themes=["water"])
    handler.refuse = {"kapot@test.example"}

    first = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port))
    assert first.returncode == 0 and "2 verzonden" in first.stdout and "1 mislukt" in first.stdout
    assert handler.to("eerste@test.example") and handler.to("derde@test.example")
    failed = anonymous.run(_delivery, "kapot@test.example")
    assert failed.state == DeliveryState.FAILED and "550" in failed.error and failed.attempts == 1

    handler.refuse = set()
    retry = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port))
    assert "1 verzonden" in retry.stdout
    assert [len(handler.to(a)) for a in ("eerste@test.example", "kapot@test.example", "derde@test.example")] == [
        1,
        1,
        1,
    ]
    assert anonymous.run(_delivery, "kapot@test.example").state == DeliveryState.SENT


async def _delivery(address: str) -> DigestDelivery:
    return await DigestDelivery.get(user__email=address)


def test_a_name_cannot_inject_headers(anonymous, data_dir, mailbox):
    handler, port = mailbox
    subscriber(
        anonymous,
        "eve@test.example",
        "NL-GE",
        theme="water",
        name="Eve\r\nBcc: buit@aanvaller.example\r\nSubject: gekaapt",
    )
    anonymous.create_initiative(external_id="LI-1", province="NL-LI", themes=["water"])
    assert run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port)).returncode == 0
    [(recipients, message)] = handler.messages
    assert recipients == ["eve@test.example"]
    assert message["Bcc"] is None and "gekaapt" not in message["Subject"]
    assert message["To"].addresses[0].addr_spec == "eve@test.example"


def test_the_mail_has_a_signed_one_click_unsubscribe(anonymous, data_dir, mailbox, settings):
    handler, port = mailbox
    user = subscriber(anonymous, "lezer@test.example", "NL-GE", theme="water")
    anonymous.create_initiative(external_id="LI-1", province="NL-LI", themes=["water"])
    assert run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port)).returncode == 0
    [message] = handler.to("lezer@test.example")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    token = url.split("token=")[1]
    assert signing.unsign(settings, UNSUBSCRIBE_PURPOSE, token) == str(user.id)
    assert signing.unsign(settings, UNSUBSCRIBE_PURPOSE, token.replace(str(user.id), str(user.id + 1), 1)) is None
    assert url in message.get_body(("plain",)).get_content()


def test_digest_send_on_the_seed_data_delivers_one_digest_each_and_then_none(tmp_path, mailbox):
    handler, port = mailbox
    data_dir = tmp_path / "data"
    assert run_cli(data_dir, "seed").returncode == 0
    for address, province in (("een@gelderland.example", "NL-GE"), ("twee@limburg.example", "NL-LI")):
        created = run_cli(
            data_dir,
            "user",
            "create",
            "--email",
            address,
            "--role",
            "medewerker",
            "--province",
            province,
            "--password",
            TEST_PASSWORD,
        )
        assert created.returncode == 0, created.stderr
    first = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port))
    assert first.returncode == 0 and "2 verzonden" in first.stdout, first.stdout + first.stderr
    assert len(handler.to("een@gelderland.example")) == 1 and len(handler.to("twee@limburg.example")) == 1
    again = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port))
    assert "0 verzonden" in again.stdout and len(handler.messages) == 2


def test_periods_are_iso_weeks_in_amsterdam_time():
    period = digest.Period.parse("2026-W47")
    assert period.start == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)  # Monday 16 November, 00:00 CET
    assert period.end == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert period.label == "week 47 (16–22 november 2026)"
    assert digest.Period.parse("2026-W44").label == "week 44 (26 oktober – 1 november 2026)"
    assert digest.Period.parse("2026-W53").label == "week 53 (28 december 2026 – 3 januari 2027)"
    assert digest.Period.last_complete(datetime(2026, 11, 23, 6, 0, tzinfo=UTC)).key == "2026-W47"
    summer = digest.Period.parse("2026-W27")
    assert summer.start.hour == 22  # CEST
    with pytest.raises(Exception, match="ISO-week"):
        digest.Period.parse("week 47")


def test_related_to_my_province_brings_initiatives_elsewhere_that_match_ours(anonymous, data_dir, mailbox):
    handler, port = mailbox
    subscriber(anonymous, "gelderland@test.example", "NL-GE")  # no subscriptions: only "related"
    anonymous.create_initiative(
        external_id="GE-1",
        province="NL-GE",
        suppliers=["RoadSense"],
        title="Wegdekinspectie met camera's in Gelderland",
    )
    anonymous.create_initiative(
        external_id="LI-1",
        province="NL-LI",
        suppliers=["RoadSense"],
        title="Scheuren in het asfalt herkennen met camera's in Limburg",
    )
    assert run_cli(data_dir, "match").returncode == 0
    assert run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port)).returncode == 0
    [message] = handler.to("gelderland@test.example")
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "== Lijkt op initiatieven van uw provincie ==\n" in text
    assert "- Scheuren in het asfalt herkennen met camera's in Limburg (Limburg, nieuw)" in text


def test_the_worker_schedules_the_digest_on_monday_morning_and_maintenance_every_night(settings):
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from kennisbank.worker import AMSTERDAM_TZ, schedule

    scheduler = AsyncIOScheduler(timezone=AMSTERDAM_TZ)
    schedule(scheduler, settings)
    tuesday = datetime(2026, 11, 24, 12, 0, tzinfo=digest.AMSTERDAM)
    jobs = {job.id: job.trigger.get_next_fire_time(None, tuesday) for job in scheduler.get_jobs()}
    assert jobs["weekly_digest"] == datetime(2026, 11, 30, 7, 0, tzinfo=digest.AMSTERDAM)
    assert jobs["nightly_maintenance"] == datetime(2026, 11, 25, 2, 30, tzinfo=digest.AMSTERDAM)


def test_a_saved_search_for_stikstof_brings_a_nitrogen_initiative_from_another_province(anonymous, data_dir, mailbox):
    handler, port = mailbox
    reader = subscriber(anonymous, "stikstof@gelderland.example", "NL-GE")
    anonymous.run(subscriptions.subscribe, reader, "search", "q=stikstof")
    anonymous.run(subscriptions.set_digest, reader, weekly=True, related=False)
    anonymous.create_initiative(
        external_id="LI-N",
        province="NL-LI",
        themes=["natuur en biodiversiteit"],
        title="Stikstofdepositie meten rond Natura 2000-gebieden",
        suppliers=[],
    )
    anonymous.create_initiative(
        external_id="ZE-W",
        province="NL-ZE",
        themes=["water"],
        title="Zoetwatervoorziening op de Zeeuwse eilanden",
        suppliers=[],
    )
    assert run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port)).returncode == 0
    [message] = handler.to("stikstof@gelderland.example")
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "== Zoekopdracht: “stikstof” ==\n" in text
    assert "- Stikstofdepositie meten rond Natura 2000-gebieden (Limburg, nieuw)" in text
    assert "Zoetwatervoorziening" not in text


def test_with_the_search_server_down_saved_search_digests_wait_for_the_next_run(anonymous, data_dir, mailbox):
    handler, port = mailbox
    searcher = subscriber(anonymous, "zoeker@test.example", "NL-GE")
    anonymous.run(subscriptions.subscribe, searcher, "search", "q=water")
    subscriber(anonymous, "thema@test.example", "NL-GE", theme="water")
    anonymous.create_initiative(external_id="LI-1", province="NL-LI", themes=["water"], title="Water in Limburg")
    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there: Meilisearch is down
    down = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", meili_url=closed, **smtp(port))
    assert down.returncode == 0 and "1 verzonden" in down.stdout and "1 mislukt" in down.stdout, down.stdout
    assert handler.to("thema@test.example") and not handler.to("zoeker@test.example")
    assert anonymous.run(_delivery, "zoeker@test.example").state == DeliveryState.FAILED
    back = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port))
    assert "1 verzonden" in back.stdout
    assert [len(handler.to(a)) for a in ("zoeker@test.example", "thema@test.example")] == [1, 1]
