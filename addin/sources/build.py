"""From raw tables to open items and subscriptions, every bad cell reported with its place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from addin.config import (
    OPEN_ITEM_COLUMNS,
    OPEN_ITEM_OPTIONAL,
    SUBSCRIPTION_COLUMNS,
    SUBSCRIPTION_OPTIONAL,
    Config,
)
from addin.domain.model import Ledger, OpenItem, Status, Subscription
from addin.domain.money import AmountError, to_money
from addin.domain.problems import Problem, SourceError, Where
from addin.sources.table import RawTable, locate_columns
from addin.sources.values import parse_date, parse_flag, parse_text

MAX_PROBLEMS = 200
T = TypeVar("T")

STATUS_WORDS = {
    "active": Status.ACTIVE, "actif": Status.ACTIVE, "aktiv": Status.ACTIVE,
    "terminated": Status.TERMINATED, "résilié": Status.TERMINATED,
    "resilie": Status.TERMINATED, "gekündigt": Status.TERMINATED,
    "gekuendigt": Status.TERMINATED, "inactive": Status.TERMINATED,
}


class _Row:
    """One row's cells by canonical name; a bad cell adds a problem and yields a placeholder."""

    def __init__(self, table: RawTable, index: int, cells: object, positions: dict[str, int],
                 headers: dict[str, str], problems: list[Problem]) -> None:
        self.table, self.index, self.cells = table, index, cells
        self.positions, self.headers, self.problems = positions, headers, problems
        self.ok = True

    def where(self, canonical: str = "") -> Where:
        return Where(self.table.label, self.table.line(self.index),
                     self.headers.get(canonical, canonical) if canonical else "")

    def fail(self, canonical: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.where(canonical), message))

    def raw(self, canonical: str) -> object:
        position = self.positions.get(canonical)
        if position is None:
            return None
        cells = self.cells
        return cells[position] if position < len(cells) else None  # type: ignore[arg-type,index]

    def text(self, canonical: str, required: bool = True) -> str:
        value = parse_text(self.raw(canonical))
        if required and not value:
            self.fail(canonical, "empty")
        return value

    def parsed(self, canonical: str, parse: Callable[[object], T], default: T,
               required: bool = True) -> T:
        value = self.raw(canonical)
        if value is None or value == "":
            if required:
                self.fail(canonical, "empty")
            return default
        try:
            return parse(value)
        except (ValueError, AmountError) as exc:
            self.fail(canonical, str(exc))
            return default


def _headers(table: RawTable, positions: dict[str, int]) -> dict[str, str]:
    return {c: table.header[p].strip().lstrip("\ufeff") for c, p in positions.items()}


def _check_limit(problems: list[Problem]) -> None:
    if len(problems) >= MAX_PROBLEMS:
        raise SourceError(problems)


def build_subscriptions(table: RawTable, config: Config,
                        problems: list[Problem]) -> dict[str, Subscription]:
    positions = locate_columns(table, "subscriptions", SUBSCRIPTION_COLUMNS,
                               SUBSCRIPTION_OPTIONAL, config)
    headers = _headers(table, positions)
    subscriptions: dict[str, Subscription] = {}
    lines: dict[str, Where] = {}
    dates = _DateCache()
    for index, cells in enumerate(table.rows):
        row = _Row(table, index, cells, positions, headers, problems)
        sub_id = row.text("subscription_id")
        customer = row.text("customer_id")
        status = row.parsed("status", _status, Status.TERMINATED)
        end = row.parsed("end_date", dates, None, required=False)
        next_bill = row.parsed("next_bill_date", dates, None, required=False)
        label = row.text("label", required=False)
        if sub_id in lines:
            row.fail("subscription_id", f"duplicate subscription {sub_id!r} "
                                        f"(first at {_place(lines[sub_id])})")
        if row.ok:
            lines[sub_id] = row.where()
            subscriptions[sub_id] = Subscription(sub_id, customer, status, end, next_bill, label)
        _check_limit(problems)
    return subscriptions


def build_items(table: RawTable, config: Config, subscriptions: dict[str, Subscription],
                problems: list[Problem]) -> tuple[OpenItem, ...]:
    positions = locate_columns(table, "open_items", OPEN_ITEM_COLUMNS, OPEN_ITEM_OPTIONAL,
                               config)
    headers = _headers(table, positions)
    items: list[OpenItem] = []
    lines: dict[str, Where] = {}
    dates = _DateCache()
    zero = Decimal("0.00")
    for index, cells in enumerate(table.rows):
        row = _Row(table, index, cells, positions, headers, problems)
        item_id = row.text("item_id")
        customer = row.text("customer_id")
        sub_id = row.text("subscription_id")
        item = OpenItem(
            item_id=item_id,
            customer_id=customer,
            customer_name=row.text("customer_name", required=False),
            subscription_id=sub_id,
            document_no=row.text("document_no"),
            document_date=row.parsed("document_date", dates, dt.date.min),
            due_date=row.parsed("due_date", dates, dt.date.min),
            original_amount=row.parsed("original_amount", to_money, zero),
            open_amount=row.parsed("open_amount", to_money, zero),
            currency=row.text("currency").upper(),
            dunning_block=row.parsed("dunning_block", parse_flag, False, required=False),
            dispute=row.parsed("dispute", parse_flag, False, required=False),
        )
        if item_id in lines:
            row.fail("item_id", f"duplicate item {item_id!r} (first at {_place(lines[item_id])})")
        if sub_id and sub_id not in subscriptions:
            row.fail("subscription_id", f"unknown subscription {sub_id!r}")
        elif sub_id and customer and subscriptions[sub_id].customer_id != customer:
            row.fail("customer_id", f"customer {customer!r} but subscription {sub_id!r} "
                                    f"belongs to {subscriptions[sub_id].customer_id!r}")
        if row.ok:
            lines[item_id] = row.where()
            items.append(item)
        _check_limit(problems)
    return tuple(items)


def build_ledger(items: RawTable, subscriptions: RawTable, config: Config,
                 description: str) -> Ledger:
    problems: list[Problem] = []
    subs = build_subscriptions(subscriptions, config, problems)
    built = build_items(items, config, subs, problems)
    if problems:
        raise SourceError(problems)
    return Ledger(built, subs, description)


def _status(value: object) -> Status:
    text = parse_text(value).casefold()
    if text not in STATUS_WORDS:
        raise ValueError(f"unknown status {parse_text(value)!r} (expected active or terminated)")
    return STATUS_WORDS[text]


class _DateCache:
    """Ledgers repeat the same few hundred dates: parse each text once."""

    def __init__(self) -> None:
        self.seen: dict[object, dt.date] = {}

    def __call__(self, value: object) -> dt.date:
        try:
            return self.seen[value]
        except (KeyError, TypeError):
            parsed = parse_date(value)
            try:
                self.seen[value] = parsed
            except TypeError:
                pass
            return parsed


def _place(where: Where) -> str:
    return f"line {where.line}" if where.line is not None else where.file
