"""Stamp a review workbook by patching its package instead of loading it.

openpyxl loads every cell of the workbook to change a few: on 100 000 rows that takes a minute
and gigabytes. Here each touched sheet's XML streams through in chunks of whole rows: rows that
get no stamp are copied as byte slices, a stamped row gets its cells replaced (keeping their
style) or inserted in column order, missing rows are inserted in order, and Journal rows go after
the last filled one. Every other part of the package (VBA project, ribbon, relationships, the
other sheets) is copied byte for byte, still compressed.

What this cannot patch safely raises ``CannotPatch``: the caller then saves with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import os
import re
import struct
import threading
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import chain, repeat
from pathlib import Path
from typing import IO, BinaryIO

from addin.workbook import layout
from addin.workbook.content import Value
from addin.workbook.port import Stamps
from addin.workbook.review import find_titles, header_positions

DATETIME_FORMAT = "DD.MM.YYYY HH:MM:SS"
_JOURNAL_FORMATS = {
    layout.Kind.AMOUNT: layout.AMOUNT,
    layout.Kind.INTEGER: layout.INTEGER,
    layout.Kind.DATETIME: DATETIME_FORMAT,
    layout.Kind.DATE: layout.DATE,
}
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2}

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_MAIN = f"{{{MAIN_NS}}}"
_CONTENT_TYPES = "[Content_Types].xml"
_CHUNK = 4 << 20  # bytes of sheet XML patched at a time
_MIN_RUN = 8  # rows from which a run is tried in one pass
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_ZIP32_LIMIT = 0xFFFFFFFF
_SLASH = ord("/")

_ROOT_TAG = re.compile(rb"<([\w.-]+:)?worksheet[\s>]")
_ROOT_ELEMENT = re.compile(rb"<worksheet\b[^>]*>")
_PREFIXED_MAIN_NS = re.compile(rb'xmlns:[\w.-]+\s*=\s*["\']' + re.escape(MAIN_NS.encode()))
_ROW_WITHOUT_REF = re.compile(rb'<row(?=[\s/>])(?! r=")')
_CELL_WITHOUT_REF = re.compile(rb'<c(?=[\s/>])(?! r=")')
_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]+)')
_SPANS = re.compile(rb' spans="[^"]*"')
_STYLE = re.compile(rb'\ss="(\d+)"')
_CUSTOM_FORMAT = re.compile(rb'\scustomFormat="(?:1|true)"')
_FORMULA_TAG = re.compile(rb"<f(?:\s[^>]*)?/?>")
_ROW_ELEMENT = re.compile(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)
_FILLED_VALUE = re.compile(rb"<v(?:\s[^>]*)?>[^<]|<f[\s>/]|<t(?:\s[^>]*)?>[^<]")
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
_COL = re.compile(rb"<col\b([^>]*?)/?>")
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class CannotPatch(Exception):
    """The package holds something this patch does not handle safely: save with openpyxl."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def write_stamped(source: Path, target: Path, stamps: Stamps) -> None:
    """Write ``target``: the package of ``source`` with ``stamps`` written in. On an error
    ``target`` may be left half written: the caller owns it."""
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise CannotPatch(f"not a zip package: {exc}") from exc
    with archive:
        book = _read_book(archive)
        styles = _Styles(source, book.styles)
        strings = _SharedStrings(source, book.shared_strings)
        replaced = _patch_sheets(source, _requests(book, stamps), styles, strings)
        if styles.changed:
            assert book.styles is not None
            replaced[book.styles] = _new_part(styles.patched(), _member(archive, book.styles))
        dropped: set[str] = set()
        if book.calc_chain is not None:
            dropped.add(book.calc_chain)
            replaced.update(_without_calc_chain(archive, book))
        _write_package(source, archive, replaced, dropped, target)


# --- the workbook's structure ------------------------------------------------------------------


@dataclass(frozen=True)
class _Book:
    main: str
    sheets: dict[str, str]  # title -> part
    shared_strings: str | None
    styles: str | None
    calc_chain: str | None

    @property
    def relationships_part(self) -> str:
        return _rels_name(self.main)


@dataclass(frozen=True)
class _Relationship:
    kind: str  # last segment of the type: "worksheet", "styles", ...
    id: str
    target: str  # part name


def _read_book(archive: zipfile.ZipFile) -> _Book:
    main = _first_target(_relationships(archive, ""), "officeDocument")
    if main is None:
        raise CannotPatch("the package has no officeDocument relationship")
    relationships = _relationships(archive, main)
    by_id = {r.id: r.target for r in relationships}
    sheets: dict[str, str] = {}
    for sheet in _xml(archive, main).iter(f"{_MAIN}sheet"):
        name = sheet.get("name")
        rel_id = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        if name is None or rel_id not in by_id:
            raise CannotPatch(f"sheet {name!r} of {main} has no part")
        sheets[name] = by_id[rel_id]
    return _Book(main, sheets, _first_target(relationships, "sharedStrings"),
                 _first_target(relationships, "styles"), _first_target(relationships, "calcChain"))


def _relationships(archive: zipfile.ZipFile, source: str) -> list[_Relationship]:
    name = _rels_name(source)
    if name not in archive.NameToInfo:
        return []
    base = source.rpartition("/")[0]
    found = []
    for rel in _xml(archive, name):
        if rel.get("TargetMode") == "External":
            continue
        found.append(_Relationship(rel.get("Type", "").rpartition("/")[2], rel.get("Id", ""),
                                   _resolve(base, rel.get("Target", ""))))
    return found


