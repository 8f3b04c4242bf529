"""Write a ``WorkbookContent`` to an .xlsx/.xlsm file with openpyxl (streaming mode)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from addin.workbook import layout
from addin.workbook.content import SheetContent, Value, WorkbookContent

_FORMATS = {
    layout.Kind.AMOUNT: layout.AMOUNT,
    layout.Kind.DATE: layout.DATE,
    layout.Kind.INTEGER: layout.INTEGER,
    layout.Kind.DATETIME: "DD.MM.YYYY HH:MM:SS",
    layout.Kind.TEXT: layout.TEXT,
}
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_EDITABLE_FILL = PatternFill("solid", fgColor="FFF4CC")


def write_workbook(content: WorkbookContent, path: Path) -> None:
    """Write every sheet in one pass; the caller decides where (a temp file, then a rename)."""
    book = Workbook(write_only=True)
    book.code_name = "ThisWorkbook"
    for sheet_content in content.sheets:
        _write_sheet(book, sheet_content)
    for name, reference in content.names.items():
        book.defined_names[name] = DefinedName(name, attr_text=reference)
    book.save(path)


def _write_sheet(book: Workbook, content: SheetContent) -> None:
    sheet = content.sheet
    ws = book.create_sheet(content.title)
    ws.sheet_properties.codeName = sheet.code_name
    if not sheet.visible:
        ws.sheet_state = "hidden"
    for index, column in enumerate(sheet.columns):
        dimension = ws.column_dimensions[layout.column_letter(index)]
        dimension.width = column.width
        dimension.hidden = column.hidden
    last_row = len(content.rows) + (1 if content.with_header else 0)
    last_col = layout.column_letter(len(sheet.columns) - 1)
    if content.with_header:
        ws.freeze_panes = "A2"
        ws.row_dimensions[1].height = 32  # two lines of header, wrapped
        if sheet.filtered:
            ws.auto_filter.ref = f"A1:{last_col}{max(last_row, 1)}"
        _add_validations(ws, content, max(last_row, content.reserved_rows + 1))
        ws.append([_header_cell(ws, text) for text in content.header])
    kinds = [c.kind for c in sheet.columns]
    editable = [c.editable for c in sheet.columns]
    for row in content.rows:
        ws.append([_cell(ws, v, k, e) for v, k, e in zip(row, kinds, editable, strict=True)])


def _add_validations(ws: object, content: SheetContent, last_row: int) -> None:
    if not content.validations or last_row < 2:
        return
    for validation in content.validations:
        letter = layout.column_letter(content.sheet.index(validation.column))
        rule = DataValidation(
            type="list",
            formula1=validation.formula,
            allow_blank=validation.allow_blank,
            showErrorMessage=True,
        )
        rule.add(f"{letter}2:{letter}{last_row}")
        ws.data_validations.append(rule)  # type: ignore[attr-defined]


def _header_cell(ws: object, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=text)
    cell.font = _HEADER_FONT
    cell.fill = _HEADER_FILL
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def _cell(ws: object, value: Value, kind: layout.Kind, editable: bool) -> object:
    if value is None and not editable:
        return None
    cell = WriteOnlyCell(ws, value=_plain(value))
    if isinstance(value, str):
        cell.data_type = "s"  # a text from the source is never a formula, whatever it starts with
    if value is not None and not isinstance(value, str):
        cell.number_format = _FORMATS[kind] if kind is not layout.Kind.TEXT else _by_type(value)
    if editable:
        cell.fill = _EDITABLE_FILL
    return cell


def _by_type(value: Value) -> str:
    if isinstance(value, dt.datetime):
        return _FORMATS[layout.Kind.DATETIME]
    if isinstance(value, dt.date):
        return layout.DATE
    if isinstance(value, Decimal):
        return layout.AMOUNT
    return "General"


def _plain(value: Value) -> object:
    if isinstance(value, Decimal | int | str | dt.date) or value is None:
        return value
    return str(value)
