"""What the database checks of the rows the pushdown does not hand over.

The extract and the commit read part of a database; ``validate`` reads it whole. So that
they refuse the same ledger, the rest is checked where it is: ids held twice, items of an
unknown or another customer's subscription (``suspects``, whose rows then go through
``build``, which names what is wrong), and values SQL would compare otherwise than the rules
(``misjudged_forms``: the source is then read whole, by the exact reader).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Numeric,
    Row,
    Select,
    Subquery,
    Text,
    and_,
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
from addin.sources.build import build_ledger
from addin.sources.entities import Entity
from addin.sources.sql_beside import Run, Work
from addin.sources.sql_keys import items_and_subscriptions

SUSPECTS = 201  # ids of each kind looked at when the ledger is broken: past the problems shown
_TOO_LARGE = 10 ** 16  # an amount of more digits is refused by the exact reader
# A text amount SQLite reads as the rules do: GLOBs, cheaper than a regular expression,
# which SQLite lacks.
_PLAIN_AMOUNT_TEXT: tuple[Callable[[ColumnElement], ColumnElement], ...] = (
    lambda a: a.op("GLOB")("*[0-9]*"),  # a digit
    lambda a: not_(a.op("GLOB")("*[^0-9.+-]*")),  # nothing else than digits, point, sign
    lambda a: not_(a.op("GLOB")("*.[0-9][0-9][0-9]*")),  # at most two decimals
    lambda a: not_(a.op("GLOB")("*.*.*")),  # one point
    lambda a: not_(a.op("GLOB")("?*[+-]*")),  # the sign first
)
_FORMULA_GLOB = "[=+@\x01-\x1f\x7f]*"  # formula_start's characters (NUL aside)
_UNDEFINED_FUNCTION = "42883"  # PostgreSQL: such as text <= date
# A day as the exact reader takes it from a server's text (values.parse_date): a DATE or
# DATETIME at midnight cast to text reads so too; a Swiss date is read whole.
_ISO_DAY = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]00:00(:00)?)?$"


class Misjudged(Exception):
    """SQL would compare some values otherwise than the rules: the selection cannot run there."""


@dataclass(frozen=True)
class Checks:
    """The checks of one selection, running beside it."""

    misjudged: list[Future[bool]]
    item_suspects: list[Future[list[str]]]
    sub_suspects: list[Future[list[str]]]

    @classmethod
    def start(cls, conn: Connection, run: Run, items: Entity, subs: Entity) -> Checks:
        item, sub = items.query.subquery("oi"), subs.query.subquery("sb")
        misjudged = [run(_found(query))
                     for query in misjudged_forms(conn, item, sub, items.typed)]
        item_works, sub_works = _suspects(items, subs)
        return cls(misjudged, [run(work) for work in item_works],
                   [run(work) for work in sub_works])

    def settle(self, conn: Connection, config: Config, entities: tuple[Entity, Entity],
               label: str) -> None:
        """Misjudged, or the problems ``build`` names in the suspect rows; else nothing."""
        if self.found_misjudged():
            raise Misjudged
        _refuse_unsound(conn, config, entities, (self.item_suspects, self.sub_suspects), label)

    def found_misjudged(self) -> bool:
        return any(found.result() for found in self.misjudged)


def fetched(conn: Connection, query: Select) -> Sequence[Row]:  # type: ignore[type-arg]
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


def misjudged_forms(conn: Connection, items: Subquery, subs: Subquery,
                    typed: frozenset[str] = frozenset()
                    ) -> list[Select]:  # type: ignore[type-arg]
    """Queries for a row whose values SQL would compare otherwise than the rules: an id
    missing, empty, with spaces around it ('S1 ' is not 'S1', though a MariaDB collation may say
    so) or beginning as a formula; a currency not of three capital letters; a due date not
    ISO (MariaDB reads 2026/10/01; a server compares a time of day with a day) or no
    calendar's (infinity, 0000-00-00); an amount too large for cents or no number (NaN); a
    flag neither 0 nor 1; and on SQLite, whose columns hold any value as it was written, an
    amount, date or flag in a form SQL does not read as the rules do (1'004.00 casts to 1,
    01.12.2026 sorts before 2026, 'oui' casts to 0); an amount of more than two decimals. A
    server refuses such a value in a typed column; PostgreSQL refuses it in a text column,
    MariaDB warns (see ``fetched``). A column in ``typed`` (see ``Entity``) holds no other
    form: it is not searched."""
    currency = _as_text(conn, items.c.currency)
    item_ids = (items.c.item_id, items.c.subscription_id, items.c.customer_id)
    item_forms = [currency.is_(None), *untrimmed(conn, *item_ids),
                  *formula_like(conn, *item_ids)]
    if conn.dialect.name == "sqlite":
        item_forms += [not_(currency.op("GLOB")("[A-Z][A-Z][A-Z]")), *_sqlite_forms(items)]
    else:
        item_forms += _server_forms(conn, items, typed)
    sub_ids = (subs.c.subscription_id, subs.c.customer_id)
    sub_forms = [*untrimmed(conn, *sub_ids), *formula_like(conn, *sub_ids)]
    return [any_row(items, item_forms), any_row(subs, sub_forms)]


def _server_forms(conn: Connection, items: Subquery, typed: frozenset[str]
                  ) -> list[ColumnElement]:
    currency, due = _as_text(conn, items.c.currency), _as_text(conn, items.c.due_date)
    amount = items.c.open_amount
    forms = [not_(currency.regexp_match("^[A-Za-z]{3}$")), currency != func.upper(currency),
             due.is_(None), amount.is_(None),
             # too large for cents, and PostgreSQL's NaN, which sorts above all
             func.abs(amount) >= _TOO_LARGE,
             # SQL counts a 2 as a block, the rules refuse it
             *(cast(flag, Integer).not_in((0, 1))
               for flag in (items.c.dunning_block, items.c.dispute)),
             *_no_calendar_day(conn, items.c.due_date, "due_date" in typed)]
    if "open_amount" not in typed:  # more than two decimals, which cents would round
        forms.append(cast(amount, Numeric(18, 2)) != amount)
    if "due_date" not in typed:  # a date MariaDB reads and the rules do not (2026/10/01,
        forms.append(not_(due.regexp_match(_ISO_DAY)))  # 20261001), or a time of day
    return forms


def _no_calendar_day(conn: Connection, day: ColumnElement, typed: bool
                     ) -> list[ColumnElement]:
    """A day the exact reader refuses and SQL compares all the same: PostgreSQL's infinity
    in a DATE column (as text it fails the ISO form), MariaDB's zero day or month (its
    default mode stores 0000-00-00 and 2026-00-15, which look ISO)."""
    if conn.dialect.name == "postgresql":
        return [not_(func.isfinite(day))] if typed else []
    if conn.dialect.name in ("mysql", "mariadb"):
        return [func.month(day) == 0, func.dayofmonth(day) == 0]
    return []


def untrimmed(conn: Connection, *keys: ColumnElement) -> list[ColumnElement]:
    """An id missing, empty (MariaDB's PAD SPACE collations take '   ' for it too) or with
    spaces around it."""
    return [condition for key in keys for condition in
            (key.is_(None), _as_text(conn, key) == "",
             _as_text(conn, key) != func.trim(_as_text(conn, key)))]


def formula_like(conn: Connection, *keys: ColumnElement) -> list[ColumnElement]:
    """An id that begins as a formula or with a control character, which the exact reader
    refuses (``formulas.formula_start``) and SQL groups by like any other."""
    if conn.dialect.name == "sqlite":
        return [key.op("GLOB")(_FORMULA_GLOB) for key in keys]
    return [_as_text(conn, key).regexp_match("^[=+@[:cntrl:]]") for key in keys]


def _as_text(conn: Connection, key: ColumnElement) -> ColumnElement:
    return key if conn.dialect.name == "sqlite" else cast(key, Text)


def any_row(table: Subquery, conditions: list[ColumnElement]
             ) -> Select:  # type: ignore[type-arg]
    return select(literal(1)).select_from(table).where(or_(*conditions)).limit(1)


def _sqlite_forms(items: Subquery) -> list[ColumnElement]:
    """An amount stored as a number of at most two decimals, or as a text of digits with at
    most one point, two decimals and a sign first (SQLite casts 9.5.0 to 9.5 and 9- to 9,
    which the rules refuse); a date as date() writes it (2026-10-01)."""
    amount, due = items.c.open_amount, items.c.due_date
    plain_amount = or_(and_(func.typeof(amount) == "text",
                            *(pattern(amount) for pattern in _PLAIN_AMOUNT_TEXT)),
                       func.typeof(amount) == "integer",
                       and_(func.typeof(amount) == "real", func.round(amount, 2) == amount))
    forms = [not_(plain_amount), func.abs(amount) >= _TOO_LARGE, due.is_(None),
             func.date(due, "+0 days").is_not(due)]  # the modifier makes 02-30 03-02
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
    return lambda conn: bool(fetched(conn, query))


def _refuse_unsound(conn: Connection, config: Config, entities: tuple[Entity, Entity],
                    suspects: tuple[list[Future[list[str]]], list[Future[list[str]]]],
                    label: str) -> None:
    """Raise the problems ``build`` finds in the suspect rows (every copy of a repeated id,
    the items of a suspect subscription, and the subscriptions of both). SQL may compare ids
    otherwise than Reliquat (a collation that ignores case or trailing spaces): a suspect
    ``build`` accepts is no problem. A suspect id the rules strip (a no-break space, a tab)
    is Misjudged: SQL grouped it apart from the id it is."""
    item_ids, sub_ids = ({key for found in futures for key in found.result()}
                         for futures in suspects)
    if not item_ids and not sub_ids:
        return
    if any(key != key.strip() for key in item_ids | sub_ids):
        raise Misjudged  # 'S3\u00a0' is S3 to the rules, another id to SQL
    item_entity, sub_entity = entities
    items, subs = item_entity.query.subquery("oi"), sub_entity.query.subquery("sb")
    item_rows, sub_rows = items_and_subscriptions(conn, items, subs, sub_ids, item_ids)
    build_ledger(item_entity.columns(item_rows), sub_entity.columns(sub_rows), config, label)
