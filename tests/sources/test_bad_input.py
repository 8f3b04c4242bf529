"""Every bad input is refused with all its problems, each named by file, line and column."""

import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pytest

from addin.config import Config, load_config
from addin.domain.problems import SourceError
from addin.sources import read_ledger
from tests.sources.small_ledger import (
    ITEM_HEADER,
    ITEMS,
    SUB_HEADER,
    SUBS,
    write_csv,
    write_sheets,
    write_sqlite,
    write_xlsx,
)
from tests.workbook.test_xlsx_errors import damage

GOOD_ITEM = ("I9", "C1", "Gerber", "S1", "F9", "01.09.2026", "01.10.2026", "100.50", "0.50",
             "CHF", "0", "0")


def problems(source: object, config: Config | None = None) -> list[str]:
    with pytest.raises(SourceError) as error:
        read_ledger(source, config or Config())  # type: ignore[arg-type]
    return [str(p) for p in error.value.problems]


def item(**changes: str) -> tuple[str, ...]:
    cells = dict(zip(ITEM_HEADER, GOOD_ITEM, strict=True))
    return tuple({**cells, **changes}.values())


NOT_A_FORMULA = "an identifier must not look like a formula"


# The bad row is line 5: header, the three good items, then it.
@pytest.mark.parametrize(("changes", "column", "message"), [
    ({"open_amount": "12,50"}, "open_amount", "not an amount: '12,50'"),
    ({"open_amount": "abc"}, "open_amount", "not an amount: 'abc'"),
    ({"open_amount": "0'30"}, "open_amount", "not an amount: \"0'30\""),
    ({"original_amount": "123456789012345678901234567.00"}, "original_amount",
     "too large (at most 16 digits before the decimal point): "
     "'123456789012345678901234567.00'"),
    ({"original_amount": "100.505"}, "original_amount", "more than two decimals: '100.505'"),
    ({"due_date": "31.02.2026"}, "due_date", "no such date: '31.02.2026'"),
    ({"document_date": "2026-9-1"}, "document_date",
     "not a date (expected dd.mm.yyyy or yyyy-mm-dd): '2026-9-1'"),
    ({"document_no": ""}, "document_no", "empty"),
    ({"customer_id": "  "}, "customer_id", "empty"),
    ({"dunning_block": "2"}, "dunning_block", "not a flag (expected 0 or 1): '2'"),
    ({"currency": "Fr."}, "currency",
     "not a currency code (expected three letters such as CHF): 'FR.'"),
    ({"subscription_id": "S7"}, "subscription_id", "unknown subscription 'S7'"),
    ({"customer_id": "0042"}, "customer_id", "customer '0042' but subscription 'S1' belongs "
                                             "to 'C1'"),
    ({"item_id": "=I9"}, "item_id", f"begins with '=': {NOT_A_FORMULA}"),
    ({"item_id": " +I9"}, "item_id", f"begins with '+': {NOT_A_FORMULA}"),
    ({"document_no": "@F9"}, "document_no", f"begins with '@': {NOT_A_FORMULA}"),
    ({"document_no": "\x01F9"}, "document_no", f"begins with '\\x01': {NOT_A_FORMULA}"),
    ({"item_id": "\x7fI9"}, "item_id", f"begins with '\\x7f': {NOT_A_FORMULA}"),
])
def test_a_bad_cell_is_named_by_file_line_and_column(tmp_path, changes, column, message):
    folder = write_csv(tmp_path, items=(*ITEMS, item(**changes)))
    assert problems(folder) == [f"{folder / 'open_items.csv'}, line 5, column '{column}': "
                                f"{message}"]


def test_ids_of_customers_and_subscriptions_that_would_run_as_formulas_are_refused(tmp_path):
    subs = (*SUBS, ("+S9", "=C9", "active", "", "", "=Dupont's contract"))
    folder = write_csv(tmp_path, subs=subs, items=(
        *ITEMS, item(customer_id="-C1", subscription_id="-S1"), item(item_id="I10",
                                                                    customer_id="@C1")))
    subs_file, items_file = folder / "subscriptions.csv", folder / "open_items.csv"
    assert problems(folder) == [
        f"{subs_file}, line 5, column 'subscription_id': begins with '+': {NOT_A_FORMULA}",
        f"{subs_file}, line 5, column 'customer_id': begins with '=': {NOT_A_FORMULA}",
        f"{items_file}, line 5, column 'subscription_id': unknown subscription '-S1'",
        f"{items_file}, line 6, column 'customer_id': begins with '@': {NOT_A_FORMULA}",
        f"{items_file}, line 6, column 'customer_id': customer '@C1' but subscription 'S1' "
        f"belongs to 'C1'",
    ]


