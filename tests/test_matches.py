"""The coordinators' review on the seed data: every stored pair, the queue's filters and pages, the
side-by-side view, the plain-form decision, the clusters, the API's paging and the CLI.

`tests/test_match_review.py` covers the workflow rules on a handful of hand-made initiatives; this
module checks the same surfaces against the whole seed (real SQLite file, lexical matching only).
"""

from __future__ import annotations

import json
import re

import pytest

from kennisbank import cli
from kennisbank.matching.service import MatchFilters
from kennisbank.models import MatchEvent, MatchStatus, MatchSuggestion
from kennisbank.settings import Settings
from kennisbank.taxonomy import THEME_NAMES
from kennisbank.web.app import create_app
from kennisbank.web.pages.matches import highlight
from search.matching.reasons import dutch_list
from tests.conftest import Browser, run_cli
from tests.databases import database_url_for

PAGE_SIZE = 5


@pytest.fixture(scope="module")
def seeded_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("seeded-matches") / "data"
    assert run_cli(data_dir, "seed").returncode == 0
    return data_dir


@pytest.fixture
def coordinator(seeded_dir):
    """A coordinator's client on the seeded database, with a small page so that paging shows."""
    settings = Settings(
        data_dir=seeded_dir, database_url=database_url_for(seeded_dir), embedding_model="none", page_size=PAGE_SIZE
    )
    with Browser(create_app(settings)) as client:
        client.login_as("coordinator", None)
        yield client


def all_matches(client: Browser) -> list[MatchSuggestion]:
    return client.run(
        lambda: MatchSuggestion.all().prefetch_related("a__province", "a__themes", "b__province", "b__themes")
    )


def names_in(reason: str, prefix: str) -> list[str]:
    """The names a reason lists after its prefix ('a', 'a en b', 'a, b en c'); names that contain
    ' en ' themselves (the theme 'data en AI') are kept whole."""
    rest = reason.removeprefix(prefix)
    for name in THEME_NAMES:
        if name in rest:
            rest = rest.replace(name, name.replace(" en ", "\0"))
    return [n.replace("\0", " en ") for n in _split_list(rest)]


def _split_list(rest: str) -> list[str]:
    head, _, last = rest.rpartition(" en ")
    return [*(n.strip() for n in head.split(",") if n.strip()), last.strip()] if head else [rest.strip()]


def folded(values) -> set[str]:
    return {v.casefold() for v in values}


def queue_cards(html: str) -> list[tuple[int, str, float]]:
    """(match id, meta line, score) of each card in the queue, in order."""
    cards = re.findall(r'<a href="/matches/(\d+)">.*?</a></h3>\s*<p class="meta">(.*?)</p>', html, re.S)
    return [(int(i), meta, int(re.search(r"score (\d+) van 100", meta).group(1)) / 100) for i, meta in cards]


def test_every_stored_pair_spans_two_provinces_and_its_reasons_name_shared_evidence(coordinator):
    found = all_matches(coordinator)
    assert len(found) >= 10
    for match in found:
        assert match.a.province_id != match.b.province_id, (match.a.title, match.b.title)
        assert match.reasons and 0 < match.score <= 1
        themes_a, themes_b = folded(t.name for t in match.a.themes), folded(t.name for t in match.b.themes)
        for reason in match.reasons:
            for prefix, a, b in (
                ("Beide werken met leveranciers ", match.a.suppliers, match.b.suppliers),
                ("Beide werken met leverancier ", match.a.suppliers, match.b.suppliers),
                ("Beide gebruiken ", match.a.technologies, match.b.technologies),
                ("Zelfde thema's: ", themes_a, themes_b),
                ("Zelfde thema: ", themes_a, themes_b),
            ):
                if reason.startswith(prefix):
                    for name in names_in(reason, prefix):
                        assert name.casefold() in folded(a) and name.casefold() in folded(b), (reason, match.id)
                    break
    assert any(r.startswith("Beide werken met leverancier") for m in found for r in m.reasons)


