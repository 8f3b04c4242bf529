"""Database sources through SQLAlchemy: tables or views by name, or one SELECT per entity.

Only SELECTs are run, and a SQLite file is opened read-only. Values are bound, never pasted
into SQL; table and column names come from the config and SQLAlchemy quotes them. The statement
for a table is built in ``entity_select``, the place where conditions can later be pushed down.
A SELECT written in ``[sql]`` runs as written: give the source a read-only database user.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, Select, column, create_engine, inspect, select
from sqlalchemy import table as table_clause
from sqlalchemy import text as sql_text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchTableError, SQLAlchemyError

from addin.config import Config
from addin.domain.problems import Problem, SourceError, Where
from addin.locations import Location, with_password
from addin.sources.table import RawColumns, locate_columns, no_line, raw_columns

_COMMENT_OR_TEXT = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
_PYSQLITE = ("sqlite", "sqlite+pysqlite")


def connect(source: Location) -> Engine:
    """An engine for a URL or a SQLite file path. A SQLite file is opened read-only and must
    exist (SQLite would otherwise create an empty one); a server's password may come from the
    environment or the keyring (``with_password``)."""
    if not source.is_url:
        return _read_only_sqlite(source.path)
    try:
        parsed = make_url(source.given)
        if parsed.drivername in _PYSQLITE and _is_file_database(parsed.database):
            return _read_only_sqlite(Path(str(parsed.database)))
        return create_engine(with_password(source.given))
    except (ArgumentError, SQLAlchemyError, ValueError) as exc:
        raise SourceError([Problem(Where(source.shown),
                                   f"cannot use this database URL: {exc}")]) from exc
    except ImportError as exc:
        raise SourceError([Problem(Where(source.shown), missing_driver(parsed.drivername, exc))]
                          ) from exc


# dialect: (the driver Reliquat's extra installs, the extra)
_DRIVER_EXTRAS = {"postgresql": ("psycopg", "postgres"), "mysql": ("pymysql", "mariadb"),
                  "mariadb": ("pymysql", "mariadb")}


def missing_driver(drivername: str, exc: ImportError) -> str:
    """The error a user can act on: which extra of Reliquat brings the driver (and which
    driver to name in the URL, when it names, or defaults to, another one)."""
    dialect = drivername.split("+", 1)[0]
    if dialect not in _DRIVER_EXTRAS:
        return f"cannot use this database URL: {exc}"
    driver, extra = _DRIVER_EXTRAS[dialect]
    install = (f"(from the folder that holds your copy of Reliquat: "
               f"python -m pip install \"./reliquat[{extra}]\")")
    if exc.name not in (None, driver):
        return (f"the database driver is not installed ({exc}): write the URL as "
                f"{dialect}+{driver}://… and install Reliquat's {extra} extra {install}")
    return f"Reliquat's {extra} extra is not installed ({exc}) {install}"


def _is_file_database(database: str | None) -> bool:
    # ':memory:' and URIs the user wrote ('file:...?mode=...') are taken as they are
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def _read_only_sqlite(path: Path) -> Engine:
    if not path.is_file():
        raise SourceError([Problem(Where(str(path)), "database file not found")])
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return create_engine(URL.create("sqlite+pysqlite"),
                         creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))


def read_entity(connection: Connection, entity: str, config: Config,
                database: str) -> RawColumns:
    """``database`` (the URL, without password) names where a missing table was looked for."""
    try:
        if entity in config.sql:
            return _read_query(connection, entity, config)
        return _read_table(connection, entity, config, database)
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        message = str(orig if orig is not None else exc).strip().splitlines()[0]
        raise SourceError([Problem(Where(database), f"cannot read {entity}: {message}")]
                          ) from exc


def entity_select(name: str, columns: Sequence[str]) -> Select:  # type: ignore[type-arg]
    """SELECT the given columns of a table or view, ``schema.name`` allowed."""
    schema, _, table_name = name.rpartition(".")
    source = table_clause(table_name, schema=schema or None)
    return select(*(column(c) for c in columns)).select_from(source)


def _read_table(connection: Connection, entity: str, config: Config,
                database: str) -> RawColumns:
    name = config.tables.get(entity, entity)
    schema, _, table_name = name.rpartition(".")
    try:
        described = inspect(connection).get_columns(table_name, schema or None)
    except NoSuchTableError:
        raise SourceError([Problem(Where(database), f"missing table or view {name!r}")]
                          ) from None
    header = [str(c["name"]) for c in described]
    positions = locate_columns(header, entity, config, Where(name))
    wanted = [header[p] for p in positions.values()]
    rows = connection.execute(entity_select(name, wanted)).all()
    by_column = _transposed(rows, len(wanted))
    cells = {c: by_column[j] for j, c in enumerate(positions)}
    return raw_columns(name, header, positions, cells, no_line)


def _read_query(connection: Connection, entity: str, config: Config) -> RawColumns:
    label = f"[sql] {entity}"
    query = config.sql[entity]
    _check_single_select(query, label)
    result = connection.execute(sql_text(query))
    try:
        header = list(result.keys())
        positions = locate_columns(header, entity, config, Where(label))
        rows = result.all()
    finally:
        result.close()
    by_column = _transposed(rows, len(header))
    cells = {c: by_column[p] for c, p in positions.items()}
    return raw_columns(label, header, positions, cells, no_line)


def _transposed(rows: Sequence[Sequence[object]], width: int) -> list[Sequence[object]]:
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _check_single_select(query: str, label: str) -> None:
    """A guard against a mistyped config, not a security boundary."""
    bare = _COMMENT_OR_TEXT.sub(" ", query).strip().rstrip(";").strip()
    first = bare.split(None, 1)[0].upper() if bare else ""
    if first not in ("SELECT", "WITH") or ";" in bare:
        raise SourceError([Problem(Where(label), "must be one SELECT statement (or WITH … "
                                                 "SELECT): a source only reads")])