def _first_target(relationships: list[_Relationship], kind: str) -> str | None:
    return next((r.target for r in relationships if r.kind == kind), None)


def _xml(archive: zipfile.ZipFile, part: str) -> ET.Element:
    try:
        return ET.fromstring(archive.read(part))
    except (KeyError, ET.ParseError) as exc:
        raise CannotPatch(f"cannot read {part}: {exc}") from exc


def _member(archive: zipfile.ZipFile, part: str) -> zipfile.ZipInfo:
    try:
        return archive.getinfo(part)
    except KeyError as exc:
        raise CannotPatch(f"{part} is missing from the package") from exc


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    parts: list[str] = []
    for segment in f"{base}/{target}".split("/") if base else target.split("/"):
        if segment == "..":
            if parts:
                parts.pop()
        elif segment not in ("", "."):
            parts.append(segment)
    return "/".join(parts)


def _rels_name(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


# --- what each sheet gets ----------------------------------------------------------------------

RowCells = list[tuple[int, Value]]  # (0-based column, value), in column order


@dataclass(frozen=True)
class _SheetRequest:
    part: str
    title: str
    sheet: layout.Sheet
    cells: dict[tuple[int, str], Value]
    journal_rows: list[list[Value]]


def _requests(book: _Book, stamps: Stamps) -> list[_SheetRequest]:
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


@dataclass
class _Run:
    """Consecutive rows that get the same cells."""

    first: int
    last: int
    cells: RowCells


_ABSENT = object()  # a column a row gets no value in (None empties a cell)


def _runs(request: _SheetRequest, positions: dict[str, int], next_free_row: int
          ) -> list[_Run]:
    """The cells to write, as runs of rows (Journal rows from ``next_free_row`` on)."""
    by_column = _values_by_column(request, positions, next_free_row)
    columns = sorted(by_column)
    numbers = sorted(set().union(*by_column.values()))
    if numbers and numbers[0] < 1:
        raise ValueError(f"row {numbers[0]} of {request.title} does not exist")
    # texts only: 1 == True and Decimal("1.0") == Decimal("1.00"), but each is written its own way
    apart = {number for values in by_column.values() if set(map(type, values.values())) != {str}
             for number, value in values.items() if type(value) is not str}
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
    return [_Run(first, last, [(c, v) for c, v in zip(columns, values, strict=True)
                               if v is not _ABSENT])
            for (first, values), last in zip(starts, ends, strict=True)]


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


def _number_format(value: Value, kind: layout.Kind | None) -> tuple[str | None, bool]:
    """(the number format a cell needs, whether it replaces the style's own format)."""
    if value is None or isinstance(value, str):
        return None, False
    if kind is not None:
        return _JOURNAL_FORMATS.get(kind) or _date_format(value) or "General", True
    return _date_format(value), False  # a date written over General would show as a number


def _date_format(value: Value) -> str | None:
    if isinstance(value, dt.datetime):
        return DATETIME_FORMAT
    if isinstance(value, dt.date):
        return layout.DATE
    return None


# --- patching the sheets -----------------------------------------------------------------------


def _patch_sheets(source: Path, requests: list[_SheetRequest], styles: _Styles,
                  strings: _SharedStrings) -> dict[str, _NewPart]:
    """Each sheet in a thread of its own, compressed by a pool: zlib works outside the GIL
    while rows are patched."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as compressors, \
            ThreadPoolExecutor(max_workers=max(len(requests), 1)) as sheets:
        futures = {r.part: sheets.submit(_patch_sheet, source, r, styles, strings, compressors)
                   for r in requests}
        return {part: future.result() for part, future in futures.items()}


def _patch_sheet(source: Path, request: _SheetRequest, styles: _Styles,
                 strings: _SharedStrings, compressors: Executor) -> _NewPart:
    with zipfile.ZipFile(source) as archive:
        info = _member(archive, request.part)
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
            cells = _CellXml(styles, _journal_kinds(request, positions))
            patcher = _RowPatcher(runs, cells, _ColumnStyles(sheet.prelude), len(header))
            writer = _PartWriter(info.compress_type, compressors)
            writer.write(_with_dimension(sheet.prelude, _extent(runs)))
            for chunk, limit in sheet.rows():
                writer.write(b"".join(patcher.patch(chunk, limit)))
            assert patcher.done
            for block in sheet.after_rows():
                writer.write(block)
            return writer.close()


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
                end = _row_end(self.rest, start)
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
                yield data[:cut], _row_number_at(data, cut)
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


def _row_end(data: bytes, start: int) -> int:
    """Where the row element starting at ``start`` ends, -1 if ``data`` stops inside it."""
    tag_end = data.find(b">", start)
    if tag_end < 0:
        return -1
    if data[tag_end - 1] == _SLASH:
        return tag_end + 1
    close = data.find(b"</row>", tag_end)
    return close + 6 if close >= 0 else -1


def _row_number_at(data: bytes, at: int) -> int:
    match = _ROW_NUMBER.match(data, at)
    if match is None:
        raise CannotPatch("a row has no r attribute")
    return int(match[1])


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


def _header(row: bytes | None, root_element: bytes, strings: _SharedStrings) -> list[object]:
    """Row 1's values, by column; read with ElementTree, which only ever reads here."""
    if row is None:
        return []
    if _row_number_at(row, 0) != 1:  # no header row: header_positions reports the columns
        return []
    try:
        element = ET.fromstring(root_element + row + b"</worksheet>").find(f"{_MAIN}row")
    except ET.ParseError as exc:
        raise CannotPatch(f"cannot read the header row: {exc}") from exc
    assert element is not None
    cells = element.findall(f"{_MAIN}c")
    wanted = [int(c.findtext(f"{_MAIN}v") or -1) for c in cells if c.get("t") == "s"]
    shared = strings.texts(wanted)
    header: list[object] = []
    for cell in cells:
        ref = cell.get("r")
        if ref is None:
            raise CannotPatch("a header cell has no r attribute")
        column = _column_index(ref.encode())
        header.extend([None] * (column + 1 - len(header)))
        header[column] = _cell_text(cell, shared)
    return header


def _cell_text(cell: ET.Element, shared: dict[int, str]) -> str:
    kind = cell.get("t")
    if kind == "s":
        return shared[int(cell.findtext(f"{_MAIN}v") or -1)]
    if kind == "inlineStr":
        inline = cell.find(f"{_MAIN}is")
        return "" if inline is None else _string_item_text(inline)
    return cell.findtext(f"{_MAIN}v") or ""


def _string_item_text(item: ET.Element) -> str:
    """The text of a shared or inline string: one <t>, or rich text runs (phonetics left out)."""
    plain = item.find(f"{_MAIN}t")
    if plain is not None:
        return plain.text or ""
    return "".join(run.findtext(f"{_MAIN}t") or "" for run in item.findall(f"{_MAIN}r"))


class _SharedStrings:
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


# --- rows and cells ----------------------------------------------------------------------------


class _ColumnStyles:
    """The style each <col> range gives its empty cells: a cell inserted there takes it."""

    def __init__(self, prelude: bytes) -> None:
        self.ranges: list[tuple[int, int, int]] = []
        for col in _COL.finditer(prelude):
            attributes = _attributes(col[1])
            if b"style" in attributes and b"min" in attributes:
                first = int(attributes[b"min"]) - 1
                last = int(attributes.get(b"max", attributes[b"min"])) - 1
                self.ranges.append((first, last, int(attributes[b"style"])))
        self.by_column: dict[int, int | None] = {}

    def get(self, column: int) -> int | None:
        if column not in self.by_column:
            self.by_column[column] = next(
                (s for first, last, s in self.ranges if first <= column <= last), None)
        return self.by_column[column]


class _RowPatcher:
    """Writes the cells of each run of rows into chunks of whole rows, in row order.

    A run whose rows have the regular shape of an extraction (none of the written cells there
    yet, each row holding a cell in the column right after them) gets its cells inserted in
    one pass over its rows' XML; any other row is patched on its own."""

    def __init__(self, runs: list[_Run], cells: _CellXml, column_styles: _ColumnStyles,
                 width: int) -> None:
        self.runs = runs
        self.index = 0  # the run being written
        self.next_row = runs[0].first if runs else 0  # rows before it are written
        self.cells = cells
        self.column_styles = column_styles
        self.width = width  # columns of the header: where a missing cell's neighbours are
        self.chunk_cells_have_refs: bool | None = None

    @property
    def done(self) -> bool:
        return self.index == len(self.runs)

    def patch(self, chunk: bytes, limit: int | None) -> list[bytes | memoryview]:
        """``chunk`` as pieces with the cells of its rows (those numbered below ``limit``)."""
        self.chunk_cells_have_refs = None
        view = memoryview(chunk)
        pieces: list[bytes | memoryview] = []
        position = 0
        while self.index < len(self.runs):
            run = self.runs[self.index]
            first = max(run.first, self.next_row)
            if limit is not None and first >= limit:
                break
            last = run.last if limit is None else min(run.last, limit - 1)
            position = self._write_run(chunk, view, position, run.cells, first, last, limit,
                                       pieces)
            self.next_row = last + 1
            if last < run.last:
                break
            self.index += 1
        _copy(pieces, chunk, view, position, len(chunk))
        return pieces

    def _write_run(self, chunk: bytes, view: memoryview, position: int, cells: RowCells,
                   first: int, last: int, limit: int | None,
                   pieces: list[bytes | memoryview]) -> int:
        if last - first >= _MIN_RUN:
            end = self._write_run_at_once(chunk, view, position, cells, first, last, limit,
                                          pieces)
            if end is not None:
                return end
        for number in range(first, last + 1):
            found = chunk.find(b'<row r="%d"' % number, position)
            if found < 0:
                at = _row_after(chunk, position, number)
                _copy(pieces, chunk, view, position, at)
                pieces.append(self._new_row(number, cells))
                position = at
            else:
                _copy(pieces, chunk, view, position, found)
                position = self._stamp_row(chunk, view, found, number, cells, pieces)
        return position

    def _write_run_at_once(self, chunk: bytes, view: memoryview, position: int,
                           cells: RowCells, first: int, last: int, limit: int | None,
                           pieces: list[bytes | memoryview]) -> int | None:
        """The end of the run's rows once written, or None if they are not all of the shape
        ``_inserted_before_next_cell`` handles."""
        start = chunk.find(b'<row r="%d"' % first, position)
        if start < 0 or not self._cells_have_refs(chunk):
            return None
        if last + 1 == limit:  # the chunk ends with the row before ``limit``
            end = len(chunk)
        else:
            last_start = chunk.find(b'<row r="%d"' % last, start)
            end = _row_end(chunk, last_start) if last_start >= 0 else -1
            if end < 0:
                return None
        written = self._inserted_before_next_cell(chunk[start:end], cells, first, last)
        if written is None:
            return None
        _copy(pieces, chunk, view, position, start)
        pieces.append(written)
        return end

    def _inserted_before_next_cell(self, rows: bytes, cells: RowCells, first: int, last: int
                                   ) -> bytes | None:
        """``rows`` (numbered ``first`` to ``last``) with ``cells`` inserted before the cell of
        the column right after them, if none of them is there yet and each row has that
        cell: then splitting at that cell's start yields one piece per row."""
        columns = [column for column, _ in cells]
        anchor_column = columns[-1] + 1
        if columns != list(range(columns[0], anchor_column)) or anchor_column >= self.width:
            return None
        if b"customFormat" in rows and (b'customFormat="1"' in rows
                                        or b'customFormat="true"' in rows):
            return None  # a row's own style would go to the inserted cells
        if b" spans=" in rows:
            rows = _SPANS.sub(b"", rows)
        anchor = _opening(anchor_column)
        pieces = rows.split(anchor)
        if len(pieces) != last - first + 2:
            return None
        numbers = [b'%d"' % number for number in range(first, last + 1)]
        if not all(map(bytes.startswith, pieces[1:], numbers)):  # one anchor per row, in order
            return None
        # cells are in column order: a written one already there is the cell before the anchor
        before_anchor = map(bytes.rfind, pieces[:-1], repeat(b'<c r="'))
        written = tuple(_opening(column) for column in columns)
        if any(map(bytes.startswith, pieces[:-1], repeat(written), before_anchor)):
            return None
        insertions = map(bytes.join, numbers, repeat(self._insertion_template(cells, anchor)))
        rows_written = zip(insertions, pieces[1:], strict=True)
        return b"".join(chain(pieces[:1], chain.from_iterable(rows_written)))

    def _insertion_template(self, cells: RowCells, anchor: bytes) -> list[bytes]:
        """The XML of ``cells`` then of the anchor's start, split where the row number goes."""
        template = [b""]
        for column, value in cells:
            if value is not None:
                template[-1] += _opening(column)
                template.append(self.cells.body(column, value, self.column_styles.get(column)))
        template[-1] += anchor
        return template

    def _cells_have_refs(self, chunk: bytes) -> bool:
        if self.chunk_cells_have_refs is None:
            self.chunk_cells_have_refs = chunk.count(b"<c") == chunk.count(b'<c r="')
        return self.chunk_cells_have_refs

    def _stamp_row(self, chunk: bytes, view: memoryview, start: int, number: int,
                   cells: RowCells, pieces: list[bytes | memoryview]) -> int:
        """Appends the row at ``start`` with its cells written; returns where it ended."""
        tag_end = chunk.find(b">", start) + 1
        empty = chunk[tag_end - 2] == _SLASH
        end = tag_end if empty else chunk.find(b"</row>", tag_end)
        if end < 0:
            raise CannotPatch(f"row {number} is not closed")
        tag = chunk[start:tag_end]
        pieces.append(_open_row_tag(tag) if empty or b" spans=" in tag else tag)
        if not self.chunk_cells_have_refs:
            _check_cell_refs(chunk, tag_end, end)
        digits = b'%d"' % number
        cursor = tag_end
        for column, value in cells:
            found = chunk.find(_opening(column) + digits, cursor, end)
            if found >= 0:
                cell_end = _cell_end(chunk, found, end)
                pieces.append(view[cursor:found])
                pieces.append(self._replaced_cell(chunk[found:cell_end], column, value, digits))
                cursor = cell_end
            else:
                at = self._cell_after(chunk, cursor, end, column, digits)
                pieces.append(view[cursor:at])
                pieces.append(self.cells.xml(column, value, digits,
                                             self._inherited_style(tag, column), existing=False))
                cursor = at
        if empty:
            pieces.append(b"</row>")
            return tag_end
        pieces.append(view[cursor:end + 6])
        return end + 6

    def _cell_after(self, chunk: bytes, start: int, end: int, column: int, digits: bytes
                    ) -> int:
        """Where a missing cell of ``column`` goes: before the first cell of a later column.
        A search for each next header column usually finds it at once."""
        for later in range(column + 1, min(self.width, column + 33)):
            found = chunk.find(_opening(later) + digits, start, end)
            if found >= 0:
                return found
        last = chunk.rfind(b'<c r="', start, end)
        if last < 0 or _column_index(chunk[last + 6:last + 9]) < column:
            return end
        for cell in _CELL_COLUMN.finditer(chunk, start, end):
            if _column_index(cell[1]) > column:
                return cell.start()
        raise CannotPatch("the cell references of a row do not match its number")

    def _replaced_cell(self, cell: bytes, column: int, value: Value, digits: bytes) -> bytes:
        if b"<f" in cell:
            formula = _FORMULA_TAG.search(cell)
            if formula is not None and b"ref=" in formula[0]:
                raise CannotPatch(f"cell {_letters(column).decode()}{digits[:-1].decode()} is "
                                  "the master of a shared or array formula")
        style = _STYLE.search(cell, 0, cell.find(b">"))
        return self.cells.xml(column, value, digits, int(style[1]) if style else None,
                              existing=True)

    def _inherited_style(self, row_tag: bytes, column: int) -> int | None:
        if b"customFormat" in row_tag and _CUSTOM_FORMAT.search(row_tag):
            style = _STYLE.search(row_tag)
            if style:
                return int(style[1])
        return self.column_styles.get(column)

    def _new_row(self, number: int, cells: RowCells) -> bytes:
        digits = b'%d"' % number
        written = [self.cells.xml(column, value, digits, self.column_styles.get(column),
                                  existing=False) for column, value in cells]
        if not any(written):
            return b""
        return b'<row r="%d">' % number + b"".join(written) + b"</row>"


def _copy(pieces: list[bytes | memoryview], chunk: bytes, view: memoryview, start: int,
          end: int) -> None:
    """Rows passed through untouched; their numbers must all be written out for the stamped
    and inserted rows to land where they belong."""
    if end > start:
        if _ROW_WITHOUT_REF.search(chunk, start, end):
            raise CannotPatch("a row has no r attribute")
        pieces.append(view[start:end])


def _check_cell_refs(chunk: bytes, start: int, end: int) -> None:
    # <color>, <charset>, <condense> of rich text also start with "<c": count first, then look
    if chunk.count(b"<c", start, end) != chunk.count(b'<c r="', start, end) and \
            _CELL_WITHOUT_REF.search(chunk, start, end):
        raise CannotPatch("a cell of a stamped row has no r attribute")


def _row_after(chunk: bytes, start: int, number: int) -> int:
    """Where a missing row ``number`` goes: before the first row numbered above it."""
    last = chunk.rfind(b'<row r="', start)
    if last < 0 or _row_number_at(chunk, last) < number:
        return len(chunk)
    for row in _ROW_NUMBER.finditer(chunk, start):
        if int(row[1]) > number:
            return row.start()
    return len(chunk)


def _cell_end(chunk: bytes, start: int, limit: int) -> int:
    tag_end = chunk.find(b">", start, limit)
    if chunk[tag_end - 1] == _SLASH:
        return tag_end + 1
    close = chunk.find(b"</c>", tag_end, limit)
    if close < 0:
        raise CannotPatch("a cell element is not closed in its row")
    return close + len(b"</c>")


def _open_row_tag(tag: bytes) -> bytes:
    # spans would no longer cover the row's cells; it is optional, so it goes
    if b" spans=" in tag:
        tag = _SPANS.sub(b"", tag)
    if tag[-2] == _SLASH:
        tag = tag[:-2].rstrip() + b">"
    return tag


@cache
def _letters(column: int) -> bytes:
    return layout.column_letter(column).encode("ascii")


@cache
def _opening(column: int) -> bytes:
    """A cell's start up to its row number: b'<c r="AB'."""
    return b'<c r="' + _letters(column)


def _column_index(ref: bytes) -> int:
    """0-based column of a reference (or its letters): b"AB12" -> 27."""
    index = 0
    for byte in ref:
        if not 65 <= byte <= 90:
            break
        index = index * 26 + byte - 64
    return index - 1


@dataclass(frozen=True)
class _Extent:
    first_row: int
    first_column: int
    last_row: int
    last_column: int

    def union(self, other: _Extent) -> _Extent:
        return _Extent(min(self.first_row, other.first_row),
                       min(self.first_column, other.first_column),
                       max(self.last_row, other.last_row), max(self.last_column, other.last_column))

    @property
    def ref(self) -> bytes:
        return b"%s%d:%s%d" % (_letters(self.first_column), self.first_row,
                               _letters(self.last_column), self.last_row)


def _extent(runs: list[_Run]) -> _Extent | None:
    """The range the written values cover (emptied cells do not grow it)."""
    written = [run for run in runs if any(value is not None for _, value in run.cells)]
    if not written:
        return None
    columns = {column for run in written for column, value in run.cells if value is not None}
    return _Extent(min(run.first for run in written), min(columns),
                   max(run.last for run in written), max(columns))


def _with_dimension(prelude: bytes, written: _Extent | None) -> bytes:
    """The <dimension> grown to the written cells (Excel reads it as the used range)."""
    match = _DIMENSION.search(prelude)
    if written is None or match is None:
        return prelude
    first = (int(match[2]), _column_index(match[1]))
    last = (int(match[4]), _column_index(match[3])) if match[3] else first
    current = _Extent(first[0], first[1], last[0], last[1])
    grown = current.union(written)
    if grown == current:
        return prelude
    return prelude[:match.start(1)] + grown.ref + prelude[match.end(0) - 1:]


class _CellXml:
    """The XML of written cells; for a text, all but the row number is built once."""

    def __init__(self, styles: _Styles, kinds: dict[int, layout.Kind]) -> None:
        self.styles = styles
        self.kinds = kinds
        self.text_bodies: dict[tuple[int, str, int | None], bytes] = {}

    def xml(self, column: int, value: Value, digits: bytes, style: int | None, *,
            existing: bool) -> bytes:
        """The cell at ``column`` of the row numbered ``digits`` (b'12"'); b"" when an empty
        value would add a cell that is not there."""
        if value is None and not existing:
            return b""
        return _opening(column) + digits + self.body(column, value, style)

    def body(self, column: int, value: Value, style: int | None) -> bytes:
        """The cell's XML after ``<c r="A1"``."""
        if type(value) is not str:  # 1 == True, Decimal("1.0") == Decimal("1.00"): no cache
            return self._body(column, value, style)
        key = (column, value, style)
        body = self.text_bodies.get(key)
        if body is None:
            body = self.text_bodies[key] = self._body(column, value, style)
        return body

    def _body(self, column: int, value: Value, style: int | None) -> bytes:
        number_format, replaces = _number_format(value, self.kinds.get(column))
        if number_format is not None:
            style = self.styles.with_format(style, number_format, only_over_general=not replaces)
        return _cell_body(value, style)


def _cell_body(value: Value, style: int | None) -> bytes:
    """Everything after ``<c r="A1"`` for this value."""
    s = b' s="%d"' % style if style else b""
    if value is None:
        return s + b"/>"
    if isinstance(value, bool):
        return s + b' t="b"><v>%d</v></c>' % value
    number = _number_text(value)
    if number is None:  # a text, never a formula whatever it starts with
        return s + b' t="inlineStr"><is>' + _text_element(str(value)) + b"</is></c>"
    return s + b"><v>" + number + b"</v></c>"


def _number_text(value: Value) -> bytes | None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} in a cell")
        return str(value).encode("ascii")  # exactly, never through a float
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} in a cell")
        return repr(value).encode("ascii")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError(f"cannot write a datetime with a time zone: {value}")
        delta = value - _EXCEL_EPOCH
        return repr(delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400).encode()
    if isinstance(value, dt.date):
        return b"%d" % (value - _EXCEL_EPOCH.date()).days
    return None


