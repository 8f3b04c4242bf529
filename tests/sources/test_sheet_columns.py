"""A workbook narrowed on its columns gives the selection of the whole ledger.

As for CSV exports (test_file_selection): on random ledgers written as workbooks, with cells
typed as an accountant's workbook types them (dates, numbers, booleans, or text), ``select``
over the narrowed part equals ``select`` over every record the exact reader builds; and
whenever the columnar reader is unsure, the exact one answers in its own words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.config import Config
from addin.domain.model import Rules
from addin.domain.rules import select
from addin.locations import Location
from addin.sources import read_for_commit, read_for_rules, read_ledger
from addin.sources.file_selection import read_items_files, read_selection_files
from addin.workbook.ooxml import errors
from tests.sources.small_ledger import ITEM_HEADER, SUB_HEADER
from tests.sources.test_file_selection import (
    AS_OF,
    GOOD_ITEM,
    GOOD_SUB,
    assert_read_as_pushdown,
    commit_keys,
    ledgers,
    refused_alike,
)

CONFIG = Config()
RULES = Rules(threshold=Decimal("5.00"), as_of=AS_OF)
Row = Sequence[object]
# How a cell of each kind may be typed in a workbook; the first form is the text itself.
DATE_FORMS: list[Callable[[str], object]] = [
    str, lambda t: _day(t), lambda t: dt.datetime.combine(_day(t), dt.time()),
    lambda t: _day(t).isoformat()]
AMOUNT_FORMS: list[Callable[[str], object]] = [str, float, lambda t: _whole_or_float(t)]
FLAG_FORMS: list[Callable[[str], object]] = [str, int, lambda t: t == "1", float]
ID_FORMS: list[Callable[[str], object]] = [str, lambda t: float(t[1:]) + 1000]
FORMS = {"document_date": DATE_FORMS, "due_date": DATE_FORMS, "end_date": DATE_FORMS,
         "next_bill_date": DATE_FORMS, "original_amount": AMOUNT_FORMS,
         "open_amount": AMOUNT_FORMS, "dunning_block": FLAG_FORMS, "dispute": FLAG_FORMS,
         "document_no": ID_FORMS}


def _day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d.%m.%Y").date()


def _whole_or_float(text: str) -> object:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def typed_rows(header: Sequence[str], rows: Sequence[Sequence[str]],
               forms: dict[str, int], mixed: bool) -> list[list[object]]:
    """The rows with each column's cells in the drawn form (every other row as text if
    ``mixed``); an empty text stays an empty cell."""
    def cell(column: str, text: str, row: int) -> object:
        if not text or column not in forms or (mixed and row % 2):
            return text or None
        return FORMS[column][forms[column]](text)
    return [[cell(c, text, r) for c, text in zip(header, row, strict=True)]
            for r, row in enumerate(rows)]


def write_book(path: Path, sheets: dict[str, tuple[Sequence[str], Sequence[Row]]], *,
               top: int = 0, notes: bool = False, blank_at: int | None = None) -> Path:
    """Each sheet under ``top`` empty rows, with a notes column in front if ``notes``, and an
    empty row before row ``blank_at``."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (header, rows) in sheets.items():
        sheet = book.create_sheet(name)
        body = [list(row) for row in rows]
        if blank_at is not None:
            body.insert(min(blank_at, len(body)), [None] * len(header))
        for number, row in enumerate([list(header), *body]):
            note = [] if not notes else ["notes" if number == 0 else f"n{number}"]
            sheet.append(note + row)
        for _ in range(top):
            sheet.insert_rows(1)
    book.save(path)
    return path


def write_ledger(where: Path, items: Sequence[Row], subs: Sequence[Row], *, one_book: bool,
                 **layout: object) -> Path:
    """A workbook with both sheets, or a folder holding open_items.xlsx and
    subscriptions.xlsx (each its ledger on its first sheet); the source's path."""
    where.mkdir(exist_ok=True)
    if one_book:
        return write_book(where / "erp.xlsx", {"open_items": (ITEM_HEADER, items),
                                               "subscriptions": (SUB_HEADER, subs)}, **layout)
    write_book(where / "open_items.xlsx", {"Items": (ITEM_HEADER, items)}, **layout)
    write_book(where / "subscriptions.xlsx", {"Subs": (SUB_HEADER, subs)}, **layout)
    return where


def files_of(source: Path) -> tuple[dict[str, Path], dict[str, str]]:
    if source.is_dir():
        return {e: source / f"{e}.xlsx" for e in ("open_items", "subscriptions")}, {}
    return dict.fromkeys(("open_items", "subscriptions"), source), {
        e: e for e in ("open_items", "subscriptions")}


column_forms = st.fixed_dictionaries({c: st.integers(0, len(f) - 1) for c, f in FORMS.items()})
layouts = st.fixed_dictionaries({"top": st.integers(0, 2), "notes": st.booleans(),
                                 "blank_at": st.none() | st.integers(0, 40)})


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers(), forms=column_forms, mixed=st.booleans(), layout=layouts,
       one_book=st.booleans(), threshold=st.sampled_from(["0.00", "1.00", "5.00", "7.50"]),
       overdue_days=st.sampled_from([0, 30, 60]), credits=st.booleans(), data=st.data())
