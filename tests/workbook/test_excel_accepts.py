"""Every workbook Reliquat writes, checked the way Excel is strict about a file (ooxml-check):
valid against the ECMA-376 and RibbonX schemas, nothing Excel would repair."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from addin import api
from addin.register.location import register_for
from addin.workbook.ooxml.stamping import CannotPatch
from addin.workbook.review import layout
from tests.builders import AS_OF, item, small_utility, with_register, write_csv_ledger
from tests.support import ooxml_check

pytestmark = pytest.mark.skipif(not ooxml_check.available(),
                                reason=f"no ooxml-check at {ooxml_check.VALIDATOR}")

LONG_NAME = "Müller " + "x" * 40_000
LONG_LABEL = "\N{GRINNING FACE}" * 20_000  # 20 000 characters, 40 000 as Excel counts them


def long_text_ledger(folder: Path) -> Path:
    """The small utility with texts longer than a cell holds: a customer's name, a label."""
    items, subscriptions = small_utility()
    items = [i._replace(customer_name=LONG_NAME) if i.customer_id == "C1" else i for i in items]
    items.append(item("I8", "S3", "0.40", customer="C2", name="=Dupont"))
    subscriptions = [s._replace(label=LONG_LABEL) if s.subscription_id == "S1" else s
                     for s in subscriptions]
    return write_csv_ledger(folder, items, subscriptions)


def review_and_commit(folder: Path, source: Path, language: str, suffix: str,
                      name: str = "review") -> list[Path]:
    """A review extracted, then committed: the review before, stamped, and its audit copy."""
    config = replace(with_register(folder / f"register-{name}{suffix}.sqlite"),
                     language=language)
    register_for(config).create()
    review = folder / f"{name}-{language}{suffix}"
    api.extract(source, review, as_of=AS_OF, config=config)
    before = folder / f"extracted-{name}-{language}{suffix}"
    before.write_bytes(review.read_bytes())
    outcome = api.commit(review, folder / f"exports-{name}{suffix}", config=config,
                         accept_proposals=True)
    [audit_copy] = [f for f in outcome.files if f.suffix == suffix]
    return [before, review, audit_copy]


def cannot_patch(*args: object) -> None:
    raise CannotPatch("this test wants the openpyxl fallback")


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    written: dict[str, list[Path]] = {}
    for language in layout.LANGUAGES:
        folder = tmp_path_factory.mktemp(f"workbooks-{language}")
        source = long_text_ledger(folder / "erp")
        written[language] = [api.write_template(folder / "template.xlsm", language=language)]
        for suffix in (".xlsm", ".xlsx"):
            written[language] += review_and_commit(folder, source, language, suffix)
        with pytest.MonkeyPatch.context() as patch:  # a package the patch cannot stamp
            patch.setattr("addin.workbook.openpyxl_file.write_stamped", cannot_patch)
            written[language] += review_and_commit(folder, source, language, ".xlsm",
                                                   "by-openpyxl")[1:]
    return written


@pytest.mark.parametrize("language", layout.LANGUAGES)
def test_excel_opens_every_workbook_reliquat_writes_without_repairing_it(
        workbooks: dict[str, list[Path]], language: str) -> None:
    files = workbooks[language]
    # template; review, stamped review and audit copy, .xlsm and .xlsx; both stamped through
    # openpyxl
    assert len(files) == 9
    assert ooxml_check.errors(files) == {}


def test_a_text_too_long_for_a_cell_is_cut_with_a_marker_and_counted_on_control(
        workbooks: dict[str, list[Path]]) -> None:
    review = CalamineWorkbook.from_path(str(workbooks["en"][1]))
    residuals = review.get_sheet_by_name("Residuals").to_python()
    name, label = residuals[1][2], residuals[1][3]
    assert name.startswith("Müller xxx") and name.endswith("… [cut: 40 007 characters in all]")
    assert len(name) == 32_767
    assert label.startswith("\N{GRINNING FACE}")
    assert label.endswith("… [cut: 20 000 characters in all]")
    assert len(label.encode("utf-16-le")) // 2 <= 32_767
    control = {row[2]: row[1] for row in review.get_sheet_by_name("Control").to_python()[1:]}
    assert control["texts_cut"] == 4  # the name on Residuals, Items and Excluded; the label
