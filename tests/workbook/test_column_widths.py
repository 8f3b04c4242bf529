"""Columns as wide as what they show, at most their layout width; long texts wrap on rows high
enough for them, in the review and in the Journal rows a commit appends."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from addin import api
from addin.workbook.review import layout
from addin.workbook.review.widths import header_width, line_count, wrapped
from tests.builders import AS_OF, small_utility, with_register, write_csv_ledger

LONG_LABEL = "Chauffage à distance – Route de Perrefitte 104, bâtiment B, 3e étage, compteur 7"
LONG_DETAIL_SOURCE = "erp-export-of-the-municipal-utility-for-november"


@pytest.fixture
def review(tmp_path: Path) -> Path:
    items, subscriptions = small_utility()
    subscriptions = [s._replace(label=LONG_LABEL) if s.subscription_id == "S1" else s
                     for s in subscriptions]
    source = write_csv_ledger(tmp_path / LONG_DETAIL_SOURCE, items, subscriptions)
    out = tmp_path / "review.xlsm"
    api.extract(source, out, as_of=AS_OF, config=with_register(tmp_path / "register.sqlite"))
    return out


def row_tag(path: Path, part: str, number: int) -> bytes:
    with zipfile.ZipFile(path) as package:
        xml = package.read(f"xl/worksheets/{part}.xml")
    match = re.search(rb'<row r="%d"[^>]*>' % number, xml)
    assert match is not None
    return match[0]


def widths(sheet) -> dict[str, float]:
    return {column.key: sheet.column_dimensions[layout.column_letter(i)].width
            for i, column in enumerate(layout.RESIDUALS.columns)}


def test_code_columns_are_as_narrow_as_their_header_and_values_allow(review: Path) -> None:
    residuals = openpyxl.load_workbook(review)["Residuals"]
    width = widths(residuals)
    assert width["currency"] < 14 and width["status"] < 14  # "CHF", "terminated"
    assert width["currency"] >= header_width("Currency", filtered=True)
    assert width["subscription_id"] >= header_width("Subscription", filtered=True)


def test_a_label_longer_than_its_column_wraps_on_a_row_high_enough(review: Path) -> None:
    residuals = openpyxl.load_workbook(review)["Residuals"]
    label_column = layout.RESIDUALS.columns[layout.RESIDUALS.index("label")]
    row = next(r for r in residuals.iter_rows(min_row=2) if r[3].value == LONG_LABEL)
    assert widths(residuals)["label"] <= label_column.width + 1
    assert row[3].alignment.wrap_text
    assert residuals.row_dimensions[row[0].row].height >= 3 * 15
    assert b"customHeight" not in row_tag(review, "sheet2", row[0].row)  # Excel refits it
    items = openpyxl.load_workbook(review)["Items"]
    assert {items.row_dimensions[r].height for r in range(2, 6)} == {None}  # one line each


def test_reasons_and_notes_wrap_in_their_columns(review: Path) -> None:
    residuals = openpyxl.load_workbook(review)["Residuals"]
    for key in ("reason", "notes", "customer_name"):
        letter = layout.column_letter(layout.RESIDUALS.index(key))
        assert residuals[f"{letter}2"].alignment.wrap_text, key
    check = layout.column_letter(layout.RESIDUALS.index("check"))  # empty until a commit
    assert residuals.column_dimensions[check].alignment.wrap_text
    assert not residuals["A2"].alignment.wrap_text


def test_a_long_journal_detail_wraps_on_a_row_high_enough(review: Path, tmp_path: Path) -> None:
    api.commit(review, tmp_path / "exports", accept_proposals=True,
               config=with_register(tmp_path / "register.sqlite"))
    journal = openpyxl.load_workbook(review)["Journal"]
    detail = journal.cell(2, layout.JOURNAL.index("detail") + 1)
    assert LONG_DETAIL_SOURCE in detail.value and detail.alignment.wrap_text
    assert journal.row_dimensions[2].height >= 2 * 15
    assert journal.row_dimensions[3].height is None  # an action line: one line


@pytest.mark.parametrize("header", ["Customer overdue balance", "Überfälliger Saldo Kunde",
                                    "Target subscription", "Items"])
def test_a_header_fits_on_the_two_lines_of_the_header_row(header: str) -> None:
    characters = int(header_width(header, filtered=False))
    assert len(wrapped(header.split(), characters)) <= 2


def test_a_text_takes_as_many_lines_as_its_words_need() -> None:
    assert line_count("terminated; active subscription billed soonest", 30) == 2
    assert line_count("x" * 70, 30) == 3  # a word wider than the column is broken
    assert line_count("one\ntwo", 30) == 2
