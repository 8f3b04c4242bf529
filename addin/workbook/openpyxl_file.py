"""A review workbook that is a file: read fast with calamine, stamped by patching its package
(openpyxl when the package is beyond what the patch handles)."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
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


@dataclass
class _SavedFile:
    path: Path
    backup: Path
    audit_copy: Path | None

    def undo(self) -> None:
        os.replace(self.backup, self.path)
        if self.audit_copy is not None:
            self.audit_copy.unlink(missing_ok=True)

    def done(self) -> None:
        self.backup.unlink(missing_ok=True)


class FileReview:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self.suffix = path.suffix.lower()

    def read_sheets(self) -> dict[str, list[list[object]]]:
        return read_sheets(self.path)

    def save_stamped(self, stamps: Stamps, audit_copy: Path | None) -> _SavedFile:
        """Write the stamped workbook beside the original, then swap it in; undo swaps back."""
        stamped = self._stamped_temp(stamps)
        try:
            if audit_copy is not None:
                shutil.copyfile(stamped, audit_copy)
            backup = self.path.with_name(f".{self.path.name}.before-commit")
            shutil.copy2(self.path, backup)
            os.replace(stamped, self.path)
        except BaseException:
            stamped.unlink(missing_ok=True)
            if audit_copy is not None:
                audit_copy.unlink(missing_ok=True)
            raise
        return _SavedFile(self.path, backup, audit_copy)

    def _stamped_temp(self, stamps: Stamps) -> Path:
        """The stamped workbook in a temporary file beside the original: patched in its
        package when possible (seconds), else loaded and saved with openpyxl (minutes)."""
        handle, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.suffix,
                                        dir=self.path.parent)
        os.close(handle)
        stamped = Path(name)
        try:
            try:
                write_stamped(self.path, stamped, stamps)
            except CannotPatch:
                self._save_with_openpyxl(stamps, stamped)
            shutil.copymode(self.path, stamped)
        except BaseException:
            stamped.unlink(missing_ok=True)
            raise
        return stamped

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


def set_value(cell: object, value: Value) -> None:
    cell.value = value  # type: ignore[attr-defined]
    if isinstance(value, str):
        cell.data_type = "s"  # type: ignore[attr-defined]  # never a formula
