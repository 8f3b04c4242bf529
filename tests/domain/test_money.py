from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from addin.domain.money import AmountError, _checked_money, format_money, to_money

SEPARATORS = ("'", "\u2019", " ", "\u00a0")


@pytest.mark.parametrize(("text", "expected"), [
    ("100.50", "100.50"), ("1'234.50", "1234.50"), ("-0.5", "-0.50"), ("  7 ", "7.00"),
    ("(2.40)", "-2.40"), ("-0.00", "0.00"), ("1'234'567", "1234567.00"),
    ("-12'345.00", "-12345.00"), ("1 234.50", "1234.50"), ("1\u00a0234.50", "1234.50"),
    ("1\u2019234.50", "1234.50"), ("(1'234.50)", "-1234.50"), ("999.5", "999.50"),
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


@pytest.mark.parametrize("text", [
    "0'30", "12'34.00", "1'2345", "'123", "1''234", "123'", "1'234.5'0", "1.234'5",
    "1'234 567", "- 12", "1 234 56",
])
def test_a_thousands_separator_outside_groups_of_three_is_refused(text):
    with pytest.raises(AmountError) as error:
        to_money(text)
    assert str(error.value) == f"not an amount: {text!r}"


def grouped(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    return separator.join([digits[:head], *(digits[i:i + 3]
                                            for i in range(head, len(digits), 3))])


@given(st.integers(1000, 10**16 - 1), st.integers(0, 99), st.sampled_from(SEPARATORS),
       st.booleans(), st.sampled_from(["left", "right", "doubled", "first", "decimals"]),
       st.data())
def test_a_separator_is_read_between_groups_of_three_and_refused_elsewhere(
        units, cents, separator, negative, change, data):
    sign = "-" if negative else ""
    text = sign + grouped(str(units), separator)
    assert to_money(f"{text}.{cents:02d}") == Decimal(f"{sign}{units}.{cents:02d}")
    at = data.draw(st.sampled_from([i for i, c in enumerate(text) if c == separator]))
    changed = {
        "left": text[:at - 1] + separator + text[at - 1] + text[at + 1:],
        "right": text[:at] + text[at + 1] + separator + text[at + 2:],
        "doubled": text[:at] + separator + text[at:],
        "first": separator + text if sign else "-" + separator + text,
        "decimals": text + ".5" + separator + "0",
    }[change]
    assume(changed == changed.strip() and not changed.startswith(f"-{separator}-"))
    with pytest.raises(AmountError) as error:
        to_money(changed)
    assert str(error.value) == f"not an amount: {changed!r}"


@pytest.mark.parametrize("value", [
    "123456789012345678901234567.00", "10000000000000000", 1.2345678901234568e+26,
    10**27, Decimal("-1E+20"),
])
def test_an_amount_beyond_sixteen_digits_before_the_point_is_refused(value):
    with pytest.raises(AmountError) as error:
        to_money(value)
    assert str(error.value) == (f"too large (at most 16 digits before the decimal point): "
                                f"{value!r}")


def test_sixteen_digits_before_the_point_are_an_amount_and_seventeen_are_not():
    assert to_money("-9'999'999'999'999'999.99") == Decimal("-9999999999999999.99")
    assert to_money(Decimal("0E+30")) == Decimal("0.00")
    with pytest.raises(AmountError):
        to_money("10'000'000'000'000'000")


@given(st.from_regex(r"-?[0-9]{1,16}\.[0-9]{2}", fullmatch=True))
def test_a_plain_amount_takes_the_short_way_to_the_same_cents(text: str) -> None:
    fast = to_money(text)
    assert fast == _checked_money(text) and str(fast) == str(_checked_money(text))


@pytest.mark.parametrize("text", ["-0.00", "0.00", "0000000000000001.00", "-9999999999999999.99"])
def test_plain_amounts_at_the_edges_read_as_the_general_parser_reads_them(text: str) -> None:
    assert str(to_money(text)) == str(_checked_money(text))
