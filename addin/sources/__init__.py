"""Read a ledger from wherever the ERP put it: a folder of CSV or xlsx files, one workbook,
or a database. ``read_ledger`` is the one entry point."""

from __future__ import annotations

from pathlib import Path

from addin.config import Config
from addin.domain.model import Ledger
from addin.domain.problems import Problem, SourceError, Where
from addin.locations import is_url, redact
from addin.sources.build import build_ledger
from addin.sources.csv_source import read_csv_table
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
