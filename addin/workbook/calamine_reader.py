"""Read every sheet of a workbook file as plain rows, fast (python-calamine).

An Excel error value comes back as a ``CellError`` in its cell (calamine alone gives '', the
same as an empty cell, and refuses a sheet holding a newer error such as #SPILL!).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from addin.domain.problems import Problem, Where, WorkbookError
from addin.workbook.review import Review, parse_review
from addin.workbook.xlsx_errors import (
    DamagedPackage,
    UnplacedError,
    error_cells,
    readable_copy,
    with_errors,
)


def read_sheets(path: Path) -> dict[str, list[list[Any]]]:
    if not path.is_file():
        raise WorkbookError([Problem(Where(str(path)), "workbook not found")])
    try:
        sheets, refused = _calamine(path), None
    except Exception as exc:  # calamine raises its own error types for unreadable files
        sheets, refused = {}, exc
    try:
        errors = error_cells(path)
    except UnplacedError as exc:
        raise WorkbookError([Problem(Where(str(path)), f"{exc} holds an Excel error value in "
                                                       f"a cell that names no place")]) from exc
    except DamagedPackage as exc:
        if refused is None:
            raise WorkbookError([Problem(Where(str(path)), f"cannot read workbook: {exc}")]
                                ) from exc
        errors = {}  # calamine's reason is given below
    if refused is not None:
        if not errors:
            raise WorkbookError([Problem(Where(str(path)), f"cannot read workbook: {refused}")]
                                ) from refused
        sheets = _calamine(readable_copy(path))
    with_errors(sheets, errors)
    return sheets


def _calamine(source: Any) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_object(source)
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for name in book.sheet_names}


def read_review(path: Path) -> Review:
    return parse_review(read_sheets(path), str(path))
