"""The Meilisearch request/response mapping, checked without a server
(a fake client records the calls; the contract suite covers a real one)."""

from __future__ import annotations

from datetime import UTC, datetime

from meilisearch.errors import MeilisearchApiError

from search.documents import SearchDocument, SearchQuery
from search.dutch import default_synonyms
from search.meili_index import (
    MeiliIndex,
    filter_expression,
    hit_highlights,
    hit_vector,
    meili_document,
    meili_settings,
    meili_text,
    search_params,
    stemmed_synonyms,
)

DOC = SearchDocument(
    id=7,
    external_id="KB-7",
    province="NL-FR",
    province_name="Fryslân",
    kind="living_lab",
    title="Fietspaden",
    summary="Kort.",
    body="**Vet** [link](https://x.nl)",
    themes=("mobiliteit", "data en AI"),
    phase="pilot",
    programme_line=None,
    technologies=("LiDAR",),
    suppliers=(),
    status="gepubliceerd",
    year=2023,
    updated_at=datetime(2024, 1, 2, tzinfo=UTC),
    content_hash="abc",
    vector=(0.1, 0.2),
)


def test_document_payload():
    payload = meili_document(DOC, with_vectors=True)
    assert payload["id"] == 7
    assert payload["body"] == "Vet link"
    assert payload["theme"] == ["mobiliteit", "data en AI"]
    assert payload["year"] == "2023" and payload["programme_line"] is None
    assert payload["title_stems"] == "fietspad"
    assert payload["updated_at_ts"] == 1704153600
    assert payload["_vectors"] == {"default": [0.1, 0.2]}
    assert "_vectors" not in meili_document(DOC, with_vectors=False)


def test_settings_make_every_facet_filterable():
    settings = meili_settings(default_synonyms())
    assert {"province", "kind", "theme", "phase", "programme_line", "year", "status", "id"} <= set(
        settings["filterableAttributes"]
    )
    assert settings["searchableAttributes"][0] == "title"
    assert "de" in settings["stopWords"]


def test_synonyms_are_symmetric_and_include_stemmed_forms():
    mapping = stemmed_synonyms(default_synonyms())
    assert "digital twin" in mapping["digitale tweeling"]
    assert "digitale tweeling" in mapping["digital twin"]
    assert "digital twin" in mapping["digital tweeling"]  # the stemmed query form


def test_filter_expression_quotes_values():
    expression = filter_expression({"province": ["NL-GE", 'a"b'], "kind": []}, exclude_ids=[3])
    assert expression == 'province IN ["NL-GE", "a\\"b"] AND id NOT IN [3]'


def test_search_params_for_hybrid_and_date_sort():
    query = SearchQuery(
        text="wegen", vector=(1.0, 0.0), semantic_ratio=0.4, sort="date", facets=("kind",), page=2, per_page=5
    )
    concepts = default_synonyms().concepts(query.text)
    assert meili_text(concepts) == "weg"
    params = search_params(query, concepts, semantic=True)
    assert params["hybrid"] == {"semanticRatio": 0.4, "embedder": "default"}
    assert params["sort"] == ["updated_at_ts:desc"]
    assert (params["page"], params["hitsPerPage"], params["facets"]) == (2, 5, ["kind"])


def test_hit_highlights_are_escaped():
    hit = {"id": 1, "_formatted": {"title": "<script>\ue000AI\ue001", "summary": "x", "body": "geen match"}}
    assert hit_highlights(hit) == {"title": "&lt;script&gt;<mark>AI</mark>", "summary": "x"}


def test_hit_vector_accepts_both_shapes():
    assert hit_vector({"_vectors": {"default": {"embeddings": [[1.0, 2.0]], "regenerate": False}}}) == [
        1.0,
        2.0,
    ]
    assert hit_vector({"_vectors": {"default": [1.0, 2.0]}}) == [1.0, 2.0]
    assert hit_vector({}) is None


class FakeTask:
    def __init__(self, uid: int) -> None:
        self.task_uid = uid


class FakeIndex:
    """Records what MeiliIndex sends; answers like Meilisearch would."""

    def __init__(self, client: FakeClient) -> None:
        self.client = client
        self.settings: dict | None = None
        self.documents: list[dict] = []
        self.searches: list[tuple[str, dict]] = []

    def _task(self, *call):
        self.client.calls.append(call)
        return FakeTask(len(self.client.calls))

    def get_settings(self):
        if self.settings is None:
            response = type("Response", (), {"status_code": 404, "text": '{"code": "index_not_found"}'})()
            raise MeilisearchApiError("not found", response)
        return self.settings

    def update_settings(self, settings):
        self.settings = settings
        return self._task("update_settings")

    def update_embedders(self, embedders):
        self.settings = {**(self.settings or {}), "embedders": embedders}
        return self._task("update_embedders", embedders)

    def add_documents(self, documents, primary_key=None):
        self.documents.extend(documents)
        return self._task("add_documents", primary_key)

    def search(self, q, params):
        self.searches.append((q, params))
        return {
            "hits": [
                {
                    "id": 7,
                    "_rankingScore": 0.9,
                    "_formatted": {"title": "\ue000Fiets\ue001paden <b>", "summary": "s"},
                }
            ],
            "totalHits": 1,
            "facetDistribution": {"kind": {"living_lab": 1}},
        }


class FakeClient:
    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.fake_index = FakeIndex(self)

    def index(self, name):
        return self.fake_index

    def create_index(self, name, options):
        self.calls.append(("create_index", name, options))
        self.fake_index.settings = {}
        return FakeTask(len(self.calls))

    def wait_for_task(self, uid, timeout_in_ms=None):
        return type("Task", (), {"uid": uid, "status": "succeeded", "type": "x", "error": None})()


def test_meili_index_creates_configures_and_waits():
    client = FakeClient()
    index = MeiliIndex("http://unused", None, "kb", client=client)
    assert client.calls[0] == ("create_index", "kb", {"primaryKey": "id"})
    assert client.fake_index.settings["filterableAttributes"][:2] == ["province", "kind"]

    index.upsert([DOC])
    assert ("update_embedders", {"default": {"source": "userProvided", "dimensions": 2}}) in client.calls
    assert client.fake_index.documents[0]["_vectors"] == {"default": [0.1, 0.2]}


def test_meili_index_maps_search_results():
    client = FakeClient()
    index = MeiliIndex("http://unused", None, "kb", client=client)
    results = index.search(SearchQuery(text="de fietspaden", filters={"province": ["NL-FR"]}, facets=("kind",)))
    q, params = client.fake_index.searches[-1]
    assert q == "fietspad"
    assert params["filter"] == 'province IN ["NL-FR"]'
    assert results.total == 1
    assert results.hits[0].highlights["title"] == "<mark>Fiets</mark>paden &lt;b&gt;"
    assert results.facets == {"kind": {"living_lab": 1}}


def test_meili_index_answers_stop_word_queries_without_asking():
    client = FakeClient()
    index = MeiliIndex("http://unused", None, "kb", client=client)
    assert index.search(SearchQuery(text="de het")).total == 0
    assert client.fake_index.searches == []
