"""Reverse a batch committed by mistake: a new batch undoes it line for line, its items are
open to Reliquat again, and a batch is reversed once at most."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from addin import api
from addin.domain.problems import CommitRefused
from addin.register.location import default_register
from addin.register.store import Register
from tests.builders import AS_OF, small_utility, write_csv_ledger
from tests.support.exports import exported_items, leftovers

NOW = dt.datetime(2026, 11, 30, 9, 15)
LATER = dt.datetime(2026, 12, 1, 8, 0)


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.fixture
def committed(tmp_path: Path) -> tuple[Path, Path, str]:
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    review = tmp_path / "review.xlsx"
    api.extract(source, review, as_of=AS_OF, now=NOW)
    batch = api.commit(review, tmp_path / "out", accept_proposals=True, now=NOW).batch
    return source, tmp_path / "out", batch.batch_id


def test_a_reversal_swaps_every_posting_and_negates_every_rebill_line(committed):
    _, out, original = committed
    outcome = api.reverse(original, reason="committed the wrong month", now=LATER)
    new = outcome.batch.batch_id
    before, after = rows_of(out / f"postings_{original}.csv"), rows_of(out / f"postings_{new}.csv")
    assert [(r["debit_account"], r["credit_account"], r["amount"], r["item_id"],
             r["document_no"], r["subscription_id"], r["customer_id"], r["action"], r["text"])
            for r in after] == [
        (r["credit_account"], r["debit_account"], r["amount"], r["item_id"], r["document_no"],
         r["subscription_id"], r["customer_id"], "REVERSAL",
         f"Reliquat REVERSAL of {original} {r['document_no']}") for r in before]
    assert {r["posting_date"] for r in after} == {"01.12.2026"}
    charges = rows_of(out / f"rebill_{new}.csv")
    assert [(c["subscription_id"], c["amount"]) for c in charges] == [("S1", "-0.50"),
                                                                      ("S3", "-3.99")]
    record = json.loads((out / f"batch_{new}.json").read_text(encoding="utf-8"))
    assert (record["reverses"], record["reason"]) == (original, "committed the wrong month")
    assert leftovers(out) == []


def test_original_and_reversal_net_to_zero_per_account_currency_and_subscription(committed):
    _, out, original = committed
    new = api.reverse(original, now=LATER).batch.batch_id
    per_account: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for batch in (original, new):
        for row in rows_of(out / f"postings_{batch}.csv"):
            per_account[(row["debit_account"], row["currency"])] += Decimal(row["amount"])
            per_account[(row["credit_account"], row["currency"])] -= Decimal(row["amount"])
    assert set(per_account.values()) == {Decimal("0")}
    per_subscription: dict[str, Decimal] = defaultdict(Decimal)
    for batch in (original, new):
        for row in rows_of(out / f"rebill_{batch}.csv"):
            per_subscription[row["subscription_id"]] += Decimal(row["amount"])
    assert set(per_subscription.values()) == {Decimal("0")}


@pytest.mark.skipif(shutil.which("hledger") is None, reason="hledger is not installed")
def test_hledger_reads_batch_and_reversal_and_every_account_is_back_at_zero(committed,
                                                                            tmp_path):
    _, out, original = committed
    new = api.reverse(original, now=LATER).batch.batch_id
    lines = []
    for batch in (original, new):
        rows = rows_of(out / f"postings_{batch}.csv")
        day = dt.datetime.strptime(rows[0]["posting_date"], "%d.%m.%Y").date()
        lines.append(f"{day:%Y-%m-%d} batch {batch}")
        for row in rows:
            lines.append(f"    {row['debit_account']}    {row['amount']} {row['currency']}")
            lines.append(f"    {row['credit_account']}    -{row['amount']} {row['currency']}")
        lines.append("")
    journal = tmp_path / "reversal.journal"
    journal.write_text("\n".join(lines), encoding="utf-8")
    balance = subprocess.run(["hledger", "-f", str(journal), "balance", "--empty", "-N",
                              "--output-format", "csv"], capture_output=True, text=True,
                             check=True)
    assert [line.split(",")[1] for line in balance.stdout.splitlines()[1:]] == ['"0"'] * 3


def test_the_items_of_a_reversed_batch_are_offered_and_committed_again(committed, tmp_path):
    source, out, original = committed
    api.reverse(original, now=LATER)
    again = api.extract(source, tmp_path / "again.xlsx", as_of=AS_OF)
    assert [r.subscription.subscription_id for r in again.selection.residuals] == [
        "S1", "S2", "S4", "S5"]
    second = api.commit(tmp_path / "again.xlsx", out, accept_proposals=True).batch.batch_id
    assert exported_items(out) == {"I1": 3, "I3": 3, "I4": 3, "I5": 3}  # in, out, in again
    assert sorted(i.item_id for i in Register(default_register()).items_of(second)) == [
        "I1", "I3", "I4", "I5"]
    assert api.register_check([out]).problems == ()


def test_a_batch_is_reversed_once_and_a_reversal_is_not_reversed(committed):
    _, _, original = committed
    reversal = api.reverse(original, now=LATER).batch.batch_id
    with pytest.raises(CommitRefused, match=f"batch {original} was reversed already, by "
                                            f"batch {reversal}"):
        api.reverse(original)
    with pytest.raises(CommitRefused, match=f"batch {reversal} is itself the reversal of "
                                            f"batch {original}"):
        api.reverse(reversal)
    with pytest.raises(CommitRefused, match="there is no batch B20990101-000000-XXXX"):
        api.reverse("B20990101-000000-XXXX")


def test_a_posting_file_changed_after_its_export_is_not_reversed(committed):
    _, out, original = committed
    postings = out / f"postings_{original}.csv"
    postings.write_text(postings.read_text(encoding="utf-8").replace("0.50", "5.00"),
                        encoding="utf-8")
    with pytest.raises(CommitRefused, match="changed since it was exported"):
        api.reverse(original)


def test_a_register_rebuilt_from_the_records_knows_the_reversal(committed, tmp_path):
    source, out, original = committed
    reversal = api.reverse(original, now=LATER).batch.batch_id
    default_register().path.unlink()
    rebuilt = api.register_rebuild([out])
    assert rebuilt.lines[1] == f"batch {reversal}: the reversal of {original} recorded from " \
                               f"{out / f'batch_{reversal}.json'}"
    register = Register(default_register())
    assert register.entry(original).reversed_by == reversal
    assert register.committed() == {}
    offered = api.extract(source, tmp_path / "after.xlsx", as_of=AS_OF)
    assert len(offered.selection.residuals) == 4


def test_the_command_line_reverses_and_says_what_it_did(committed, capsys):
    from addin.cli import main

    _, _, original = committed
    assert main(["reverse", original, "--reason", "wrong month"]) == 0
    said = capsys.readouterr().out
    assert f"reverses batch {original}" in said and "4 posting line(s)" in said
    assert main(["reverse", original]) == 1
    assert "was reversed already" in capsys.readouterr().err
