"""Read a ledger from wherever the ERP put it. ``read_ledger`` is the one entry point.

A source is one of: a folder holding ``open_items`` and ``subscriptions`` as .csv or .xlsx; a
workbook with sheets of those names; a SQLAlchemy URL or a SQLite file whose database has those
tables or views (or the ``[tables]`` / ``[sql]`` of the config). Nothing is ever written.
Each reader is imported when a source needs it: pandas and SQLAlchemy load slowly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from addin.config import Config
from addin.domain.model import ItemId, Ledger, Rules
from addin.domain.problems import Problem, SourceError, Where
from addin.domain.rules import Balances
from addin.locations import Location
from addin.memory import paused_gc
from addin.sources.build import build_ledger
from addin.sources.table import ENTITIES, RawColumns

T = TypeVar("T")
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_SQLITE_MAGIC = b"SQLite format 3\x00"

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from addin.sources.entities import Entity

__all__ = ["read_for_commit", "read_for_rules", "read_ledger"]


def read_ledger(source: Location | str | Path, config: Config) -> Ledger:
    """The open items and subscriptions of ``source``, or a SourceError naming every problem."""
    if not isinstance(source, Location):
        source = Location.of(source)
    with paused_gc():
        database = _database(source)
        if database is not None:
            return _from_database(database, config)
        path = source.path
        if path.is_dir():
            items, subs = _both(lambda entity: _from_folder(path, entity, config))
        elif path.suffix.lower() in WORKBOOK_SUFFIXES:
            from addin.sources.xlsx_source import read_sheet_columns

            items, subs = _both(lambda entity: read_sheet_columns(path, entity, entity, config))
        else:
            raise SourceError([Problem(Where(source.shown), _unknown_kind(path))])
        return build_ledger(items, subs, config, str(path))


def read_for_rules(source: Location, config: Config, rules: Rules,
                   committed: Iterable[ItemId]) -> tuple[Ledger, Balances | None, int]:
    """The part of the ledger the rules need, the customers' balances when the ledger holds
    only part of their items, and how many items the source holds.

    A database does the selection itself (see pushdown), unless SQL would misjudge its values
    as written; so do a folder of exports and a workbook, on their columns (see
    file_selection); else the source is read whole.
    """
    database = _database(source)
    if database is None:
        from addin.sources.file_selection import read_selection_files

        committed = list(committed)
        narrowed = _from_files(source, lambda files, sheets, label: read_selection_files(
            files, config, rules, committed, label, sheets))
        if narrowed is not None:
            return narrowed
        ledger = read_ledger(source, config)
        return ledger, None, len(ledger.items)
    from addin.sources.pushdown import read_selection_source

    with paused_gc(), _connection(database) as (connection, label):
        items, subs = _described(connection, config, label)
        selected = read_selection_source(connection, config, items, subs, rules, committed,
                                         label)
    if selected is None:
        ledger = read_ledger(database, config)
        return ledger, None, len(ledger.items)
    ledger, balances, stats = selected
    return ledger, balances, stats.items_in_source


def read_for_commit(source: Location, config: Config, subscription_ids: Sequence[str],
                    item_ids: Sequence[ItemId]) -> Ledger:
    """As the source shows them now: every open item of the given subscriptions, the given
    items wherever they are, and the subscriptions of both (a database whose ids SQL would
    misread, or a file the columnar reader is unsure of, is read whole)."""
    database = _database(source)
    if database is None:
        from addin.sources.file_selection import read_items_files

        narrowed = _from_files(source, lambda files, sheets, label: read_items_files(
            files, config, subscription_ids, item_ids, label, sheets))
        return narrowed if narrowed is not None else read_ledger(source, config)
    from addin.sources.pushdown import read_items

    with paused_gc(), _connection(database) as (connection, label):
        items, subs = _described(connection, config, label)
        ledger = read_items(connection, config, items, subs, subscription_ids, item_ids, label)
    return ledger if ledger is not None else read_ledger(database, config)


def _database(source: Location) -> Location | None:
    """The location when it is a database (a URL, or a SQLite file); None for a folder or a
    workbook. A missing path is reported here, before anything else is tried."""
    if source.is_url:
        return source
    path = source.path
    if not path.exists():
        raise SourceError([Problem(Where(source.shown), "source not found")])
    if path.is_file() and (path.suffix.lower() in SQLITE_SUFFIXES or _is_sqlite(path)):
        return source
    return None


def _both(read: Callable[[str], T]) -> tuple[T, T]:
    """Both entities read, and a missing file, sheet or column of either reported together."""
    found: list[T] = []
    problems: list[Problem] = []
    for entity in ENTITIES:
        try:
            found.append(read(entity))
        except SourceError as error:
            problems.extend(error.problems)
    if problems:
        raise SourceError(problems)
    return found[0], found[1]


def _from_folder(folder: Path, entity: str, config: Config) -> RawColumns:
    path = _entity_file(folder, entity)
    if path.suffix.casefold() == ".csv":
        from addin.sources.csv_source import read_csv_columns

        return read_csv_columns(path, entity, config)
    from addin.sources.xlsx_source import read_sheet_columns

    return read_sheet_columns(path, None, entity, config)


def _entity_file(folder: Path, entity: str) -> Path:
    """``entity``.csv or ``entity``.xlsx in the folder, whatever the case of its name."""
    files = {p.name.casefold(): p for p in folder.iterdir() if p.is_file()}
    csv_file, xlsx_file = files.get(f"{entity}.csv"), files.get(f"{entity}.xlsx")
    if csv_file and xlsx_file:
        raise SourceError([Problem(Where(str(folder)), f"both {csv_file.name} and "
                                                       f"{xlsx_file.name}: keep only one")])
    found = csv_file or xlsx_file
    if found is None:
        raise SourceError([Problem(Where(str(folder / f"{entity}.csv")),
                                   f"missing file: {entity}.csv (or {entity}.xlsx)")])
    return found


FilesRead = Callable[[dict[str, Path], dict[str, str], str], T | None]


def _from_files(source: Location, read: FilesRead[T]) -> T | None:
    """What ``read`` makes of a folder of exports or of a workbook on their columns (see
    file_selection), given each entity's file and, in a workbook, its sheet; None for a
    database, or when only the exact reader can tell what is in them."""
    path = source.path
    try:
        if path.is_dir():
            files, sheets = {entity: _entity_file(path, entity) for entity in ENTITIES}, {}
        elif path.suffix.lower() in WORKBOOK_SUFFIXES:
            files, sheets = dict.fromkeys(ENTITIES, path), {entity: entity for entity in ENTITIES}
        else:
            return None
        with paused_gc():
            return read(files, sheets, str(path))
    except SourceError:  # the exact reader reports every problem of both files
        return None


def _from_database(source: Location, config: Config) -> Ledger:
    from addin.sources.entities import read_entity

    with _connection(source) as (connection, label):
        items, subs = _both(lambda entity: read_entity(connection, entity, config, label))
    return build_ledger(items, subs, config, label)


def _described(connection: Connection, config: Config, label: str) -> tuple[Entity, Entity]:
    from addin.sources.entities import describe

    return _both(lambda entity: describe(connection, entity, config, label))


@contextmanager
def _connection(source: Location) -> Iterator[tuple[Connection, str]]:
    """A connection and the source as it may be shown (no password); closed in any case."""
    from sqlalchemy.exc import SQLAlchemyError

    from addin.sources.sql_source import connect

    label = source.shown
    engine = connect(source)
    try:
        with engine.connect() as connection:
            yield connection, label
    except SQLAlchemyError as exc:
        message = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise SourceError([Problem(Where(label), f"cannot read the source: {message}")]
                          ) from exc
    finally:
        engine.dispose()


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC


def _unknown_kind(path: Path) -> str:
    if path.suffix.lower() == ".csv":
        return ("give the folder that holds open_items.csv and subscriptions.csv, "
                "not one of the files")
    return "not a folder, a workbook (.xlsx, .xlsm), a SQLite file or a database URL"
