"""Each touched sheet's XML, streamed through in chunks of whole rows and patched."""

from __future__ import annotations

import io
import os
import re
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import IO

from addin.workbook.ooxml.stamping.filters import grown_filter
from addin.workbook.ooxml.stamping.package import (
    MAIN_NS,
    Book,
    CannotPatch,
    NewPart,
    PartWriter,
    member,
    xml_int,
)
from addin.workbook.ooxml.stamping.rows import (
    CellXml,
    ColumnStyles,
    RowPatcher,
    Run,
    column_index,
    column_widths,
    row_end_at,
    row_number_at,
    with_dimension,
    written_extent,
)
from addin.workbook.ooxml.stamping.styles import Styles
from addin.workbook.port import Stamps
from addin.workbook.review import layout
from addin.workbook.review.content import Value
from addin.workbook.review.reading import find_titles, header_positions
from addin.workbook.review.widths import line_room

_MAIN = f"{{{MAIN_NS}}}"
_CHUNK = 4 << 20  # bytes of sheet XML patched at a time

_ROOT_TAG = re.compile(rb"<([\w.-]+:)?worksheet[\s>]")
_ROOT_ELEMENT = re.compile(rb"<worksheet\b[^>]*>")
_PREFIXED_MAIN_NS = re.compile(rb'xmlns:[\w.-]+\s*=\s*["\']' + re.escape(MAIN_NS.encode()))
_ROW_WITHOUT_REF = re.compile(rb'<row(?=[\s/>])(?! r=")')
_ROW_ELEMENT = re.compile(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)
_FILLED_VALUE = re.compile(rb"<v(?:\s[^>]*)?>[^<]|<f[\s>/]|<t(?:\s[^>]*)?>[^<]")


# --- what each sheet gets ----------------------------------------------------------------------



@dataclass(frozen=True)
class _SheetRequest:
    part: str
    title: str
    sheet: layout.Sheet
    cells: dict[tuple[int, str], Value]
    journal_rows: list[list[Value]]


def sheet_requests(book: Book, stamps: Stamps) -> list[_SheetRequest]:
    titles = find_titles(list(book.sheets))
    wanted: list[tuple[layout.Sheet, dict[tuple[int, str], Value], list[list[Value]]]] = [
        (layout.RESIDUALS, stamps.residuals, []), (layout.ITEMS, stamps.items, []),
        (layout.JOURNAL, {}, stamps.journal_rows)]
    requests = []
    for sheet, cells, rows in wanted:
        if not cells and not rows:
            continue
        title = titles.get(sheet.key)
        if title is None:
            raise CannotPatch(f"no {sheet.en} sheet in the workbook")
        requests.append(_SheetRequest(book.sheets[title], title, sheet, cells, rows))
    return requests




_ABSENT = object()  # a column a row gets no value in (None empties a cell)


def _runs(request: _SheetRequest, positions: dict[str, int], next_free_row: int
          ) -> list[Run]:
    """The cells to write, as runs of rows (Journal rows from ``next_free_row`` on)."""
    by_column = _values_by_column(request, positions, next_free_row)
    columns = sorted(by_column)
    numbers = sorted(set().union(*by_column.values()))
    if numbers and numbers[0] < 1:
        raise ValueError(f"row {numbers[0]} of {request.title} does not exist")
    # texts only (a Text is a str): 1 == True and Decimal("1.0") == Decimal("1.00"), but each
    # is written its own way
    apart = {number for values in by_column.values() if not _all_texts(values.values())
             for number, value in values.items() if not isinstance(value, str)}
    rows = zip(*(map(by_column[column].get, numbers, repeat(_ABSENT)) for column in columns),
               strict=True)
    starts: list[tuple[int, tuple[Value, ...]]] = []  # (first row, values) of each run
    ends: list[int] = []
    previous = -1  # row numbers start at 1: the first row starts a run
    for number, values in zip(numbers, rows, strict=True):
        if number != previous + 1 or number in apart or values != starts[-1][1]:
            starts.append((number, values))
            ends.append(previous)
        previous = number
    ends = [*ends[1:], previous]
    return [Run(first, last, [(c, v) for c, v in zip(columns, values, strict=True)
                               if v is not _ABSENT])
            for (first, values), last in zip(starts, ends, strict=True)]


def _all_texts(values: Iterable[Value]) -> bool:
    return all(isinstance(value, str) for value in values)


def _values_by_column(request: _SheetRequest, positions: dict[str, int], next_free_row: int
                      ) -> dict[int, dict[int, Value]]:
    by_key: dict[str, dict[int, Value]] = {}
    for (number, key), value in request.cells.items():
        values = by_key.get(key)
        if values is None:
            values = by_key[key] = {}
        values[number] = value
    for offset, row in enumerate(request.journal_rows):
        for column, value in zip(request.sheet.columns, row, strict=False):
            by_key.setdefault(column.key, {})[next_free_row + offset] = value
    return {positions[key]: values for key, values in by_key.items()}


