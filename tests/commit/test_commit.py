"""Extract then commit, through the facade, on a small CSV ledger: what the accountant checks."""

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from addin import api
from addin.domain.problems import CommitRefused, ReliquatError
from addin.register.location import default_register
from addin.register.store import Register
from addin.workbook.ooxml.calamine import read_sheets
from tests.builders import AS_OF, small_utility, write_csv_ledger

NOW = dt.datetime(2026, 11, 30, 9, 15)


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    return write_csv_ledger(tmp_path / "erp", *small_utility())


@pytest.fixture
def review(tmp_path: Path, ledger_dir: Path) -> Path:
    """A review extracted with a register in place: it carries the register's check values."""
    api.register_init()
    out = tmp_path / "review.xlsx"
    api.extract(ledger_dir, out, as_of=AS_OF, now=NOW, user="anna")
    return out


def rows_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def set_cells(path: Path, sheet: str, values: dict[str, object]) -> None:
    book = openpyxl.load_workbook(path)
    for ref, value in values.items():
        book[sheet][ref] = value
    book.save(path)


def commit(review: Path, tmp_path: Path, **options):
    return api.commit(review, tmp_path / "out", now=NOW, user="anna", **options)


def test_extract_flags_each_case_with_its_proposal(review: Path):
    residuals = read_sheets(review)["Residuals"]
    got = [(r[0], r[6], r[10], r[11]) for r in residuals[1:]]
    assert got == [
        ("S1", 0.5, "REBILL", "S1"),
        ("S2", 3.99, "TRANSFER", "S3"),
        ("S4", 0.7, "WRITE_OFF", ""),
        ("S5", 3.2, "KEEP", ""),
    ]


def test_accepting_the_proposals_exports_exactly_these_lines(review: Path, tmp_path: Path):
    outcome = commit(review, tmp_path, accept_proposals=True)
    batch = outcome.batch.batch_id
    out = tmp_path / "out"
    assert rows_of(out / f"postings_{batch}.csv")[1:] == [
        [batch, "30.11.2026", "1099", "1100", "0.50", "CHF", "C1", "S1", "I1", "FI1", "REBILL",
         "Reliquat REBILL FI1", ""],
        [batch, "30.11.2026", "1099", "1100", "4.99", "CHF", "C2", "S2", "I3", "FI3",
         "TRANSFER", "Reliquat TRANSFER FI3 -> S3", ""],
        [batch, "30.11.2026", "1100", "1099", "1.00", "CHF", "C2", "S2", "I4", "FI4",
         "TRANSFER", "Reliquat TRANSFER FI4 -> S3", ""],
        [batch, "30.11.2026", "6950", "1100", "0.70", "CHF", "C3", "S4", "I5", "FI5",
         "WRITE_OFF", "Reliquat WRITE_OFF FI5", ""],
    ]
    assert rows_of(out / f"rebill_{batch}.csv") == [
        ["batch_id", "subscription_id", "customer_id", "charge_code", "amount", "currency",
         "vat_code", "source_subscription_id", "documents", "text"],
        [batch, "S1", "C1", "RELIQUAT", "0.50", "CHF", "V0", "S1", "FI1",
         "Balance of previous invoices FI1"],
        [batch, "S3", "C2", "RELIQUAT", "3.99", "CHF", "V0", "S2", "FI3 FI4",
         "Balance of previous invoices FI3 FI4"],
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted([
        f"postings_{batch}.csv", f"rebill_{batch}.csv", f"batch_{batch}.json",
        f"batch_{batch}.xlsx"])


def test_the_batch_record_holds_totals_and_the_files_checksums(review: Path, tmp_path: Path):
    outcome = commit(review, tmp_path, accept_proposals=True)
    record = json.loads((tmp_path / "out" / f"batch_{outcome.batch.batch_id}.json").read_text())
    assert record["committed_by"] == "anna"
    assert record["counts"] == {"subscriptions": 3, "items": 4, "posting_lines": 4,
                                "rebill_lines": 2, "refused_rows": 0}
    assert record["transit_balance"] == {"CHF": "4.49"}
    assert [t["amount"] for t in record["totals"]] == ["0.50", "3.99", "0.70"]
    batch = outcome.batch.batch_id
    assert set(record["files"]) == {f"postings_{batch}.csv", f"rebill_{batch}.csv",
                                    f"batch_{batch}.xlsx"}
    assert record["item_columns"] == ["item_id", "subscription_id", "customer_id", "currency",
                                      "amount", "action", "target"]
    assert record["items"] == [["I1", "S1", "C1", "CHF", "0.50", "REBILL", "S1"],
                               ["I3", "S2", "C2", "CHF", "4.99", "TRANSFER", "S3"],
                               ["I4", "S2", "C2", "CHF", "-1.00", "TRANSFER", "S3"],
                               ["I5", "S4", "C3", "CHF", "0.70", "WRITE_OFF", None]]
    assert record["register"]["id"].startswith("R")


def test_the_workbook_is_stamped_and_journaled(review: Path, tmp_path: Path):
    batch = commit(review, tmp_path, accept_proposals=True).batch.batch_id
    sheets = read_sheets(review)
    assert [r[17] for r in sheets["Residuals"][1:]] == [batch, batch, batch, ""]
    journal = sheets["Journal"][1:]
    assert [(r[0], r[3], r[4], r[7]) for r in journal] == [
        (batch, "batch", "", ""),
        (batch, "action", "REBILL", 0.5),
        (batch, "action", "TRANSFER", 3.99),
        (batch, "action", "WRITE_OFF", 0.7),
    ]
    audit = read_sheets(tmp_path / "out" / f"batch_{batch}.xlsx")
    assert audit["Journal"] == sheets["Journal"]


def test_only_rows_marked_yes_are_committed(review: Path, tmp_path: Path):
    set_cells(review, "Residuals", {"P3": "Yes"})
    outcome = commit(review, tmp_path)
    assert [d.subscription_id for d in outcome.batch.decisions] == ["S2"]


def test_a_row_marked_no_is_left_out_of_the_proposals(review: Path, tmp_path: Path):
    set_cells(review, "Residuals", {"P2": "No"})
    outcome = commit(review, tmp_path, accept_proposals=True)
    assert [d.subscription_id for d in outcome.batch.decisions] == ["S2", "S4"]


def test_committing_the_same_workbook_again_is_refused_naming_the_batch(review, tmp_path):
    batch = commit(review, tmp_path, accept_proposals=True).batch.batch_id
    with pytest.raises(CommitRefused, match=f"already committed in batch {batch}"):
        commit(review, tmp_path, accept_proposals=True)


def test_a_second_workbook_holding_the_same_items_is_refused(review, ledger_dir, tmp_path):
    second = tmp_path / "second.xlsx"
    api.extract(ledger_dir, second, as_of=AS_OF, now=NOW)
    batch = commit(review, tmp_path, accept_proposals=True).batch.batch_id
    with pytest.raises(CommitRefused) as refused:
        api.commit(second, tmp_path / "out2", accept_proposals=True, now=NOW)
    assert f"item I1 was already committed in batch {batch}" in str(refused.value)
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())


