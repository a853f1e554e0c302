"""The vectorised pair features equal their definitions, pair by pair (search/matching/features.py)."""

from __future__ import annotations

import math
import random
import unicodedata
from dataclasses import replace

import numpy as np

from search.dutch import fold
from search.matching.features import (
    EARLY_PHASES,
    FEATURES,
    PROVEN_PHASES,
    ItemFacts,
    pair_features,
    supplier_mentions,
    technology_idf,
)

PHASES = ["idee", "verkenning", "pilot", "implementatie", "opgeschaald", None]


def _facts(rng: random.Random, tags: list[str]) -> ItemFacts:
    def some(k: int) -> frozenset[str]:
        return frozenset(rng.sample(tags, rng.randint(0, k)))

    def day() -> float:
        return float(rng.randrange(17000, 20000)) if rng.random() < 0.6 else math.nan

    return ItemFacts(
        province=rng.randrange(12),
        phase=rng.choice(PHASES),
        themes=some(3),
        technologies=some(4),
        suppliers=some(2),
        categories=some(2),
        plans=rng.random() < 0.4,
        start=day(),
        end=day(),
        tender=day(),
    )


def _timing(fa: ItemFacts, fb: ItemFacts) -> float:
    if not math.isnan(fa.tender) and not math.isnan(fb.tender):
        gap = abs(fa.tender - fb.tender) - 365.0
    elif not math.isnan(fa.start) and not math.isnan(fb.start):
        end_a = math.inf if math.isnan(fa.end) else fa.end
        end_b = math.inf if math.isnan(fb.end) else fb.end
        gap = max(fa.start, fb.start) - min(end_a, end_b)
    else:
        return 0.0
    return 1.0 if gap <= 0 else max(0.0, 1.0 - gap / 730.0)


def _expected(fa: ItemFacts, fb: ItemFacts, idf: dict[str, float], default_idf: float) -> list[float]:
    """The features as documented, computed with Python sets."""

    def jaccard(x: frozenset[str], y: frozenset[str]) -> float:
        return len(x & y) / len(x | y) if x & y else 0.0

    shared_tech = fa.technologies & fb.technologies
    technologies = (
        (
            sum(idf.get(t, default_idf) for t in shared_tech)
            / sum(idf.get(t, default_idf) for t in fa.technologies | fb.technologies)
        )
        if shared_tech
        else 0.0
    )
    phase = (fa.phase in PROVEN_PHASES and fb.phase in EARLY_PHASES) or (
        fb.phase in PROVEN_PHASES and fa.phase in EARLY_PHASES
    )
    return [
        jaccard(fa.themes, fb.themes),
        float(bool(fa.suppliers & fb.suppliers)),
        technologies,
        float(bool(fa.categories & fb.categories)),
        float(phase),
        _timing(fa, fb),
        (fa.plans + fb.plans) / 2.0,
    ]


def test_vectorised_pair_features_equal_the_definitions_exactly():
    rng = random.Random(5)
    tags = [f"tag {i}" for i in range(150)]  # more than 64: several bit-mask words per row
    facts = [_facts(rng, tags) for _ in range(300)]
    idf = technology_idf([f.technologies for f in facts])
    a = np.array([rng.randrange(300) for _ in range(5000)])
    b = np.array([rng.randrange(300) for _ in range(5000)])
    zeros = np.zeros(len(a))
    got = pair_features(facts, a, b, zeros, zeros, idf, 3.0)
    columns = [
        FEATURES.index(name)
        for name in ("themes", "suppliers", "technologies", "categories", "phase", "timing", "partners")
    ]
    expected = np.array([_expected(facts[i], facts[j], idf, 3.0) for i, j in zip(a.tolist(), b.tolist())])
    assert np.array_equal(got[:, columns], expected)
    overlapping = (got[:, [FEATURES.index(name) for name in ("themes", "technologies")]] > 0).sum(axis=0)
    assert (overlapping > 30).all()  # the overlaps are really exercised


