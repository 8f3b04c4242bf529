"""The streaming writer: what a reader finds in each cell, whatever the text holds."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from addin.workbook.ooxml.sheet_xml import _Column, excel_serial, rows_xml, text_element
from addin.workbook.ooxml.writer import write_package
from addin.workbook.review import layout
from addin.workbook.review.content import SheetContent, WorkbookContent

TRICKY_TEXTS = [
    "=1+1",  # a formula to a careless writer
    "+41 22 000 00 00",
    "Dupont & Fils <SA>",
    "  padded  ",
    "tab\there, bell\x07 gone",
    "_x0041_ stays literal",
    "line one\nline two",
    "Müller – Straße 5 · 12 €",
]


def journal_workbook(rows: list[list[object]]) -> WorkbookContent:
    return WorkbookContent(sheets=[SheetContent(layout.JOURNAL, "en", rows),
                                   SheetContent(layout.CONTROL, "en", [["label", "x", "key"]])])


@pytest.fixture
def written(tmp_path: Path) -> Path:
    at = dt.datetime(2026, 12, 2, 14, 30, 15)
    rows: list[list[object]] = [
        [text, at, "anna", "batch", "REBILL", 3, 7, Decimal("-0.10"), "EUR", None]
        for text in TRICKY_TEXTS
    ]
    rows.append(["B1", at, "anna", "action", None, 1, 1, Decimal("123456789.99"), "CHF", ""])
    path = tmp_path / "journal.xlsx"
    write_package(journal_workbook(rows), path)
    return path


def test_texts_come_back_as_the_same_texts_never_formulas(written: Path) -> None:
    expected = [t.replace("\x07", "") for t in TRICKY_TEXTS]
    calamine = CalamineWorkbook.from_path(str(written)).get_sheet_by_name("Journal").to_python()
    assert [row[0] for row in calamine[1:9]] == expected
    sheet = openpyxl.load_workbook(written)["Journal"]
    assert {sheet.cell(row=r, column=1).data_type for r in range(2, 10)} == {"s"}
    # openpyxl, unlike Excel and calamine, does not decode the _x005F_ escape of a literal
    # "_x0041_": it shows the escaped text.
    by_openpyxl = [sheet.cell(row=r, column=1).value for r in range(2, 10)]
    assert by_openpyxl == [t.replace("_x0041_", "_x005F_x0041_") for t in expected]


def test_numbers_dates_and_their_formats(written: Path) -> None:
    sheet = openpyxl.load_workbook(written)["Journal"]
    last = sheet[10]
    assert [c.value for c in last[:9]] == [
        "B1", dt.datetime(2026, 12, 2, 14, 30, 15), "anna", "action", None, 1, 1,
        pytest.approx(123456789.99), "CHF"]
    assert [c.number_format for c in (last[1], last[5], last[7])] == [
        "DD.MM.YYYY HH:MM:SS", "0", "#,##0.00"]
    assert last[9].value is None  # an empty text writes no cell


def test_amounts_are_written_from_their_exact_decimal_text(written: Path) -> None:
    with zipfile.ZipFile(written) as package:
        xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="H2" s="' in xml and "<v>-0.10</v>" in xml and "<v>123456789.99</v>" in xml
    assert "<f>" not in xml


def test_editable_cells_are_yellow_and_hidden_columns_hidden(written: Path) -> None:
    control = openpyxl.load_workbook(written)["Control"]
    assert control["B2"].fill.fgColor.rgb == "FFFFF4CC"
    assert control["A2"].fill.fill_type is None
    assert control.column_dimensions["C"].hidden
    assert control.freeze_panes == "A2"


@pytest.mark.parametrize(("value", "serial"), [
    (dt.date(1900, 3, 1), "61"), (dt.date(2026, 11, 30), "46356"),
    (dt.datetime(2026, 11, 30, 12, 0), "46356.5"),
])
def test_excel_serial_numbers(value: dt.date, serial: str) -> None:
    assert excel_serial(value) == serial


def test_text_element_escapes_only_what_needs_it() -> None:
    assert text_element("A00012") == "<t>A00012</t>"
    assert text_element("a<b & c>") == "<t>a&lt;b &amp; c&gt;</t>"
    assert text_element(" x") == '<t xml:space="preserve"> x</t>'
    assert text_element("_x000D_") == "<t>_x005F_x000D_</t>"
    assert text_element("\ud800bad\x00") == "<t>bad</t>"


def _reference_rows(columns, rows, first):
    """Cell by cell, the slow and obvious way."""
    return "".join(
        f'<row r="{first + i}">'
        + "".join(c.cell(str(first + i), v) for c, v in zip(columns, row, strict=True))
        + "</row>" for i, row in enumerate(rows))


FAMILIES = {
    "text": st.text(max_size=5)
    | st.sampled_from(["<=", "a&b", "b>a", "\r", " x", "_x0041_", "=", "\x07"]),
    "decimal": st.decimals(min_value=-10**6, max_value=10**6, places=2),
    "int": st.integers(-10**9, 10**9),
    "date": st.dates(dt.date(1950, 1, 1), dt.date(2100, 1, 1)),
    "datetime": st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2100, 1, 1)),
}
ANY_VALUE = st.none() | st.just("") | st.one_of(*FAMILIES.values())
K = layout.Kind
MIXED_SHEET = layout.Sheet("t", "T", "T", "T", (
    layout.Column("a", "A", "A", "A"), layout.Column("b", "B", "B", "B", K.AMOUNT),
    layout.Column("c", "C", "C", "C", K.DATE), layout.Column("d", "D", "D", "D", K.INTEGER),
    layout.Column("e", "E", "E", "E", editable=True),
    layout.Column("f", "F", "F", "F", K.AMOUNT, editable=True)), "shT")


@st.composite
def column_values(draw, count: int) -> list[object]:
    family = draw(st.sampled_from([*FAMILIES, "mixed"]))
    if family == "mixed":
        return draw(st.lists(ANY_VALUE, min_size=count, max_size=count))
    blanks = draw(st.booleans())
    cell = FAMILIES[family] | st.none() | st.just("") if blanks else FAMILIES[family]
    return draw(st.lists(cell, min_size=count, max_size=count))


@given(st.integers(1, 5).flatmap(
    lambda count: st.lists(column_values(count), min_size=6, max_size=6)))
def test_column_by_column_gives_exactly_the_cells_one_by_one(by_column):
    """The fast paths (one type per column, texts escaped whole, blanks among values) write
    the same XML as formatting every cell on its own."""
    columns = [_Column(layout.column_letter(i), c) for i, c in enumerate(MIXED_SHEET.columns)]
    rows = [list(row) for row in zip(*by_column, strict=True)]
    assert rows_xml(columns, rows, 7) == _reference_rows(columns, rows, 7)
