"""Workbook sources read with calamine: numbers arrive as floats, turned into cents later."""

from __future__ import annotations

from pathlib import Path

from python_calamine import CalamineWorkbook

from addin.domain.problems import Problem, SourceError, Where
from addin.sources.table import RawTable


def read_sheet_table(path: Path, sheet: str | None) -> RawTable:
    """One sheet as a table; ``sheet=None`` takes the first one."""
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine has its own error types for unreadable files
        raise SourceError([Problem(Where(str(path)), f"cannot read workbook: {exc}")]) from exc
    name = sheet or book.sheet_names[0]
    if name not in book.sheet_names:
        raise SourceError([Problem(Where(str(path)), f"missing sheet {name!r}")])
    rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    if not rows:
        raise SourceError([Problem(Where(f"{path} [{name}]"), "the sheet is empty")])
    header = tuple("" if h is None else str(h) for h in rows[0])
    body = rows[1:]
    lines = [i + 2 for i, r in enumerate(body) if any(v not in (None, "") for v in r)]
    kept = [body[i - 2] for i in lines]
    return RawTable(f"{path} [{name}]", header, kept, line_numbers=lines)
