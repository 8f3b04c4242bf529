"""Values crossing into Excel: what xlwings can send on Windows and macOS alike.

A Decimal would go through pywin32 as COM Currency (and cannot be sent at all on macOS), so
amounts leave as floats rounded to cents — display values only: everything read back goes
through ``to_money`` again. A text Excel would run as a formula gets Excel's own text prefix.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from addin.domain.formulas import FORMULA_STARTS
from addin.workbook.content import Value


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