def _text_element(text: str) -> bytes:
    clean = _INVALID_XML.sub("", text)
    escaped = (clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
               .replace("\r", "&#13;"))
    preserve = clean != clean.strip() or any(s in clean for s in ("  ", "\n", "\t", "\r"))
    open_tag = b'<t xml:space="preserve">' if preserve else b"<t>"
    return open_tag + escaped.encode("utf-8") + b"</t>"


# --- styles ------------------------------------------------------------------------------------


@dataclass
class _Xf:
    attributes: list[tuple[bytes, bytes]]  # in their order, values as written
    inner: bytes | None  # None: the element is self-closing

    def same_as(self, other: _Xf) -> bool:
        return dict(self.attributes) == dict(other.attributes) and self.inner == other.inner

    def xml(self) -> bytes:
        attributes = b"".join(b' %s="%s"' % pair for pair in self.attributes)
        if self.inner is None:
            return b"<xf" + attributes + b"/>"
        return b"<xf" + attributes + b">" + self.inner + b"</xf>"


_XF = re.compile(rb"<xf\b([^>]*?)(?:/>|>(.*?)</xf>)", re.S)
_NUM_FMT = re.compile(rb"<numFmt\b([^>]*?)/?>")
_NUM_FMTS = re.compile(rb"<numFmts\b[^>]*?(/?)>")
_CELL_XFS = re.compile(rb"<cellXfs\b[^>]*?(/?)>")
_STYLE_SHEET = re.compile(rb"<([\w.-]+:)?styleSheet\b[^>]*>")
_COUNT = re.compile(rb'\scount="\d+"')
_NUM_FMT_ID = re.compile(rb'numFmtId="(\d+)"')


