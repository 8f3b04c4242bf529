"""Connecting to a database source through SQLAlchemy (what is read: see entities).

Only SELECTs are run, and a SQLite file is opened read-only. Values are bound, never pasted
into SQL; table and column names come from the config and SQLAlchemy quotes them. A SELECT
written in ``[sql]`` runs as written: give the source a read-only database user.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from addin.domain.problems import Problem, SourceError, Where
from addin.locations import Location, with_password

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
