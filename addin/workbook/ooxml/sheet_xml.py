"""One worksheet of a ``WorkbookContent`` as SpreadsheetML, streamed row by row.

Cells are formatted with plain string operations per column, which is what makes writing a
large review fast; texts are inline strings (always texts, never formulas), numbers are
written from their exact decimal text, dates as Excel serial numbers.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from decimal import Decimal
from itertools import chain, compress, repeat
from typing import Any

from addin.workbook.ooxml.styles import HEADER_STYLE, style_index
from addin.workbook.review import layout
from addin.workbook.review.content import SheetContent, Value
from addin.workbook.review.widths import column_widths, line_count, line_room

ROWS_PER_CHUNK = 2000
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
_NEEDS_CARE = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FIRST, _LAST = operator.itemgetter(0), operator.itemgetter(-1)
_MARKUP = re.compile(r"[&<>\r]")
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")  # Excel would read _x0041_ as "A"

_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">')
_FROZEN_HEADER = ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                  '<selection pane="bottomLeft"/>')
# Printed landscape on A4, one page wide (as many high as it takes), with narrow margins and
# gridlines; the footer names the sheet (&A) and the page (&P of &N). The header row repeats on
# every page through the workbook's print titles.
_PRINTING = ('<printOptions gridLines="1"/>'
             '<pageMargins left="0.25" right="0.25" top="0.75" bottom="0.75" header="0.3" '
             'footer="0.3"/>'
             '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
             '<headerFooter><oddFooter>&amp;L&amp;A&amp;R&amp;P / &amp;N</oddFooter>'
             '</headerFooter>')

# A cell holds at most 32 767 characters (UTF-16 code units); Excel repairs a file with a longer
# text. A text of at most half as many characters always fits, whatever they are.
CELL_TEXT_LIMIT = 32_767
_SURELY_FITS = CELL_TEXT_LIMIT // 2


def _units(text: str) -> int:
    """The text's length as Excel counts it: a character beyond U+FFFF counts twice."""
    return len(text.encode("utf-16-le")) // 2


def is_too_long(text: str) -> bool:
    return len(text) > _SURELY_FITS and _units(text) > CELL_TEXT_LIMIT


def cell_text(text: str) -> str:
    """``text`` as a cell can hold it: a text too long is cut, and says so at its end
    (``… [cut: 40 000 characters in all]``)."""
    if not is_too_long(text):
        return text
    marker = f"… [cut: {len(text):,} characters in all]".replace(",", " ")
    room = CELL_TEXT_LIMIT - _units(marker)
    head = text[:room]
    while (excess := _units(head) - room) > 0:  # characters beyond U+FFFF took two units
        head = head[:-excess]
    return head + marker


def text_element(text: str) -> str:
    """``<t>`` of an inline string: escaped, characters XML cannot hold dropped, a text longer
    than a cell holds cut (``cell_text``)."""
    if not text:
        return "<t></t>"
    if len(text) > _SURELY_FITS:
        text = cell_text(text)
    if (_NEEDS_CARE.search(text) is None and "_x" not in text and not text[0].isspace()
            and not text[-1].isspace()):
        return f"<t>{text}</t>"
    text = _LOOKS_ESCAPED.sub(r"_x005F_\1", _NOT_XML.sub("", text))
    text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))
    if text[:1].isspace() or text[-1:].isspace():
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