class _Styles:
    """Cell styles with a number format, added to styles.xml as text: an ElementTree round
    trip renames namespace prefixes, and Excel then rejects the mc:Ignorable list."""

    def __init__(self, source: Path, part: str | None) -> None:
        self.source, self.part = source, part
        self.lock = threading.Lock()
        self.text: bytes | None = None
        self.formats: dict[str, int] = {}  # format code -> id, as numFmts declares them
        self.format_count = 0
        self.taken_ids: set[int] = set()
        self.xfs: list[_Xf] = []
        self.new_formats: list[tuple[int, str]] = []
        self.new_xfs: list[_Xf] = []
        self.derived: dict[tuple[int, str, bool], int] = {}

    @property
    def changed(self) -> bool:
        return bool(self.new_xfs)

    def with_format(self, base: int | None, code: str, *, only_over_general: bool) -> int:
        """The style ``base`` with number format ``code`` (only over General if asked)."""
        key = (base or 0, code, only_over_general)
        with self.lock:
            if key not in self.derived:
                self._load()
                self.derived[key] = self._derive(*key)
            return self.derived[key]

    def _load(self) -> None:
        if self.text is not None:
            return
        if self.part is None:
            raise CannotPatch("the package has no styles part")
        with zipfile.ZipFile(self.source) as archive:
            self.text = text = archive.read(_member(archive, self.part))
        root = _STYLE_SHEET.search(text)
        if root is None or root[1]:
            raise CannotPatch("styles.xml is namespace-prefixed or has no styleSheet")
        start, end = _children_span(text, _NUM_FMTS, b"numFmts") or (0, 0)
        for num_fmt in _NUM_FMT.finditer(text, start, end):  # not those of the dxfs
            attributes = _attributes(num_fmt[1])
            code = html.unescape(attributes.get(b"formatCode", b"").decode("utf-8"))
            self.formats.setdefault(code, int(attributes.get(b"numFmtId", b"0")))
            self.format_count += 1
        self.taken_ids = {int(i) for i in _NUM_FMT_ID.findall(text)}
        span = _children_span(text, _CELL_XFS, b"cellXfs")
        if span is None:
            raise CannotPatch("styles.xml has no cellXfs")
        self.xfs = [_Xf(_attribute_list(xf[1]), xf[2]) for xf in _XF.finditer(text, *span)]

    def _derive(self, base: int, code: str, only_over_general: bool) -> int:
        if base >= len(self.xfs):
            raise CannotPatch(f"cell style {base} is not in styles.xml")
        xf = self.xfs[base]
        current = int(dict(xf.attributes).get(b"numFmtId", b"0"))
        if only_over_general and not self._is_general(current):
            return base
        format_id = self._format_id(code)
        if current == format_id:
            return base
        wanted = _Xf(_set_attributes(xf.attributes, {b"numFmtId": b"%d" % format_id,
                                                    b"applyNumberFormat": b"1"}), xf.inner)
        for index, existing in enumerate(self.xfs):
            if existing.same_as(wanted):
                return index
        self.xfs.append(wanted)
        self.new_xfs.append(wanted)
        return len(self.xfs) - 1

    def _is_general(self, format_id: int) -> bool:
        # LibreOffice declares General as a format of its own
        return format_id == 0 or any(i == format_id and code.lower() == "general"
                                     for code, i in self.formats.items())

    def _format_id(self, code: str) -> int:
        if code in self.formats:
            return self.formats[code]
        builtin = _BUILTIN_FORMATS.get(code)
        if builtin is not None and builtin not in self.formats.values():
            return builtin
        format_id = max([163, *self.taken_ids]) + 1
        self.formats[code] = format_id
        self.taken_ids.add(format_id)
        self.new_formats.append((format_id, code))
        return format_id

    def patched(self) -> bytes:
        """styles.xml with the new formats and cell styles; cellXfs comes after numFmts, so it
        is edited first and the offsets of numFmts still hold."""
        assert self.text is not None
        text = _append_children(self.text, _CELL_XFS, b"cellXfs",
                                b"".join(xf.xml() for xf in self.new_xfs), len(self.xfs))
        if self.new_formats:
            formats = b"".join(b'<numFmt numFmtId="%d" formatCode="%s"/>'
                               % (i, _attribute_text(code)) for i, code in self.new_formats)
            count = self.format_count + len(self.new_formats)
            if _NUM_FMTS.search(text):
                text = _append_children(text, _NUM_FMTS, b"numFmts", formats, count)
            else:  # numFmts is the first child of styleSheet
                root = _STYLE_SHEET.search(text)
                assert root is not None
                text = (text[:root.end()] + b'<numFmts count="%d">' % count + formats
                        + b"</numFmts>" + text[root.end():])
        return text


