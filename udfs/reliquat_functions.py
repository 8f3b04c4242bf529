"""Worksheet functions (Excel on Windows). Register in the xlwings ribbon: UDF Modules =
udfs.reliquat_functions, then Import Functions (see README, "In Excel").

Each is a thin edge over ``addin.api``. Arguments arrive as Excel sends them (texts, floats
for numbers, datetimes for date cells, 2-D lists for ranges) and are annotated ``Any``:
xlwings turns every annotation into a converter, and ``object`` is none. Results leave as
floats and texts; a spilling result is a plain 2-D list, which Excel 365 spills by itself.
An error shows one short line in the cell (``Reliquat: …``), never a traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import xlwings as xw

from addin import api
from addin.domain.problems import Problem, ReliquatError, Where
from addin.excel.edge import excel_amount, excel_day, excel_text
from addin.locations import Location, is_url

SOURCE = "folder, .xlsx, SQLite file or database URL of the open items (full path, or " \
         "relative to this workbook's folder)"
CELL_TEXT = 250  # characters: one line a reviewer reads in the cell

_F = TypeVar("_F", bound=Callable[..., Any])


def _in_cell(function: _F) -> _F:
    """Any error becomes one short line in the cell (xlwings would show the traceback)."""

    @functools.wraps(function)
    def answer(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception as exc:  # a cell shows what went wrong, never a traceback
            return _short(exc)

    return answer  # type: ignore[return-value]


@xw.func
@xw.arg("source", doc=SOURCE)
@xw.arg("subscription", doc="subscription id")
@xw.arg("currency", doc="currency, CHF by default")
@_in_cell
def RELIQUAT_OPEN_BALANCE(source: Any, subscription: Any, currency: Any = "CHF") -> Any:
    """Open balance of a subscription: all its open items, due or not."""
    balance = api.open_balance(_source(source), excel_text(subscription),
                               excel_text(currency) or "CHF")
    return float(balance)


@xw.func
@xw.arg("source", doc=SOURCE)
@xw.arg("customer", doc="customer id")
@xw.arg("as_of", doc="date the subscriptions must be active on (default today)")
@_in_cell
def RELIQUAT_ALTERNATIVES(source: Any, customer: Any, as_of: Any = None) -> list[list[Any]]:
    """The customer's active subscriptions, the one billed soonest first (spills down)."""
    found = api.alternatives(_source(source), excel_text(customer), _day(as_of))
    return [[s] for s in found] or [["(none)"]]


@xw.func
@xw.arg("source", doc=SOURCE)
@xw.arg("threshold", doc="the amount to try")
@xw.arg("as_of", doc="as-of date (default today)")
@_in_cell
def RELIQUAT_CATCH(source: Any, threshold: Any, as_of: Any = None) -> list[list[Any]]:
    """How many subscriptions and how much money this threshold would flag: count, amount."""
    count, amount = api.threshold_catch(_source(source), excel_amount(threshold), _day(as_of))
    return [[float(count), float(amount)]]


@xw.func
@xw.arg("source", doc=SOURCE)
@xw.arg("thresholds", ndim=1, doc="a column of amounts to compare")
@xw.arg("as_of", doc="as-of date (default today)")
@_in_cell
def RELIQUAT_CATCH_TABLE(source: Any, thresholds: list[Any], as_of: Any = None
                         ) -> list[list[Any]]:
    """One row per threshold: threshold, subscriptions flagged, amount flagged."""
    amounts = [excel_amount(t) for t in thresholds if t not in (None, "")]
    return [[float(t), float(n), float(a)]
            for t, n, a in api.catch_table(_source(source), amounts, _day(as_of))]


def _source(value: Any) -> Location:
    """A relative path is taken from the calling workbook's folder, as on the Control sheet
    (Python runs in the interpreter's folder)."""
    given = excel_text(value)
    if not given:
        raise ReliquatError("source: enter a folder, an .xlsx, a SQLite file or a database URL")
    if is_url(given) or Path(given).expanduser().is_absolute():
        return Location.of(given)
    folder = _workbook_folder()
    if folder is None:
        raise ReliquatError([Problem(Where(given), "a relative path is taken from the "
                                     "workbook's folder, and this workbook was never saved: "
                                     "save it, or give the source's full path")])
    return Location.of(given, base=folder)


def _workbook_folder() -> Path | None:
    """The folder of the workbook whose cell calls: xlwings hands it over with every call
    (None outside Excel, or for a workbook never saved)."""
    try:
        folder = Path(str(xw.Book.caller().fullname)).parent
    except Exception:  # not called from Excel
        return None
    return folder if folder.is_absolute() else None


def _day(value: Any) -> dt.date:
    return excel_day(value) or dt.date.today()


def _short(exc: Exception) -> str:
    if isinstance(exc, ReliquatError) and exc.problems:
        more = len(exc.problems) - 1
        text = str(exc.problems[0]) + (f" (and {more} more)" if more else "")
    else:
        text = f"{type(exc).__name__}: {exc}"
    line = (text.strip().splitlines() or [type(exc).__name__])[0]
    line = f"Reliquat: {line}"
    return line if len(line) <= CELL_TEXT else line[:CELL_TEXT - 1] + "…"
