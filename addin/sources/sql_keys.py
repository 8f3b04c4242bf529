"""Lists of keys in a SQL condition (``column IN keys``), sized for each server: one array
parameter on PostgreSQL, one JSON text on SQLite (json_each), IN lists of bound parameters
elsewhere, cut below each server's limit."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Subquery,
    Text,
    any_,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import NullType

CHUNK = 900  # bound parameters per IN list, below every server's limit (SQL Server: 2100)
# Servers known to take far more: fewer round trips and statements to compile.
LARGE_CHUNK = 10_000
_LARGE_CHUNK_DIALECTS = {"mysql", "mariadb"}

# Servers that take the whole list as one parameter (an array, a JSON text): no IN list to
# render, one statement whatever the number of keys.
ONE_PARAMETER = 200_000


def member_of(conn: Connection, column: ColumnElement, values: list[str]) -> ColumnElement:
    """``column IN values``: one array parameter on PostgreSQL, one JSON text on SQLite
    (json_each), else an IN list of bound parameters."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        if isinstance(column.type, NullType):  # a column of a [sql] SELECT: compared as text
            column = cast(column, Text)
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    if dialect == "sqlite" and _has_json_each(conn):
        keys = func.json_each(bindparam(None, json.dumps(values), type_=Text)
                              ).table_valued("value")
        return column.in_(select(keys.c.value))
    return column.in_(values)


def key_chunks(conn: Connection, values: Sequence[str]) -> Iterator[list[str]]:
    size = chunk_size(conn)
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def chunk_size(conn: Connection) -> int:
    dialect = conn.dialect
    if dialect.name == "postgresql" or (dialect.name == "sqlite" and _has_json_each(conn)):
        return ONE_PARAMETER
    if dialect.name in _LARGE_CHUNK_DIALECTS:
        return LARGE_CHUNK
    if dialect.name == "sqlite" and (dialect.server_version_info or ()) >= (3, 32):
        return LARGE_CHUNK  # SQLITE_MAX_VARIABLE_NUMBER is 32766 from 3.32 on
    return CHUNK


def _has_json_each(conn: Connection) -> bool:
    """SQLite has JSON built in from 3.38; before, only when compiled with JSON1."""
    found = conn.info.get("reliquat_json_each")
    if found is None:
        try:
            conn.exec_driver_sql("SELECT value FROM json_each('[]')").fetchall()
            found = True
        except DBAPIError:
            found = False
        conn.info["reliquat_json_each"] = found
    return bool(found)


def rows_in(conn: Connection, query: object, column: ColumnElement, values: Sequence[str]
            ) -> list:  # type: ignore[type-arg]
    """The rows of ``query`` whose ``column`` is among ``values``, in as many statements as
    the server's limits ask."""
    rows: list = []  # type: ignore[type-arg]
    for chunk in key_chunks(conn, values):
        rows.extend(conn.execute(query.where(member_of(conn, column, chunk))  # type: ignore[attr-defined]
                                 ).fetchall())
    return rows


def items_and_subscriptions(conn: Connection, items: Subquery, subs: Subquery,
                            subscription_ids: Iterable[str], item_ids: Iterable[str]
                            ) -> tuple[list, list]:  # type: ignore[type-arg]
    """Every item of the given subscriptions, the given items wherever they are, and the
    subscriptions of both. Lists, not keyed by id: an id held twice comes twice, for
    ``build`` to name."""
    item_rows = rows_in(conn, select(items), items.c.subscription_id,
                        sorted(set(subscription_ids)))
    elsewhere = set(item_ids) - _texts_of(item_rows, "item_id")
    item_rows += rows_in(conn, select(items), items.c.item_id, sorted(elsewhere))
    wanted = sorted(set(subscription_ids) | _texts_of(item_rows, "subscription_id"))
    return item_rows, rows_in(conn, select(subs), subs.c.subscription_id, wanted)


def _texts_of(rows: list, name: str) -> set[str]:  # type: ignore[type-arg]
    """One column of every row, as text. By position: a row's attribute costs three times
    as much, on the half million rows of a large commit."""
    if not rows:
        return set()
    at = rows[0]._fields.index(name)
    return {str(row[at]) for row in rows}
