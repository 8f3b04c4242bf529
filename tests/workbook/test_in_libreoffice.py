"""The review workbook opened in a real spreadsheet engine: LibreOffice shows the dropdown
options each row offers, the names as text, and the VBA project's modules."""

import datetime as dt

import pytest

from addin import api
from tests.builders import AS_OF, active, item, small_utility, terminated, write_csv_ledger

libreoffice = pytest.importorskip("tests.support.libreoffice")
pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(not libreoffice.soffice_available(),
                       reason="LibreOffice is not installed (make system-deps)"),
]


def test_libreoffice_shows_each_rows_dropdown_options(tmp_path):
    items, subs = small_utility()
    items.append(item("I9", "S6", "0.90", customer="C5"))
    subs += [terminated("S6", "C5"), active("S7", "C5", next_bill=dt.date(2027, 1, 31)),
             active("S8", "C5", next_bill=dt.date(2026, 12, 31))]
    source = write_csv_ledger(tmp_path / "erp", items, subs)
    review = tmp_path / "review.xlsm"
    api.extract(source, review, as_of=AS_OF)

    seen = libreoffice.inspect(
        review, cells=["Residuals!A2:C6"],
        validations=["Residuals!N2", "Residuals!O2", "Residuals!O3", "Residuals!O5",
                     "Residuals!O6", "Residuals!P2"],
        basic=True)

    options = {ref: v["options"] for ref, v in seen["validations"].items()}
    assert options["Residuals!N2"] == ["REBILL", "TRANSFER", "WRITE_OFF", "KEEP"]
    assert options["Residuals!P2"] == ["Yes", "No"]
    assert options["Residuals!O2"] == ["S1"]           # C1: its one active subscription
    assert options["Residuals!O3"] == ["S3"]           # C2 moved: S2 ended, S3 active
    assert options["Residuals!O6"] == ["S8", "S7"]     # C5: billed soonest first
    assert options["Residuals!O5"] in ([], [""])       # C4: nothing active to move to
    assert seen["cells"]["Residuals!C3"] == "=Dupont"  # a name, not a formula
    assert "Ribbon" in next(iter(seen["basic"].values()))


def test_libreoffice_opens_the_template_with_its_vba_modules_and_empty_dropdowns():
    from pathlib import Path

    template = Path(__file__).resolve().parents[2] / "workbook_template.xlsm"
    seen = libreoffice.inspect(template, validations=["Residuals!N2", "Residuals!O2"],
                               basic=True, names=True)
    [modules] = seen["basic"].values()
    assert set(modules) == {"Ribbon", "ThisWorkbook", "shControl", "shResiduals", "shItems",
                            "shExcluded", "shRepeat", "shJournal", "shLists"}
    assert "Sub OnCommit(control As IRibbonControl)" in modules["Ribbon"]
    assert seen["validations"]["Residuals!N2"]["options"] == [
        "REBILL", "TRANSFER", "WRITE_OFF", "KEEP"]
    assert seen["validations"]["Residuals!O2"]["options"] == [""]
    assert [s["name"] for s in seen["sheets"] if not s["visible"]] == ["Lists"]
