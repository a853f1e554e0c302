"""Markdown to plain text (search/text.py): each rule still applies when its markup is present."""

from __future__ import annotations

import pytest

from search.text import plain_text


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("```python\nprint(1)\n```", "print(1)"),
        ("Zie ![kaart van Gelderland](kaart.png) hier", "Zie kaart van Gelderland hier"),
        ("Lees [het rapport](https://example.org/r.pdf).", "Lees het rapport."),
        ("Bron: <https://example.org>", "Bron:"),
        ("# Aanpak\n\n> citaat\n- punt een\n2. punt twee", "Aanpak\ncitaat\npunt een\npunt twee"),
        ("boven\n\n---\n\nonder", "boven\n\nonder"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "a b 1 2"),
        ("**vet**, *schuin*, `code`, ~~weg~~ en __ook vet__", "vet, schuin, code, weg en ook vet"),
        ("een _nadruk_ maar snake_case blijft", "een nadruk maar snake_case blijft"),
        ("veel   spaties\ten\t\ttabs", "veel spaties en tabs"),
        ("alinea\n\n\n\n\nvolgende", "alinea\n\nvolgende"),
    ],
)
def test_markup_is_removed(markdown, plain):
    assert plain_text(markdown) == plain


def test_plain_text_without_markup_is_kept_as_typed():
    text = "Stikstof meten in Fryslân - met sensoren (2024), 3 provincies; 1 pilot."
    assert plain_text(text) == text


def test_text_is_nfc_normalised():
    assert plain_text("Frysla\u0302n") == "Fryslân"
