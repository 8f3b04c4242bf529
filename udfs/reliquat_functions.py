"""Worksheet functions. Register in xlwings.conf (or the xlwings ribbon): UDF_MODULES =
udfs.reliquat_functions, then Import Functions. Each is a thin edge over addin.insights:
arguments arrive as Excel sends them (floats, datetimes), results leave as floats."""

from __future__ import annotations

import datetime as dt

import xlwings as xw

from addin import insights
from addin.config import parse_day
from addin.domain.money import to_money


def _day(value: object) -> dt.date:
    if value in (None, ""):
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return parse_day(str(value))


@xw.func
@xw.arg("source", doc="folder, .xlsx, SQLite file or database URL of the open items")
@xw.arg("subscription", doc="subscription id")
@xw.arg("currency", doc="currency, CHF by default")
def RELIQUAT_OPEN_BALANCE(source: str, subscription: object, currency: str = "CHF") -> float:
    """Open balance of a subscription: all its open items, due or not."""
    ledger = insights.load_ledger(str(source))
    return float(insights.open_balance(ledger, _text(subscription), currency or "CHF"))


@xw.func
@xw.arg("source", doc="folder, .xlsx, SQLite file or database URL of the open items")
@xw.arg("customer", doc="customer id")
@xw.arg("as_of", doc="date the subscriptions must be active on (default today)")
@xw.ret(expand="table")
def RELIQUAT_ALTERNATIVES(source: str, customer: object, as_of: object = None
                          ) -> list[list[str]]:
    """The customer's active subscriptions, the one billed soonest first (a dynamic array)."""
    ledger = insights.load_ledger(str(source))
    found = insights.alternatives(ledger, _text(customer), _day(as_of))
    return [[s] for s in found] or [["(none)"]]


@xw.func
@xw.arg("source", doc="folder, .xlsx, SQLite file or database URL of the open items")
@xw.arg("threshold", doc="the amount to try")
@xw.arg("as_of", doc="as-of date (default today)")
def RELIQUAT_CATCH(source: str, threshold: object, as_of: object = None) -> list[list[float]]:
    """How many subscriptions and how much money this threshold would flag: [count, amount]."""
    ledger = insights.load_ledger(str(source))
    count, amount = insights.threshold_catch(ledger, to_money(threshold), _day(as_of))
    return [[float(count), float(amount)]]


@xw.func
@xw.arg("source", doc="folder, .xlsx, SQLite file or database URL of the open items")
@xw.arg("thresholds", ndim=1, doc="a column of amounts to compare")
@xw.arg("as_of", doc="as-of date (default today)")
def RELIQUAT_CATCH_TABLE(source: str, thresholds: list[object], as_of: object = None
                         ) -> list[list[float]]:
    """One row per threshold: threshold, subscriptions flagged, amount flagged."""
    ledger = insights.load_ledger(str(source))
    amounts = [to_money(t) for t in thresholds if t not in (None, "")]
    return [[float(t), float(n), float(a)]
            for t, n, a in insights.catch_table(ledger, amounts, _day(as_of))]


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