def _journal_kinds(request: _SheetRequest, positions: dict[str, int]) -> dict[int, layout.Kind]:
    """Columns whose number format follows their kind: the Journal's, as openpyxl sets them."""
    if not request.journal_rows:
        return {}
    return {positions[column.key]: column.kind for column in request.sheet.columns}






# --- patching the sheets -----------------------------------------------------------------------


@dataclass(frozen=True)
class PatchedSheet:
    part: NewPart
    filter_range: bytes | None  # the sheet's filter, grown over the Journal rows appended


def patch_sheets(source: Path, requests: list[_SheetRequest], styles: Styles,
                  strings: SharedStrings) -> dict[str, PatchedSheet]:
    """Each sheet in a thread of its own, compressed by a pool: zlib works outside the GIL
    while rows are patched. Keyed by sheet title."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as compressors, \
            ThreadPoolExecutor(max_workers=max(len(requests), 1)) as sheets:
        futures = {r.title: sheets.submit(_patch_sheet, source, r, styles, strings,
                                          compressors)
                   for r in requests}
        return {title: future.result() for title, future in futures.items()}


def _patch_sheet(source: Path, request: _SheetRequest, styles: Styles,
                 strings: SharedStrings, compressors: Executor) -> PatchedSheet:
    with zipfile.ZipFile(source) as archive:
        info = member(archive, request.part)
        with archive.open(info) as part:
            stream: IO[bytes] = part
            next_free_row = 0
            if request.journal_rows:
                data = part.read()
                next_free_row = _last_filled_row(data) + 1
                stream = io.BytesIO(data)
            sheet = _SheetXml(stream)
            header = _header(sheet.first_row(), sheet.root_element, strings)
            positions = header_positions(header, request.sheet, request.title, str(source))
            runs = _runs(request, positions, next_free_row)
            cells = CellXml(styles, _journal_kinds(request, positions))
            patcher = RowPatcher(runs, cells, ColumnStyles(sheet.prelude), len(header),
                                 _wrapped(request.sheet, positions, sheet.prelude))
            writer = PartWriter(info.compress_type, compressors)
            writer.write(with_dimension(sheet.prelude, written_extent(runs)))
            for chunk, limit in sheet.rows():
                writer.write(b"".join(patcher.patch(chunk, limit)))
            assert patcher.done
            if not request.journal_rows:
                for block in sheet.after_rows():
                    writer.write(block)
                return PatchedSheet(writer.close(), None)
            last_row = next_free_row + len(request.journal_rows) - 1
            after_rows, filter_range = grown_filter(b"".join(sheet.after_rows()), last_row)
            writer.write(after_rows)
            return PatchedSheet(writer.close(), filter_range)


def _wrapped(sheet: layout.Sheet, positions: dict[str, int], prelude: bytes
             ) -> dict[int, int]:
    """The columns whose texts wrap, with the characters a line holds at their width."""
    widths = column_widths(prelude)
    return {positions[c.key]: line_room(widths.get(positions[c.key], c.width))
            for c in sheet.columns if c.wrap}


class _SheetXml:
    """A sheet part read in pieces: what comes before its rows, chunks of whole rows, the rest."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        data = self._read()
        self.root_element = _checked_root(data)
        self.prelude, self.rest = self._split_prelude(data)
        self.tail = b""

    def _read(self) -> bytes:
        return self.stream.read(_CHUNK)

    def _split_prelude(self, data: bytes) -> tuple[bytes, bytes]:
        while True:
            start = data.find(b"<sheetData")
            end = data.find(b">", start) if start >= 0 else -1
            if end >= 0:
                break
            block = self._read()
            if not block:
                raise CannotPatch("the sheet has no <sheetData>")
            data += block
        if data[end - 1] == ord("/"):  # <sheetData/>: opened, so rows can go in
            return data[:start] + b"<sheetData>", b"</sheetData>" + data[end + 1:]
        return data[:end + 1], data[end + 1:]

    def first_row(self) -> bytes | None:
        """The first row element, or None when the sheet has no rows."""
        while True:
            data_end = self.rest.find(b"</sheetData>")
            start = self.rest.find(b"<row")
            if start >= 0 and (data_end < 0 or start < data_end):
                end = row_end_at(self.rest, start)
                if end >= 0:
                    return self.rest[start:end]
            elif data_end >= 0:
                return None
            block = self._read()
            if not block:
                raise CannotPatch("the sheet XML ends inside <sheetData>")
            self.rest += block

    def rows(self) -> Iterator[tuple[bytes, int | None]]:
        """Chunks of whole rows with the number of the row that follows (None after the last)."""
        data = self.rest
        while True:
            end = data.find(b"</sheetData>", max(data.rfind(b"</row>"), 0))  # after every row
            if end >= 0:
                self.tail = data[end:]
                yield data[:end], None
                return
            cut = data.rfind(b"<row")
            if data.find(b">", cut) < 0:  # the read stopped inside that row's start tag
                cut = data.rfind(b"<row", 0, cut)
            if cut > 0:
                yield data[:cut], row_number_at(data, cut)
                data = data[cut:]
            block = self._read()
            if not block:
                raise CannotPatch("the sheet XML ends inside <sheetData>")
            data += block

    def after_rows(self) -> Iterator[bytes]:
        yield self.tail
        while block := self._read():
            yield block


