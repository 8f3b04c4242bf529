"""The selection inside a database gives the selection of the whole ledger.

The rules in ``addin.domain`` are the specification: on random ledgers written to SQLite
(and, fewer, to PostgreSQL and MariaDB),
``select`` over what the pushdown fetched (with the balances summed in SQL) must equal
``select`` over every record ``read_ledger`` builds; typed as a database holds them, or as
text the way an export wrote them, where the pushdown must notice what SQL would misjudge.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from addin.config import Config
from addin.domain.model import Rules
from addin.domain.rules import select
from addin.locations import Location
from addin.sources import read_for_rules, read_ledger
from tests.sources.small_ledger import ITEM_HEADER, SUB_HEADER, typed
from tests.sources.test_file_selection import AS_OF, ledgers
from tests.sources.test_pushdown import SQL_TYPES

ROWS = list[tuple[str, ...]]


def with_thousands(amount: str) -> str:
    """1234.50 as a Swiss export writes it: 1'234.50."""
    sign, digits = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
    whole, _, cents = digits.partition(".")
    groups = f"{int(whole):,}".replace(",", "'")
    return f"{sign}{groups}.{cents}"


def write_sqlite(path: Path, items: ROWS, subs: ROWS, as_written: bool) -> None:
    with sqlite3.connect(path) as connection:
        for table, header, rows in (("open_items", ITEM_HEADER, items),
                                    ("subscriptions", SUB_HEADER, subs)):
            kind = "TEXT" if as_written else ""
            columns = ", ".join(f"{h} {kind}" for h in header)
            connection.execute(f"CREATE TABLE {table} ({columns})")
            cells = rows if as_written else [
                [_stored(typed(c, cell)) for c, cell in zip(header, row, strict=True)]
                for row in rows]
            connection.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(header))})",
                                   cells)
    connection.close()


def _stored(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


@st.composite
def written(draw: st.DrawFn, items: ROWS) -> ROWS:
    """The items as text: mostly in the forms SQL reads (ISO dates, plain amounts), some as a
    Swiss export writes them (01.10.2026, 1'234.50), a subscription id with a space after it."""
    swiss_dates = draw(st.integers(0, 4)) == 0
    out = []
    for row in items:
        cells = list(row)
        if not swiss_dates:
            for position in (5, 6):
                cells[position] = dt.datetime.strptime(cells[position], "%d.%m.%Y").date(
                    ).isoformat()
        if draw(st.integers(0, 9)) == 0:
            cells[8] = with_thousands(str(Decimal(cells[8]) * 1000))
        if draw(st.integers(0, 19)) == 0:
            cells[3] += " "
        out.append(tuple(cells))
    return out


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers(), threshold=st.sampled_from(["0.00", "1.00", "5.00", "7.50"]),
       overdue_days=st.sampled_from([0, 30, 60]), credits=st.booleans(),
       as_written=st.booleans(), data=st.data())
def test_the_pushdown_gives_the_whole_ledgers_selection(
        tmp_path_factory: pytest.TempPathFactory, ledger, threshold, overdue_days, credits,
        as_written, data) -> None:
    items, subs = ledger
    if as_written:
        items = data.draw(written(items))
    path = tmp_path_factory.mktemp("db") / "erp.sqlite"
    write_sqlite(path, items, subs, as_written)
    rules = Rules(threshold=Decimal(threshold), as_of=AS_OF, min_overdue_days=overdue_days,
                  include_credits=credits)
    ids = [row[0] for row in items]
    committed = {i: "B1" for i in data.draw(st.lists(st.sampled_from(ids), max_size=3))
                 } if ids else {}

    part, balances, count = read_for_rules(Location.of(path), Config(), rules, committed)
    whole = read_ledger(path, Config())

    if not as_written:
        assert balances is not None, "a typed ledger is selected inside the database"
    assert count == len(whole.items)
    selection = replace(select(part, rules, committed, balances), items_read=count)
    assert selection == select(whole, rules, committed)


def write_server(url: str, items: ROWS, subs: ROWS, as_written: bool) -> None:
    """The tables replaced: typed as a server holds a ledger, or every column text."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for table, header, rows in (("open_items", ITEM_HEADER, items),
                                    ("subscriptions", SUB_HEADER, subs)):
            connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
            kinds = {} if as_written else SQL_TYPES
            columns = ", ".join(f"{h} {kinds.get(h, 'VARCHAR(80)')}" for h in header)
            connection.execute(text(f"CREATE TABLE {table} ({columns})"))
            if rows:
                connection.execute(
                    text(f"INSERT INTO {table} VALUES ({', '.join(':' + h for h in header)})"),
                    [{h: cell if as_written else typed(h, cell)
                      for h, cell in zip(header, row, strict=True)} for row in rows])
    engine.dispose()


@pytest.mark.database
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers(), threshold=st.sampled_from(["0.00", "5.00", "7.50"]),
       as_written=st.booleans(), data=st.data())
def test_a_server_gives_the_whole_ledgers_selection(server_url, ledger, threshold, as_written,
                                                     data) -> None:
    """Typed columns, or every column text: PostgreSQL refuses to compare a text with a date,
    MariaDB compares it as a date (``pushdown.a_date``) and warns at 01.02.2027; either way
    the source is read whole."""
    items, subs = ledger
    if as_written:
        items = data.draw(written(items))
    write_server(server_url, items, subs, as_written)
    rules = Rules(threshold=Decimal(threshold), as_of=AS_OF)

    part, balances, count = read_for_rules(Location.of(server_url), Config(), rules, {})
    whole = read_ledger(server_url, Config())

    if not as_written:
        assert balances is not None, "a typed ledger is selected inside the database"
    assert count == len(whole.items)
    assert replace(select(part, rules, {}, balances), items_read=count) == select(whole, rules)
