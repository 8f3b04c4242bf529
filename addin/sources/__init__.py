"""Read a ledger from wherever the ERP put it: a folder of CSV or xlsx files, one workbook,
or a database. ``read_ledger`` is the one entry point."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from addin.config import Config
from addin.domain.model import ItemId, Ledger, Rules
from addin.domain.problems import Problem, SourceError, Where
from addin.locations import is_url, redact
from addin.sources.build import build_ledger
from addin.sources.csv_source import read_csv_table
from addin.sources.pushdown import read_items, read_selection_source
from addin.sources.sql_source import connect, read_entity
from addin.sources.table import RawTable
from addin.sources.xlsx_source import read_sheet_table

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
ENTITIES = ("open_items", "subscriptions")


def read_ledger(source: str | Path, config: Config) -> Ledger:
    text = str(source)
    if is_url(text):
        return _from_database(text, config)
    path = Path(text)
    if not path.exists():
        raise SourceError([Problem(Where(text), "source not found")])
    if path.is_dir():
        items, subs = (_from_folder(path, entity) for entity in ENTITIES)
    elif path.suffix.lower() in SQLITE_SUFFIXES:
        return _from_database(f"sqlite:///{path.resolve()}", config)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        items, subs = (read_sheet_table(path, entity) for entity in ENTITIES)
    else:
        raise SourceError([Problem(Where(text), "not a folder, .xlsx, SQLite file or database "
                                                "URL")])
    return build_ledger(items, subs, config, str(path))


def _from_folder(folder: Path, entity: str) -> RawTable:
    for suffix in (".csv", ".xlsx"):
        path = folder / f"{entity}{suffix}"
        if path.is_file():
            return read_csv_table(path) if suffix == ".csv" else read_sheet_table(path, None)
    raise SourceError([Problem(Where(str(folder / f"{entity}.csv")),
                               f"missing file: {entity}.csv (or {entity}.xlsx)")])


def _from_database(url: str, config: Config) -> Ledger:
    engine = connect(url)
    try:
        items, subs = (read_entity(engine, entity, config) for entity in ENTITIES)
    finally:
        engine.dispose()
    return build_ledger(items, subs, config, redact(url))


def read_for_rules(source: str | Path, config: Config, rules: Rules,
                   committed: Iterable[ItemId]) -> tuple[Ledger, int]:
    """The part of the ledger the rules need, and how many items the source holds.

    A database does the selection itself (see pushdown); a file is read whole.
    """
    url = _database_url(str(source))
    if url is None:
        ledger = read_ledger(source, config)
        return ledger, len(ledger.items)
    engine = connect(url)
    try:
        with engine.connect() as conn:
            ledger, stats = read_selection_source(conn, config, rules, committed, redact(url))
    except SQLAlchemyError as exc:
        raise SourceError([Problem(Where(redact(url)), f"cannot read the source: "
                                                       f"{str(exc).splitlines()[0]}")]) from exc
    finally:
        engine.dispose()
    return ledger, stats.items_in_source


def read_for_commit(source: str | Path, config: Config, item_ids: Sequence[ItemId],
                    subscription_ids: Sequence[str]) -> Ledger:
    """The committed items as the source shows them now, and the subscriptions involved."""
    url = _database_url(str(source))
    if url is None:
        return read_ledger(source, config)
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return read_items(conn, config, item_ids, subscription_ids, redact(url))
    except SQLAlchemyError as exc:
        raise SourceError([Problem(Where(redact(url)), f"cannot read the source: "
                                                       f"{str(exc).splitlines()[0]}")]) from exc
    finally:
        engine.dispose()


def _database_url(source: str) -> str | None:
    if is_url(source):
        return source
    path = Path(source)
    if path.suffix.lower() in SQLITE_SUFFIXES and path.is_file():
        return f"sqlite:///{path.resolve()}"
    return None
