"""One worksheet of a ``WorkbookContent`` as SpreadsheetML, streamed row by row.

Cells are formatted with plain string operations per column, which is what makes writing a
large review fast; texts are inline strings (always texts, never formulas), numbers are
written from their exact decimal text, dates as Excel serial numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal

from addin.workbook import layout
from addin.workbook.content import SheetContent, Value
from addin.workbook.styles import DATETIME, HEADER_STYLE, style_index

ROWS_PER_CHUNK = 2000
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()
_NEEDS_CARE = re.compile(
    r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|^\s|\s$"
)
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")  # Excel would read _x0041_ as "A"

_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">')
_FROZEN_HEADER = ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                  '<selection pane="bottomLeft"/>')
_MARGINS = ('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/>')


def text_element(text: str) -> str:
    """``<t>`` of an inline string: escaped, characters XML cannot hold dropped."""
    if _NEEDS_CARE.search(text) is None:
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


def sheet_chunks(content: SheetContent, *, selected: bool = False) -> Iterator[str]:
    """The worksheet part, in pieces of a few thousand rows."""
    sheet = content.sheet
    last_col = layout.column_letter(len(sheet.columns) - 1)
    last_row = max(sheet_last_row(content), 1)
    tab = ' tabSelected="1"' if selected else ""
    yield (f'{_HEAD}<sheetPr codeName="{sheet.code_name}"/>'
           f'<dimension ref="A1:{last_col}{last_row}"/>'
           f'<sheetViews><sheetView{tab} workbookViewId="0">'
           f'{_FROZEN_HEADER if content.with_header else ""}</sheetView></sheetViews>'
           f'<sheetFormatPr defaultRowHeight="15"/>{_cols(sheet)}<sheetData>')
    first = 1
    if content.with_header:
        header = "".join(f'<c r="{layout.column_letter(i)}1" s="{HEADER_STYLE}" t="inlineStr">'
                         f"<is>{text_element(h)}</is></c>" for i, h in enumerate(content.header))
        yield f'<row r="1" ht="32.25" customHeight="1">{header}</row>'
        first = 2
    write_row = _row_writer(sheet)
    rows = content.rows
    for start in range(0, len(rows), ROWS_PER_CHUNK):
        block = rows[start:start + ROWS_PER_CHUNK]
        yield "".join(write_row(first + start + offset, row) for offset, row in enumerate(block))
    yield "</sheetData>"
    if content.with_header and sheet.filtered:
        yield f'<autoFilter ref="{filter_range(content)}"/>'
    yield _validations(content)
    yield f"{_MARGINS}</worksheet>"


def filter_range(content: SheetContent) -> str:
    last_col = layout.column_letter(len(content.sheet.columns) - 1)
    return f"A1:{last_col}{max(sheet_last_row(content), 1)}"


def _cols(sheet: layout.Sheet) -> str:
    hidden = ' hidden="1"'
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{_excel_width(c.width)}"'
        f'{hidden if c.hidden else ""} customWidth="1"/>'
        for i, c in enumerate(sheet.columns, start=1))
    return f"<cols>{cols}</cols>"


def _excel_width(characters: int) -> float:
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


RowWriter = Callable[[int, list[Value]], str]


def _row_writer(sheet: layout.Sheet) -> RowWriter:
    """A function writing one row of ``sheet``: styles are looked up once per column."""
    columns = [_ColumnStyles(layout.column_letter(i), c) for i, c in enumerate(sheet.columns)]

    def write_row(number: int, values: list[Value]) -> str:
        n = str(number)
        cells = []
        for column, value in zip(columns, values, strict=True):
            if value is None or value == "":
                if column.blank:
                    cells.append(f'<c r="{column.letter}{n}"{column.blank}/>')
                continue
            kind = type(value)
            if kind is str:
                cells.append(f'<c r="{column.letter}{n}"{column.text} t="inlineStr">'
                             f"<is>{text_element(value)}</is></c>")  # type: ignore[arg-type]
            elif kind is Decimal:
                cells.append(f'<c r="{column.letter}{n}"{column.decimal}><v>{value}</v></c>')
            elif kind is int or kind is float:
                cells.append(f'<c r="{column.letter}{n}"{column.number}><v>{value!r}</v></c>')
            elif kind is dt.datetime:
                cells.append(f'<c r="{column.letter}{n}"{column.datetime}>'
                             f"<v>{excel_serial(value)}</v></c>")  # type: ignore[arg-type]
            elif kind is dt.date:
                cells.append(f'<c r="{column.letter}{n}"{column.date}>'
                             f"<v>{excel_serial(value)}</v></c>")  # type: ignore[arg-type]
            else:
                cells.append(f'<c r="{column.letter}{n}"{column.text} t="inlineStr">'
                             f"<is>{text_element(str(value))}</is></c>")
        return f'<row r="{n}">{"".join(cells)}</row>'

    return write_row


class _ColumnStyles:
    """The ``s`` attribute of each kind of value a column may hold."""

    __slots__ = ("blank", "date", "datetime", "decimal", "letter", "number", "text")

    def __init__(self, letter: str, column: layout.Column) -> None:
        editable = column.editable
        fixed = _FIXED_FORMATS.get(column.kind)
        self.letter = letter
        self.text = _attribute(style_index("General", editable))
        self.blank = self.text if editable else ""
        self.decimal = _attribute(style_index(fixed or layout.AMOUNT, editable))
        self.number = _attribute(style_index(fixed or "General", editable))
        self.date = _attribute(style_index(fixed or layout.DATE, editable))
        self.datetime = _attribute(style_index(fixed or DATETIME, editable))


_FIXED_FORMATS = {
    layout.Kind.AMOUNT: layout.AMOUNT,
    layout.Kind.DATE: layout.DATE,
    layout.Kind.INTEGER: layout.INTEGER,
    layout.Kind.DATETIME: DATETIME,
}


def _attribute(style: int) -> str:
    return f' s="{style}"' if style else ""
