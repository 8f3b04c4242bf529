"""A review workbook that is a file: read fast with calamine, stamped by patching its package
(openpyxl when the package is beyond what the patch handles)."""

from __future__ import annotations

import os
import shutil
from contextlib import suppress
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from addin.domain.problems import Problem, Where, WorkbookError
from addin.workbook import layout
from addin.workbook.calamine_reader import read_sheets
from addin.workbook.content import Value
from addin.workbook.port import Stamps
from addin.workbook.review import find_titles, header_positions
from addin.workbook.stamping import CannotPatch, write_stamped


class FileReview:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self.suffix = path.suffix.lower()
        self._read_as = ""

    def read_sheets(self) -> dict[str, list[list[object]]]:
        self._read_as = file_signature(self.path)
        return read_sheets(self.path)

    def signature(self) -> str:
        return self._read_as or file_signature(self.path)

    def stamped_path(self, batch_id: str) -> Path:
        """Beside the workbook, hidden: the swap into place is then a rename."""
        return self.path.with_name(f".{self.path.stem}.{batch_id}{self.suffix}")

    def write_stamped(self, stamps: Stamps, path: Path) -> None:
        """The stamped workbook at ``path``: patched in its package when possible (seconds),
        else loaded and saved with openpyxl (minutes)."""
        try:
            try:
                write_stamped(self.path, path, stamps)
            except CannotPatch:
                self._save_with_openpyxl(stamps, path)
            shutil.copymode(self.path, path)
        except OSError as exc:
            with suppress(OSError):  # cleaning up: the error that matters is raised
                path.unlink(missing_ok=True)
            raise WorkbookError([Problem(Where(str(path.parent)),
                f"cannot write the stamped workbook beside {self.path.name}: "
                f"{exc.strerror or exc}")]) from exc

    def install_stamps(self, stamps: Stamps) -> str:
        raise AssertionError("a workbook file is stamped through its stamped copy")

    def _save_with_openpyxl(self, stamps: Stamps, target: Path) -> None:
        try:
            book = load_workbook(self.path, keep_vba=self.suffix == ".xlsm")
        except Exception as exc:  # openpyxl raises many kinds for a damaged package
            raise WorkbookError([Problem(Where(self.name), f"cannot open workbook: {exc}")]
                                ) from exc
        titles = find_titles(book.sheetnames)
        _stamp_cells(book[titles["residuals"]], layout.RESIDUALS, stamps.residuals, self.name)
        _stamp_cells(book[titles["items"]], layout.ITEMS, stamps.items, self.name)
        _append_rows(book[titles["journal"]], stamps.journal_rows)
        book.save(target)
        if book.vba_archive is not None:  # left open by openpyxl, it fails when collected later
            book.vba_archive.close()


def _stamp_cells(ws: Worksheet, sheet: layout.Sheet, cells: dict[tuple[int, str], Value],
                 file: str) -> None:
    if not cells:
        return
    header = [c.value for c in ws[1]]
    positions = header_positions(header, sheet, ws.title, file)
    for (line, key), value in cells.items():
        set_value(ws.cell(row=line, column=positions[key] + 1), value)


def _append_rows(ws: Worksheet, rows: list[list[Value]]) -> None:
    next_row = _last_filled_row(ws) + 1
    formats = [layout.JOURNAL.columns[i].kind for i in range(len(layout.JOURNAL.columns))]
    for offset, row in enumerate(rows):
        for index, value in enumerate(row):
            cell = ws.cell(row=next_row + offset, column=index + 1)
            set_value(cell, value)
            if value is not None and not isinstance(value, str):
                cell.number_format = layout.NUMBER_FORMATS.get(formats[index], "General")


def _last_filled_row(ws: Worksheet) -> int:
    for row in range(ws.max_row, 0, -1):
        if any(cell.value not in (None, "") for cell in ws[row]):
            return row
    return 0


def file_signature(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return ""
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def install_stamped_file(workbook: Path, stamped: Path, signature: str) -> str:
    """Swap the workbook for its stamped copy, unless it changed since it was read (then the
    copy is dropped: the audit copy in the export folder holds the stamps). "" when swapped,
    else why not."""
    if file_signature(workbook) != signature:
        with suppress(OSError):  # cleaning up: the error that matters is raised
            stamped.unlink(missing_ok=True)
        return (f"the workbook {workbook} changed while the batch was committed and is not "
                f"stamped; the audit copy holds the stamped one")
    try:
        os.replace(stamped, workbook)
    except OSError as exc:
        with suppress(OSError):  # cleaning up: the error that matters is raised
            stamped.unlink(missing_ok=True)
        return (f"the workbook {workbook} could not be stamped ({exc.strerror or exc}); the "
                f"audit copy holds the stamped one")
    return ""


def set_value(cell: object, value: Value) -> None:
    cell.value = value  # type: ignore[attr-defined]
    if isinstance(value, str):
        cell.data_type = "s"  # type: ignore[attr-defined]  # never a formula