def _children_span(text: bytes, start_tag: re.Pattern[bytes], name: bytes
                   ) -> tuple[int, int] | None:
    """Where the children of the first element ``name`` are, None if there is none."""
    start = start_tag.search(text)
    if start is None:
        return None
    if start[1]:  # self-closing
        return start.end(), start.end()
    end = text.find(b"</%s>" % name, start.end())
    if end < 0:
        raise CannotPatch(f"styles.xml: {name.decode()} is not closed")
    return start.end(), end


def _append_children(text: bytes, start_tag: re.Pattern[bytes], name: bytes, children: bytes,
                     count: int) -> bytes:
    start = start_tag.search(text)
    assert start is not None
    opening = _with_count(start[0], count)
    if start[1]:  # self-closing: <numFmts count="0"/>
        opening = opening[:-2].rstrip() + b">"
        return text[:start.start()] + opening + children + b"</%s>" % name + text[start.end():]
    close = text.find(b"</%s>" % name, start.end())
    return (text[:start.start()] + opening + text[start.end():close] + children
            + text[close:])


def _with_count(tag: bytes, count: int) -> bytes:
    if _COUNT.search(tag):
        return _COUNT.sub(b' count="%d"' % count, tag, count=1)
    end = -2 if tag.endswith(b"/>") else -1
    return tag[:end] + b' count="%d"' % count + tag[end:]


