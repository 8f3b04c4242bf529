"""Money is Decimal, quantized to cents, from the first parse to the last write.

Binary floats never enter a sum or a comparison: values that arrive as floats
(spreadsheet readers return them) go through ``to_money`` at the edge.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class AmountError(ValueError):
    """A value that is not an amount of money."""


def to_money(value: object) -> Decimal:
    """Turn a text, an int, a Decimal or a float read from a spreadsheet into cents.

    Text may use ``'`` or a space as thousands separator and ``.`` as decimal mark
    (Swiss convention); a float goes through ``repr`` so 0.1 stays 0.10.
    """
    if isinstance(value, bool):
        raise AmountError(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        number = _parse_text(value)
    else:
        raise AmountError(f"not an amount: {value!r}")
    if not number.is_finite():
        raise AmountError(f"not an amount: {value!r}")
    cents = number.quantize(CENT, rounding=ROUND_HALF_EVEN)
    if cents != number and isinstance(value, str):
        raise AmountError(f"more than two decimals: {value!r}")
    return cents + ZERO  # normalises -0.00 to 0.00


def _parse_text(text: str) -> Decimal:
    cleaned = text.strip().replace("'", "").replace("\u2019", "").replace("\u00a0", "")
    cleaned = cleaned.replace(" ", "")
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = "-" + cleaned[1:-1]
    if not cleaned or any(ch not in "0123456789.-+" for ch in cleaned):
        raise AmountError(f"not an amount: {text!r}")
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:
        raise AmountError(f"not an amount: {text!r}") from exc


def format_money(amount: Decimal) -> str:
    """Two decimals, ``.`` as decimal mark, no thousands separator: what imports expect."""
    return f"{amount.quantize(CENT):.2f}"
