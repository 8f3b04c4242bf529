"""A real double-entry tool reads our posting file: hledger refuses a transaction that does
not balance, and shows the transit account back at zero once the billing system has
invoiced the charges of the rebill file."""

import csv
import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from addin import api
from tests.builders import AS_OF, small_utility, write_csv_ledger

pytestmark = pytest.mark.skipif(shutil.which("hledger") is None,
                                reason="hledger is not installed (make system-deps)")


def journal_from_exports(postings: Path, rebill: Path, transit: str, receivable: str) -> str:
    with postings.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    day = dt.datetime.strptime(rows[0]["posting_date"], "%d.%m.%Y").date()
    lines = [f"{day:%Y-%m-%d} batch {rows[0]['batch_id']} posting file"]
    for row in rows:
        amount = f"{row['amount']} {row['currency']}"
        lines.append(f"    {row['debit_account']}    {amount}  ; {row['item_id']}")
        lines.append(f"    {row['credit_account']}    -{row['amount']} {row['currency']}")
    with rebill.open(encoding="utf-8", newline="") as handle:
        charges = list(csv.DictReader(handle, delimiter=";"))
    lines.append("")
    lines.append(f"{day:%Y-%m-%d} billing system invoices the charges")
    for charge in charges:
        amount = Decimal(charge["amount"])
        lines.append(f"    {receivable}    {amount} {charge['currency']}")
        lines.append(f"    {transit}    {-amount} {charge['currency']}")
    return "\n".join(lines) + "\n"


def hledger_balance(journal: Path, account: str) -> str:
    result = subprocess.run(
        ["hledger", "-f", str(journal), "balance", f"^{account}$", "--empty", "-N",
         "--output-format", "csv"],
        capture_output=True, text=True, check=True)
    return result.stdout


def test_hledger_accepts_the_batch_and_the_transit_account_returns_to_zero(tmp_path):
    ledger_dir = write_csv_ledger(tmp_path / "erp", *small_utility())
    review = tmp_path / "review.xlsx"
    api.extract(ledger_dir, review, as_of=AS_OF)
    batch = api.commit(review, tmp_path / "out", accept_proposals=True,
                       now=dt.datetime(2026, 11, 30, 9, 0)).batch
    journal = tmp_path / "batch.journal"
    journal.write_text(journal_from_exports(
        tmp_path / "out" / f"postings_{batch.batch_id}.csv",
        tmp_path / "out" / f"rebill_{batch.batch_id}.csv", "1099", "1100"), encoding="utf-8")

    check = subprocess.run(["hledger", "-f", str(journal), "print"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr  # an unbalanced transaction fails to parse
    assert hledger_balance(journal, "1099").splitlines()[1:] == ['"1099","0"']
    receivable = hledger_balance(journal, "1100").splitlines()[1:]
    assert receivable == ['"1100","-0.70 CHF"']  # only the write-off leaves receivables
