import pytest

from kennisbank.initiatives.validation import FIELD_LABELS, InputError, parse_initiative, required_message
from kennisbank.taxonomy import PROVINCES, find_province, find_theme
from tests.conftest import valid_initiative


def errors_of(**changes):
    with pytest.raises(InputError) as caught:
        parse_initiative(valid_initiative(**changes))
    return caught.value.errors


def test_twelve_provinces_with_iso_codes():
    assert len(PROVINCES) == 12
    assert {p.code for p in PROVINCES} == {
        "NL-GR",
        "NL-FR",
        "NL-DR",
        "NL-OV",
        "NL-FL",
        "NL-GE",
        "NL-UT",
        "NL-NH",
        "NL-ZH",
        "NL-ZE",
        "NL-NB",
        "NL-LI",
    }


@pytest.mark.parametrize("text", ["NL-FR", "nl-fr", "FR", "Fryslân", "Fryslan", "friesland", "FRIESLAND"])
def test_fryslan_is_found_by_every_spelling(text):
    assert find_province(text).code == "NL-FR"


@pytest.mark.parametrize("text", ["noord holland", "Noord-Holland", "NL-NH"])
def test_hyphen_and_space_are_equivalent(text):
    assert find_province(text).code == "NL-NH"


def test_themes_match_case_insensitively_and_by_slug():
    assert find_theme("Data en AI").slug == "data-en-ai"
    assert find_theme("DATA-EN-AI").name == "data en AI"
    assert find_theme("vliegen") is None


def test_valid_input_is_normalised():
    data = parse_initiative(
        valid_initiative(
            province="Friesland",
            themes=["Stikstof", "stikstof", "DATA EN AI"],
            technologies=["Computer Vision", " computer  vision ", "IoT"],
            suppliers=["RoadSense", "roadsense", "GeoTwin BV"],
        )
    )
    assert data.province == "NL-FR"
    assert data.themes == ["data-en-ai", "stikstof"]
    assert data.technologies == ["computer vision", "iot"]
    assert data.suppliers == ["RoadSense", "GeoTwin BV"]


def test_missing_required_fields_are_reported_in_dutch():
    with pytest.raises(InputError) as caught:
        parse_initiative({})
    errors = caught.value.errors
    for field in ("province", "kind", "title", "summary", "themes", "phase"):
        assert errors[field] == [required_message(FIELD_LABELS[field])], field
    assert errors["themes"] == ["Vul ‘Thema's’ in; dit veld is verplicht."]


def test_empty_title_is_required_not_too_short():
    assert errors_of(title="  ")["title"] == ["Vul ‘Titel’ in; dit veld is verplicht."]
    assert errors_of(title="ab")["title"] == ["Vul minimaal 3 tekens in."]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("province", "Vlaanderen", "Onbekende provincie “Vlaanderen”"),
        ("kind", "hackathon", "Kies een van"),
        ("phase", "klaar", "Kies een van"),
        ("themes", ["ruimtevaart"], "Onbekend thema: “ruimtevaart”"),
        ("themes", ["ruimtevaart"], "Kies uit: "),  # and the themes there are, so an import can be fixed
        ("themes", [], "Vul ‘Thema's’ in; dit veld is verplicht."),
        ("budget_eur", "twee ton", "heel getal"),
        ("budget_eur", -5, "niet negatief"),
        ("start_date", "31-12-2025", "Geen geldige datum"),
        ("start_date", "0202-05-01", "Het jaartal 202 lijkt niet te kloppen; kies een datum tussen 1950 en 2100."),
        ("end_date", "2205-01-01", "Het jaartal 2205 lijkt niet te kloppen"),
        ("tender_date", "1949-12-31", "Het jaartal 1949 lijkt niet te kloppen"),
        ("contact_email", "iemand-at-provincie", "Geen geldig e-mailadres"),
        ("links", ["javascript:alert(1)"], "alleen http:// en https://"),
        ("links", ["ftp://example.org/x"], "alleen http:// en https://"),
        ("external_id", "GE 001 <b>", "alleen letters, cijfers"),
        ("partners", ["Waterschap " + "x" * 60], "is te lang (maximaal 60 tekens per label)"),
        ("partners", [f"Partner {i}" for i in range(51)], "Maximaal 50 items."),
    ],
)
def test_bad_values_get_a_dutch_message_on_their_field(field, value, fragment):
    errors = errors_of(**{field: value})
    assert fragment in " ".join(errors[field])


