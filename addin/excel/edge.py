"""Values crossing the Excel boundary: what xlwings can send on Windows and macOS alike,
and what Excel hands over (a cell of the Control sheet, a worksheet function's argument).

A Decimal would go through pywin32 as COM Currency (and cannot be sent at all on macOS), so
amounts leave as floats rounded to cents — display values only: everything read back goes
through ``to_money`` again. A text Excel would run as a formula gets Excel's own text prefix.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from addin.domain.formulas import FORMULA_STARTS
from addin.domain.money import AmountError, to_money
from addin.domain.problems import ConfigError, Problem, Where
from addin.sources.values import parse_date, parse_text
from addin.workbook.review.content import Value

# Excel's serial day 1 is 1900-01-01, counted from 1899-12-30 because of its 1900 leap-year
# bug (serials below 61 are a day off, as in Excel); 2958465 is 9999-12-31.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_LAST_SERIAL = 2958465


def to_excel(value: Value) -> object:
    if isinstance(value, Decimal):
        return float(round(value, 2))
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None or isinstance(value, int | float | dt.date):
        return value
    return str(value)


def rows_to_excel(rows: list[list[Value]]) -> list[list[object]]:
    return [[to_excel(v) for v in row] for row in rows]


def excel_text(value: object) -> str:
    """A path, a code or a name as Excel hands it over, trimmed ("" when empty); a whole
    number loses its '.0'."""
    return parse_text(value)


def excel_day(value: object, name: str = "as_of") -> dt.date | None:
    """A date as Excel hands it over: a date cell (a datetime), a serial number (a date
    written into a formula, ``DATE(2026;11;30)``), or a text (30.11.2026, 2026-11-30);
    None when empty. Refused naming ``name`` otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value <= _LAST_SERIAL:
            raise ConfigError([Problem(Where(record=name), f"not a date: {value!r}")])
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    try:
        return parse_date(parse_text(value))
    except ValueError as exc:
        raise ConfigError([Problem(Where(record=name), str(exc))]) from exc


def excel_amount(value: object, name: str = "threshold") -> Decimal:
    """An amount typed into a cell or a formula (a float, or a text such as 1'234.50), in
    cents, not negative. Refused naming ``name`` otherwise."""
    try:
        amount = to_money(parse_text(value) if isinstance(value, str) else value)
    except AmountError as exc:
        raise ConfigError([Problem(Where(record=name), str(exc))]) from exc
    if amount < 0:
        raise ConfigError([Problem(Where(record=name), f"must not be negative: {amount}")])
    return amount
