"""The transit account reconciled: which committed rebill lines the billing system has
invoiced, which are still open and for how long, and which movements match nothing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from addin import api
from addin.cli import main
from addin.domain.problems import SourceError
from addin.workbook.ooxml.calamine import read_sheets
from tests.builders import AS_OF, small_utility, write_csv_ledger

NOW = dt.datetime(2026, 11, 30, 9, 0)
LATE = dt.date(2027, 1, 31)  # 62 days after the commit


@pytest.fixture
def committed(tmp_path: Path) -> tuple[Path, str]:
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    api.extract(source, tmp_path / "review.xlsx", as_of=AS_OF, now=NOW)
    batch = api.commit(tmp_path / "review.xlsx", tmp_path / "out", accept_proposals=True,
                       now=NOW).batch.batch_id
    return source, batch  # rebill lines: S1 0.50 (REBILL), S3 3.99 (TRANSFER from S2)


def transit_file(path: Path, lines: list[str]) -> Path:
    path.write_text("posting_date;amount;document_no;reference\n" + "\n".join(lines) + "\n",
                    encoding="utf-8")
    return path


def test_invoiced_lines_are_cleared_and_the_rest_is_named(committed, tmp_path):
    _, batch = committed
    movements = transit_file(tmp_path / "transit.csv", [
        f"30.11.2026;0.50;RLQ1;{batch}",                # Reliquat's own postings
        f"30.11.2026;3.99;RLQ2;{batch}",
        "15.12.2026;-3.99;INV-881;Invoice S3 12/2026",  # the billing system invoiced S3
        "16.12.2026;-0.30;INV-882;Invoice S1 12/2026",  # not the amount of S1's line
        "01.11.2026;-0.50;INV-700;Invoice S1 11/2026",  # before the commit
        "20.12.2026;-12.00;MAN-1;manual correction",
    ])
    outcome = api.reconcile(movements, as_of=LATE)
    found = outcome.reconciliation
    assert [(d.subscription_id, d.amount) for d in found.open] == [("S1", Decimal("0.50"))]
    assert [(c.due.subscription_id, c.document_no) for c in found.cleared] == [
        ("S3", "INV-881")]
    assert [m.document_no for m in found.unmatched] == ["INV-700", "INV-882", "MAN-1"]
    assert [m.document_no for m in found.ours] == ["RLQ1", "RLQ2"]
    assert found.expected_balance == {"CHF": Decimal("0.50")}
    assert found.file_balance == {"CHF": Decimal("-12.30")}
    assert outcome.statuses == {"S1": "active"}


def test_a_line_cleared_once_stays_cleared_and_control_names_the_late_ones(committed,
                                                                          tmp_path):
    source, batch = committed
    api.reconcile(transit_file(tmp_path / "dec.csv", ["15.12.2026;-3.99;INV-881;S3"]),
                  as_of=LATE)
    later = api.extract(source, tmp_path / "feb.xlsx", as_of=LATE)
    control = {r[2]: r[1] for r in read_sheets(tmp_path / "feb.xlsx")["Control"][1:]}
    assert control["transit_alert"].startswith(
        "1 rebill line(s) not invoiced after 60 days (CHF 0.50); reconciled ")
    assert later.selection is not None
    again = api.reconcile(transit_file(tmp_path / "feb.csv", [f"05.02.2027;-0.50;INV-990;{batch}"]),
                          as_of=dt.date(2027, 2, 6))
    assert again.reconciliation.open == ()
    assert sorted(c.document_no for c in again.reconciliation.cleared) == ["INV-881", "INV-990"]


def test_a_reversed_batch_has_nothing_to_reconcile(committed, tmp_path):
    _, batch = committed
    api.reverse(batch, now=NOW)
    found = api.reconcile(transit_file(tmp_path / "t.csv", []), as_of=LATE).reconciliation
    assert found.open == () and found.cleared == ()


def test_a_bad_movement_is_named_by_line_and_column(committed, tmp_path):
    path = transit_file(tmp_path / "t.csv", ["15.12.2026;-3.99;INV-881;S3",
                                             "31.12.2026;-1,00;INV-882;S1"])
    with pytest.raises(SourceError, match=r"t\.csv, line 3, column 'amount': not an amount"):
        api.reconcile(path, as_of=LATE)


def test_the_command_line_prints_json_and_writes_the_report(committed, tmp_path, capsys):
    path = transit_file(tmp_path / "t.csv", ["15.12.2026;-3.99;INV-881;S3"])
    report = tmp_path / "report.xlsx"
    assert main(["reconcile", "--transit", str(path), "--as-of", "31.01.2027", "--json",
                 "--out", str(report)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["open"] == [{"batch_id": committed[1], "subscription_id": "S1",
                             "amount": "0.50", "currency": "CHF", "days": 62, "alert": True,
                             "status": "active"}]
    assert data["expected_balance"] == {"CHF": "0.50"}
    assert [r[:2] for r in read_sheets(report)["Cleared"][1:]] == [[committed[1], "S3"]]
