"""The worksheet functions as Excel calls them: through xlwings's own UDF machinery
(``xlwings.udfs.call_udf`` and ``xlwings.conversion``), with the arguments as Excel passes
them. The direct calls are in tests/test_udfs.py."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import small_utility, write_csv_ledger
from tests.support.xlwings_windows import MISSING, ComRange, ExcelCalls, TimeType, excel_calls

MODULE = "udfs.reliquat_functions"
AS_OF = TimeType(2026, 11, 30)  # a date cell
NAMES = ("RELIQUAT_OPEN_BALANCE", "RELIQUAT_ALTERNATIVES", "RELIQUAT_CATCH",
         "RELIQUAT_CATCH_TABLE")


@pytest.fixture
def excel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ExcelCalls]:
    yield from excel_calls(monkeypatch, MODULE, str(tmp_path / "Review.xlsm"))


@pytest.fixture
def source(tmp_path: Path) -> str:
    return str(write_csv_ledger(tmp_path / "erp", *small_utility()))


def test_open_balance_shows_the_subscriptions_whole_balance_in_the_cell(excel, source):
    assert excel("RELIQUAT_OPEN_BALANCE", source, "S1", MISSING) == [[250.80]]
    assert excel("RELIQUAT_OPEN_BALANCE", source, ComRange([["S9"]]), "CHF") == [[0.0]]


def test_a_subscription_id_typed_as_a_number_is_found(excel, tmp_path):
    folder = write_csv_ledger(tmp_path / "numeric", *[
        [r._replace(subscription_id="1001") if r.subscription_id == "S1" else r for r in rows]
        for rows in small_utility()])
    assert excel("RELIQUAT_OPEN_BALANCE", str(folder), 1001.0, MISSING) == [[250.80]]


def test_alternatives_spill_down_as_a_plain_column(excel, source):
    assert excel("RELIQUAT_ALTERNATIVES", source, "C2", AS_OF) == [["S3"]]
    assert excel("RELIQUAT_ALTERNATIVES", source, "C3", AS_OF) == [["(none)"]]
    assert "expand" not in excel.declared("RELIQUAT_ALTERNATIVES")["ret"]["options"]


def test_catch_spills_the_count_and_the_amount_side_by_side(excel, source):
    assert excel("RELIQUAT_CATCH", source, 5.0, AS_OF) == [[4.0, 8.39]]
    assert excel("RELIQUAT_CATCH", source, ComRange([[1.0]]), ComRange([[AS_OF]])) == \
        [[2.0, 1.20]]


def test_catch_table_reads_a_column_of_thresholds_and_spills_a_row_for_each(excel, source):
    column = ComRange([[0.5], [1.0], [None], [5.0]])  # an empty cell is skipped
    assert excel("RELIQUAT_CATCH_TABLE", source, column, AS_OF) == [
        [0.5, 1.0, 0.5], [1.0, 2.0, 1.2], [5.0, 4.0, 8.39]]


def test_a_date_cell_a_date_typed_in_the_formula_and_a_text_mean_the_same_day(excel, source):
    serial = float((dt.date(2026, 11, 30) - dt.date(1899, 12, 30)).days)  # =DATE(2026;11;30)
    answers = {str(as_of): excel("RELIQUAT_CATCH", source, 5.0, as_of)
               for as_of in (AS_OF, serial, "30.11.2026", "2026-11-30")}
    assert set(map(str, answers.values())) == {"[[4.0, 8.39]]"}, answers


def test_a_missing_source_file_shows_a_short_message_in_the_cell(excel, tmp_path, source):
    (Path(source) / "open_items.csv").unlink()
    message = excel("RELIQUAT_OPEN_BALANCE", source, "S1", MISSING)
    assert message == [[f"Reliquat: {Path(source) / 'open_items.csv'}: missing file: "
                        f"open_items.csv (or open_items.xlsx)"]]
    spilled = excel("RELIQUAT_ALTERNATIVES", source, "C2", AS_OF)
    assert spilled == message


def test_a_bad_argument_names_itself_in_the_cell(excel, source):
    assert excel("RELIQUAT_CATCH", source, "five", AS_OF) == [
        ["Reliquat: threshold: not an amount: 'five'"]]
    assert excel("RELIQUAT_CATCH", source, 5.0, "31.02.2026") == [
        ["Reliquat: as_of: no such date: '31.02.2026'"]]
    assert excel("RELIQUAT_CATCH", source, -1.0, AS_OF) == [
        ["Reliquat: threshold: must not be negative: -1.00"]]


def test_an_unexpected_error_shows_one_line_never_a_traceback(excel, source, monkeypatch):
    from addin import api

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the disk went away\nTraceback (most recent call last): ...")

    monkeypatch.setattr(api, "open_balance", broken)
    assert excel("RELIQUAT_OPEN_BALANCE", source, "S1", MISSING) == [
        ["Reliquat: RuntimeError: the disk went away"]]


def test_a_relative_source_is_taken_from_the_workbooks_folder(excel, source):
    assert excel("RELIQUAT_OPEN_BALANCE", "erp", "S1", MISSING) == [[250.80]]


def test_a_relative_source_without_a_saved_workbook_asks_for_a_full_path(excel, source):
    message = excel("RELIQUAT_OPEN_BALANCE", "erp", "S1", MISSING, workbook="Book1")
    assert message == [["Reliquat: erp: a relative path is taken from the workbook's folder, "
                        "and this workbook was never saved: save it, or give the source's "
                        "full path"]]


def test_every_function_declares_only_converters_xlwings_has(excel):
    from xlwings.conversion import accessors

    for name in NAMES:
        declared = excel.declared(name)
        for option in [a["options"] for a in declared["args"]] + [declared["ret"]["options"]]:
            assert option.get("convert") in accessors, (name, option)


def test_the_functions_reach_the_ledger_only_through_the_api():
    tree = ast.parse(Path("udfs/reliquat_functions.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names}
    assert {m for m in imported if m and m.startswith("addin")} <= {
        "addin", "addin.api", "addin.excel.edge", "addin.domain.problems", "addin.locations"}