def test_a_duplicate_item_names_both_lines(tmp_path):
    folder = write_csv(tmp_path, items=(*ITEMS, item(item_id="007")))
    assert problems(folder) == [f"{folder / 'open_items.csv'}, line 5, column 'item_id': "
                                f"duplicate item '007' (first at line 3)"]


def test_an_unknown_status_and_a_duplicate_subscription_are_named(tmp_path):
    subs = (*SUBS, ("S3", "0042", "active", "", "", ""), ("S8", "C1", "paused", "", "", ""))
    folder = write_csv(tmp_path, subs=subs)
    path = folder / "subscriptions.csv"
    assert problems(folder) == [
        f"{path}, line 5, column 'subscription_id': duplicate subscription 'S3' "
        f"(first at line 4)",
        f"{path}, line 6, column 'status': unknown status 'paused' (expected active or "
        f"terminated)",
    ]


def test_all_problems_of_both_files_are_reported_at_once_top_to_bottom(tmp_path):
    subs = (*SUBS, ("S8", "C1", "paused", "", "", ""))
    folder = write_csv(tmp_path, subs=subs, items=(
        *ITEMS, item(due_date="1.13.2026", open_amount="x"), item(item_id="I10", dispute="?")))
    assert [p.split(": ", 1)[0].rsplit("/", 1)[1] for p in problems(folder)] == [
        "subscriptions.csv, line 5, column 'status'",
        "open_items.csv, line 5, column 'due_date'",
        "open_items.csv, line 5, column 'open_amount'",
        "open_items.csv, line 6, column 'dispute'",
    ]


def test_past_two_hundred_problems_the_rest_are_counted(tmp_path):
    bad = tuple(item(item_id=f"B{n}", open_amount="?") for n in range(250))
    found = problems(write_csv(tmp_path, items=(*ITEMS, *bad)))
    assert len(found) == 201
    assert found[-1] == "and 50 more problems not listed"