def test_the_queue_is_sorted_by_score_paged_and_filtered_through_the_url(coordinator):
    first = coordinator.get("/matches").text
    cards = queue_cards(first)
    assert len(cards) == PAGE_SIZE
    scores = [score for _, _, score in cards]
    assert scores == sorted(scores, reverse=True)
    assert "Pagina 1 van" in first and "pagina=2" in first
    second = queue_cards(coordinator.get("/matches", params={"pagina": 2}).text)
    assert second and not {i for i, _, _ in second} & {i for i, _, _ in cards}
    assert max(score for _, _, score in second) <= min(scores)

    limburg = coordinator.get("/matches", params={"province": "NL-LI"}).text
    assert re.search(r'<option value="NL-LI"\s+selected', limburg)
    limburg_ids = {i for i, _, _ in queue_cards(limburg)}
    stored = {m.id: m for m in all_matches(coordinator)}
    assert limburg_ids and all("NL-LI" in (stored[i].a.province_id, stored[i].b.province_id) for i in limburg_ids)

    kind = stored[cards[0][0]].type
    typed = coordinator.get("/matches", params={"type": kind}).text
    assert re.search(rf'value="{kind}" checked', typed)
    assert all(stored[i].type == kind for i, _, _ in queue_cards(typed))

    theme = next(iter(stored[cards[0][0]].a.themes))
    themed = queue_cards(coordinator.get("/matches", params={"theme": theme.slug}).text)
    assert cards[0][0] in {i for i, _, _ in themed}