def test_suppliers_named_in_the_other_text_count_as_a_common_supplier_pair_by_pair():
    rng = random.Random(8)
    names = [f"leverancier {i}" for i in range(40)] + ["solo", "twee woorden", "!!!"]
    vocabulary = [word for name in names for word in name.split()] + ["de", "kaart", "data"]
    facts = [
        replace(
            _facts(rng, names),
            suppliers=frozenset(rng.sample(names, rng.randint(0, 2))),
            words=frozenset(rng.sample(vocabulary, rng.randint(0, 12))),
        )
        for _ in range(200)
    ]
    a = np.array([rng.randrange(200) for _ in range(4000)])
    b = np.array([rng.randrange(200) for _ in range(4000)])
    got = pair_features(facts, a, b, np.zeros(len(a)), np.zeros(len(a)), {}, 1.0)[:, FEATURES.index("suppliers")]
    expected = [
        float(
            bool(
                facts[i].suppliers & facts[j].suppliers
                or supplier_mentions(facts[i].suppliers, facts[j].words)
                or supplier_mentions(facts[j].suppliers, facts[i].words)
            )
        )
        for i, j in zip(a.tolist(), b.tolist())
    ]
    assert got.tolist() == expected
    named_only = sum(
        1
        for i, j in zip(a.tolist(), b.tolist())
        if not facts[i].suppliers & facts[j].suppliers and supplier_mentions(facts[i].suppliers, facts[j].words)
    )
    assert named_only > 30  # the mentions are really exercised


def test_pair_features_of_no_pairs():
    assert pair_features(
        [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), {}, 1.0
    ).shape == (0, len(FEATURES))


def test_fold_equals_its_definition_on_ascii_and_accented_text():
    def definition(text: str) -> str:
        decomposed = unicodedata.normalize(
            "NFKD",
            text.lower().translate(str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d"})),
        )
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

    rng = random.Random(3)
    texts = ["Fryslân", "ĳsbaan", "Café Één", "Straße", "ASCII Tekst", "coördinatie", "\u0301a"]
    texts += ["".join(chr(rng.randrange(0x20, 0x2FF)) for _ in range(rng.randrange(1, 40))) for _ in range(2000)]
    assert [fold(t) for t in texts] == [definition(t) for t in texts]


def test_categories_named_in_a_text_equal_the_phrase_definition():
    """A category is named when one of its tags' words, one after the other, end in "", "s" or "en"."""
    from search.matching.features import _CATEGORY_OF_TAG_WORDS, _WORD, product_categories

    rng = random.Random(4)
    tags = [*_CATEGORY_OF_TAG_WORDS, "de", "het", "Drone's", "ÉLAN", "3D-modellen", "power"]
    for _ in range(2000):
        text = " ".join(t + rng.choice(["", "s", "en", "x"]) for t in rng.choices(tags, k=rng.randint(0, 6)))
        padded = f" {' '.join(_WORD.findall(fold(text)))} "
        expected = {
            name
            for tag, name in _CATEGORY_OF_TAG_WORDS.items()
            if any(f" {tag}{ending} " in padded for ending in ("", "s", "en"))
        }
        assert product_categories((), text) == expected


def test_text_words_of_ascii_text_equal_the_pattern_on_the_folded_text():
    from search.matching.features import _WORD, text_words

    rng = random.Random(2)
    characters = "abcXYZ019 _-.,;:'\"!?()<>/\\\n\t\x0b\x1c@#%&*+=|~`"
    for _ in range(3000):
        text = "".join(rng.choices(characters, k=rng.randint(0, 60)))
        assert text_words(text) == frozenset(_WORD.findall(fold(text)))
    assert text_words("Fryslân en Ĳssel") == frozenset(_WORD.findall(fold("Fryslân en Ĳssel")))


def test_words_and_buying_equal_text_words_and_buying_words():
    from search.matching.features import buying_words, text_words, words_and_buying

    rng = random.Random(3)
    pieces = [
        "inkoop",
        "Aanbesteding",
        "subcontracten",
        "pakket",
        "pakketten",
        "SaaS",
        "licenties",
        "de",
        "tender2",
        "e-depot",
        "leverancier_x",
        "Fryslân",
        "offerte.",
        "bestek,",
        "framework-contract",
        "verlengen",
        "x",
    ]
    for _ in range(3000):
        text = rng.choice([" ", "\n", ", "]).join(rng.choices(pieces, k=rng.randint(0, 12)))
        assert words_and_buying(text) == (text_words(text), buying_words(text))


def test_the_remembered_buying_words_are_those_the_pattern_matches_also_past_the_bound():
    from search.matching.features import _BUYING_WORDS, _WordClass

    rng = random.Random(4)
    pieces = ["inkoop", "aanbesteding", "pakket", "pakketten", "saas", "de", "tender2", "offerte", "x", "bestek"]
    words = [rng.choice(pieces) + rng.choice(["", "", "s", "en", "1"]) for _ in range(400)]
    remembered = _WordClass(_BUYING_WORDS, remember=12)
    for _ in range(300):
        some = rng.sample(words, rng.randint(0, 20))
        assert remembered.among(some) == {word for word in some if _BUYING_WORDS.fullmatch(word)}
