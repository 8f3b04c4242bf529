"""Where a workbook file holds Excel error values, read from its sheets' XML.

python-calamine 0.9 hands an error cell over as '', the same as an empty cell, and refuses a
whole sheet holding one of the newer errors (#SPILL!, #CALC!…). The sheets' XML tells which
cells hold one: ``with_errors`` puts a ``CellError`` there in the rows calamine read, and
``readable_copy`` is the workbook with every error as #N/A, for calamine to read at all.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from addin.workbook.ooxml.check import ErrorMarkScan, holds_error_mark
from addin.workbook.ooxml.stamping.package import CannotPatch, read_book
from addin.workbook.ooxml.stamping.rows import column_index
from addin.workbook.review.cell_errors import CellError

# An error cell as every writer seen here puts it: <c r="P2" s="3" t="e"><v>#N/A</v></c>
_ERROR_CELL = re.compile(rb"<(?:\w+:)?c\s(?=[^>]*\bt=[\"']e[\"'])([^>]*)(?<!/)>(.*?)</(?:\w+:)?c>",
                         re.DOTALL)
_REFERENCE = re.compile(rb"\br=[\"']([A-Z]+)([0-9]+)[\"']")
_VALUE = re.compile(rb"(<(?:\w+:)?v>)([^<]*)(</(?:\w+:)?v>)")
_BLOCK = 1 << 22


class UnplacedError(Exception):
    """An error cell without a reference: where it is cannot be told."""


class DamagedPackage(Exception):
    """A part of the workbook's package cannot be read: whether it holds errors is unknown."""


def error_cells(path: Path, only: str | None = None
                ) -> dict[str, dict[tuple[int, int], CellError]]:
    """Sheet title -> (row, column) from 0 -> the error in that cell, for every error cell of
    the workbook (of sheet ``only`` if given); sheets without one are left out."""
    found: dict[str, dict[tuple[int, int], CellError]] = {}
    try:
        for title, xml in _sheets_holding_errors(path, only):
            cells = _cells(title, xml)
            if cells:
                found[title] = cells
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise DamagedPackage(str(exc) or type(exc).__name__) from exc
    return found


def may_hold_errors(path: Path, title: str) -> bool:
    """Whether sheet ``title`` may hold an error cell: its XML is read in blocks, not whole (a
    sheet of a million rows is hundreds of MB of it). True when the package cannot tell."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = read_book(archive).sheets.get(title)
            if part is None or part not in archive.NameToInfo:
                return True
            with archive.open(part) as stream:
                return _stream_holds_errors(stream)
    except (CannotPatch, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        return True


def _stream_holds_errors(stream: IO[bytes]) -> bool:
    marks = ErrorMarkScan()
    while not marks.found and (block := stream.read(_BLOCK)):
        marks.feed(block)
    return marks.found


def _cells(title: str, xml: bytes) -> dict[tuple[int, int], CellError]:
    cells: dict[tuple[int, int], CellError] = {}
    for match in _ERROR_CELL.finditer(xml):
        reference = _REFERENCE.search(match[1])
        if reference is None:
            raise UnplacedError(title)
        value = _VALUE.search(match[2])
        text = value[2].decode("utf-8", "replace") if value else "#N/A"
        cells[(int(reference[2]) - 1, column_index(reference[1]))] = CellError(text)
    return cells


def with_errors(sheets: dict[str, list[list[object]]],
                errors: dict[str, dict[tuple[int, int], CellError]]) -> None:
    """Put each error in its cell of the rows calamine read (there it is '')."""
    for title, cells in errors.items():
        rows = sheets.get(title)
        if rows is None:
            continue
        for (row, column), error in cells.items():
            while len(rows) <= row:
                rows.append([])
            if len(rows[row]) <= column:
                rows[row].extend([""] * (column + 1 - len(rows[row])))
            rows[row][column] = error


def readable_copy(path: Path) -> io.BytesIO:
    """The workbook with every error cell holding #N/A, which calamine reads (as ''), where
    it refuses the newer errors; the true ones come from ``error_cells``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w",
                                                          zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith(".xml") and holds_error_mark(data):
                data = _ERROR_CELL.sub(_as_na, data)
            copy.writestr(info, data)
    buffer.seek(0)
    return buffer


def _as_na(match: re.Match[bytes]) -> bytes:
    start, end = match.span(2)
    whole, at = match[0], match.start()
    return whole[:start - at] + _VALUE.sub(rb"\1#N/A\3", match[2]) + whole[end - at:]


def _sheets_holding_errors(path: Path, only: str | None) -> Iterator[tuple[str, bytes]]:
    """(title, XML) of each sheet with an error cell. A package whose sheets cannot be told
    apart still says whether it holds one (UnplacedError): never read as blank unseen."""
    with zipfile.ZipFile(path) as archive:
        try:
            sheets = read_book(archive).sheets
        except CannotPatch:
            sheets = {}
        for title, part in sheets.items():
            if only is not None and title != only:
                continue
            xml = archive.read(part) if part in archive.NameToInfo else b""
            if holds_error_mark(xml):
                yield title, xml
        if not sheets and any(holds_error_mark(archive.read(name))
                              for name in archive.namelist()
                              if name.startswith("xl/worksheets/") and name.endswith(".xml")):
            raise UnplacedError("a sheet")
