"""The selection inside the database: only what the review needs leaves it.

The database computes, per subscription and currency, the sum of the eligible items in
integer cents and keeps those at or below the threshold. What comes back is then exactly
the part of the ledger on which the domain's ``select`` gives the same answer as on the
whole ledger:

- the eligible items of each flagged subscription, every subscription of its customer (the
  alternatives), and the customer's whole and overdue balances, summed in the database;
- every eligible item of a subscription that nets to zero;
- every small item a rule keeps out (|amount| <= threshold), with its subscription;
- the items of the register still open in the source, and their subscriptions' items,
  since the register is not in the ERP's database.

The rest of the ledger is checked beside the selection (``sql_checks``), so that what the
database keeps is refused as ``validate`` would refuse it. Only SELECTs run; every value is
a bound parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Date,
    Numeric,
    Row,
    Select,
    Subquery,
    and_,
    case,
    cast,
    func,
    not_,
    select,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from addin.config import Config
from addin.domain.model import ItemId, Ledger, Rules
from addin.domain.rules import Balances
from addin.sources.build import build_ledger
from addin.sources.entities import Entity
from addin.sources.sql_beside import Run, beside
from addin.sources.sql_checks import Checks, Misjudged, any_row, fetched, untrimmed
from addin.sources.sql_keys import items_and_subscriptions, key_chunks, member_of, rows_in


@dataclass(frozen=True)
class PushdownStats:
    """Row counts, to show how little left the database."""

    items_in_source: int
    items_fetched: int
    subscriptions_fetched: int
    flagged_candidates: int


def cents(column: ColumnElement) -> ColumnElement:
    """An amount as whole cents: sums and comparisons stay exact on every server."""
    return cast(func.round(cast(column, Numeric(18, 2)) * 100), BigInteger)


class a_date(FunctionElement[dt.date]):
    """A date the server takes as a date. PyMySQL sends a date as text, and MariaDB compares
    a text column with a text as texts, without a warning: '01.02.2027' < '2027-01-31'.
    Cast, the text column is read as dates, and a form MariaDB cannot read warns."""

    type = Date()
    name = "a_date"
    inherit_cache = True


@compiles(a_date)
def _cast_to_date(element: a_date, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(a_date, "sqlite")
def _iso_text(element: a_date, compiler: Any, **kw: Any) -> str:
    """SQLite has no date type: its dates are ISO texts (CAST would make 2027 of them)."""
    return str(compiler.process(element.clauses, **kw))


def _flag(column: ColumnElement) -> ColumnElement:
    return func.coalesce(cast(column, BigInteger), 0)


def eligible(items: Subquery, rules: Rules) -> ColumnElement:
    cutoff = rules.as_of - dt.timedelta(days=rules.min_overdue_days)
    conditions = [
        cents(items.c.open_amount) != 0,
        items.c.due_date <= a_date(cutoff),
        _flag(items.c.dunning_block) == 0,
        _flag(items.c.dispute) == 0,
    ]
    if not rules.include_credits:
        conditions.append(cents(items.c.open_amount) > 0)
    return and_(*conditions)


def selection_sums(items: Subquery, rules: Rules) -> Select:  # type: ignore[type-arg]
    """The selection itself: per subscription and currency, the eligible items' sum in
    cents, kept when at most the threshold (zero included)."""
    total = func.sum(cents(items.c.open_amount))
    return (select(items.c.subscription_id, items.c.currency, total.label("total"))
            .where(eligible(items, rules))
            .group_by(items.c.subscription_id, items.c.currency)
            .having(func.abs(total) <= int(rules.threshold * 100)))


def read_selection_source(conn: Connection, config: Config, item_entity: Entity,
                          sub_entity: Entity, rules: Rules, committed: Iterable[ItemId], label: str
                          ) -> tuple[Ledger, Balances, PushdownStats] | None:
    """The reduced ledger for ``rules``, and the flagged customers' balances computed in
    the database: ``select`` on these equals ``select`` on the whole ledger. None when SQL
    would misjudge values as written (see ``sql_checks``): read the source whole."""
    entities = (item_entity, sub_entity)
    try:
        with beside(conn) as run:
            checks = Checks.start(conn, run, item_entity, sub_entity)
            try:
                part = _select_inside(conn, run, entities, rules, committed)
            except DBAPIError as exc:  # such as SQLite's integer overflow summing 10**17
                if checks.found_misjudged():
                    raise Misjudged from exc
                raise
            checks.settle(conn, config, entities, label)
            item_rows, sub_rows, balances, stats = part
            ledger = build_ledger(item_entity.columns(item_rows), sub_entity.columns(sub_rows),
                                  config, label)
            return ledger, balances.result(), stats
    except Misjudged:
        return None


def _select_inside(conn: Connection, run: Run, entities: tuple[Entity, Entity], rules: Rules,
                   committed: Iterable[ItemId]
                   ) -> tuple[list[Row], list[Row], Future[Balances], PushdownStats]:
    """The rows the selection needs, the flagged customers' balances (still being summed)
    and the counts."""
    items, subs = entities[0].query.subquery("oi"), entities[1].query.subquery("sb")
    threshold = int(rules.threshold * 100)
    is_eligible = eligible(items, rules)
    small_kept_out = select(items).where(
        func.abs(cents(items.c.open_amount)) <= threshold, cents(items.c.open_amount) != 0,
        not_(is_eligible))
    counted = run(lambda c: c.execute(select(func.count()).select_from(items)).scalar_one())
    kept_out = run(lambda c: fetched(c, small_kept_out))

    committed_open = rows_in(conn, select(items), items.c.item_id, list(committed))
    touched_subs = sorted({str(r.subscription_id) for r in committed_open})
    candidates = fetched(conn, selection_sums(items, rules))
    flagged_subs = {str(r.subscription_id) for r in candidates if r.total != 0}
    zero_subs = {str(r.subscription_id) for r in candidates if r.total == 0}

    # The register's subscriptions are judged in Python, on all their items.
    touched_items = rows_in(conn, select(items), items.c.subscription_id, touched_subs)
    customers = sorted(_customers_of(conn, subs, flagged_subs | set(touched_subs)))
    balances = run(lambda c: _balances(c, items, rules, customers))

    rows = {str(r.item_id): r for r in committed_open}
    rows.update((str(r.item_id), r) for r in touched_items)
    rows.update((str(r.item_id), r) for r in
                rows_in(conn, select(items).where(is_eligible), items.c.subscription_id,
                        sorted(flagged_subs | zero_subs)))
    unique_subs = {str(r.subscription_id): r for r in
                   rows_in(conn, select(subs), subs.c.customer_id, customers)}
    rows.update((str(r.item_id), r) for r in kept_out.result())
    missing_subs = {str(r.subscription_id) for r in rows.values()} - unique_subs.keys()
    unique_subs.update((str(r.subscription_id), r) for r in
                       rows_in(conn, select(subs), subs.c.subscription_id, sorted(missing_subs)))
    stats = PushdownStats(counted.result(), len(rows), len(unique_subs), len(candidates))
    return list(rows.values()), list(unique_subs.values()), balances, stats


def _balances(conn: Connection, items: Subquery, rules: Rules, customers: Sequence[str]
              ) -> Balances:
    """Each customer's whole and overdue balance per currency, summed in the database."""
    amount = cents(items.c.open_amount)
    query = (select(items.c.customer_id, items.c.currency, func.sum(amount).label("whole"),
                    func.sum(case((items.c.due_date < a_date(rules.as_of), amount), else_=0))
                    .label("overdue"))
             .group_by(items.c.customer_id, items.c.currency))
    found: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for chunk in key_chunks(conn, customers):
        for row in fetched(conn, query.where(member_of(conn, items.c.customer_id, chunk))):
            found[(str(row.customer_id), str(row.currency))] = (
                Decimal(int(row.whole)).scaleb(-2), Decimal(int(row.overdue)).scaleb(-2))
    return found


def read_items(conn: Connection, config: Config, item_entity: Entity, sub_entity: Entity,
               subscription_ids: Sequence[str], item_ids: Sequence[ItemId], label: str
               ) -> Ledger | None:
    """Every open item of the given subscriptions, the given items wherever they are, and
    the subscriptions of both; None when an id has spaces around it, which a lookup by id
    would miss (read the source whole)."""
    items = item_entity.query.subquery("oi")
    subs = sub_entity.query.subquery("sb")
    lookups = [any_row(items, untrimmed(conn, items.c.item_id, items.c.subscription_id)),
               any_row(subs, untrimmed(conn, subs.c.subscription_id))]
    if any(conn.execute(query).first() is not None for query in lookups):
        return None
    item_rows, sub_rows = items_and_subscriptions(conn, items, subs, subscription_ids, item_ids)
    return build_ledger(item_entity.columns(item_rows), sub_entity.columns(sub_rows),
                        config, label)


def _customers_of(conn: Connection, subs: Subquery, sub_ids: set[str]) -> set[str]:
    found = rows_in(conn, select(subs.c.customer_id), subs.c.subscription_id, sorted(sub_ids))
    return {str(r.customer_id) for r in found}
