"""Workbook sources read with calamine (several times faster than openpyxl).

Cells arrive typed: numbers as float, dates as date or datetime, empty cells as '', Excel error
values as a ``CellError``. The header is the first non-empty row of the sheet; lines are the
sheet's row numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from addin.config import Config
from addin.domain.problems import Problem, SourceError, Where
from addin.sources.table import RawColumns, locate_columns, raw_columns
from addin.workbook.ooxml.errors import (
    DamagedPackage,
    UnplacedError,
    error_cells,
    readable_copy,
    with_errors,
)


def read_sheet_columns(path: Path, sheet: str | None, entity: str,
                       config: Config) -> RawColumns:
    """One sheet's columns; ``sheet=None`` takes the first sheet."""
    rows, name = _sheet_rows(path, sheet)
    label = f"{path} [{name}]"
    top = next((i for i, row in enumerate(rows) if any(v not in ("", None) for v in row)), None)
    if top is None:
        raise SourceError([Problem(Where(label), "the sheet is empty")])
    header = rows[top]
    positions = locate_columns(header, entity, config, Where(label, top + 1))
    body = rows[top + 1:]
    cells = {c: [row[p] for row in body] for c, p in positions.items()}
    first_line = top + 2
    return raw_columns(label, header, positions, cells, lambda index: first_line + index)


def _sheet_rows(path: Path, sheet: str | None) -> tuple[Sequence[Sequence[object]], str]:
    with open_sheet(path, sheet) as (book, name):
        return _with_errors(path, name, book), name


@contextmanager
def open_sheet(path: Path, sheet: str | None) -> Iterator[tuple[CalamineWorkbook, str]]:
    """The workbook, open, and the name of the sheet meant (``None``: the first one; else
    the one of that name, whatever its case if only one fits)."""
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types for files it cannot read
        raise SourceError([Problem(Where(str(path)), f"cannot read the workbook: {exc}")]
                          ) from exc
    with book:
        if not book.sheet_names:
            raise SourceError([Problem(Where(str(path)), "the workbook has no sheet")])
        name = sheet or book.sheet_names[0]
        if name not in book.sheet_names:
            same = [n for n in book.sheet_names if n.strip().casefold() == name.casefold()]
            if len(same) != 1:
                raise SourceError([Problem(Where(str(path)), f"missing sheet {name!r}")])
            name = same[0]
        yield book, name


def _with_errors(path: Path, name: str, book: CalamineWorkbook) -> list[list[Any]]:
    """The sheet's rows, with a CellError where a cell holds an Excel error value (calamine
    gives '' for one, and refuses a sheet holding #SPILL! or another newer one)."""
    try:
        errors = error_cells(path, name)
    except UnplacedError as exc:
        raise SourceError([Problem(Where(f"{path} [{name}]"), "an Excel error value in a cell "
                                   "that names no place")]) from exc
    except DamagedPackage as exc:
        raise SourceError([Problem(Where(f"{path} [{name}]"), f"cannot read the sheet: {exc}")]
                          ) from exc
    try:
        # calamine pads every row to the sheet's width, so row[p] is always there
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:
        if not errors:  # the sheet's part is missing or damaged
            raise SourceError([Problem(Where(f"{path} [{name}]"),
                                       f"cannot read the sheet: {exc}")]) from exc
        with CalamineWorkbook.from_filelike(readable_copy(path)) as copy:
            rows = copy.get_sheet_by_name(name).to_python(skip_empty_area=False)
    sheets: dict[str, list[list[Any]]] = {name: rows}
    with_errors(sheets, errors)
    return rows