def test_the_htmx_filter_request_gets_only_the_results_and_bad_filters_are_explained_in_dutch(coordinator):
    fragment = coordinator.get("/matches", params={"status": "voorgesteld"}, headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<section id="matchgebied"') and "<html" not in fragment
    bad = coordinator.get("/matches", params={"status": "misschien", "type": "vriendschap"}).text
    assert "Status: Kies voorgesteld, geaccepteerd, afgewezen of aangehouden." in bad
    assert "Soort samenwerking: Kies" in bad
    assert "Kies joint_procurement, scaling_up of knowledge_exchange." in bad


def test_the_side_by_side_view_marks_shared_terms_in_both_initiatives(coordinator):
    top = next(m for m in sorted(all_matches(coordinator), key=lambda m: -m.score) if m.shared_terms)
    html = coordinator.get(f"/matches/{top.id}").text
    sides = html.split('<section aria-labelledby="kant-')[1:]
    assert len(sides) == 2
    for side in sides:
        assert "<mark>" in side
    assert top.a.province.name in sides[0] and top.b.province.name in sides[1]
    for reason in top.reasons:
        assert str(highlight(reason, [])) in html  # reasons listed, escaped like the template escapes them
    assert coordinator.get("/matches/999999").status_code == 404


def test_highlighting_escapes_the_text_before_marking_it():
    marked = str(highlight('<script>alert("wegdek")</script> Wegdekinspectie & meer', ["wegdek"]))
    assert "<script>" not in marked and "&lt;script&gt;" in marked and "&amp; meer" in marked
    assert "<mark>Wegdekinspectie</mark>" in marked


def test_a_plain_form_decision_redirects_records_history_and_a_bad_status_changes_nothing(coordinator):
    match = all_matches(coordinator)[-1]
    refused = coordinator.submit(f"/matches/{match.id}/beoordeling", {"status": "misschien"})
    assert refused.status_code == 422 and "Kies geaccepteerd, afgewezen, aangehouden of voorgesteld." in refused.text
    assert coordinator.run(MatchSuggestion.get, id=match.id).status == match.status

    held = coordinator.submit(
        f"/matches/{match.id}/beoordeling", {"status": "aangehouden", "note": "Na <de> zomer"}, follow_redirects=False
    )
    assert held.status_code == 303 and held.headers["location"] == f"/matches/{match.id}?beoordeeld=1"
    page = coordinator.get(held.headers["location"]).text
    assert "Opgeslagen." in page and "Aangehouden" in page and "Na &lt;de&gt; zomer" in page
    assert "Geschiedenis" in page
    in_queue = {i for i, _, _ in queue_cards(coordinator.get("/matches", params={"status": "aangehouden"}).text)}
    assert match.id in in_queue
    back = coordinator.post(f"/api/v1/matches/{match.id}/decision", json={"status": "voorgesteld"})
    assert back.status_code == 200 and back.json()["status"] == "voorgesteld"
    events = coordinator.run(MatchEvent.filter(match_id=match.id).order_by("id").all)
    assert [(e.from_status, e.to_status) for e in events][-2:] == [
        ("voorgesteld", "aangehouden"),
        ("aangehouden", "voorgesteld"),
    ]


def test_the_htmx_decision_returns_the_decision_area_and_announces_it_in_the_page_live_region(coordinator):
    match = all_matches(coordinator)[0]
    page = coordinator.get(f"/matches/{match.id}").text
    assert re.search(r'<p id="beoordeling-melding"[^>]*role="status" aria-live="polite"></p>', page)
    assert 'hx-post="/matches/%d/beoordeling"' % match.id in page and 'name="csrf_token"' in page
    response = coordinator.submit(
        f"/matches/{match.id}/beoordeling",
        {"status": "afgewezen", "note": "Te verschillend"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "<html" not in response.text
    fragment = response.text.strip()
    assert fragment.startswith('<section id="beoordeling"') and fragment.count("<section") == 1
    assert re.search(
        r'<p id="beoordeling-melding" hx-swap-oob="innerHTML">Opgeslagen\. Status: Afgewezen\.</p>$', fragment
    )
    assert coordinator.run(MatchSuggestion.get, id=match.id).status == "afgewezen"
    too_long = coordinator.submit(
        f"/matches/{match.id}/beoordeling",
        {"status": "geaccepteerd", "note": "x" * 2001},
        headers={"HX-Request": "true"},
    )
    assert too_long.status_code == 200  # htmx swaps only 2xx responses: the error must be shown in place
    assert too_long.text.lstrip().startswith('<section id="beoordeling"') and 'role="alert"' in too_long.text
    assert "Gebruik maximaal 2000 tekens." in too_long.text and "beoordeling-melding" not in too_long.text
    assert coordinator.run(MatchSuggestion.get, id=match.id).status == "afgewezen"
    coordinator.post(f"/api/v1/matches/{match.id}/decision", json={"status": "voorgesteld"})


def test_an_accepted_match_shows_on_both_pages_for_a_medewerker_of_a_third_province(coordinator):
    match = all_matches(coordinator)[1]
    accepted = coordinator.post(
        f"/api/v1/matches/{match.id}/decision", json={"status": "geaccepteerd", "note": "Samen <b>inkopen</b>"}
    )
    assert accepted.status_code == 200
    third = next(
        code for code in ("NL-UT", "NL-FR", "NL-GR", "NL-DR") if code not in (match.a.province_id, match.b.province_id)
    )
    coordinator.login_as("medewerker", third)
    for this, other in ((match.a, match.b), (match.b, match.a)):
        page = coordinator.get(f"/initiatieven/{this.id}").text
        section = page.split('<h2 id="samenwerking">Samenwerking (geaccepteerde matches)</h2>')[1].split("</section>")[
            0
        ]
        assert f'href="/initiatieven/{other.id}"' in section and other.province.name in section
        assert "Samen &lt;b&gt;inkopen&lt;/b&gt;" in section
    coordinator.login_as("coordinator", None)
    coordinator.post(f"/api/v1/matches/{match.id}/decision", json={"status": "voorgesteld"})


def test_anonymous_visitors_are_sent_to_the_login_page(seeded_dir):
    settings = Settings(data_dir=seeded_dir, database_url=database_url_for(seeded_dir), embedding_model="none")
    with Browser(create_app(settings)) as client:
        for path in ("/matches", "/matches/clusters"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/inloggen?volgende=")
        assert client.get("/api/v1/matches").status_code == 401


def test_accepting_two_pairs_that_share_an_initiative_across_three_provinces_makes_a_cluster(coordinator):
    found = all_matches(coordinator)
    first, second = next(
        (m, n)
        for m in found
        for n in found
        if m.id < n.id
        and {m.a_id, m.b_id} & {n.a_id, n.b_id}
        and len({m.a.province_id, m.b.province_id, n.a.province_id, n.b.province_id}) >= 3
    )
    for match in (first, second):
        coordinator.post(f"/api/v1/matches/{match.id}/decision", json={"status": "geaccepteerd"})
    html = coordinator.get("/matches/clusters").text
    sections = html.split('<section aria-labelledby="cluster-')[1:]
    members = {first.a.title, first.b.title, second.a.title, second.b.title}
    ours = [s for s in sections if all(str(highlight(t, [])) in s for t in members)]
    assert len(ours) == 1
    assert int(re.search(r"· (\d+) provincies ·", ours[0]).group(1)) >= 3
    assert "Gezamenlijke aanbesteding" in ours[0] or "Gezamenlijk IDA-project" in ours[0]
    assert all(int(n) >= 3 for n in re.findall(r"· (\d+) provincies ·", html))
    for match in (first, second):
        coordinator.post(f"/api/v1/matches/{match.id}/decision", json={"status": "voorgesteld"})


def test_the_api_pages_like_the_queue_and_lists_every_invalid_parameter(coordinator):
    everything = coordinator.get("/api/v1/matches", params={"perPage": 100}).json()
    first = coordinator.get("/api/v1/matches", params={"perPage": 3, "page": 1}).json()
    second = coordinator.get("/api/v1/matches", params={"perPage": 3, "page": 2}).json()
    assert first["total"] == second["total"] == everything["total"] > 3
    assert (first["page"], first["per_page"], len(first["items"])) == (1, 3, 3)
    assert [m["id"] for m in first["items"] + second["items"]] == [m["id"] for m in everything["items"][:6]]
    bad = coordinator.get("/api/v1/matches", params={"perPage": 0, "page": "x", "minScore": 2})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in bad.json()["errors"]} == {"perPage", "page", "minScore"}
    match_id = first["items"][0]["id"]
    wrong = coordinator.post(
        f"/api/v1/matches/{match_id}/decision", json={"status": "ja", "note": "x" * 2001, "reviewer": "ik"}
    )
    assert wrong.status_code == 400 and wrong.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in wrong.json()["errors"]} == {"status", "note", "reviewer"}
    assert "Gebruik maximaal 2000 tekens." in json.dumps(wrong.json(), ensure_ascii=False)
    assert coordinator.post(f"/api/v1/matches/{match_id}/decision", json=["geaccepteerd"]).status_code == 400
    assert coordinator.post("/api/v1/matches/999999/decision", json={"status": "geaccepteerd"}).status_code == 404
    assert coordinator.get(f"/api/v1/matches/{match_id}").json()["status"] == first["items"][0]["status"]


def test_cli_json_matches_the_api(coordinator, seeded_dir):
    result = run_cli(seeded_dir, "matches", "--json", "--status", "voorgesteld", "--limit", "100")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    api = coordinator.get("/api/v1/matches", params={"perPage": 100, "status": "voorgesteld"}).json()
    assert [(i["a"]["external_id"], i["b"]["external_id"]) for i in items] == [
        (i["a"]["external_id"], i["b"]["external_id"]) for i in api["items"]
    ]
    for item in items:
        assert {"external_id", "province", "title"} <= item["a"].keys() and {
            "external_id",
            "province",
            "title",
        } <= item["b"].keys()
        assert item["a"]["province"] != item["b"]["province"] and item["status"] == "voorgesteld"
        assert isinstance(item["reasons"], list) and item["reasons"] and isinstance(item["score"], float)


def test_cli_json_lists_the_whole_queue_and_the_terminal_a_page(seeded_dir):
    """A script measuring the queue reads `matches --json` without thinking of --limit: it gets every
    suggestion (read a page at a time), the terminal the first 20."""
    whole = json.loads(run_cli(seeded_dir, "matches", "--json").stdout)
    assert whole["total"] > 20 and len(whole["items"]) == whole["total"]
    scores = [item["score"] for item in whole["items"]]
    assert scores == sorted(scores, reverse=True)
    pairs = [(item["a"]["external_id"], item["b"]["external_id"]) for item in whole["items"]]
    assert len(set(pairs)) == len(pairs)
    first = json.loads(run_cli(seeded_dir, "matches", "--json", "--limit", "7").stdout)
    assert first["total"] == whole["total"] and first["items"] == whole["items"][:7]
    listed = run_cli(seeded_dir, "matches").stdout.splitlines()
    assert listed[0] == f"{whole['total']} suggesties"
    assert sum(1 for line in listed if not line.startswith("     - ")) == 1 + 20


def test_cli_json_reads_the_queue_a_page_at_a_time(coordinator, monkeypatch):
    monkeypatch.setattr(cli, "MATCHES_PAGE", 20)
    filters = MatchFilters(status=(MatchStatus.VOORGESTELD,))
    total, listed = coordinator.run(lambda: cli._all_matches(filters, None))
    assert total > 2 * 20 and len(listed) == total and len({m.id for m in listed}) == total
    assert [m.score for m in listed] == sorted((m.score for m in listed), reverse=True)
    again, first = coordinator.run(lambda: cli._all_matches(filters, 25))
    assert again == total and [m.id for m in first] == [m.id for m in listed[:25]]


def test_dutch_list_reading_matches_the_reason_format():
    assert names_in("Beide gebruiken " + dutch_list(["a", "b", "c"]), "Beide gebruiken ") == ["a", "b", "c"]
