"""Cells as each reader hands them over become exact cents, dates and statuses, or are refused."""

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from addin.domain.model import Status
from addin.domain.money import AmountError
from addin.sources.values import parse_amount, parse_currency, parse_status

TOO_LARGE = "too large (at most 16 digits before the decimal point)"


@given(st.integers(min_value=-10**13, max_value=10**13))
def test_any_amount_written_with_swiss_thousands_separators_reads_back_exactly(cents):
    units, rest = divmod(abs(cents), 100)
    written = f"{'-' if cents < 0 else ''}{units:,}.{rest:02d}".replace(",", "'")
    assert parse_amount(written) == Decimal(cents).scaleb(-2)


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_any_cent_amount_stored_as_a_float_by_excel_reads_back_exactly(cents):
    assert parse_amount(cents / 100) == Decimal(cents).scaleb(-2)


@pytest.mark.parametrize(("cell", "cents"), [
    (0.1 + 0.2, Decimal("0.30")),  # 0.30000000000000004: what Excel shows is 0.3
    (Decimal("0.5000"), Decimal("0.50")),  # a NUMERIC(12, 4) column
    (12, Decimal("12.00")),
    ("-1'234.50", Decimal("-1234.50")),
    (1e15, Decimal("1000000000000000.00")),  # Excel shows 1E+15
    ("9999999999999999.99", Decimal("9999999999999999.99")),
])
def test_floats_decimals_and_ints_from_readers_are_taken_as_shown(cell, cents):
    assert parse_amount(cell) == cents


@pytest.mark.parametrize(("cell", "message"), [
    (100.505, "more than two decimals: '100.505'"),
    (Decimal("0.5050"), "more than two decimals: '0.5050'"),
    (True, "not an amount: True"),
    (float("nan"), "not an amount: 'nan'"),
    ("12,50", "not an amount: '12,50'"),
    ("123456789012345678901234567.00", f"{TOO_LARGE}: '123456789012345678901234567.00'"),
    (1.2345678901234568e+26, f"{TOO_LARGE}: '123456789012346000000000000'"),
    (Decimal("12345678901234567"), f"{TOO_LARGE}: '12345678901234567'"),
    (10**16, f"{TOO_LARGE}: 10000000000000000"),
])
def test_a_value_that_is_not_cents_is_refused(cell, message):
    with pytest.raises(AmountError) as error:
        parse_amount(cell)
    assert str(error.value) == message


@pytest.mark.parametrize(("word", "status"), [
    ("active", Status.ACTIVE), ("ACTIF", Status.ACTIVE), (" Aktiv ", Status.ACTIVE),
    ("terminated", Status.TERMINATED), ("Résilié", Status.TERMINATED),
    (unicodedata.normalize("NFD", "résiliée"), Status.TERMINATED),
    ("gekündigt", Status.TERMINATED),
])
def test_a_status_is_read_in_english_french_or_german(word, status):
    assert parse_status(word) is status


def test_an_inactive_status_is_not_guessed_to_be_terminated():
    with pytest.raises(ValueError, match="unknown status 'inactive'"):
        parse_status("inactive")


def test_a_currency_is_three_letters_in_capitals():
    assert parse_currency(" chf ") == "CHF"
    with pytest.raises(ValueError, match="'CH'"):
        parse_currency("CH")