def test_the_narrowed_workbook_gives_the_whole_ledgers_selection(
        tmp_path_factory: pytest.TempPathFactory, ledger, forms, mixed, layout, one_book,
        threshold, overdue_days, credits, data) -> None:
    items, subs = ledger
    source = write_ledger(tmp_path_factory.mktemp("xlsx") / "erp", typed_rows(
        ITEM_HEADER, items, forms, mixed), typed_rows(SUB_HEADER, subs, forms, mixed),
        one_book=one_book, **layout)
    rules = Rules(threshold=Decimal(threshold), as_of=AS_OF, min_overdue_days=overdue_days,
                  include_credits=credits)
    ids = [row[0] for row in items]
    committed = {i: "B1" for i in data.draw(st.lists(st.sampled_from(ids), max_size=3))
                 } if ids else {}
    files, sheets = files_of(source)

    narrowed = read_selection_files(files, CONFIG, rules, committed, str(source), sheets)
    assert narrowed is not None, "the fast reader gave up on a clean workbook"
    part, balances, count = narrowed
    whole = read_ledger(source, CONFIG)

    assert count == len(whole.items)
    assert replace(select(part, rules, committed, balances), items_read=count
                   ) == select(whole, rules, committed)
    assert read_for_rules(Location.of(source), CONFIG, rules, committed) == narrowed


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers(), forms=column_forms, one_book=st.booleans(), data=st.data())
def test_the_commit_reads_a_workbooks_items_as_the_pushdown_would(
        tmp_path_factory: pytest.TempPathFactory, ledger, forms, one_book, data) -> None:
    items, subs = ledger
    source = write_ledger(tmp_path_factory.mktemp("xlsx") / "erp", typed_rows(
        ITEM_HEADER, items, forms, False), typed_rows(SUB_HEADER, subs, forms, False),
        one_book=one_book)
    wanted_subs, wanted_items = commit_keys(data, items, subs)
    files, sheets = files_of(source)

    part = read_items_files(files, CONFIG, wanted_subs, wanted_items, "x", sheets)

    assert_read_as_pushdown(part, read_ledger(source, CONFIG), wanted_subs, wanted_items)
    assert part is not None
    assert read_for_commit(Location.of(source), CONFIG, wanted_subs, wanted_items
                           ).items == part.items


def test_a_float_amount_is_read_as_excel_shows_it(tmp_path: Path) -> None:
    """0.1 + 0.2 is 0.30000000000000004 in the cell; Excel, and values.py, show 0.30."""
    items = [[*GOOD_ITEM[:8], 0.1 + 0.2, *GOOD_ITEM[9:]]]
    source = write_ledger(tmp_path, items, [GOOD_SUB], one_book=True)

    ledger, balances, _ = read_for_rules(Location.of(source), CONFIG, RULES, ())

    assert balances == {("C1", "CHF"): (Decimal("0.30"), Decimal("0.30"))}
    assert ledger.items == read_ledger(source, CONFIG).items
    assert ledger.items[0].open_amount == Decimal("0.30")


def _error_cell(row: Row, column: int) -> list[object]:
    """The row with an Excel error value in one cell (openpyxl types '#N/A' as one)."""
    return [*row[:column], "#N/A", *row[column + 1:]]


@pytest.mark.parametrize(("items", "subs", "problem"), [
    ([GOOD_ITEM, GOOD_ITEM], [GOOD_SUB], "duplicate item 'I1' (first at line 3)"),
    ([(*GOOD_ITEM[:8], 0.405, *GOOD_ITEM[9:])], [GOOD_SUB], "0.405"),
    ([(*GOOD_ITEM[:3], "S9", *GOOD_ITEM[4:])], [GOOD_SUB], "unknown subscription 'S9'"),
    ([("@I1", *GOOD_ITEM[1:])], [GOOD_SUB], "must not look like a formula"),
    ([(*GOOD_ITEM[:6], "31.02.2026", *GOOD_ITEM[7:])], [GOOD_SUB], "no such date"),
    ([(*GOOD_ITEM[:6], dt.datetime(2026, 10, 1, 12), *GOOD_ITEM[7:])], [GOOD_SUB],
     "has a time"),
    ([GOOD_ITEM], [(*GOOD_SUB[:2], "sleeping", *GOOD_SUB[3:])], "unknown status"),
    ([(*GOOD_ITEM[:4], None, *GOOD_ITEM[5:])], [GOOD_SUB], "empty"),
    ([(*GOOD_ITEM[:10], 0.5, *GOOD_ITEM[11:])], [GOOD_SUB], "not a flag"),
    ([_error_cell(GOOD_ITEM, 8)], [GOOD_SUB], "#N/A is an Excel error"),
    ([GOOD_ITEM], [_error_cell(GOOD_SUB, 3)], "#N/A is an Excel error"),
    # A row that does not become a record is checked all the same.
    ([GOOD_ITEM, ("I2", *GOOD_ITEM[1:4], "F2", "31.02.2026", "15.02.2027", "900.00",
                  "900.00", *GOOD_ITEM[9:])], [GOOD_SUB], "no such date"),
], ids=["duplicate", "third decimal", "unknown subscription", "formula", "no such date",
        "a time", "status", "empty id", "flag", "error value", "error value in subscriptions",
        "a row not kept"])
