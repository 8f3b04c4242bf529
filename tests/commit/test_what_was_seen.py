"""What a new user did that exported the same items twice or trusted the workbook for facts
(issue 9, "What was seen"), each as the user did it: through the command line."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.builders import small_utility, write_csv_ledger
from tests.support.exports import exported_items

pytestmark = pytest.mark.slow  # each step is a command run as a process, as a user runs it
EXPORTED = {"I1": 1, "I3": 1, "I4": 1, "I5": 1}


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "addin", *arguments], capture_output=True,
                          text=True, timeout=120)


def extract(source: Path, out: Path, *more: str) -> subprocess.CompletedProcess[str]:
    done = run("extract", "--source", str(source), "--out", str(out), "--as-of",
               "30.11.2026", *more)
    assert done.returncode == 0, done.stderr
    return done


def commit(review: Path, out_dir: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return run("commit", str(review), "--out-dir", str(out_dir), "--accept-proposals", *more)


def set_cells(path: Path, sheet: str, values: dict[str, object]) -> None:
    book = openpyxl.load_workbook(path)
    for ref, value in values.items():
        book[sheet][ref] = value
    book.save(path)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_csv_ledger(tmp_path / "erp", *small_utility())


@pytest.fixture
def keyed(tmp_path: Path) -> None:
    """A register exists before the extraction, as after a first batch."""
    assert run("register", "init").returncode == 0


# --- 1. a second register ------------------------------------------------------------------


def test_next_month_extracted_into_another_folder_offers_nothing_committed(source, tmp_path):
    november = tmp_path / "2026-11" / "review.xlsx"
    extract(source, november)
    assert commit(november, tmp_path / "exports").returncode == 0
    december = tmp_path / "2026-12" / "review.xlsx"
    offered = extract(source, december)
    assert "REBILL" not in offered.stdout and "TRANSFER" not in offered.stdout
    again = commit(december, tmp_path / "exports")
    assert again.returncode == 1 and "nothing to commit" in again.stderr
    assert dict(exported_items(tmp_path / "exports")) == EXPORTED


def test_a_copy_taken_before_the_commit_is_refused_after_the_folder_was_archived(source,
                                                                                 tmp_path):
    review = tmp_path / "2026-11" / "review.xlsx"
    extract(source, review)
    copy = tmp_path / "elsewhere" / "copy.xlsx"
    copy.parent.mkdir()
    shutil.copyfile(review, copy)
    assert commit(review, tmp_path / "exports").returncode == 0
    (tmp_path / "2026-11").rename(tmp_path / "archive-2026-11")
    refused = commit(copy, tmp_path / "elsewhere" / "exports")
    assert refused.returncode == 1
    assert "item I1 was already committed in batch B" in refused.stderr
    assert dict(exported_items(tmp_path / "exports", tmp_path / "elsewhere" / "exports")) \
        == EXPORTED


def test_a_blanked_register_cell_does_not_make_a_new_register(source, tmp_path, keyed):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    copy = tmp_path / "copy.xlsx"
    shutil.copyfile(review, copy)
    assert commit(review, tmp_path / "exports").returncode == 0
    set_cells(copy, "Control", {"B8": None})  # the Register cell
    refused = commit(copy, tmp_path / "exports2")
    assert refused.returncode == 1 and "already committed in batch B" in refused.stderr
    assert not (tmp_path / "reliquat-register.sqlite").exists()


def test_a_commit_against_another_register_is_refused_naming_both(source, tmp_path, keyed):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    other = tmp_path / "other.toml"
    other.write_text('[register]\npath = "other-register.sqlite"\n', encoding="utf-8")
    assert run("register", "init", "--config", str(other)).returncode == 0
    refused = commit(review, tmp_path / "exports", "--config", str(other))
    assert refused.returncode == 1
    assert "this workbook was extracted with register R" in refused.stderr
    assert "not with register R" in refused.stderr
    assert str(tmp_path / "other-register.sqlite") in refused.stderr
    assert exported_items(tmp_path / "exports") == {}


def test_a_register_that_is_not_there_is_not_created_by_the_commit_of_a_keyed_workbook(
        source, tmp_path, keyed):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    elsewhere = tmp_path / "fresh.toml"
    elsewhere.write_text('[register]\npath = "nowhere/register.sqlite"\n', encoding="utf-8")
    refused = commit(review, tmp_path / "exports", "--config", str(elsewhere))
    assert refused.returncode == 1 and "there is no register at" in refused.stderr
    assert not (tmp_path / "nowhere").exists()


def test_validate_and_a_refused_commit_create_no_register_and_no_folder(source, tmp_path):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    config = tmp_path / "team.toml"
    config.write_text('[register]\npath = "shared/register.sqlite"\n', encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run("validate", str(review), "--accept-proposals").returncode == 0
    nothing = run("commit", str(review), "--out-dir", str(tmp_path / "out"))
    assert nothing.returncode == 1 and "nothing to commit" in nothing.stderr
    other = run("validate", str(review), "--config", str(config))
    assert other.returncode == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# --- 3. the workbook trusted for facts -----------------------------------------------------


def test_a_customer_column_sorted_on_its_own_is_refused(source, tmp_path, keyed):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    set_cells(review, "Residuals", {"B2": "C2", "B3": "C1"})
    refused = commit(review, tmp_path / "exports")
    assert refused.returncode == 1
    assert "line 2, column 'Residuals', subscription S1: this row was changed since " \
           "extraction" in refused.stderr
    assert exported_items(tmp_path / "exports") == {}


def test_without_a_key_a_customer_sorted_on_its_own_is_stale_by_the_source(source, tmp_path):
    review = tmp_path / "review.xlsx"
    extract(source, review)  # no register yet: the workbook has no check values
    set_cells(review, "Residuals", {"B2": "C2", "B3": "C1"})
    refused = commit(review, tmp_path / "exports")
    assert refused.returncode == 1
    assert "subscription S1 belongs to customer C1 in the source, the row shows C2" \
        in refused.stderr
    partial = commit(review, tmp_path / "exports", "--confirm-partial")
    assert partial.returncode == 0
    assert dict(exported_items(tmp_path / "exports")) == {"I5": 1}


def old_fingerprint(extraction: str, subscription: str, item: str, amount: str) -> str:
    """The unkeyed check value of Reliquat 0.1, as anyone could recompute it."""
    text = f"{extraction}|{subscription}|CHF|{item}|{amount}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def extraction_id(review: Path) -> str:
    control = openpyxl.load_workbook(review)["Control"]
    return next(row[1].value for row in control.iter_rows() if row[2].value == "extraction_id")


@pytest.mark.parametrize("with_key", [True, False])
def test_a_not_yet_due_invoice_added_under_a_row_is_never_committed(source, tmp_path,
                                                                    with_key):
    if with_key:
        assert run("register", "init").returncode == 0
    review = tmp_path / "review.xlsx"
    extract(source, review)
    xid = extraction_id(review)
    set_cells(review, "Items", {"A7": "S1", "B7": "CHF", "C7": "I2", "D7": "FI2", "I7": 250.0,
                                "J7": "C1", "M7": old_fingerprint(xid, "S1", "I2", "250.00")})
    set_cells(review, "Residuals", {"G2": 250.5, "H2": 2})
    refused = commit(review, tmp_path / "exports")
    assert refused.returncode == 1
    if with_key:
        assert "line 7, column 'Items': item I2 was changed since extraction" in refused.stderr
    else:
        assert "item I2 does not count under the extraction's rules: not yet due " \
               "(due 10.12.2026)" in refused.stderr
    partial = commit(review, tmp_path / "exports", "--confirm-partial")
    assert "I2" not in exported_items(tmp_path / "exports")
    assert "250" not in "".join(p.read_text() for p in (tmp_path / "exports").glob("*.csv")) \
        if partial.returncode == 0 else True


def test_another_customers_item_moved_under_a_row_is_refused(source, tmp_path):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    set_cells(review, "Items", {"A6": "S1", "J6": "C1"})  # I6 of S5 (C4) under S1
    set_cells(review, "Residuals", {"G2": 3.7, "H2": 2})
    refused = commit(review, tmp_path / "exports")
    assert refused.returncode == 1
    assert "item I6 is on subscription S5 in the source, not on S1" in refused.stderr


def test_offline_an_amount_edited_with_its_check_value_recomputed_is_refused(source, tmp_path,
                                                                           keyed):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    xid = extraction_id(review)
    set_cells(review, "Items", {"I2": 0.05, "M2": old_fingerprint(xid, "S1", "I1", "0.05")})
    set_cells(review, "Residuals", {"G2": 0.05})
    refused = commit(review, tmp_path / "exports", "--offline")
    assert refused.returncode == 1
    assert "line 2, column 'Items': item I1 was changed since extraction (amount 0.05)" \
        in refused.stderr


def test_offline_needs_a_workbook_extracted_with_a_register(source, tmp_path):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    refused = commit(review, tmp_path / "exports", "--offline")
    assert refused.returncode == 1
    assert "extracted before the register existed" in refused.stderr


def test_a_changed_threshold_on_the_control_sheet_is_refused(source, tmp_path, keyed):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    set_cells(review, "Control", {"B3": 1000})
    refused = commit(review, tmp_path / "exports")
    assert refused.returncode == 1
    assert "the extraction's settings (source, threshold, as-of date or rules) were changed" \
        in refused.stderr


# --- 6. overwriting a review ---------------------------------------------------------------


def test_extract_refuses_to_overwrite_a_reviewers_decisions_unless_forced(source, tmp_path):
    review = tmp_path / "review.xlsx"
    extract(source, review)
    set_cells(review, "Residuals", {"P3": "Yes", "Q4": "call the customer first"})
    refused = run("extract", "--source", str(source), "--out", str(review), "--as-of",
                  "30.11.2026")
    assert refused.returncode == 1
    assert "holds a reviewer's decisions (Residuals lines 3, 4)" in refused.stderr
    assert openpyxl.load_workbook(review)["Residuals"]["P3"].value == "Yes"
    extract(source, review, "--force")
    assert openpyxl.load_workbook(review)["Residuals"]["P3"].value is None
