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

Only SELECTs run; every value is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Numeric,
    Row,
    Select,
    Subquery,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import DataError, DBAPIError

from addin.config import Config
from addin.domain.model import ItemId, Ledger, Rules
from addin.domain.rules import Balances
from addin.sources.build import build_ledger
from addin.sources.entities import Entity
from addin.sources.sql_keys import key_chunks, member_of

T = TypeVar("T")
SCANS_BESIDE = 2
SUSPECTS = 201  # ids of each kind looked at when the ledger is broken: past the problems shown
_TOO_LARGE = 10 ** 16  # an amount of more digits is refused by the exact reader
_UNDEFINED_FUNCTION = "42883"  # PostgreSQL: such as text <= date


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


def _flag(column: ColumnElement) -> ColumnElement:
    return func.coalesce(cast(column, BigInteger), 0)


def eligible(items: Subquery, rules: Rules) -> ColumnElement:
    cutoff = rules.as_of - dt.timedelta(days=rules.min_overdue_days)
    conditions = [
        cents(items.c.open_amount) != 0,
        items.c.due_date <= cutoff,
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


class Misjudged(Exception):
    """SQL would compare some values otherwise than the rules: the selection cannot run there."""


def read_selection_source(conn: Connection, config: Config, item_entity: Entity,
                          sub_entity: Entity, rules: Rules, committed: Iterable[ItemId], label: str
                          ) -> tuple[Ledger, Balances, PushdownStats] | None:
    """The reduced ledger for ``rules``, and the flagged customers' balances computed in
    the database: ``select`` on these equals ``select`` on the whole ledger. None when SQL
    would misjudge values as written (see ``misjudged_forms``, ``_fetched``): read the
    source whole."""
    try:
        return _select_inside(conn, config, item_entity, sub_entity, rules, committed, label)
    except Misjudged:
        return None


def _select_inside(conn: Connection, config: Config, item_entity: Entity, sub_entity: Entity,
                   rules: Rules, committed: Iterable[ItemId], label: str
                   ) -> tuple[Ledger, Balances, PushdownStats]:
    items = item_entity.query.subquery("oi")
    subs = sub_entity.query.subquery("sb")
    threshold = int(rules.threshold * 100)
    is_eligible = eligible(items, rules)

    small_kept_out = select(items).where(
        func.abs(cents(items.c.open_amount)) <= threshold, cents(items.c.open_amount) != 0,
        not_(is_eligible))
    with beside(conn) as run:  # the whole scans of the items run beside the selection
        misjudged = [run(_found(query)) for query in misjudged_forms(conn, items, subs)]
        try:
            counted = run(lambda c: c.execute(select(func.count()).select_from(items)).scalar_one())
            kept_out = run(lambda c: _fetched(c, small_kept_out))
            item_suspects, sub_suspects = ([run(work) for work in works]
                                           for works in _suspects(item_entity, sub_entity))

            committed_open = _rows_in(conn, select(items), items.c.item_id, list(committed))
            touched_subs = sorted({str(r.subscription_id) for r in committed_open})
            candidates = _fetched(conn, selection_sums(items, rules))
            flagged_subs = {str(r.subscription_id) for r in candidates if r.total != 0}
            zero_subs = {str(r.subscription_id) for r in candidates if r.total == 0}

            # The register's subscriptions are judged in Python, on all their items.
            touched_items = _rows_in(conn, select(items), items.c.subscription_id, touched_subs)
            customers = sorted(_customers_of(conn, subs, flagged_subs | set(touched_subs)))
            balances = run(lambda c: _balances(c, items, rules, customers))

            rows = {str(r.item_id): r for r in committed_open}
            rows.update((str(r.item_id), r) for r in touched_items)
            rows.update((str(r.item_id), r) for r in
                        _rows_in(conn, select(items).where(is_eligible), items.c.subscription_id,
                                 sorted(flagged_subs | zero_subs)))
            unique_subs = {str(r.subscription_id): r for r in
                           _rows_in(conn, select(subs), subs.c.customer_id, customers)}
            rows.update((str(r.item_id), r) for r in kept_out.result())
            missing_subs = {str(r.subscription_id) for r in rows.values()} - unique_subs.keys()
            unique_subs.update((str(r.subscription_id), r) for r in
                               _rows_in(conn, select(subs), subs.c.subscription_id,
                                        sorted(missing_subs)))

            if any(found.result() for found in misjudged):
                raise Misjudged
            _refuse_unsound(conn, config, (item_entity, sub_entity), (item_suspects, sub_suspects),
                            label)
            ledger = build_ledger(item_entity.columns(list(rows.values())),
                                  sub_entity.columns(list(unique_subs.values())), config, label)
            stats = PushdownStats(counted.result(), len(rows), len(unique_subs), len(candidates))
            return ledger, balances.result(), stats
        except DBAPIError as exc:  # such as SQLite's integer overflow summing 10**17
            if any(found.result() for found in misjudged):
                raise Misjudged from exc
            raise


Work = Callable[[Connection], T]


@contextmanager
def beside(conn: Connection) -> Iterator[Callable[[Work[T]], Future[T]]]:
    """A way to run queries beside the ones on ``conn``: on connections of their own, in
    ``SCANS_BESIDE`` threads (a server runs each connection's queries on its own core;
    SQLite lets go of Python's lock while it runs one); on ``conn`` itself, at once, for a
    SQLite database in memory, which another connection would not see."""
    if conn.dialect.name == "sqlite" and not _is_sqlite_file(conn):
        def at_once(work: Work[T]) -> Future[T]:
            done: Future[T] = Future()
            done.set_result(work(conn))
            return done

        yield at_once
        return
    own = threading.local()
    opened: list[Connection] = []

    def on_own_connection(work: Work[T]) -> T:
        if not hasattr(own, "connection"):
            own.connection = conn.engine.connect()
            opened.append(own.connection)
        return work(own.connection)

    pool = ThreadPoolExecutor(SCANS_BESIDE, thread_name_prefix="reliquat-scan")
    try:
        yield lambda work: pool.submit(on_own_connection, work)
    except BaseException:
        pool.shutdown(cancel_futures=True)  # a refused ledger: the scans not begun are moot
        raise
    finally:
        pool.shutdown()
        for connection in opened:
            connection.close()


def _is_sqlite_file(conn: Connection) -> bool:
    databases = conn.exec_driver_sql("PRAGMA database_list").fetchall()
    return any(name == "main" and path for _, name, path in databases)


def _balances(conn: Connection, items: Subquery, rules: Rules, customers: Sequence[str]
              ) -> Balances:
    """Each customer's whole and overdue balance per currency, summed in the database."""
    amount = cents(items.c.open_amount)
    query = (select(items.c.customer_id, items.c.currency, func.sum(amount).label("whole"),
                    func.sum(case((items.c.due_date < rules.as_of, amount), else_=0))
                    .label("overdue"))
             .group_by(items.c.customer_id, items.c.currency))
    found: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for chunk in key_chunks(conn, customers):
        for row in _fetched(conn, query.where(member_of(conn, items.c.customer_id, chunk))):
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
    lookups = [_any_row(items, _untrimmed(conn, items.c.item_id, items.c.subscription_id)),
               _any_row(subs, _untrimmed(conn, subs.c.subscription_id))]
    if any(conn.execute(query).first() is not None for query in lookups):
        return None
    # A list, not keyed by id: an id the source holds twice reaches build, which names it.
    item_rows = _rows_in(conn, select(items), items.c.subscription_id,
                         sorted(set(subscription_ids)))
    elsewhere = set(item_ids) - {str(r.item_id) for r in item_rows}
    item_rows += _rows_in(conn, select(items), items.c.item_id, sorted(elsewhere))
    wanted = sorted(set(subscription_ids) | {str(r.subscription_id) for r in item_rows})
    sub_rows = _rows_in(conn, select(subs), subs.c.subscription_id, wanted)
    return build_ledger(item_entity.columns(item_rows), sub_entity.columns(sub_rows),
                        config, label)


def _fetched(conn: Connection, query: Select) -> Sequence[Row]:  # type: ignore[type-arg]
    """Every row of ``query``, or Misjudged where a value of a text column is not a number,
    date or flag as SQL reads them (1'000.00, 01.12.2026, oui): PostgreSQL refuses to convert
    it or to compare the text with a date; MariaDB and MySQL warn and go on."""
    try:
        rows = conn.execute(query).fetchall()
    except DBAPIError as exc:
        if isinstance(exc, DataError) or _sqlstate(exc) == _UNDEFINED_FUNCTION:
            raise Misjudged from exc
        raise
    if conn.dialect.name in ("mysql", "mariadb"):
        warning = conn.exec_driver_sql("SHOW WARNINGS LIMIT 1").first()
        if warning is not None and str(warning[0]) == "Warning":
            raise Misjudged
    return rows


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", "") or "")


def misjudged_forms(conn: Connection, items: Subquery, subs: Subquery
                    ) -> list[Select]:  # type: ignore[type-arg]
    """Queries for a row whose values SQL would compare otherwise than the rules: an id
    missing or with spaces around it ('S1 ' is not 'S1', though a MariaDB collation may say
    so), a currency not of three capitals; and on SQLite, whose columns hold any value as it was
    written, an amount, date or flag in a form SQL does not read as the rules do (1'004.00
    casts to 1, 01.12.2026 sorts before 2026, 'oui' casts to 0, 10**17 overflows the
    cents); an amount of more than two decimals. A server refuses such a value in a typed
    column; PostgreSQL refuses it in a text column, MariaDB warns (see ``_fetched``)."""
    currency = _as_text(conn, items.c.currency)
    item_forms = [currency.is_(None), func.length(currency) != 3,
                  currency != func.upper(currency),
                  *_untrimmed(conn, items.c.item_id, items.c.subscription_id,
                              items.c.customer_id)]
    if conn.dialect.name == "sqlite":
        item_forms += _sqlite_forms(items)
    else:  # more than two decimals: whole cents would round them away
        item_forms.append(cast(items.c.open_amount, Numeric(18, 2)) != items.c.open_amount)
    sub_forms = _untrimmed(conn, subs.c.subscription_id, subs.c.customer_id)
    return [_any_row(items, item_forms), _any_row(subs, sub_forms)]


def _untrimmed(conn: Connection, *keys: ColumnElement) -> list[ColumnElement]:
    """An id missing or with spaces around it."""
    return [condition for key in keys for condition in
            (key.is_(None), _as_text(conn, key) != func.trim(_as_text(conn, key)))]


def _as_text(conn: Connection, key: ColumnElement) -> ColumnElement:
    return key if conn.dialect.name == "sqlite" else cast(key, Text)


def _any_row(table: Subquery, conditions: list[ColumnElement]
             ) -> Select:  # type: ignore[type-arg]
    return select(literal(1)).select_from(table).where(or_(*conditions)).limit(1)


def _sqlite_forms(items: Subquery) -> list[ColumnElement]:
    """The common forms are tried first, and cheaply: an amount as printf writes it (0.50),
    a date as date() does (2026-10-01)."""
    amount, due = items.c.open_amount, items.c.due_date
    is_text = func.typeof(amount) == "text"
    plain_amount = or_(and_(is_text, amount == func.printf("%.2f", amount)),
                       func.typeof(amount) == "integer",
                       and_(func.typeof(amount) == "real", func.round(amount, 2) == amount),
                       and_(is_text, amount.op("GLOB")("*[0-9]*"),
                            not_(amount.op("GLOB")("*[^0-9.+-]*")),
                            not_(amount.op("GLOB")("*.[0-9][0-9][0-9]*"))))
    forms = [not_(plain_amount), func.abs(amount) >= _TOO_LARGE, due.is_(None),
             func.date(due).is_not(due)]
    for flag in (items.c.dunning_block, items.c.dispute):
        forms.append(not_(or_(flag.is_(None), flag.in_((0, 1)),
                              and_(func.typeof(flag) == "text", flag.in_(("0", "1", ""))))))
    return forms


def _suspects(items: Entity, subs: Entity
              ) -> tuple[list[Work[list[str]]], list[Work[list[str]]]]:
    """Lookups of the item ids and the subscription ids that may break the ledger ``build``
    checks, which sees only the rows fetched: ids held twice, and subscriptions used by
    items of a customer they do not belong to, or unknown. A few of each are enough to
    refuse the ledger."""
    item, sub = items.query.subquery("oi"), subs.query.subquery("sb")
    return (_repeats(items, item.c.item_id),
            [_foreign(item, sub, "subscription_id" in subs.unique),
             *_repeats(subs, sub.c.subscription_id)])


def _repeats(entity: Entity, column: ColumnElement) -> list[Work[list[str]]]:
    """The ids held twice, unless the database itself keeps them unique. Counted first: a
    GROUP BY of a million ids takes MariaDB several times as long as a COUNT(DISTINCT)."""
    if column.name in entity.unique:
        return []
    counted = select(func.count() - func.count(column.distinct()))
    found = select(column).group_by(column).having(func.count() > 1).limit(SUSPECTS)
    return [_keys_if(counted, found)]


def _foreign(item: Subquery, sub: Subquery, sub_id_unique: bool) -> Work[list[str]]:
    """Subscriptions some item names with another customer than theirs, or unknown. Joined
    at once only on a subscription id the database keeps unique (so indexed): else the join
    is a nested loop on MariaDB, and the (subscription, customer) pairs are counted first,
    those of the items and the subscriptions together against the subscriptions' own."""
    found = (select(item.c.subscription_id)
             .select_from(item.outerjoin(sub, sub.c.subscription_id == item.c.subscription_id))
             .where(or_(sub.c.subscription_id.is_(None),
                        sub.c.customer_id != item.c.customer_id)).limit(SUSPECTS))
    if sub_id_unique:
        return _keys_if(None, found)

    def pair(table: Subquery) -> ColumnElement:
        return (cast(table.c.subscription_id, Text) + literal("\x1f")
                + cast(table.c.customer_id, Text))

    both = union_all(select(pair(item).label("pair")), select(pair(sub).label("pair"))
                     ).subquery("pairs")
    counted = select(select(func.count(both.c.pair.distinct())).scalar_subquery()
                     - select(func.count(pair(sub).distinct())).scalar_subquery())
    return _keys_if(counted, found)


def _keys_if(counted: Select | None, found: Select  # type: ignore[type-arg]
             ) -> Work[list[str]]:
    """``found``'s keys, once ``counted`` (when given) says there are any."""
    def work(conn: Connection) -> list[str]:
        if counted is not None and not conn.execute(counted).scalar():
            return []
        return [str(key) for key in conn.execute(found).scalars() if key is not None]
    return work


def _found(query: Select) -> Work[bool]:  # type: ignore[type-arg]
    return lambda conn: bool(_fetched(conn, query))


def _refuse_unsound(conn: Connection, config: Config, entities: tuple[Entity, Entity],
                    suspects: tuple[list[Future[list[str]]], list[Future[list[str]]]],
                    label: str) -> None:
    """Raise the problems ``build`` finds in the suspect rows (every copy of a repeated id,
    the items of a suspect subscription, and the subscriptions of both). SQL may compare ids
    otherwise than Reliquat (a collation that ignores case or trailing spaces): a suspect
    ``build`` accepts is no problem."""
    item_ids, sub_ids = ({key for found in futures for key in found.result()}
                         for futures in suspects)
    if not item_ids and not sub_ids:
        return
    item_entity, sub_entity = entities
    items, subs = item_entity.query.subquery("oi"), sub_entity.query.subquery("sb")
    item_rows = _rows_in(conn, select(items), items.c.item_id, sorted(item_ids))
    item_rows += _rows_in(conn, select(items).where(items.c.item_id.not_in(item_ids)),
                          items.c.subscription_id, sorted(sub_ids))
    wanted = sub_ids | {str(r.subscription_id) for r in item_rows}
    sub_rows = _rows_in(conn, select(subs), subs.c.subscription_id, sorted(wanted))
    build_ledger(item_entity.columns(item_rows), sub_entity.columns(sub_rows), config, label)


def _customers_of(conn: Connection, subs: Subquery, sub_ids: set[str]) -> set[str]:
    found = _rows_in(conn, select(subs.c.customer_id), subs.c.subscription_id, sorted(sub_ids))
    return {str(r.customer_id) for r in found}


def _rows_in(conn: Connection, query: object, column: ColumnElement, values: Sequence[str]
             ) -> list:  # type: ignore[type-arg]
    rows: list = []  # type: ignore[type-arg]
    for chunk in key_chunks(conn, values):
        rows.extend(conn.execute(query.where(member_of(conn, column, chunk))  # type: ignore[attr-defined]
                                 ).fetchall())
    return rows