def _attributes(text: bytes) -> dict[bytes, bytes]:
    return dict(_attribute_list(text))


def _attribute_list(text: bytes) -> list[tuple[bytes, bytes]]:
    return [(m[1], m[2] if m[2] is not None else m[3]) for m in _ATTRIBUTE.finditer(text)]


def _set_attributes(attributes: list[tuple[bytes, bytes]], values: dict[bytes, bytes]
                    ) -> list[tuple[bytes, bytes]]:
    updated = [(name, values.get(name, value)) for name, value in attributes]
    present = {name for name, _ in attributes}
    return updated + [(name, value) for name, value in values.items() if name not in present]


def _attribute_text(text: str) -> bytes:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .encode("utf-8"))


# --- calcChain ---------------------------------------------------------------------------------


def _without_calc_chain(archive: zipfile.ZipFile, book: _Book) -> dict[str, _NewPart]:
    """Content types and workbook relationships with no calcChain: Excel rebuilds it, and a
    stale one makes it repair the file."""
    assert book.calc_chain is not None
    name = re.escape(book.calc_chain.encode("utf-8"))
    override = re.compile(rb'<Override\b[^>]*?\bPartName="/' + name + rb'"[^>]*/>', re.I)
    relationship = re.compile(rb'<Relationship\b[^>]*?\bType="[^"]*/calcChain"[^>]*/>')
    parts = {}
    types = archive.read(_member(archive, _CONTENT_TYPES))
    new_types = override.sub(b"", types)
    if new_types != types:
        parts[_CONTENT_TYPES] = _new_part(new_types, _member(archive, _CONTENT_TYPES))
    elif f"/{book.calc_chain}".encode() in types:
        raise CannotPatch("cannot remove the calcChain content type")
    rels_info = _member(archive, book.relationships_part)
    rels = archive.read(rels_info)
    new_rels = relationship.sub(b"", rels)
    if new_rels == rels:
        raise CannotPatch("cannot remove the calcChain relationship")
    parts[book.relationships_part] = _new_part(new_rels, rels_info)
    return parts


