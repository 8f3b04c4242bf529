"""Read every sheet of a workbook file as plain rows, fast (python-calamine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from addin.domain.problems import Problem, Where, WorkbookError
from addin.workbook.review import Review, parse_review


def read_sheets(path: Path) -> dict[str, list[list[Any]]]:
    if not path.is_file():
        raise WorkbookError([Problem(Where(str(path)), "workbook not found")])
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for unreadable files
        raise WorkbookError([Problem(Where(str(path)), f"cannot read workbook: {exc}")]) from exc
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for name in book.sheet_names}


def read_review(path: Path) -> Review:
    return parse_review(read_sheets(path), str(path))