def test_a_bad_workbook_is_refused_in_the_exact_readers_words(
        tmp_path: Path, items, subs, problem: str) -> None:
    source = write_ledger(tmp_path, items, subs, one_book=True, top=1)
    files, sheets = files_of(source)
    assert read_selection_files(files, CONFIG, RULES, (), str(source), sheets) is None

    refused = refused_alike(source, RULES)
    assert problem in refused
    assert f"{source} [open_items], line" in refused or (
        f"{source} [subscriptions], line" in refused)


@pytest.mark.parametrize("padded", [" S1", "S1\u00a0", "S1\t"])
def test_an_id_to_strip_goes_to_the_exact_reader(tmp_path: Path, padded: str) -> None:
    source = write_ledger(tmp_path, [GOOD_ITEM], [(padded, *GOOD_SUB[1:])], one_book=False)
    files, sheets = files_of(source)

    assert read_selection_files(files, CONFIG, RULES, (), str(source), sheets) is None
    ledger, balances, _ = read_for_rules(Location.of(source), CONFIG, RULES, ())
    assert balances is None  # the whole ledger, read exactly
    assert list(ledger.subscriptions) == ["S1"]


def test_an_error_value_outside_the_ledgers_columns_is_read_by_the_exact_reader(
        tmp_path: Path) -> None:
    """The columnar reader does not look where the error is: it leaves the sheet to the
    exact reader, which reads it, the error being in a column it does not need."""
    source = write_ledger(tmp_path, [GOOD_ITEM], [GOOD_SUB], one_book=True, notes=True)
    book = openpyxl.load_workbook(source)
    book["open_items"]["A2"] = "#REF!"
    book.save(source)
    files, sheets = files_of(source)

    assert read_selection_files(files, CONFIG, RULES, (), str(source), sheets) is None
    ledger, balances, _ = read_for_rules(Location.of(source), CONFIG, RULES, ())

    assert balances is None
    assert ledger == read_ledger(source, CONFIG)


def test_an_error_mark_cut_between_two_blocks_is_found(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_ledger(tmp_path, [_error_cell(GOOD_ITEM, 8)], [GOOD_SUB], one_book=True)
    for block in range(1, 12):
        monkeypatch.setattr(errors, "_BLOCK", block)
        assert errors.may_hold_errors(source, "open_items")
    assert not errors.may_hold_errors(source, "subscriptions")


def test_names_and_labels_beyond_ascii_are_read_as_the_exact_reader_reads_them(
        tmp_path: Path) -> None:
    items = [(*GOOD_ITEM[:2], "Müller Zoé", *GOOD_ITEM[3:]),
             ("I2", *GOOD_ITEM[1:2], "Boillat", *GOOD_ITEM[3:4], 1234.0, *GOOD_ITEM[5:])]
    subs = [(*GOOD_SUB[:5], "Électricité – Côte 1")]
    source = write_ledger(tmp_path, items, subs, one_book=False)

    ledger, balances, _ = read_for_rules(Location.of(source), CONFIG, RULES, ())

    assert balances is not None
    whole = read_ledger(source, CONFIG)
    assert ledger.items == whole.items
    assert [i.customer_name for i in ledger.items] == ["Müller Zoé", "Boillat"]
    assert ledger.items[1].document_no == "1234"
    assert ledger.subscriptions == whole.subscriptions


@pytest.mark.parametrize("first", ["number", "boolean"])
def test_a_boolean_in_an_amount_column_is_refused_though_a_number_equals_it(
        tmp_path: Path, first: str) -> None:
    """TRUE == 1 and FALSE == 0 in Python: read once per distinct cell, TRUE could pass as
    1.00 beside a 1 (or a 1 be refused beside a TRUE), depending on which came first."""
    number = (*GOOD_ITEM[:7], 1, 1, *GOOD_ITEM[9:])
    boolean = ("I2", *GOOD_ITEM[1:4], "F2", *GOOD_ITEM[5:7], True, True, *GOOD_ITEM[9:])
    items = [number, boolean] if first == "number" else [boolean, number]
    source = write_ledger(tmp_path, items, [GOOD_SUB], one_book=True)

    refused = refused_alike(source, RULES)

    line = 3 if first == "number" else 2
    assert refused.count("not an amount: True") == 2
    assert f"[open_items], line {line}, column 'open_amount'" in refused
    assert "not an amount: 1" not in refused
