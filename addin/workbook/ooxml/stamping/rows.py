"""Rows and cells of a sheet patched: stamped cells replaced or inserted in column order,
rows without stamps copied as slices, runs of rows stamped alike written in one pass."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import chain, repeat

from addin.workbook.ooxml.sheet_xml import LINE_HEIGHT, MOST_LINES, excel_serial, text_element
from addin.workbook.ooxml.stamping.package import CannotPatch, xml_int
from addin.workbook.ooxml.stamping.styles import Styles, xml_attributes
from addin.workbook.review import layout
from addin.workbook.review.content import Value
from addin.workbook.review.widths import line_count

_MIN_RUN = 8  # rows from which a run is tried in one pass
_SLASH = ord("/")

_ROW_WITHOUT_REF = re.compile(rb'<row(?=[\s/>])(?! r=")')
_CELL_WITHOUT_REF = re.compile(rb'<c(?=[\s/>])(?! r=")')
_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]+)')
_SPANS = re.compile(rb' spans="[^"]*"')
_STYLE = re.compile(rb'\ss="(\d+)"')
_CUSTOM_FORMAT = re.compile(rb'\scustomFormat="(?:1|true)"')
_FORMULA_TAG = re.compile(rb"<f(?:\s[^>]*)?/?>")
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
_COL = re.compile(rb"<col\b([^>]*?)/?>")
_HEIGHT = re.compile(rb'\sht="([^"]*)"')


RowCells = list[tuple[int, Value]]  # (0-based column, value), in column order


@dataclass
class Run:
    """Consecutive rows that get the same cells."""

    first: int
    last: int
    cells: RowCells

def _number_format(value: Value, kind: layout.Kind | None) -> tuple[str | None, bool]:
    """(the number format a cell needs, whether it replaces the style's own format)."""
    if value is None or isinstance(value, str):
        return None, False
    if kind is not None:
        return layout.NUMBER_FORMATS.get(kind) or _date_format(value) or "General", True
    return _date_format(value), False  # a date written over General would show as a number

def _date_format(value: Value) -> str | None:
    if isinstance(value, dt.datetime):
        return layout.DATETIME
    if isinstance(value, dt.date):
        return layout.DATE
    return None

def row_end_at(data: bytes, start: int) -> int:
    """Where the row element starting at ``start`` ends, -1 if ``data`` stops inside it."""
    tag_end = data.find(b">", start)
    if tag_end < 0:
        return -1
    if data[tag_end - 1] == _SLASH:
        return tag_end + 1
    close = data.find(b"</row>", tag_end)
    return close + 6 if close >= 0 else -1

def row_number_at(data: bytes, at: int) -> int:
    match = _ROW_NUMBER.match(data, at)
    if match is None:
        raise CannotPatch("a row has no r attribute")
    return int(match[1])


# --- rows and cells ----------------------------------------------------------------------------


def column_widths(prelude: bytes) -> dict[int, float]:
    """The width each <col> range gives its columns (0-based), in characters."""
    widths: dict[int, float] = {}
    for col in _COL.finditer(prelude):
        attributes = xml_attributes(col[1])
        if b"width" in attributes and b"min" in attributes:
            first = xml_int(attributes[b"min"], "a column range's min") - 1
            last = xml_int(attributes.get(b"max", attributes[b"min"]), "a column range's max")
            try:
                width = float(attributes[b"width"])
            except ValueError as exc:
                raise CannotPatch(f"a column width is not a number: {exc}") from exc
            widths.update(dict.fromkeys(range(first, min(last, first + 16_384)), width))
    return widths


class ColumnStyles:
    """The style each <col> range gives its empty cells: a cell inserted there takes it."""

    def __init__(self, prelude: bytes) -> None:
        self.ranges: list[tuple[int, int, int]] = []
        for col in _COL.finditer(prelude):
            attributes = xml_attributes(col[1])
            if b"style" in attributes and b"min" in attributes:
                first = xml_int(attributes[b"min"], "a column range's min") - 1
                last = xml_int(attributes.get(b"max", attributes[b"min"]),
                               "a column range's max") - 1
                self.ranges.append((first, last, xml_int(attributes[b"style"],
                                                         "a column range's style")))
        self.by_column: dict[int, int | None] = {}

    def get(self, column: int) -> int | None:
        if column not in self.by_column:
            self.by_column[column] = next(
                (s for first, last, s in self.ranges if first <= column <= last), None)
        return self.by_column[column]


class RowPatcher:
    """Writes the cells of each run of rows into chunks of whole rows, in row order.

    A run whose rows have the regular shape of an extraction (none of the written cells there
    yet, each row holding a cell in the column right after them) gets its cells inserted in
    one pass over its rows' XML; any other row is patched on its own."""

    def __init__(self, runs: list[Run], cells: CellXml, column_styles: ColumnStyles,
                 width: int, wrapped: dict[int, int] | None = None) -> None:
        self.runs = runs
        self.wrapped = wrapped or {}  # column -> characters a line holds, where texts wrap
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
        if start < 0 or not self._cells_have_refs(chunk) or self._lines(cells) > 1:
            return None  # (a row that grows gets its height one by one)
        if last + 1 == limit:  # the chunk ends with the row before ``limit``
            end = len(chunk)
        else:
            last_start = chunk.find(b'<row r="%d"' % last, start)
            end = row_end_at(chunk, last_start) if last_start >= 0 else -1
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
        if empty or b" spans=" in tag:
            tag = _open_row_tag(tag)
        pieces.append(_with_height(tag, self._lines(cells)))
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
        if last < 0 or column_index(chunk[last + 6:last + 9]) < column:
            return end
        for cell in _CELL_COLUMN.finditer(chunk, start, end):
            if column_index(cell[1]) > column:
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
        tag = _with_height(b'<row r="%d">' % number, self._lines(cells))
        return tag + b"".join(written) + b"</row>"

    def _lines(self, cells: RowCells) -> int:
        """The most lines a wrapped text of ``cells`` takes."""
        return max((line_count(value, self.wrapped[column]) for column, value in cells
                    if column in self.wrapped and isinstance(value, str)), default=1)


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
    if last < 0 or row_number_at(chunk, last) < number:
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


def _with_height(tag: bytes, lines: int) -> bytes:
    """A row's start tag, high enough for ``lines`` lines (never lower than it was)."""
    if lines <= 1:
        return tag
    height = min(lines, MOST_LINES) * LINE_HEIGHT
    current = _HEIGHT.search(tag)
    if current is None:
        return tag[:-1] + b' ht="%d">' % height
    try:
        if float(current[1]) >= height:
            return tag
    except ValueError:
        pass
    return tag[:current.start(1)] + b"%d" % height + tag[current.end(1):]


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


def column_index(ref: bytes) -> int:
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


def written_extent(runs: list[Run]) -> _Extent | None:
    """The range the written values cover (emptied cells do not grow it)."""
    written = [run for run in runs if any(value is not None for _, value in run.cells)]
    if not written:
        return None
    columns = {column for run in written for column, value in run.cells if value is not None}
    return _Extent(min(run.first for run in written), min(columns),
                   max(run.last for run in written), max(columns))


def with_dimension(prelude: bytes, written: _Extent | None) -> bytes:
    """The <dimension> grown to the written cells (Excel reads it as the used range)."""
    match = _DIMENSION.search(prelude)
    if written is None or match is None:
        return prelude
    first = (int(match[2]), column_index(match[1]))
    last = (int(match[4]), column_index(match[3])) if match[3] else first
    current = _Extent(first[0], first[1], last[0], last[1])
    grown = current.union(written)
    if grown == current:
        return prelude
    return prelude[:match.start(1)] + grown.ref + prelude[match.end(0) - 1:]


class CellXml:
    """The XML of written cells; for a text, all but the row number is built once."""

    def __init__(self, styles: Styles, kinds: dict[int, layout.Kind]) -> None:
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
        if not isinstance(value, str):  # 1 == True, Decimal("1.0") == Decimal("1.00"): no cache
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
        return s + b' t="inlineStr"><is>' + text_element(str(value)).encode("utf-8") + b"</is></c>"
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
    if isinstance(value, dt.date):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            raise ValueError(f"cannot write a datetime with a time zone: {value}")
        return excel_serial(value).encode("ascii")
    return None