def _checked_root(data: bytes) -> bytes:
    """The worksheet's start tag, if the rows can be found by plain byte search."""
    match = _ROOT_TAG.search(data)
    if match is None:
        raise CannotPatch("no <worksheet> root element")
    if match[1]:
        raise CannotPatch("namespace-prefixed sheet XML")
    root = _ROOT_ELEMENT.search(data, match.start())
    assert root is not None
    if _PREFIXED_MAIN_NS.search(root[0]) or f'xmlns="{MAIN_NS}"'.encode() not in root[0]:
        raise CannotPatch("the sheet XML is not in the plain SpreadsheetML namespace")
    return root[0]






def _last_filled_row(sheet: bytes) -> int:
    """The last row holding a value (not only styles or empty texts), 0 for none."""
    start = sheet.find(b"<sheetData")
    end = sheet.find(b"</sheetData>", start)
    if start < 0 or end < 0:
        return 0
    if _ROW_WITHOUT_REF.search(sheet, start, end):
        raise CannotPatch("a row has no r attribute")
    last = 0
    for row in _ROW_ELEMENT.finditer(sheet, start, end):
        if _FILLED_VALUE.search(row[0]):
            last = int(row[1])
    return last


# --- the header row ----------------------------------------------------------------------------


def _header(row: bytes | None, root_element: bytes, strings: SharedStrings) -> list[object]:
    """Row 1's values, by column; read with ElementTree, which only ever reads here."""
    if row is None:
        return []
    if row_number_at(row, 0) != 1:  # no header row: header_positions reports the columns
        return []
    try:
        element = ET.fromstring(root_element + row + b"</worksheet>").find(f"{_MAIN}row")
    except ET.ParseError as exc:
        raise CannotPatch(f"cannot read the header row: {exc}") from exc
    assert element is not None
    cells = element.findall(f"{_MAIN}c")
    wanted = [_string_index(c) for c in cells if c.get("t") == "s"]
    shared = strings.texts(wanted)
    header: list[object] = []
    for cell in cells:
        ref = cell.get("r")
        if ref is None:
            raise CannotPatch("a header cell has no r attribute")
        column = column_index(ref.encode())
        header.extend([None] * (column + 1 - len(header)))
        header[column] = _cell_text(cell, shared)
    return header


def _cell_text(cell: ET.Element, shared: dict[int, str]) -> str:
    kind = cell.get("t")
    if kind == "s":
        return shared[_string_index(cell)]
    if kind == "inlineStr":
        inline = cell.find(f"{_MAIN}is")
        return "" if inline is None else _string_item_text(inline)
    return cell.findtext(f"{_MAIN}v") or ""


def _string_index(cell: ET.Element) -> int:
    return xml_int(cell.findtext(f"{_MAIN}v") or "-1", "a header cell's shared string index")


def _string_item_text(item: ET.Element) -> str:
    """The text of a shared or inline string: one <t>, or rich text runs (phonetics left out)."""
    plain = item.find(f"{_MAIN}t")
    if plain is not None:
        return plain.text or ""
    return "".join(run.findtext(f"{_MAIN}t") or "" for run in item.findall(f"{_MAIN}r"))


class SharedStrings:
    """Shared strings read up to the last one asked for: headers come early in the table."""

    def __init__(self, source: Path, part: str | None) -> None:
        self.source, self.part = source, part
        self.loaded: list[str] = []
        self.lock = threading.Lock()

    def texts(self, indices: Sequence[int]) -> dict[int, str]:
        if not indices:
            return {}
        with self.lock:
            if max(indices) >= len(self.loaded):
                self._load_until(max(indices))
            if min(indices) < 0 or max(indices) >= len(self.loaded):
                raise CannotPatch("a header cell points at a missing shared string")
            return {i: self.loaded[i] for i in indices}

    def _load_until(self, last: int) -> None:
        if self.part is None:
            raise CannotPatch("the header uses shared strings but the package has none")
        loaded: list[str] = []
        try:
            with zipfile.ZipFile(self.source) as archive, archive.open(self.part) as stream:
                for _, element in ET.iterparse(stream, events=("end",)):
                    if element.tag == f"{_MAIN}si":
                        loaded.append(_string_item_text(element))
                        element.clear()
                        if len(loaded) > last:
                            break
        except (KeyError, ET.ParseError) as exc:
            raise CannotPatch(f"cannot read {self.part}: {exc}") from exc
        self.loaded = loaded
