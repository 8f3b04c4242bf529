"""A review workbook that is a file: read fast with calamine, stamped by patching its package
(openpyxl when the package is beyond what the patch handles)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import zipfile
import zlib
from contextlib import suppress
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from addin.domain.problems import Problem, Where, WorkbookError
from addin.workbook.ooxml.calamine import read_sheets
from addin.workbook.ooxml.sheet_xml import cell_text
from addin.workbook.ooxml.stamping import CannotPatch, write_stamped
from addin.workbook.port import Stamps
from addin.workbook.review import layout
from addin.workbook.review.content import Value
from addin.workbook.review.reading import find_titles, header_positions

if TYPE_CHECKING:  # openpyxl loads slowly and only a workbook beyond the patch needs it
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet


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
        else loaded and saved with openpyxl (minutes). A workbook saved again since it was
        read is refused: its stamps were worked out from what was read."""
        if self._read_as and file_signature(self.path) != self._read_as:
            raise WorkbookError([Problem(Where(self.name), "the workbook was saved again while "
                                                           "it was being committed; commit "
                                                           "again")])
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
            book = _load(self.path, keep_vba=self.suffix == ".xlsm")
        except Exception as exc:  # openpyxl raises many kinds for a damaged package
            raise WorkbookError([Problem(Where(self.name), f"cannot open workbook: {exc}")]
                                ) from exc
        try:
            titles = find_titles(book.sheetnames)
            for sheet, cells in ((layout.RESIDUALS, stamps.residuals),
                                 (layout.ITEMS, stamps.items)):
                if cells:
                    _stamp_cells(_worksheet(book, titles, sheet, self.name), sheet, cells,
                                 self.name)
            if stamps.journal_rows:
                _append_rows(_worksheet(book, titles, layout.JOURNAL, self.name),
                             stamps.journal_rows)
            try:
                _save(book, target)
            except (*_DAMAGED_PART, KeyError) as exc:  # keep_vba: the parts it copies
                raise WorkbookError([Problem(Where(self.name), f"the workbook's zip package "
                                                               f"is damaged: {exc}")]) from exc
        finally:
            if book.vba_archive is not None:  # left open by openpyxl, it fails when collected
                book.vba_archive.close()


# What zipfile raises while reading a damaged part: its header, compressed data or CRC.
_DAMAGED_PART = (zipfile.BadZipFile, zlib.error, EOFError)


def _load(path: Path, *, keep_vba: bool) -> Workbook:
    """``load_workbook``, with what openpyxl opened closed when it fails halfway: the file
    (Windows cannot replace an open one) and the copy of the VBA parts, which prints an error
    when it is collected unclosed."""
    from openpyxl import Workbook
    from openpyxl.reader.excel import ExcelReader

    with path.open("rb") as handle:
        reader = ExcelReader(handle, keep_vba=keep_vba)
        try:
            reader.read()
        except BaseException:
            book = getattr(getattr(reader, "parser", None), "wb", None)
            if book is not None and book.vba_archive is not None:
                book.vba_archive.close()
            raise
        finally:
            reader.archive.close()
        book = reader.wb
        assert isinstance(book, Workbook)
        return book


def _save(book: Workbook, target: Path) -> None:
    """``Workbook.save``, with the archive closed even when openpyxl fails halfway: left open,
    Windows cannot remove the file, and the archive writes itself out when collected."""
    from openpyxl.writer.excel import ExcelWriter

    book.properties.modified = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, _UniqueRootIds(archive)).save()


class _UniqueRootIds:
    """The archive openpyxl writes into, with the package's relationships given unique ids:
    openpyxl numbers its own from rId1 and appends the ribbon's with the id it had (rId2 in
    our workbooks), and Excel refuses a package whose relationship ids repeat."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive

    def writestr(self, name: str, data: str | bytes, *args: Any, **kwargs: Any) -> None:
        if name == _ROOT_RELS:
            data = unique_relationship_ids(data if isinstance(data, bytes) else data.encode())
        self.archive.writestr(name, data, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.archive, name)


_ROOT_RELS = "_rels/.rels"
_RELATIONSHIP_ID = re.compile(rb'(<Relationship\b[^>]*?\bId=")([^"]*)(")')


def unique_relationship_ids(rels: bytes) -> bytes:
    """Relationships with each id once: a repeated one gets the next free rIdN."""
    taken = {match[2] for match in _RELATIONSHIP_ID.finditer(rels)}
    seen: set[bytes] = set()
    number = count(1)

    def unique(match: re.Match[bytes]) -> bytes:
        rel_id = match[2]
        if rel_id in seen:
            rel_id = next(i for n in number if (i := b"rId%d" % n) not in taken)
            taken.add(rel_id)
        seen.add(rel_id)
        return match[1] + rel_id + match[3]

    return _RELATIONSHIP_ID.sub(unique, rels)


def _worksheet(book: Workbook, titles: dict[str, str], sheet: layout.Sheet, file: str
               ) -> Worksheet:
    if sheet.key not in titles:
        raise WorkbookError([Problem(Where(file), f"missing sheet {sheet.title('en')}")])
    return book[titles[sheet.key]]


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
    _grow_filter(ws, next_row + len(rows) - 1)


def _grow_filter(ws: Worksheet, last_row: int) -> None:
    """The sheet's filter over the rows appended (openpyxl writes its hidden name from it)."""
    if not ws.auto_filter.ref:
        return
    first, _, last = ws.auto_filter.ref.partition(":")
    letters = (last or first).rstrip("0123456789")
    if int((last or first)[len(letters):]) < last_row:
        ws.auto_filter.ref = f"{first}:{letters}{last_row}"


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
    if isinstance(value, str):
        value = cell_text(value)
    cell.value = value  # type: ignore[attr-defined]
    if isinstance(value, str):
        cell.data_type = "s"  # type: ignore[attr-defined]  # never a formula
