"""Unit tests for Dutch text analysis (search/dutch.py)."""

from __future__ import annotations

import re
import unicodedata

import pytest

from search.dutch import (
    STOP_WORDS,
    WORD_PATTERN,
    Synonyms,
    default_synonyms,
    fold,
    stem,
    stems,
    terms,
    tokenize,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Fryslân", "fryslan"),
        ("café", "cafe"),
        ("Coöperatie", "cooperatie"),
        ("ĲSSEL", "ijssel"),
        ("Straße", "strasse"),
    ],
)
def test_fold_lowercases_and_strips_diacritics(text, folded):
    assert fold(text) == folded


def test_tokenize_keeps_offsets_into_the_original():
    text = "Datalab in Fryslân, 2024!"
    tokens = tokenize(text)
    assert [t.term for t in tokens] == ["datalab", "in", "fryslan", "2024"]
    assert [text[t.start : t.end] for t in tokens] == ["Datalab", "in", "Fryslân", "2024"]


def test_terms_split_on_punctuation_and_underscores():
    assert terms("e-mobiliteit, AI/ML en data_lab") == ["e", "mobiliteit", "ai", "ml", "en", "data", "lab"]


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("datalabs", "datalab"),
        ("wegen", "weg"),
        ("fietspaden", "fietspad"),
        ("bomen", "boom"),
        ("straten", "straat"),
        ("huizen", "huis"),
        ("brieven", "brief"),
        ("processen", "proces"),
        ("katten", "kat"),
        ("mogelijkheden", "mogelijkheid"),
        ("gemeenten", "gemeente"),
        ("provincies", "provincie"),
        ("technologieen", "technologie"),
        ("woningen", "woning"),
        ("kansen", "kans"),
        ("cijfers", "cijfer"),
        ("drones", "drone"),
        ("chatbots", "chatbot"),
    ],
)
def test_stem_joins_plural_and_singular(plural, singular):
    assert stem(plural) == stem(singular)


@pytest.mark.parametrize(
    ("a", "b"), [("kans", "kan"), ("mens", "men"), ("stikstof", "stikstofdepositie"), ("weg", "wet")]
)
def test_stem_keeps_different_words_apart(a, b):
    assert stem(a) != stem(b)


def test_stem_leaves_numbers_and_short_words_alone():
    assert stem("2024") == "2024"
    assert stem("ai") == "ai"


def test_stop_words_are_dropped_from_queries():
    assert {"de", "het", "een", "van", "en"} <= STOP_WORDS
    concepts = default_synonyms().concepts("De kennis van het datalab")
    assert [c.typed for c in concepts] == [("kennis",), ("datalab",)]


def test_synonym_list_has_enough_groups_and_is_well_formed():
    synonyms = default_synonyms()
    assert len(synonyms.groups) >= 25
    assert all(len(group) >= 2 for group in synonyms.groups)


def test_concepts_match_multi_word_synonyms_on_stems():
    concepts = default_synonyms().concepts("digitale tweelingen voor de provincie")
    assert len(concepts) == 2
    assert concepts[0].typed == ("digitale", "tweelingen")
    assert ("digital", "twin") in concepts[0].alternatives
    assert concepts[1].alternatives == (("provincie",),)


def test_concepts_prefer_the_longest_phrase_and_keep_its_stop_words():
    concepts = default_synonyms().concepts("internet of things")
    assert len(concepts) == 1
    assert ("iot",) in concepts[0].alternatives


def test_english_function_words_are_dropped_from_queries_but_it_stays():
    concepts = default_synonyms().concepts("road inspection with cameras for the IT department")
    assert [c.typed for c in concepts] == [("road",), ("inspection",), ("cameras",), ("it",), ("department",)]


@pytest.mark.parametrize(
    ("query", "required", "excluded"),
    [
        ("stikstof AND water", [("stikstof",), ("water",)], []),
        ("stikstof NOT water", [("stikstof",)], [("water",)]),
        ("stikstof -water monitoring", [("stikstof",), ("monitoring",)], [("water",)]),
        ("NOT de water stikstof", [("stikstof",)], [("water",)]),
        ("stikstof OR ammoniak", [("stikstof", "ammoniak")], []),
        ("water AND", [("water",)], []),
        ("OR water", [("water",)], []),
        ("e-depot", [("e",), ("depot",)], []),
    ],
)
def test_query_operators_in_capitals(query, required, excluded):
    asked = default_synonyms().query_concepts(query)
    assert [tuple(word for phrase in c.alternatives for word in phrase) for c in asked.required] == required
    assert [c.typed for c in asked.excluded] == excluded


def test_or_joins_synonym_groups_into_one_concept():
    [either] = default_synonyms().query_concepts("drone OR iot").required
    assert {("drone",), ("iot",), ("internet", "of", "things")} <= set(either.alternatives)


def test_concepts_of_only_stop_words_are_empty():
    assert default_synonyms().concepts("de het een van") == []


def test_synonym_file_format():
    synonyms = Synonyms.parse("# comment\nwoo, Wet open overheid  # trailing\n\nfoo,bar, baz\n")
    assert synonyms.groups == (("woo", "Wet open overheid"), ("foo", "bar", "baz"))
    assert synonyms.alternatives(("wet", "open", "overheid")) == [("woo",), ("wet", "open", "overheid")]
    assert synonyms.alternatives(("foos",)) == [("foo",), ("bar",), ("baz",)]  # matched on stems


def test_decomposed_accents_do_not_split_words():
    decomposed = "Frysla\u0302n"
    assert terms(decomposed) == ["fryslan"]


TRICKY_TEXTS = [
    "Financiën\u2013ideeën voor de coöperatie",  # en dash between words
    "Fryslân\u00a0en\u2009Zeeland",  # no-break and thin space
    "‘Slimme’ sensoren, “digitale” tweeling",  # curly quotes
    "İstanbul en ĲSSEL in één Straße",  # letters that lowercase or fold to two characters
    "data_lab 2½ km² ﬁets",  # underscore, vulgar fraction, superscript, ligature
    "Frysla\u0302n q\u0303x",  # decomposed accents, one that has no precomposed form
    "日本語 and Ωmega 😀 emoji",
    "",
    "   \n\t ",
]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_terms_equal_folding_every_word_match(text):
    """`terms` takes byte-level shortcuts; it must still mean: fold each regex word of the NFC text."""
    nfc = unicodedata.normalize("NFC", text)
    assert terms(text) == [fold(word) for word in re.findall(WORD_PATTERN, nfc)]


def test_terms_of_non_ascii_text():
    assert terms("Financiën\u2013ideeën in Fryslân\u00a0‘slim’") == ["financien", "ideeen", "in", "fryslan", "slim"]


def test_stems_equal_stem_of_each_term():
    words = terms("Fietspaden, wegen en datalabs; de datalabs en één weg")
    assert stems(words) == [stem(w) for w in words]
    assert stems(words)[:3] == ["fietspad", "weg", "en"]