def test_a_missing_source_file_sheet_and_table_are_named(tmp_path):
    assert problems(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: source not found"]
    folder = write_csv(tmp_path / "half")
    (folder / "subscriptions.csv").unlink()
    assert problems(folder) == [f"{folder / 'subscriptions.csv'}: missing file: "
                                f"subscriptions.csv (or subscriptions.xlsx)"]
    book = write_sheets(tmp_path / "erp.xlsx", [("open_items", ITEM_HEADER, ITEMS)])
    assert problems(book) == [f"{book}: missing sheet 'subscriptions'"]
    db = tmp_path / "erp.sqlite"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE other (x TEXT)")
    connection.close()
    assert problems(f"sqlite:///{db}") == [
        f"sqlite:///{db}: missing table or view 'open_items'",
        f"sqlite:///{db}: missing table or view 'subscriptions'",
    ]


def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    db = tmp_path / "typo.sqlite"
    assert problems(f"sqlite:///{db}") == [f"{db}: database file not found"]
    assert not db.exists()


def test_a_missing_column_is_named_with_the_header_the_config_expects(tmp_path):
    folder = write_csv(tmp_path)
    path = folder / "open_items.csv"
    path.write_text(path.read_text(encoding="utf-8-sig").replace("due_date", "due"),
                    encoding="utf-8")
    assert problems(folder) == [f"{path}, line 1: missing column 'due_date'"]
    config = tmp_path / "erp.toml"
    config.write_text('[columns.open_items]\ndue_date = "Échéance"\n'
                      '[columns.subscriptions]\nstatus = "Statut"\n', encoding="utf-8")
    assert problems(folder, load_config(config)) == [
        f"{path}, line 1: missing column 'Échéance' (the header of due_date set in "
        f"[columns.open_items])",
        f"{folder / 'subscriptions.csv'}, line 1: missing column 'Statut' (the header of "
        f"status set in [columns.subscriptions])",
    ]


def test_a_query_without_a_canonical_column_is_refused_before_reading(tmp_path):
    db = write_sqlite(tmp_path / "erp.sqlite")
    config = tmp_path / "sql.toml"
    config.write_text('[sql]\nopen_items = "SELECT item_id, customer_id FROM open_items"\n',
                      encoding="utf-8")
    missing = [c for c in ITEM_HEADER[2:10]]
    assert problems(db, load_config(config)) == [f"[sql] open_items: missing column {c!r}"
                                                 for c in missing]


def test_a_statement_that_is_not_a_select_is_not_run(tmp_path):
    db = write_sqlite(tmp_path / "erp.sqlite")
    config = tmp_path / "sql.toml"
    config.write_text('[sql]\nopen_items = "DELETE FROM open_items"\n'
                      'subscriptions = "SELECT * FROM subscriptions; DROP TABLE open_items"\n',
                      encoding="utf-8")
    message = "must be one SELECT statement (or WITH … SELECT): a source only reads"
    assert problems(db, load_config(config)) == [f"[sql] open_items: {message}",
                                                 f"[sql] subscriptions: {message}"]


def test_a_bad_value_in_a_database_is_named_by_table_column_and_item(tmp_path):
    db = write_sqlite(tmp_path / "erp.sqlite")
    with sqlite3.connect(db) as connection:
        connection.execute("INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S1', 'F9', "
                           "'2026-01-01', '2026-02-30', 12.505, 'abc', 'CHF', 0, 0)")
    connection.close()
    assert problems(db) == [
        "open_items, column 'due_date', item I9: no such date: '2026-02-30'",
        "open_items, column 'original_amount', item I9: more than two decimals: '12.505'",
        "open_items, column 'open_amount', item I9: not an amount: 'abc'",
    ]


def test_a_bad_cell_in_a_workbook_is_named_by_sheet_and_row(tmp_path):
    book = write_sheets(tmp_path / "erp.xlsx", [
        ("open_items", ITEM_HEADER, (*ITEMS, item(original_amount="100.505"))),
        ("subscriptions", SUB_HEADER, SUBS)])
    assert problems(book) == [f"{book} [open_items], line 5, column 'original_amount': "
                              f"more than two decimals: '100.505'"]


def test_an_excel_error_in_a_workbook_source_is_refused_naming_the_cell(tmp_path):
    # read as blank, the #N/A would put the item in dispute up for write-off
    book = write_xlsx(tmp_path / "erp.xlsx")
    workbook = openpyxl.load_workbook(book)
    for ref, error in (("L4", "#N/A"), ("I2", "#SPILL!"), ("A3", "#REF!")):
        workbook["open_items"][ref] = error
        workbook["open_items"][ref].data_type = "e"
    workbook.save(book)
    error = "is an Excel error, not a value: correct the cell or clear it"
    assert problems(book) == [
        f"{book} [open_items], line 2, column 'open_amount': #SPILL! {error}",
        f"{book} [open_items], line 3, column 'item_id': #REF! {error}",
        f"{book} [open_items], line 4, column 'dispute': #N/A {error}",
    ]


def test_a_damaged_workbook_source_is_refused_naming_the_sheet(tmp_path):
    book = write_xlsx(tmp_path / "erp.xlsx")
    damage(book, "xl/worksheets/sheet1.xml")
    assert problems(book) == [f"{book} [open_items]: cannot read the sheet: Bad CRC-32 for "
                              f"file 'xl/worksheets/sheet1.xml'"]


def test_a_huge_number_in_a_workbook_cell_is_refused_naming_the_cell(tmp_path):
    book = write_sheets(tmp_path / "erp.xlsx", [
        ("open_items", ITEM_HEADER, (*ITEMS, item(original_amount="1.2345678901234568e+26"))),
        ("subscriptions", SUB_HEADER, SUBS)])
    assert problems(book) == [f"{book} [open_items], line 5, column 'original_amount': "
                              f"too large (at most 16 digits before the decimal point): "
                              f"'123456789012346000000000000'"]


def test_a_line_with_an_unquoted_delimiter_is_named(tmp_path):
    folder = write_csv(tmp_path)
    path = folder / "open_items.csv"
    path.write_text(path.read_text(encoding="utf-8-sig") +
                    "I9;C1;Gerber; Fils;S1;F9;01.09.2026;01.10.2026;1.00;1.00;CHF;0;0\n",
                    encoding="utf-8")
    assert problems(folder) == [f"{path}, line 5: 13 fields where the header has 12 {LONG}"]


SHORT = "(a line cut short, or a line break in a text that is not in quotes?)"
LONG = "(a ';' inside a text that is not in quotes?)"


def test_a_line_with_fewer_fields_than_the_header_is_named(tmp_path):
    # without its last two fields the item in dispute would be proposed for write-off
    folder = write_csv(tmp_path)
    path = folder / "open_items.csv"
    path.write_text(path.read_text(encoding="utf-8-sig") +
                    "I9;C1;Gerber;S1;F9;01.09.2026;01.10.2026;1.00;1.00;CHF\n",
                    encoding="utf-8")
    assert problems(folder) == [f"{path}, line 5: 10 fields where the header has 12 {SHORT}"]


def test_short_and_long_lines_are_named_together_by_their_file_line(tmp_path):
    folder = write_csv(tmp_path, items=(item(customer_name="Gerber\nFils"), *ITEMS))
    path = folder / "open_items.csv"
    path.write_text(path.read_text(encoding="utf-8-sig") +
                    "I9;C1;Gerber; Fils;S1;F9;01.09.2026;01.10.2026;1.00;1.00;CHF;0;0\n"
                    '"I10";C1;"Gerber\nFils";S1;F9;01.09.2026;01.10.2026;1.00;1.00;CHF;0\n'
                    "I11;C1;Gerber\nFils;S1;F9;01.09.2026;01.10.2026;1.00;1.00;CHF;0;0\n",
                    encoding="utf-8")
    assert problems(folder) == [
        f"{path}, line 7: 13 fields where the header has 12 {LONG}",
        f"{path}, line 8: 11 fields where the header has 12 {SHORT}",
        f"{path}, line 10: 3 fields where the header has 12 {SHORT}",
        f"{path}, line 11: 10 fields where the header has 12 {SHORT}",
    ]


def test_a_short_line_is_found_when_quotes_are_used_loosely(tmp_path):
    # a quote inside an unquoted text is a plain character, as the csv module reads it
    folder = write_csv(tmp_path)
    path = folder / "open_items.csv"
    path.write_text(path.read_text(encoding="utf-8-sig") +
                    'I8;C1;Gerber 5" Fils;S1;F8;01.09.2026;01.10.2026;1.00;1.00;CHF;0;0\n'
                    "I9;C1\n", encoding="utf-8")
    assert problems(folder) == [f"{path}, line 6: 2 fields where the header has 12 {SHORT}"]


def test_lines_are_counted_in_the_file_when_a_quoted_text_spans_lines(tmp_path):
    folder = write_csv(tmp_path, items=(item(customer_name="Gerber\nFils"), *ITEMS,
                                        item(item_id="I10", open_amount="x")))
    assert problems(folder) == [f"{folder / 'open_items.csv'}, line 7, column "
                                f"'open_amount': not an amount: 'x'"]


def test_lines_ending_in_cr_alone_are_counted_as_lines(tmp_path):
    folder = write_csv(tmp_path, items=(item(customer_name="Gerber\nFils"), *ITEMS,
                                        item(item_id="I10", open_amount="x")))
    path = folder / "open_items.csv"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r").replace(b"\n", b"\r") +
                     b"I11;C1\r")
    assert problems(folder) == [f"{path}, line 8: 2 fields where the header has 12 {SHORT}"]
    path.write_bytes(path.read_bytes().removesuffix(b"I11;C1\r"))
    assert problems(folder) == [f"{path}, line 7, column 'open_amount': not an amount: 'x'"]


