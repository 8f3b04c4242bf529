from decimal import Decimal

import pytest

from addin.domain.money import AmountError, format_money, to_money


@pytest.mark.parametrize(("text", "expected"), [
    ("100.50", "100.50"), ("1'234.50", "1234.50"), ("-0.5", "-0.50"), ("  7 ", "7.00"),
    ("(2.40)", "-2.40"), ("-0.00", "0.00"),
])
def test_text_amounts_become_cents(text, expected):
    assert to_money(text) == Decimal(expected)
    assert format_money(to_money(text)) == expected


@pytest.mark.parametrize("text", ["12,50", "abc", "", "1.005", "NaN", "1e3x"])
def test_text_that_is_not_an_amount_is_refused(text):
    with pytest.raises(AmountError):
        to_money(text)


def test_floats_from_a_spreadsheet_reader_keep_their_cents():
    assert to_money(0.1) + to_money(0.2) == Decimal("0.30")
    assert to_money(100.5) == Decimal("100.50")


def test_a_bool_is_not_an_amount():
    with pytest.raises(AmountError):
        to_money(True)
