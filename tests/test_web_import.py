"""The beheerder's import page (/beheer/importeren): the same all-or-nothing import as the command line,
with every problem by line and a count per column, and a progress view of the semantic part."""

from __future__ import annotations

import json
import re

import pytest

from kennisbank.models import AuditEntry, Initiative
from kennisbank.searching import embedding_jobs
from tests.conftest import Browser, valid_initiative
from tests.test_permissions import login_beheerder

PAGE = "/beheer/importeren"


def jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def upload(browser: Browser, name: str, content: bytes, **kwargs):
    return browser.post(
        PAGE,
        data={"csrf_token": browser.csrf()},
        files={"bestand": (name, content, "application/octet-stream")},
        follow_redirects=False,
        **kwargs,
    )


def initiatives(browser: Browser) -> int:
    return browser.run(Initiative.all().count)


@pytest.fixture
def beheerder(anonymous: Browser) -> Browser:
    login_beheerder(anonymous)
    return anonymous


def test_an_upload_lands_is_keyword_searchable_at_once_and_its_semantic_part_follows(beheerder: Browser):
    rows = [
        valid_initiative(external_id="GE-1", title="Zwerfvuilrobot langs provinciale wegen"),
        valid_initiative(external_id="UT-1", province="Utrecht", title="Slimme laadpleinen bij carpoolplaatsen"),
        valid_initiative(external_id="LI-1", province="NL-LI", title="Meldpunt voor eikenprocessierups"),
    ]
    response = upload(beheerder, "portfolio.jsonl", jsonl(rows))
    assert response.status_code == 303, response.text
    progress = response.headers["location"]
    assert progress.startswith("/beheer/importeren/voortgang?")
    assert initiatives(beheerder) == 3
    page = beheerder.get(progress).text
    assert "portfolio.jsonl: 3 nieuw, 0 bijgewerkt, 0 ongewijzigd" in page
    assert "Alles is nu op trefwoord te vinden" in page
    assert "Zwerfvuilrobot" in beheerder.get("/zoeken", params={"q": "zwerfvuilrobot"}).text

    beheerder.settle()
    fragment = beheerder.get(progress, headers={"HX-Request": "true"})
    assert "alle 3 verwerkt" in fragment.text and "hx-trigger" not in fragment.text
    assert 'id="import-klaar" hx-swap-oob="innerHTML">Klaar' in fragment.text
    entry = beheerder.run(AuditEntry.filter(action="initiative_import").order_by("-id").first)
    assert entry is not None and entry.actor_email == "beheerder.ida@test.example"

    again = upload(beheerder, "portfolio.jsonl", jsonl(rows))  # idempotent, as on the command line
    assert "0 nieuw, 0 bijgewerkt, 3 ongewijzigd" in beheerder.get(again.headers["location"]).text
    assert initiatives(beheerder) == 3


def test_while_the_queue_works_the_progress_view_asks_again(beheerder: Browser):
    created = beheerder.create_initiative(external_id="GE-9")  # without an encoder its job is done inline
    beheerder.run(embedding_jobs.enqueue, [created["id"]])  # one job waiting, as after an import
    fragment = beheerder.get("/beheer/importeren/voortgang", params={"wachtrij": "5"}, headers={"HX-Request": "true"})
    assert fragment.headers["cache-control"] == "no-store"
    assert "4 van 5 verwerkt; nog 1 in de wachtrij" in fragment.text
    assert 'hx-trigger="every 2s"' in fragment.text and "import-klaar" not in fragment.text


def test_a_bad_file_imports_nothing_and_lists_each_problem_by_line_and_per_column(beheerder: Browser):
    rows = [valid_initiative(external_id=f"GE-{n}", phase="bijna klaar") for n in range(12)]
    rows.append(valid_initiative(external_id="GE-X", title=""))
    response = upload(beheerder, "fouten.jsonl", jsonl(rows))
    assert response.status_code == 422
    page = response.text
    assert "Niets geïmporteerd uit fouten.jsonl: 13 problemen gevonden" in page
    assert "regel 1: Fase (phase):" in page and "regel 13: Titel (title):" in page
    assert re.search(r"<caption>Problemen per kolom</caption>.*Fase \(<code>phase</code>\)</td><td>12<", page, re.S)
    assert 'role="alert"' in page and "<title>Fout: " in page
    assert initiatives(beheerder) == 0

    one = upload(beheerder, "een.jsonl", jsonl([valid_initiative(title="")]))
    assert one.status_code == 422 and "1 probleem gevonden" in one.text and "Problemen per kolom" not in one.text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("portfolio.pdf", b"%PDF-1.4", "“portfolio.pdf” is geen CSV-, Excel- (.xlsx) of JSON Lines-bestand."),
        ("", b"", "Kies het bestand dat u wilt importeren."),
        ("kapot.xlsx", b"geen zip", "Niets geïmporteerd uit kapot.xlsx"),
    ],
)
def test_the_wrong_file_gets_a_dutch_message_and_imports_nothing(beheerder: Browser, name, content, message):
    response = upload(beheerder, name, content)
    assert response.status_code == 422
    assert message in response.text
    if name != "kapot.xlsx":
        assert 'id="fout-bestand"' in response.text and 'href="#veld-bestand">Bestand:' in response.text
    assert "Traceback" not in response.text
    assert initiatives(beheerder) == 0


def test_only_a_beheerder_imports(anonymous: Browser):
    content = jsonl([valid_initiative()])
    assert anonymous.get(PAGE, follow_redirects=False).headers["location"].startswith("/inloggen")
    for role, province in (("medewerker", "NL-GE"), ("coordinator", None)):
        anonymous.cookies.clear()
        anonymous.login_as(role, province)
        assert anonymous.get(PAGE).status_code == 403
        assert upload(anonymous, "portfolio.jsonl", content).status_code == 403
    assert initiatives(anonymous) == 0


def test_an_upload_needs_the_forms_csrf_token_as_its_first_part(beheerder: Browser):
    content = jsonl([valid_initiative()])
    files = {"bestand": ("portfolio.jsonl", content, "application/octet-stream")}
    beheerder.csrf()
    assert beheerder.post(PAGE, files=files, follow_redirects=False).status_code == 403
    wrong = beheerder.post(PAGE, data={"csrf_token": "a" * 43}, files=files, follow_redirects=False)
    assert wrong.status_code == 403
    boundary = "grens"
    token = beheerder.csrf()
    late = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="bestand"; filename="p.jsonl"\r\n\r\n'
        f'{content.decode()}\r\n--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{token}\r\n--{boundary}--\r\n"
    ).encode()
    response = beheerder.post(
        PAGE,
        content=late,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert initiatives(beheerder) == 0
    assert upload(beheerder, "portfolio.jsonl", content).status_code == 303