def escape_attribute(text: str) -> str:
    return (_NOT_XML.sub("", text).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def excel_serial(value: dt.date) -> str:
    """Days since 1899-12-30 (Excel's 1900 system), with the time as a fraction of a day."""
    days = value.toordinal() - _EXCEL_EPOCH
    if isinstance(value, dt.datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return repr(days + seconds / 86400)
    return str(days)


def sheet_last_row(content: SheetContent) -> int:
    return len(content.rows) + (1 if content.with_header else 0)


class CutTexts:
    """How many texts the sheets written so far had to cut to fit a cell."""

    def __init__(self) -> None:
        self.count = 0


def sheet_chunks(content: SheetContent, *, selected: bool = False,
                 cut: CutTexts | None = None) -> Iterator[str]:
    """The worksheet part, in pieces of a few thousand rows; the texts it cuts are added to
    ``cut``."""
    widths = column_widths(content)
    yield _prelude(content, widths, selected)
    first = 1
    if content.with_header:
        header = "".join(f'<c r="{layout.column_letter(i)}1" s="{HEADER_STYLE}" t="inlineStr">'
                         f"<is>{text_element(h)}</is></c>" for i, h in enumerate(content.header))
        yield f'<row r="1" ht="32.25" customHeight="1">{header}</row>'
        first = 2
    yield from _data_rows(content, widths, first, cut or CutTexts())
    yield "</sheetData>"
    if content.with_header and content.sheet.filtered:
        yield f'<autoFilter ref="{filter_range(content)}"/>'
    yield _validations(content)
    yield f"{_PRINTING}</worksheet>"


def _prelude(content: SheetContent, widths: list[float], selected: bool) -> str:
    """The worksheet up to its rows: properties, used range, view, columns."""
    sheet = content.sheet
    last_col = layout.column_letter(len(sheet.columns) - 1)
    last_row = max(sheet_last_row(content), 1)
    tab = ' tabSelected="1"' if selected else ""
    return (f'{_HEAD}<sheetPr codeName="{sheet.code_name}"><pageSetUpPr fitToPage="1"/>'
            "</sheetPr>"
            f'<dimension ref="A1:{last_col}{last_row}"/>'
            f'<sheetViews><sheetView{tab} workbookViewId="0">'
            f'{_FROZEN_HEADER if content.with_header else ""}</sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/>{_cols(content, widths)}<sheetData>')


def _data_rows(content: SheetContent, widths: list[float], first: int, cut: CutTexts
               ) -> Iterator[str]:
    """The rows below the header, the first numbered ``first``, a chunk at a time."""
    sheet = content.sheet
    columns = [_Column(layout.column_letter(i), c, line_room(w) if c.wrap else None)
               for i, (c, w) in enumerate(zip(sheet.columns, widths, strict=True))]
    if content.input_rows is None:
        rows = content.rows
        for start in range(0, len(rows), ROWS_PER_CHUNK):
            yield rows_xml(columns, rows[start:start + ROWS_PER_CHUNK], first + start)
    else:
        columns += [_Column(layout.column_letter(i), replace(c, editable=False),
                            columns[i].wrap_at) for i, c in enumerate(sheet.columns)]
        yield _rows_with_inputs(columns, content.rows, first, content.input_rows)
    cut.count += sum(column.cut for column in columns)


def _rows_with_inputs(columns: list[_Column], rows: list[list[Value]], first: int,
                      inputs: frozenset[int]) -> str:
    """Rows of a small sheet where only some rows are inputs: ``columns`` holds the input
    rows' columns, then the same columns none of whose cells is editable."""
    width = len(columns) // 2
    return "".join(rows_xml(columns[:width] if i in inputs else columns[width:], [row], first + i)
                   for i, row in enumerate(rows))


def filter_range(content: SheetContent) -> str:
    last_col = layout.column_letter(len(content.sheet.columns) - 1)
    return f"A1:{last_col}{max(sheet_last_row(content), 1)}"


def _cols(content: SheetContent, widths: list[float]) -> str:
    """Each column's width; a column of long texts wraps them, in the cells inserted later
    too (a commit's stamps, what the accountant types)."""
    hidden, wrap = ' hidden="1"', f' style="{style_index("General", False, wrap=True)}"'
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{_excel_width(width)}"'
        f'{wrap if c.wrap else ""}{hidden if c.hidden else ""} customWidth="1"/>'
        for i, (c, width) in enumerate(zip(content.sheet.columns, widths, strict=True),
                                       start=1))
    return f"<cols>{cols}</cols>"


def _excel_width(characters: float) -> float:
    """Excel stores a column width with 5 pixels of padding, in 1/256 of a character."""
    return int((characters * 7 + 5) / 7 * 256) / 256


def _validations(content: SheetContent) -> str:
    last_row = max(sheet_last_row(content) - 1, content.reserved_rows)
    if not content.validations or last_row < 1:
        return ""
    items = []
    for validation in content.validations:
        letter = layout.column_letter(content.sheet.index(validation.column))
        blank = ' allowBlank="1"' if validation.allow_blank else ""
        items.append(f'<dataValidation type="list"{blank} showInputMessage="1" '
                     f'showErrorMessage="1" sqref="{letter}2:{letter}{last_row + 1}">'
                     f"<formula1>{escape_attribute(validation.formula)}</formula1>"
                     f"</dataValidation>")
    return f'<dataValidations count="{len(items)}">{"".join(items)}</dataValidations>'


def rows_xml(columns: list[_Column], rows: list[list[Value]], first: int) -> str:
    """The ``<row>`` elements of ``rows``, the first numbered ``first``.

    Built column by column as a flat sequence of string pieces joined once: a column whose
    values share one type (most of them) is converted by C-level ``map``s, without a Python
    call per cell, and a text column is checked whole for characters that need escaping.
    Mixed columns take the per-cell way.
    """
    width = len(columns)
    if any(len(row) != width for row in rows):
        raise ValueError(f"a row does not have the sheet's {width} columns")
    count = len(rows)
    numbers = list(map(str, range(first, first + count)))
    by_column = list(zip(*rows, strict=True)) or [()] * width
    parts: list[Iterable[str]] = [repeat('<row r="', count), numbers,
                                  _row_tag_ends(columns, by_column, count)]
    for column, values in zip(columns, by_column, strict=True):
        parts += column.pieces(values, numbers)
    parts.append(repeat("</row>", count))
    return "".join(chain.from_iterable(zip(*parts, strict=True)))


LINE_HEIGHT = 15  # points, a line of the default font
MOST_LINES = 27  # a row is at most 409.5 points high


def _row_tag_ends(columns: list[_Column], by_column: list[tuple[Value, ...]], count: int
                  ) -> Iterable[str]:
    """The end of each ``<row`` tag: with the height of the most lines a wrapped text of the
    row takes (a row of one line keeps the default height). The height is not marked custom:
    Excel fits it again when a cell is edited."""
    lines: list[int] | None = None
    for column, values in zip(columns, by_column, strict=True):
        if column.wrap_at is not None:
            wrapped = _lines_of(values, column.wrap_at)
            if wrapped is not None:
                lines = wrapped if lines is None else list(map(max, lines, wrapped))
    if lines is None:
        return repeat('">', count)
    return map(_ROW_TAG_ENDS.__getitem__, map(min, lines, repeat(MOST_LINES)))


# The end of a row's start tag by its lines (0 and 1: the default height).
_ROW_TAG_ENDS = ['">', '">', *(f'" ht="{n * LINE_HEIGHT}">' for n in range(2, MOST_LINES + 1))]


def _lines_of(values: tuple[Value, ...], room: int) -> list[int] | None:
    """The lines each value takes in a wrapped column, None when each fits on one."""
    try:
        texts: Iterable[str] = values  # type: ignore[assignment]
        if max(map(len, texts), default=0) <= room:  # type: ignore[arg-type]
            return None
    except TypeError:  # blanks, numbers among the texts
        texts = [v if type(v) is str else "" for v in values]
        if max(map(len, texts), default=0) <= room:
            return None
    texts = list(texts)
    lines = [1] * len(texts)
    for row in compress(range(len(texts)), map(room.__lt__, map(len, texts))):
        lines[row] = line_count(texts[row], room)  # only the texts wider than a line
    return lines


def _escaped_column(texts: tuple[str, ...]) -> list[str] | tuple[str, ...] | None:
    """The texts of a column escaped for XML in one go, or None when one of them needs more
    than replacing &, <, > and CR (a character XML cannot hold, an edge space, an _x, a text
    too long for a cell)."""
    joined = "".join(texts)
    if (_NOT_XML.search(joined) is not None or "_x" in joined
            or (len(joined) > _SURELY_FITS and max(map(len, texts)) > _SURELY_FITS)
            or any(map(str.isspace, map(_FIRST, texts)))
            or any(map(str.isspace, map(_LAST, texts)))):
        return None
    if _MARKUP.search(joined) is None:
        return texts
    # NUL cannot be in any of the texts (checked above): it separates them safely.
    escaped = "\0".join(texts).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\r", "&#13;").split("\0")


def _too_long_count(texts: tuple[str, ...]) -> int:
    if max(map(len, texts), default=0) <= _SURELY_FITS:
        return 0
    return sum(map(is_too_long, texts))


Texts = Callable[[Iterable[Any]], Iterable[str]]


def _date_serials(days: Iterable[dt.date]) -> Iterable[str]:
    return map(str, map(operator.sub, map(dt.date.toordinal, days), repeat(_EXCEL_EPOCH)))


def _numbers(values: Iterable[object]) -> Iterable[str]:
    return map(str, values)  # exact for Decimal and int


def _floats(values: Iterable[float]) -> Iterable[str]:
    return map(repr, values)


def _datetimes(values: Iterable[dt.datetime]) -> Iterable[str]:
    return map(excel_serial, values)


def _texts(values: Iterable[str]) -> Iterable[str]:
    return map(text_element, values)


def _any_texts(values: Iterable[object]) -> Iterable[str]:
    return map(text_element, map(str, values))


class _Column:
    """How one column's values become cells: ``<c r="`` letter, row number, then a head,
    the value's text and a tail that depend on the value's type and the column's style."""

    __slots__ = ("blank", "cut", "kinds", "open", "plain", "wrap_at")

    def __init__(self, letter: str, column: layout.Column, wrap_at: int | None = None
                 ) -> None:
        self.cut = 0  # texts cut to fit a cell
        self.wrap_at = wrap_at  # characters a line holds, in a column that wraps
        editable = column.editable
        fixed = layout.NUMBER_FORMATS.get(column.kind)

        def number(style: int) -> str:
            return f'"{_attribute(style)}><v>'

        text_style = style_index("General", editable, column.wrap)
        text = f'"{_attribute(text_style)} t="inlineStr"><is>'
        self.open = f'<c r="{letter}'
        self.blank = f'"{_attribute(text_style)}/>' if editable else ""
        self.plain = (text + "<t>", "</t></is></c>")  # texts that need no escaping
        self.kinds: dict[type, tuple[str, str, Texts]] = {
            str: (text, "</is></c>", _texts),
            Decimal: (number(style_index(fixed or layout.AMOUNT, editable)), "</v></c>",
                      _numbers),
            int: (number(style_index(fixed or "General", editable)), "</v></c>", _numbers),
            float: (number(style_index(fixed or "General", editable)), "</v></c>", _floats),
            dt.date: (number(style_index(fixed or layout.DATE, editable)), "</v></c>",
                      _date_serials),
            dt.datetime: (number(style_index(fixed or layout.DATETIME, editable)), "</v></c>",
                          _datetimes),
            object: (text, "</is></c>", _any_texts),  # anything else is shown as its text
        }

    def pieces(self, values: tuple[Value, ...], numbers: list[str]) -> list[Iterable[str]]:
        """This column's pieces of each row, as parallel sequences."""
        count = len(values)
        kinds = set(map(type, values))
        if "" in values:
            values = tuple(None if v == "" else v for v in values)
            kinds = set(map(type, values))
        if len(kinds) == 2 and type(None) in kinds:
            return [self._with_blanks(values, numbers)]
        if len(kinds) != 1:
            return [list(map(self.cell, numbers, values))]
        kind = kinds.pop()
        if kind is type(None):
            if not self.blank:
                return []
            return [repeat(self.open, count), numbers, repeat(self.blank, count)]
        escaped = _escaped_column(values) if kind is str else None  # type: ignore[arg-type]
        if escaped is not None:
            head, tail = self.plain
            texts: Iterable[str] = escaped
        else:
            head, tail, convert = self.kinds.get(kind) or self.kinds[object]
            texts = convert(values)
            if kind is str:
                self.cut += _too_long_count(values)  # type: ignore[arg-type]
        return [repeat(self.open, count), numbers, repeat(head, count), texts,
                repeat(tail, count)]

    def _with_blanks(self, values: tuple[Value, ...], numbers: list[str]) -> list[str]:
        """Whole cells of a column of one type with blanks: the filled ones the fast way."""
        filled = [i for i, v in enumerate(values) if v is not None]
        pieces = self.pieces(tuple(values[i] for i in filled), [numbers[i] for i in filled])
        cells = [f"{self.open}{n}{self.blank}" if self.blank else "" for n in numbers]
        for index, cell in zip(filled, map("".join, zip(*pieces, strict=True)), strict=True):
            cells[index] = cell
        return cells

    def cell(self, number: str, value: Value) -> str:
        if value is None or value == "":
            return f"{self.open}{number}{self.blank}" if self.blank else ""
        head, tail, convert = self.kinds.get(type(value)) or self.kinds[object]
        if type(value) is str and is_too_long(value):
            self.cut += 1
        return f"{self.open}{number}{head}{''.join(convert((value,)))}{tail}"


def _attribute(style: int) -> str:
    return f' s="{style}"' if style else ""