@pytest.mark.parametrize(
    ("field", "written", "code"),
    [
        ("kind", "Goed voorbeeld", "best_practice"),
        ("kind", "best practice", "best_practice"),
        ("kind", "LIVING-LAB", "living_lab"),
        ("kind", "Portfolioproject", "portfolio_project"),
        ("phase", "Pilot", "pilot"),
        ("phase", " Opgeschaald ", "opgeschaald"),
        ("status", "Concept", "concept"),
        ("programme_line", "Dienstverlening", "dienstverlening"),
    ],
)
def test_a_choice_may_be_written_as_its_label_or_its_code_in_any_case(field, written, code):
    assert getattr(parse_initiative(valid_initiative(**{field: written})), field) == code


def test_a_wrong_choice_lists_the_labels_and_the_codes_a_file_may_hold():
    assert errors_of(kind="hackathon")["kind"] == [
        "Kies een van: Goed voorbeeld (best_practice), Living lab of Portfolioproject (portfolio_project)."
    ]
    assert errors_of(phase="klaar")["phase"] == ["Kies een van: Idee, Verkenning, Pilot, Implementatie of Opgeschaald."]


@pytest.mark.parametrize(
    ("typed", "euros"), [("250000", 250000), ("250.000", 250000), (" 1.250.000 ", 1250000), ("0", 0), ("", None)]
)
def test_a_typed_budget_reads_dutch_thousands_dots(typed, euros):
    assert parse_initiative(valid_initiative(budget_eur=typed)).budget_eur == euros


@pytest.mark.parametrize("typed", ["250.5", "250.00", "1.5", "+100", "1_000_000", "€ 250000", "1,5", "250.000,00"])
def test_a_typed_budget_that_is_no_whole_amount_is_refused(typed):
    """Pydantic alone read "250.000" as 250 euros and let "+100" and "1_000_000" through."""
    assert "heel getal in euro" in errors_of(budget_eur=typed)["budget_eur"][0]


@pytest.mark.parametrize("invisible", ["\u200b" * 4, " \u200b \u200b ", "\ufeff", "\u2060\u200b"])
def test_a_title_of_nothing_visible_is_missing(invisible):
    """A web trial saved a title of four zero-width spaces: a card link with nothing to read."""
    assert errors_of(title=invisible)["title"] == ["Vul ‘Titel’ in; dit veld is verplicht."]


def test_invisible_ends_go_and_joiners_inside_stay():
    assert parse_initiative(valid_initiative(title="\ufeffWegdekinspectie\u200b")).title == "Wegdekinspectie"
    assert parse_initiative(valid_initiative(title="Team 👩\u200d💻 data")).title == "Team 👩\u200d💻 data"


@pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u2066", "\u2069"])
def test_characters_that_turn_the_reading_direction_are_refused(control):
    assert "leesrichting" in errors_of(title=f"Titel {control}esrever")["title"][0]


def test_end_date_before_start_is_reported_on_end_date():
    errors = errors_of(start_date="2026-01-01", end_date="2025-01-01")
    assert errors == {"end_date": ["De einddatum ligt vóór de startdatum."]}


def test_braces_in_user_input_do_not_break_messages():
    assert "“{0} {x}”" in errors_of(province="{0} {x}")["province"][0]


@pytest.mark.parametrize("value", ["someone", "", None, []])
def test_unknown_fields_are_refused(value):
    """Empty or null, an unknown field was reported as required: the opposite of the fix."""
    assert errors_of(owner=value)["owner"] == ["Onbekend veld."]


def test_every_error_is_reported_at_once():
    with pytest.raises(InputError) as caught:
        parse_initiative(valid_initiative(title="", phase="x", budget_eur="veel", links=["mailto:a@b"]))
    assert set(caught.value.errors) == {"title", "phase", "budget_eur", "links"}


def test_an_empty_province_is_missing_not_unknown():
    """A form's province list left at its empty choice said 'Onbekende provincie “”'."""
    assert errors_of(province="")["province"] == ["Vul ‘Provincie’ in; dit veld is verplicht."]
