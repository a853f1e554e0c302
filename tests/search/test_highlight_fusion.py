"""Unit tests for highlighting and rank fusion."""

from __future__ import annotations

from search.dutch import default_synonyms
from search.fusion import reciprocal_rank_fusion, score_fusion
from search.highlight import TermMatcher, crop, from_sentinels, highlight, snippet, within_distance


def matcher(query: str, expansions=(), typo_words=()) -> TermMatcher:
    return TermMatcher(default_synonyms().concepts(query), expansions, typo_words)


def test_highlight_escapes_and_marks():
    assert highlight("<b>Datalabs</b> & co", matcher("datalab")) == "&lt;b&gt;<mark>Datalabs</mark>&lt;/b&gt; &amp; co"


def test_highlight_marks_diacritics_typos_and_compounds():
    m = matcher("fryslan stikstf", expansions={"stikstofdepositie"}, typo_words={"stikstf"})
    assert highlight("Fryslân meet stikstofdepositie en stikstof", m) == (
        "<mark>Fryslân</mark> meet <mark>stikstofdepositie</mark> en <mark>stikstof</mark>"
    )


def test_only_typo_words_match_fuzzily():
    assert highlight("provincies", matcher("provincie")) == "<mark>provincies</mark>"  # by stem
    assert highlight("datalas", matcher("datalab")) == "datalas"  # one edit, but datalab is no typo
    assert highlight("stikstof", matcher("stikstf")) == "stikstof"


def test_snippet_picks_the_window_with_matches():
    text = "Inleiding. " * 40 + "Het datalab deelt data. " + "Slot. " * 40
    result = snippet(text, matcher("datalab"), max_chars=80)
    assert result is not None
    assert "<mark>datalab</mark>" in result
    assert result.startswith("…") and result.endswith("…")
    assert len(result) < 140


def test_snippet_without_match_is_none_and_crop_falls_back_to_the_start():
    assert snippet("Niets te zien hier.", matcher("datalab")) is None
    assert crop("Een lange tekst " * 20, matcher("datalab"), 40).endswith("…")


def test_from_sentinels_escapes_everything_but_the_marks():
    assert from_sentinels("<i>\ue000AI\ue001</i>", "\ue000", "\ue001") == "&lt;i&gt;<mark>AI</mark>&lt;/i&gt;"


def test_within_distance_counts_transpositions_as_one():
    assert within_distance("stikstf", "stikstof", 1)
    assert within_distance("klimaatadaptaite", "klimaatadaptatie", 1)
    assert not within_distance("weg", "wet open", 1)


def test_rrf_blends_by_ratio():
    keyword = [(1, 9.0), (2, 5.0)]
    semantic = [(3, 0.9), (2, 0.8)]
    assert [i for i, _ in reciprocal_rank_fusion(keyword, semantic, 0.0)][:2] == [1, 2]
    assert [i for i, _ in reciprocal_rank_fusion(keyword, semantic, 1.0)][:2] == [3, 2]
    assert reciprocal_rank_fusion(keyword, semantic, 0.5)[0][0] == 2  # in both lists


def test_score_fusion_normalises_bm25():
    fused = dict(score_fusion([(1, 20.0), (2, 10.0)], [(2, 0.9), (3, 0.5)], 0.5))
    assert fused[1] == 0.5
    assert fused[2] == 0.25 + 0.45
    assert fused[3] == 0.25
