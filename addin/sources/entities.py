"""Each entity as a SELECT with canonical column names, whatever the ERP's schema.

The config names a table or view (``[tables]``), maps its columns (``[columns.*]``), or gives
a whole SELECT (``[sql]``). Each is checked before use: a missing table or column is named
(a table's columns are found as a file's are, by ``locate_columns``); a missing optional
column is NULL.
"""

from __future__ import annotations

from sqlalchemy import Connection, Label, MetaData, Select, Table, column, null, select, text
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from addin.config import (
    OPEN_ITEM_COLUMNS,
    OPEN_ITEM_OPTIONAL,
    SUBSCRIPTION_COLUMNS,
    SUBSCRIPTION_OPTIONAL,
    Config,
)
from addin.domain.problems import Problem, SourceError, Where
from addin.sources.table import locate_columns

COLUMNS = {
    "open_items": (OPEN_ITEM_COLUMNS, OPEN_ITEM_OPTIONAL),
    "subscriptions": (SUBSCRIPTION_COLUMNS, SUBSCRIPTION_OPTIONAL),
}


def entity_query(conn: Connection, entity: str, config: Config) -> Select:  # type: ignore[type-arg]
    required, optional = COLUMNS[entity]
    if entity in config.sql:
        return _from_sql(conn, entity, config.sql[entity], required, optional)
    return _from_table(conn, entity, config, required, optional)


def _from_sql(conn: Connection, entity: str, sql: str, required: tuple[str, ...],
              optional: tuple[str, ...]) -> Select:  # type: ignore[type-arg]
    where = Where(record=f"[sql] {entity}")
    try:
        keys = set(conn.execute(select(text("*")).select_from(
            text(f"({sql}) AS probe")).where(text("1 = 0"))).keys())
    except SQLAlchemyError as exc:
        raise SourceError([Problem(where, f"the query fails: {_first_line(exc)}")]) from exc
    missing = [c for c in required if c not in keys]
    if missing:
        raise SourceError([Problem(where, f"the query returns no column {c!r}")
                           for c in missing])
    present = [c for c in required + optional if c in keys]
    textual = text(sql).columns(*(column(c) for c in present)).subquery(f"{entity}_sql")
    return select(*(textual.c[c] if c in keys else _absent(c) for c in required + optional))


def _from_table(conn: Connection, entity: str, config: Config, required: tuple[str, ...],
                optional: tuple[str, ...]) -> Select:  # type: ignore[type-arg]
    name = config.tables.get(entity, entity)
    schema, _, table_name = name.rpartition(".")
    try:
        table = Table(table_name, MetaData(), schema=schema or None, autoload_with=conn)
    except NoSuchTableError as exc:
        raise SourceError([Problem(Where(record=f"table {name}"),
                                   "missing table or view")]) from exc
    columns = list(table.columns)
    positions = locate_columns([c.name for c in columns], entity, config,
                               Where(record=f"table {name}"))
    return select(*(columns[positions[c]].label(c) if c in positions else _absent(c)
                    for c in required + optional))


def _absent(canonical: str) -> Label[None]:
    """An optional column the source lacks, as NULL: not blocked, not in dispute, no label,
    as when a CSV leaves it out; the queries built on the entity need not ask."""
    return null().label(canonical)


def _first_line(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    return str(original or exc).splitlines()[0]