def test_a_file_mixing_utf8_and_another_encoding_is_refused(tmp_path):
    folder = write_csv(tmp_path)
    path = folder / "open_items.csv"
    path.write_bytes(path.read_bytes() + "I9;C1;Müller;S1\r\n".encode("cp1252"))
    assert problems(folder) == [f"{path}, line 5: byte 0xfc is not UTF-8 though the rest of "
                                f"the file is: save it again as UTF-8"]


def test_headers_that_differ_only_in_case_are_not_guessed_between(tmp_path):
    folder = write_csv(tmp_path)
    path = folder / "subscriptions.csv"
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text.replace("label", "Status"), encoding="utf-8")
    config = tmp_path / "erp.toml"
    config.write_text('[columns.subscriptions]\nstatus = "STATUS"\n', encoding="utf-8")
    assert problems(folder, load_config(config)) == [
        f"{path}, line 1: column 'STATUS' is there 2 times ('status' and 'Status'): "
        f"which one is meant?"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("open_items.csv", "", "the file is empty"),
    ("open_items.csv", "item_id customer_id\n", "line 1: no ';' or ',' in the header line: "
                                               "not a CSV export"),
])
def test_an_empty_or_undelimited_file_is_refused(tmp_path, name, content, message):
    folder = write_csv(tmp_path)
    (folder / name).write_text(content, encoding="utf-8")
    assert problems(folder) == [f"{folder / name}, {message}" if message.startswith("line")
                                else f"{folder / name}: {message}"]


def test_a_single_csv_file_or_an_unknown_file_is_not_taken_for_a_source(tmp_path):
    folder = write_csv(tmp_path)
    assert problems(folder / "open_items.csv") == [
        f"{folder / 'open_items.csv'}: give the folder that holds open_items.csv and "
        f"subscriptions.csv, not one of the files"]
    other = Path(tmp_path / "notes.txt")
    other.write_text("x", encoding="utf-8")
    assert problems(other) == [f"{other}: not a folder, a workbook (.xlsx, .xlsm), a SQLite "
                               f"file or a database URL"]


def test_a_workbook_source_whose_sheet_is_damaged_is_named_by_sheet(tmp_path):
    book = write_sheets(tmp_path / "erp.xlsx", [("open_items", ITEM_HEADER, ITEMS),
                                                ("subscriptions", SUB_HEADER, SUBS)])
    with zipfile.ZipFile(book) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, b"<worksheet><sheetData><ro" if name.endswith("sheet1.xml")
                             else data)
    [problem] = problems(book)
    assert problem.startswith(f"{book} [open_items]: cannot read the sheet: ")