# --- the zip package ---------------------------------------------------------------------------


@dataclass
class _NewPart:
    method: int
    blocks: list[bytes]
    crc: int
    size: int

    @property
    def compressed_size(self) -> int:
        return sum(len(b) for b in self.blocks)


_FINAL_BLOCK = b"\x03\x00"  # an empty last deflate block: ends a run of sync-flushed segments
_MAX_QUEUED = 4  # segments waiting for a compressor, each one chunk of uncompressed XML


def _deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


class _PartWriter:
    """A part compressed as it is written, with the method of the original. Deflated parts are
    made of segments compressed on their own and ending on a byte boundary (as pigz does), so a
    pool of threads can compress them side by side."""

    def __init__(self, method: int, compressors: Executor | None = None) -> None:
        if method not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
            raise CannotPatch(f"compression method {method} of a touched part")
        self.method, self.compressors = method, compressors
        self.crc = self.size = 0
        self.segments: list[bytes | Future[bytes]] = []
        self.queued: deque[Future[bytes]] = deque()

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        if self.method == zipfile.ZIP_STORED:
            self.segments.append(data)
        elif self.compressors is None:
            self.segments.append(_deflated(data))
        else:
            if len(self.queued) >= _MAX_QUEUED:
                self.queued.popleft().result()
            future = self.compressors.submit(_deflated, data)
            self.queued.append(future)
            self.segments.append(future)

    def close(self) -> _NewPart:
        blocks = [s if isinstance(s, bytes) else s.result() for s in self.segments]
        if self.method == zipfile.ZIP_DEFLATED:
            blocks.append(_FINAL_BLOCK)
        return _NewPart(self.method, blocks, self.crc, self.size)


