"""Write a ``WorkbookContent`` with XlsxWriter in constant-memory mode: the fastest writer,
row by row, each sheet in turn. Texts are always written as texts (never formulas, numbers
or links), whatever they start with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from addin.workbook import layout
from addin.workbook.content import SheetContent, Value, WorkbookContent

_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
            "strings_to_urls": False}
_FORMATS = {
    layout.Kind.AMOUNT: layout.AMOUNT,
    layout.Kind.DATE: layout.DATE,
    layout.Kind.INTEGER: layout.INTEGER,
    layout.Kind.DATETIME: "DD.MM.YYYY HH:MM:SS",
}


class _Styles:
    """One format object per (number format, editable) pair, as XlsxWriter wants them."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.cache: dict[tuple[str, bool], Any] = {}
        self.header = book.add_format({"bold": True, "bg_color": "#DDE4EE", "text_wrap": True,
                                       "valign": "top"})

    def get(self, number_format: str, editable: bool) -> Any:
        key = (number_format, editable)
        if key not in self.cache:
            spec: dict[str, object] = {"num_format": number_format}
            if editable:
                spec["bg_color"] = "#FFF4CC"
            self.cache[key] = self.book.add_format(spec)
        return self.cache[key]


def write_workbook(content: WorkbookContent, path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), _OPTIONS)
    book.set_vba_name("ThisWorkbook")
    styles = _Styles(book)
    for sheet_content in content.sheets:
        _write_sheet(book, styles, sheet_content)
    for name, reference in content.names.items():
        book.define_name(name, "=" + reference)
    book.close()


def _write_sheet(book: Any, styles: _Styles, content: SheetContent) -> None:
    sheet = content.sheet
    ws = book.add_worksheet(content.title)
    ws.set_vba_name(sheet.code_name)
    if not sheet.visible:
        ws.hide()
    for index, column in enumerate(sheet.columns):
        ws.set_column(index, index, column.width, None, {"hidden": column.hidden})
    first = 0
    last_col = len(sheet.columns) - 1
    if content.with_header:
        ws.freeze_panes(1, 0)
        ws.set_row(0, 32)
        last_row = len(content.rows)
        if sheet.filtered:
            ws.autofilter(0, 0, max(last_row, 0), last_col)
        _validations(ws, content, max(last_row, content.reserved_rows))
        ws.write_row(0, 0, content.header, styles.header)
        first = 1
    columns = [(c.kind, c.editable) for c in sheet.columns]
    for offset, row in enumerate(content.rows):
        for col, (value, (kind, editable)) in enumerate(zip(row, columns, strict=True)):
            _write(ws, styles, first + offset, col, value, kind, editable)


def _validations(ws: Any, content: SheetContent, last_row: int) -> None:
    if last_row < 1:
        return
    for validation in content.validations:
        col = content.sheet.index(validation.column)
        ws.data_validation(1, col, last_row, col, {
            "validate": "list", "source": "=" + validation.formula,
            "ignore_blank": validation.allow_blank})


def _write(ws: Any, styles: _Styles, row: int, col: int, value: Value, kind: layout.Kind,
           editable: bool) -> None:
    if value is None or value == "":
        if editable:
            ws.write_blank(row, col, None, styles.get("General", True))
        return
    if isinstance(value, str):
        if editable:
            ws.write_string(row, col, value, styles.get("General", True))
        else:
            ws.write_string(row, col, value)
    elif isinstance(value, dt.datetime | dt.date):
        fmt = _FORMATS.get(kind) or (_FORMATS[layout.Kind.DATETIME]
                                     if isinstance(value, dt.datetime) else layout.DATE)
        ws.write_datetime(row, col, value, styles.get(fmt, editable))
    elif isinstance(value, Decimal | int | float):
        fmt = _FORMATS.get(kind) or (layout.AMOUNT if isinstance(value, Decimal) else "General")
        ws.write_number(row, col, float(value), styles.get(fmt, editable))
    else:
        ws.write_string(row, col, str(value))
