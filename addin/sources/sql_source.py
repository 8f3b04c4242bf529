"""Database sources through SQLAlchemy: tables or views, mapped names, or a SELECT per entity.

Only SELECTs are run. Values are bound, never pasted into SQL; table and column names come
from the config and are quoted by SQLAlchemy.
"""

from __future__ import annotations

from sqlalchemy import MetaData, Table, create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from addin.config import Config
from addin.domain.problems import Problem, SourceError, Where
from addin.locations import redact, with_password
from addin.sources.table import RawTable


def connect(url: str) -> Engine:
    try:
        return create_engine(with_password(url))
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise SourceError([Problem(Where(redact(url)), f"cannot use this database URL: {exc}")]
                          ) from exc


def read_entity(engine: Engine, entity: str, config: Config) -> RawTable:
    label = redact(str(engine.url.render_as_string(hide_password=True)))
    try:
        with engine.connect() as conn:
            if entity in config.sql:
                result = conn.execute(text(config.sql[entity]))
                where = f"{label} [sql] {entity}"
            else:
                name = config.tables.get(entity, entity)
                schema, _, table_name = name.rpartition(".")
                table = Table(table_name, MetaData(), schema=schema or None,
                              autoload_with=conn)
                result = conn.execute(select(table))
                where = f"{label} table {name}"
            header = tuple(result.keys())
            rows = result.fetchall()
    except NoSuchTableError as exc:
        raise SourceError([Problem(Where(label), f"missing table or view {exc}")]) from exc
    except SQLAlchemyError as exc:
        message = str(exc.orig) if getattr(exc, "orig", None) else str(exc)
        raise SourceError([Problem(Where(label), f"cannot read {entity}: "
                                                 f"{message.splitlines()[0]}")]) from exc
    return RawTable(where, header, rows, first_line=None)
