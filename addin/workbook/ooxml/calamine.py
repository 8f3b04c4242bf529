"""Read every sheet of a workbook file as plain rows, fast (python-calamine).

An Excel error value comes back as a ``CellError`` in its cell (calamine alone gives '', the
same as an empty cell, and refuses a sheet holding a newer error such as #SPILL!).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from addin.domain.problems import Problem, Where, WorkbookError
from addin.workbook.ooxml.check import Package, check_parts, check_structure
from addin.workbook.ooxml.errors import (
    DamagedPackage,
    UnplacedError,
    error_cells,
    readable_copy,
    with_errors,
)
from addin.workbook.review.cell_errors import CellError
from addin.workbook.review.reading import Review, parse_review


def read_sheets(path: Path) -> dict[str, list[list[Any]]]:
    """Each sheet's rows; a file that is not a sound workbook package is refused, naming the
    file and the part (its parts are checked beside calamine's reading)."""
    if not path.is_file():
        raise WorkbookError([Problem(Where(str(path)), "workbook not found")])
    package = check_structure(path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        parts_checked = pool.submit(check_parts, package)
        try:
            sheets = _read_with_calamine(package, None)
        except WorkbookError:
            # a damaged part says better what went wrong, then an error cell (calamine
            # refuses a sheet holding one of the newer errors)
            errors = _error_cells(path) if parts_checked.result() else {}
            if not errors:
                raise
        else:
            errors = _error_cells(path) if parts_checked.result() else {}
    if errors:  # read again, from a copy with every error as #N/A
        sheets = _read_with_calamine(package, readable_copy(path))
    with_errors(sheets, errors)
    return sheets


def _error_cells(path: Path) -> dict[str, dict[tuple[int, int], CellError]]:
    try:
        return error_cells(path)
    except UnplacedError as exc:
        raise WorkbookError([Problem(Where(str(path)), f"{exc} holds an Excel error value in "
                                                       f"a cell that names no place")]) from exc
    except DamagedPackage as exc:
        raise WorkbookError([Problem(Where(str(path)), f"cannot read workbook: {exc}")]
                            ) from exc


def _read_with_calamine(package: Package, copy: io.BytesIO | None
                        ) -> dict[str, list[list[Any]]]:
    """``copy``: the workbook with its error cells as #N/A, which calamine reads. The sheets
    are read two at a time, each from a workbook opened on its own: calamine parses outside
    the GIL, and one workbook object takes one reader at a time."""
    with _open(package, copy) as book:
        names = book.sheet_names
    with ThreadPoolExecutor(max_workers=_SHEET_READERS) as pool:
        read = {name: pool.submit(_read_sheet, package, copy, name) for name in names}
        return {name: future.result() for name, future in read.items()}


_SHEET_READERS = 2


def _open(package: Package, copy: io.BytesIO | None) -> CalamineWorkbook:
    file = str(package.path)
    try:
        return CalamineWorkbook.from_object(io.BytesIO(copy.getbuffer()) if copy else file)
    except BaseException as exc:
        if not _calamine_failed(exc):
            raise
        raise WorkbookError([Problem(Where(file), f"cannot read workbook: {exc}")]) from exc


def _read_sheet(package: Package, copy: io.BytesIO | None, name: str) -> list[list[Any]]:
    with _open(package, copy) as book:
        try:
            return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except BaseException as exc:
            if not _calamine_failed(exc):
                raise
            raise WorkbookError([Problem(Where(str(package.path)),
                                         f"cannot read sheet {name!r}: {exc}")]) from exc


def _calamine_failed(exc: BaseException) -> bool:
    """calamine's own errors, and a panic in its Rust code: pyo3 raises that as a
    ``pyo3_runtime.PanicException``, a BaseException that no module exports."""
    return isinstance(exc, CalamineError) or type(exc).__name__ == "PanicException"


def read_review(path: Path) -> Review:
    return parse_review(read_sheets(path), str(path))