def _new_part(data: bytes, original: zipfile.ZipInfo) -> _NewPart:
    writer = _PartWriter(original.compress_type)
    writer.write(data)
    return writer.close()


_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")
_UTF8_NAME = 0x800


def _write_package(source: Path, archive: zipfile.ZipFile, replaced: dict[str, _NewPart],
                   dropped: set[str], target: Path) -> None:
    """The parts in their original order: replaced ones as given, the others copied still
    compressed, with their CRC and dates. Extra fields (extended timestamps, zip64 sizes) are
    left out: a package whose sizes do not fit in 32 bits is left to openpyxl."""
    directory: list[bytes] = []
    with source.open("rb") as original, target.open("wb") as out:
        for info in archive.infolist():
            if info.filename in dropped:
                continue
            part = replaced.get(info.filename) or _copied(original, info)
            offset = out.tell()
            _check_zip32(offset, part)
            name, flags = _encoded_name(info)
            out.write(_local_header(info, part, name, flags))
            for block in part.blocks:
                out.write(block)
            directory.append(_central_header(info, part, name, flags, offset))
        start = out.tell()
        records = b"".join(directory)
        if len(directory) > 0xFFFF or start + len(records) > _ZIP32_LIMIT:
            raise CannotPatch("the package needs zip64")
        out.write(records)
        out.write(_END_RECORD.pack(0x06054B50, 0, 0, len(directory), len(directory),
                                   len(records), start, len(archive.comment)))
        out.write(archive.comment)


def _copied(original: BinaryIO, info: zipfile.ZipInfo) -> _NewPart:
    if info.flag_bits & 0x1:
        raise CannotPatch(f"{info.filename} is encrypted")
    original.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(original.read(_LOCAL_HEADER.size))
    if header[0] != 0x04034B50:
        raise CannotPatch(f"bad local header for {info.filename}")
    original.seek(header[9] + header[10], io.SEEK_CUR)
    data = original.read(info.compress_size)
    return _NewPart(info.compress_type, [data], info.CRC, info.file_size)


def _check_zip32(offset: int, part: _NewPart) -> None:
    if max(offset, part.size, part.compressed_size) > _ZIP32_LIMIT:
        raise CannotPatch("the package needs zip64")


def _encoded_name(info: zipfile.ZipInfo) -> tuple[bytes, int]:
    if not info.flag_bits & _UTF8_NAME:
        try:
            return info.orig_filename.encode("cp437"), 0
        except UnicodeEncodeError:
            pass
    return info.orig_filename.encode("utf-8"), _UTF8_NAME


def _versions(part: _NewPart, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(made by, needed to extract); no zip64 here, so no version 4.5."""
    needed = {zipfile.ZIP_STORED: 10, zipfile.ZIP_DEFLATED: 20}.get(part.method,
                                                                    info.extract_version)
    return (info.create_system << 8) | info.create_version, needed


def _dos_date_time(info: zipfile.ZipInfo) -> tuple[int, int]:
    year, month, day, hour, minute, second = info.date_time
    year = max(year, 1980)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _local_header(info: zipfile.ZipInfo, part: _NewPart, name: bytes, flags: int) -> bytes:
    time, date = _dos_date_time(info)
    return _LOCAL_HEADER.pack(0x04034B50, _versions(part, info)[1], flags, part.method, time,
                              date, part.crc, part.compressed_size, part.size, len(name),
                              0) + name


def _central_header(info: zipfile.ZipInfo, part: _NewPart, name: bytes, flags: int,
                    offset: int) -> bytes:
    time, date = _dos_date_time(info)
    made_by, needed = _versions(part, info)
    return _CENTRAL_HEADER.pack(0x02014B50, made_by, needed, flags, part.method, time, date,
                                part.crc, part.compressed_size, part.size, len(name), 0,
                                len(info.comment), 0, info.internal_attr, info.external_attr,
                                offset) + name + info.comment