def test_a_later_extraction_no_longer_offers_committed_items(review, ledger_dir, tmp_path):
    batch = commit(review, tmp_path, accept_proposals=True).batch.batch_id
    later = api.extract(ledger_dir, tmp_path / "later.xlsx", as_of=AS_OF, now=NOW)
    assert [r.subscription.subscription_id for r in later.selection.residuals] == ["S5"]
    reasons = {e.item.item_id: e.reason for e in later.selection.exclusions}
    assert reasons["I1"] == f"already committed in batch {batch}"


def test_an_amount_edited_in_the_workbook_is_refused_naming_its_row(review, tmp_path):
    set_cells(review, "Items", {"I2": Decimal("0.40")})
    with pytest.raises(CommitRefused) as refused:
        commit(review, tmp_path, accept_proposals=True)
    assert f"{review}, line 2, column 'Items': item I1 was changed since " \
           f"extraction (amount 0.40); extract again" in str(refused.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_rebill_on_a_terminated_subscription_is_refused(review, tmp_path):
    set_cells(review, "Residuals", {"N3": "REBILL", "P3": "Yes"})
    with pytest.raises(CommitRefused, match="line 3, column 'Action'.*REBILL needs an active "
                                            "subscription: S2 is terminated"):
        commit(review, tmp_path)


def test_transfer_to_another_customers_subscription_is_refused(review, tmp_path):
    set_cells(review, "Residuals", {"O3": "S1", "P3": "Yes"})
    with pytest.raises(CommitRefused, match="target S1 belongs to customer C1, not C2"):
        commit(review, tmp_path)


def test_transfer_without_a_target_is_refused(review, tmp_path):
    set_cells(review, "Residuals", {"N4": "TRANSFER", "P4": "Yes"})
    with pytest.raises(CommitRefused, match="line 4, column 'Target subscription', "
                                            "subscription S4: TRANSFER needs a target"):
        commit(review, tmp_path)


def test_nothing_accepted_is_refused(review, tmp_path):
    with pytest.raises(CommitRefused, match="nothing to commit"):
        commit(review, tmp_path)


def test_validate_checks_and_writes_nothing(review, tmp_path):
    before = review.read_bytes()
    outcome = commit(review, tmp_path, accept_proposals=True, dry_run=True)
    assert len(outcome.checks.accepted) == 3 and outcome.batch is None
    assert review.read_bytes() == before and not (tmp_path / "out").exists()


def test_a_text_starting_with_equals_is_text_in_the_workbook_and_neutralised_in_exports(
        review, tmp_path):
    cell = openpyxl.load_workbook(review)["Residuals"]["C3"]
    assert (cell.value, cell.data_type) == ("=Dupont", "s")


class Boom(Exception):
    pass


def assert_nothing_written(review: Path, before: bytes, tmp_path: Path) -> None:
    assert review.read_bytes() == before
    assert sorted(p.name for p in review.parent.iterdir() if p.name.startswith(".")) == []
    out = tmp_path / "out"
    assert not out.exists() or [p.name for p in out.iterdir()] == []
    assert Register(default_register()).committed() == {}


@pytest.mark.parametrize("where", ["addin.commit.writing.write_rebills",
                                   "addin.commit.writing.write_batch_record",
                                   "addin.workbook.openpyxl_file.FileReview.write_stamped"])
def test_a_failure_in_the_middle_of_a_commit_leaves_nothing(review, tmp_path, monkeypatch,
                                                            where):
    def fail(*args, **kwargs):
        raise Boom(where)

    monkeypatch.setattr(where, fail)
    before = review.read_bytes()
    with pytest.raises(Boom):
        commit(review, tmp_path, accept_proposals=True)
    assert_nothing_written(review, before, tmp_path)


def test_a_register_that_cannot_record_the_batch_leaves_nothing(review, tmp_path,
                                                                monkeypatch):
    def fail(*args, **kwargs):
        raise Boom("register write")

    monkeypatch.setattr(Register, "claim", fail)
    before = review.read_bytes()
    with pytest.raises(Boom):
        commit(review, tmp_path, accept_proposals=True)
    assert_nothing_written(review, before, tmp_path)


def test_an_unreadable_source_at_commit_refuses_unless_offline(review, ledger_dir, tmp_path):
    (ledger_dir / "open_items.csv").rename(ledger_dir / "moved.csv")
    with pytest.raises(ReliquatError, match="commit with --offline"):
        commit(review, tmp_path, accept_proposals=True)
    outcome = commit(review, tmp_path, accept_proposals=True, offline=True)
    assert outcome.offline and len(outcome.batch.decisions) == 3
    journal = read_sheets(review)["Journal"]
    assert "offline: items not checked against the source" in journal[1][9]


def test_a_workbook_saved_again_during_the_commit_is_refused_and_nothing_written(
        review, tmp_path, monkeypatch):
    from addin.commit import protocol

    def saved_meanwhile(name: str) -> None:
        if name == "claimed":
            review.write_bytes(review.read_bytes())  # Excel saves it: a new time stamp
            import os

            os.utime(review, ns=(1, 1))

    monkeypatch.setattr(protocol, "checkpoint", saved_meanwhile)
    with pytest.raises(ReliquatError, match="the workbook was saved again while it was being "
                                            "committed"):
        commit(review, tmp_path, accept_proposals=True)
    assert Register(default_register()).entries() == []
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_french_review_is_answered_with_its_own_headers(ledger_dir, tmp_path):
    from dataclasses import replace

    from addin.config import Config

    review = tmp_path / "revue.xlsx"
    api.extract(ledger_dir, review, as_of=AS_OF, now=NOW, config=replace(Config(),
                                                                         language="fr"))
    set_cells(review, "Reliquats", {"P2": "peut-être", "N4": "TRANSFER", "P4": "Oui"})
    with pytest.raises(CommitRefused) as refused:
        commit(review, tmp_path)
    message = str(refused.value)
    assert "line 2, column 'Reliquats!Accepter': not Yes or No: 'peut-être'" in message
    assert "line 4, column 'Abonnement cible', subscription S4: TRANSFER needs a target" \
        in message
