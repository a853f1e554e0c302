"""The interface's one Dutch number format and the match score a coordinator reads."""

from kennisbank.rendering import dutch_number, euro, score


def test_numbers_have_a_decimal_comma_and_a_thousands_point():
    assert dutch_number(1234567) == "1.234.567"
    assert dutch_number(0.6, 2) == "0,60"
    assert dutch_number(1234.5, 1) == "1.234,5"
    assert euro(250000) == "€ 250.000"


def test_a_match_score_reads_as_a_whole_number_out_of_100():
    assert score(0.46) == "46 van 100"
    assert score(1.0) == "100 van 100"
