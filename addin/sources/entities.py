"""Each entity of a database as one SELECT with canonical column names, whatever its schema.

The config names a table or view (``[tables]``), maps its columns (``[columns.*]``), or gives
a whole SELECT (``[sql]``). Either way the columns are found by ``locate_columns``, as a
file's are, and a missing optional column is NULL. The whole read (``read_entity``) and the
pushdown's selections run queries built on the same ``Entity``, and a bad value found in
their rows is named by the table and the column as the ERP calls them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Float,
    Label,
    Numeric,
    Row,
    Select,
    column,
    inspect,
    null,
    select,
    text,
)
from sqlalchemy import table as table_clause
from sqlalchemy.engine import Inspector
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.types import TypeEngine

from addin.config import Config
from addin.domain.problems import Problem, SourceError, Where
from addin.sources.table import (
    OPTIONAL,
    REQUIRED,
    RawColumns,
    drop_blank_rows,
    locate_columns,
    no_line,
)

# What SQL does not read as code (comments, texts, quoted names), or else a semicolon.
_NOT_CODE_OR_SEMICOLON = re.compile(
    r"""(--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`)|;""", re.DOTALL)


@dataclass(frozen=True)
class Entity:
    """One entity of a database, ready to be queried.

    Attributes:
      label: how problems name it: the table as the config names it, or ``[sql] entity``.
      query: every canonical column, required then optional, under its canonical name; an
        optional column the source lacks is NULL.
      headers: canonical column -> the column as the ERP names it, for those it has.
      unique: the canonical columns the database itself keeps unique (a primary key or a
        unique constraint or index on that column alone): no need to look for a repeat.
      typed: the canonical columns a server's type keeps to what the rules read (a day, an
        amount of at most two decimals): no need to look for another form.
    """

    label: str
    query: Select  # type: ignore[type-arg]
    headers: dict[str, str]
    unique: frozenset[str] = frozenset()
    typed: frozenset[str] = frozenset()

    def columns(self, rows: Sequence[Row]) -> RawColumns:  # type: ignore[type-arg]
        """Rows of ``query`` (or of a SELECT of its every column) as ``build`` reads them."""
        names = list(self.query.selected_columns.keys())
        by_column = list(zip(*rows, strict=True)) or [()] * len(names)
        cells = {c: by_column[names.index(c)] for c in self.headers}
        return drop_blank_rows(RawColumns(self.label, self.headers, cells, no_line))


def describe(conn: Connection, entity: str, config: Config, database: str) -> Entity:
    """The entity as the config sets it; ``database`` (shown without password) names where a
    missing table was looked for."""
    if entity in config.sql:
        return _from_sql(conn, entity, config)
    return _from_table(conn, entity, config, database)


def read_entity(conn: Connection, entity: str, config: Config, database: str) -> RawColumns:
    """Every row of the entity."""
    described = describe(conn, entity, config, database)
    try:
        rows = conn.execute(described.query).all()
    except SQLAlchemyError as exc:
        raise SourceError([Problem(Where(database), f"cannot read {entity}: {_first_line(exc)}")]
                          ) from exc
    return described.columns(rows)


def _from_table(conn: Connection, entity: str, config: Config, database: str) -> Entity:
    name = config.tables.get(entity, entity)
    schema, _, table_name = name.rpartition(".")
    inspector = inspect(conn)
    try:
        reflected = inspector.get_columns(table_name, schema or None)
    except NoSuchTableError:
        raise SourceError([Problem(Where(database), f"missing table or view {name!r}")]
                          ) from None
    names = [str(c["name"]) for c in reflected]
    positions = locate_columns(names, entity, config, Where(name))
    # Untyped columns: values come back as the driver gives them, and a bad one (a text in
    # a NUMERIC column of SQLite) reaches the checks that name it instead of failing here.
    found = table_clause(table_name, *(column(n) for n in names), schema=schema or None)
    query = select(*(found.c[names[positions[c]]].label(c) if c in positions else _absent(c)
                     for c in _canonical(entity)))
    headers = {c: names[p] for c, p in positions.items()}
    kept_unique = _kept_unique(inspector, table_name, schema or None)
    types = {str(c["name"]): c["type"] for c in reflected}
    typed = (frozenset(c for c, header in headers.items() if _keeps_form(c, types[header]))
             if conn.dialect.name != "sqlite" else frozenset())  # SQLite keeps any value
    return Entity(name, query, headers,
                  frozenset(c for c, header in headers.items() if header in kept_unique), typed)


def _keeps_form(canonical: str, sql_type: TypeEngine[Any]) -> bool:
    """A DATE holds a day (a DATETIME may hold a time of day); a DECIMAL of at most two
    decimals an amount as the rules read it (a FLOAT is no DECIMAL)."""
    if canonical.endswith("_date"):
        return isinstance(sql_type, Date) and not isinstance(sql_type, DateTime)
    if canonical.endswith("_amount"):
        return (isinstance(sql_type, Numeric) and not isinstance(sql_type, Float)
                and sql_type.scale is not None and sql_type.scale <= 2)
    return False


def _kept_unique(inspector: Inspector, table: str, schema: str | None) -> set[str]:
    """The columns a primary key, a unique constraint or a unique index holds alone (a
    view has none)."""
    primary_key = inspector.get_pk_constraint(table, schema)["constrained_columns"]
    sets: list[Sequence[object]] = [primary_key]
    sets += [u["column_names"] for u in inspector.get_unique_constraints(table, schema)]
    sets += [i["column_names"] for i in inspector.get_indexes(table, schema) if i["unique"]]
    return {str(columns[0]) for columns in sets if len(columns) == 1}


def _from_sql(conn: Connection, entity: str, config: Config) -> Entity:
    label = f"[sql] {entity}"
    sql = _single_select(config.sql[entity], label)
    # The query's columns, without its rows: the closing parenthesis on its own line, in
    # case the query ends with a comment.
    probe = select(text("*")).select_from(text(f"({sql}\n) AS probe")).where(text("1 = 0"))
    try:
        keys = [str(k) for k in conn.execute(probe).keys()]  # noqa: SIM118 (a Result)
    except SQLAlchemyError as exc:
        raise SourceError([Problem(Where(label), f"the query fails: {_first_line(exc)}")]
                          ) from exc
    positions = locate_columns(keys, entity, config, Where(label))
    located = {c: keys[p] for c, p in positions.items()}
    written = text(f"{sql}\n").columns(*(column(k) for k in located.values()))
    subquery = written.subquery(f"{entity}_sql")
    query = select(*(subquery.c[located[c]].label(c) if c in located else _absent(c)
                     for c in _canonical(entity)))
    return Entity(label, query, located)


def _canonical(entity: str) -> tuple[str, ...]:
    return REQUIRED[entity] + OPTIONAL[entity]


def _absent(canonical: str) -> Label[None]:
    """An optional column the source lacks, as NULL: not blocked, not in dispute, no label,
    as when a CSV leaves it out; the queries built on the entity need not ask."""
    return null().label(canonical)


def _single_select(query: str, label: str) -> str:
    """The query without the semicolons that may end it (it is run inside another); refused
    unless it is one SELECT. A guard against a mistyped config, not a security boundary."""
    code = _NOT_CODE_OR_SEMICOLON.sub(lambda m: " " if m.group(1) else ";", query)
    bare = code.strip().rstrip("; \t\r\n")
    first = bare.split(None, 1)[0].upper() if bare else ""
    if first not in ("SELECT", "WITH") or ";" in bare:
        raise SourceError([Problem(Where(label), "must be one SELECT statement (or WITH … "
                                                 "SELECT): a source only reads")])
    return _NOT_CODE_OR_SEMICOLON.sub(lambda m: m.group(1) or " ", query)


def _first_line(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    return str(original if original is not None else exc).strip().splitlines()[0]
