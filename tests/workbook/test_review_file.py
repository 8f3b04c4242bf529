"""The review workbook as Excel reads it: sheets, formats, dropdowns by defined name."""

import datetime as dt
from dataclasses import replace

import openpyxl
import pytest

from addin import api
from addin.config import Config
from addin.domain.actions import Action
from addin.domain.problems import WorkbookError
from addin.workbook.ooxml.calamine import read_review
from addin.workbook.review import layout
from tests.builders import AS_OF, small_utility, write_csv_ledger


@pytest.fixture
def review(tmp_path):
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    out = tmp_path / "review.xlsx"
    api.extract(source, out, as_of=AS_OF, now=dt.datetime(2026, 11, 30, 9, 0))
    return out


def test_sheets_headers_and_formats_an_accountant_expects(review):
    book = openpyxl.load_workbook(review)
    assert book.sheetnames == ["Control", "Residuals", "Items", "Excluded", "Repeat", "Journal",
                              "Lists"]
    assert book["Lists"].sheet_state == "hidden"
    residuals = book["Residuals"]
    assert residuals.freeze_panes == "A2"
    assert residuals.auto_filter.ref == "A1:X5"
    assert residuals["G2"].number_format == "#,##0.00"
    assert residuals.column_dimensions["T"].hidden and residuals.column_dimensions["V"].hidden
    assert book["Items"]["F2"].number_format == "DD.MM.YYYY"
    assert [c.value for c in residuals[1]][:3] == ["Subscription", "Customer", "Name"]


YELLOW = "FFFFF4CC"


def test_amounts_show_thousands_separators(review):
    book = openpyxl.load_workbook(review)
    residuals, items = book["Residuals"], book["Items"]
    assert {residuals.cell(2, column).number_format for column in (7, 9, 10)} == {"#,##0.00"}
    assert {items.cell(2, column).number_format for column in (8, 9)} == {"#,##0.00"}
    threshold = next(row for row in book["Control"].iter_rows() if row[2].value == "threshold")
    assert threshold[1].number_format == "#,##0.00"


@pytest.mark.parametrize("workbook", ["review", "template"])
def test_on_control_only_the_inputs_are_yellow(review, tmp_path, workbook):
    path = review if workbook == "review" else api.write_template(tmp_path / "t.xlsm")
    control = openpyxl.load_workbook(path)["Control"]
    yellow = {row[2].value for row in control.iter_rows(min_row=2)
              if row[1].fill.fgColor.rgb == YELLOW}
    assert yellow == set(layout.CONTROL_INPUTS)
    assert {cell.fill.fgColor.rgb for cell in control["A"]} != {YELLOW}


def test_dropdowns_take_their_lists_from_defined_names(review):
    book = openpyxl.load_workbook(review)
    rules = {str(v.sqref): v.formula1 for v in book["Residuals"].data_validations.dataValidation}
    assert rules == {
        "N2:N5": "RLQ_ACTIONS",
        "O2:O5": "OFFSET(RLQ_ALTS,$T2,0,MAX(1,$U2),1)",
        "P2:P5": "RLQ_ACCEPT",
    }
    names = {n: book.defined_names[n].attr_text for n in ("RLQ_ACTIONS", "RLQ_ACCEPT", "RLQ_ALTS")}
    assert names == {"RLQ_ACTIONS": f"'Lists'!$A$1:$A${len(Action)}",
                     "RLQ_ACCEPT": "'Lists'!$B$1:$B$2", "RLQ_ALTS": "'Lists'!$C$1:$C$3"}
    listed = [row[0].value for row in book["Lists"].iter_rows(max_col=1, max_row=len(Action))]
    assert listed == list(Action)  # the policy table's actions, in its order


def test_the_excluded_sheet_lists_each_small_item_kept_out_with_its_reason(review):
    rows = list(openpyxl.load_workbook(review)["Excluded"].values)[1:]
    assert [(r[0], r[8]) for r in rows] == [("I7", "dunning block")]


def test_french_headers_and_sheet_names_read_back_the_same(tmp_path):
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    out = tmp_path / "revue.xlsx"
    api.extract(source, out, as_of=AS_OF, config=replace(Config(), language="fr"))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:3] == ["Contrôle", "Reliquats", "Postes"]
    assert book["Reliquats"]["N1"].value == "Action" and book["Reliquats"]["O1"].value == (
        "Abonnement cible")
    assert book["Listes"]["B1"].value == "Oui"
    review = read_review(out)
    assert review.language == "fr" and len(review.rows) == 4


def test_a_huge_amount_typed_into_the_review_is_refused_naming_its_cell(review):
    book = openpyxl.load_workbook(review)
    book["Residuals"]["G2"] = 1.5e+26
    book["Items"]["I3"] = 10**20
    book.save(review)
    with pytest.raises(WorkbookError) as error:
        read_review(review)
    too_large = "too large (at most 16 digits before the decimal point)"
    assert [str(p) for p in error.value.problems] == [
        f"{review}, line 2, column 'Residuals!Balance': {too_large}: 1.5e+26",
        f"{review}, line 3, column 'Items!Open amount': {too_large}: 1e+20",
    ]


def set_errors(path, sheet, errors):
    """Error values as Excel stores them: cells of type 'e'."""
    book = openpyxl.load_workbook(path)
    for ref, error in errors.items():
        book[sheet][ref] = error
        book[sheet][ref].data_type = "e"
    book.save(path)


def not_a_value(error):
    return f"{error} is an Excel error, not a value: correct the cell or clear it"


def test_an_excel_error_in_a_decision_or_a_fact_cell_is_refused_naming_the_cell(review):
    set_errors(review, "Residuals", {"P2": "#N/A", "O3": "#REF!", "N4": "#SPILL!",
                                     "Q5": "#CALC!", "G2": "#VALUE!"})
    set_errors(review, "Items", {"I2": "#DIV/0!"})
    with pytest.raises(WorkbookError) as error:
        read_review(review)
    assert [str(p) for p in error.value.problems] == [
        f"{review}, line 2, column 'Residuals!Balance': {not_a_value('#VALUE!')}",
        f"{review}, line 4, column 'Residuals!Action': {not_a_value('#SPILL!')}",
        f"{review}, line 3, column 'Residuals!Target subscription': {not_a_value('#REF!')}",
        f"{review}, line 2, column 'Residuals!Accept': {not_a_value('#N/A')}",
        f"{review}, line 5, column 'Residuals!Notes': {not_a_value('#CALC!')}",
        f"{review}, line 2, column 'Items!Open amount': {not_a_value('#DIV/0!')}",
    ]


def test_a_commit_of_the_proposals_does_not_take_a_row_whose_accept_cell_is_an_error(
        review, tmp_path):
    set_errors(review, "Residuals", {"P2": "#N/A"})
    with pytest.raises(WorkbookError) as error:
        api.commit(review, tmp_path / "out", accept_proposals=True)
    assert str(error.value) == (f"{review}, line 2, column 'Residuals!Accept': "
                                f"{not_a_value('#N/A')}")
    assert not (tmp_path / "out").exists()
