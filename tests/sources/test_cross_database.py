"""The same ledger in SQLite, PostgreSQL, MariaDB and as a CSV export: the same flagged rows
and, byte for byte, the same export files."""

import datetime as dt
from pathlib import Path

import pytest

from addin import api
from addin.demo.ledger import generate_ledger, write_csv_folder
from tests.builders import with_register

pytestmark = pytest.mark.database
AS_OF = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 11, 30, 9, 0)


def run_batch(source: str, work: Path) -> tuple[list[tuple], dict[str, str]]:
    review = work / "review.xlsx"
    config = with_register(work / "register.sqlite")
    extracted = api.extract(source, review, as_of=AS_OF, now=NOW, config=config)
    committed = api.commit(review, work / "out", accept_proposals=True, now=NOW, config=config)
    rows = [(r.subscription.subscription_id, r.currency, r.balance, r.proposed_action,
             r.proposed_target, r.customer_whole_balance, r.customer_overdue_balance,
             tuple(i.item_id for i in r.items)) for r in extracted.selection.residuals]
    rows += [("excluded", e.item.item_id, e.reason) for e in extracted.selection.exclusions]
    batch = committed.batch.batch_id
    files = {kind: (work / "out" / f"{kind}_{batch}.csv").read_text(encoding="utf-8")
             .replace(batch, "BATCH") for kind in ("postings", "rebill")}
    return rows, files


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[list[tuple], dict[str, str], Path]:
    work = tmp_path_factory.mktemp("sqlite")
    generate_ledger(work / "ledger.sqlite", customers=1500, as_of=AS_OF)
    rows, files = run_batch(str(work / "ledger.sqlite"), work)
    assert len(rows) > 50 and files["postings"].count("\n") > 40
    return rows, files, work / "ledger.sqlite"


def test_a_csv_export_of_the_ledger_gives_the_same_batch(reference, tmp_path):
    rows, files, ledger = reference
    write_csv_folder(ledger, tmp_path / "csv")
    assert run_batch(str(tmp_path / "csv"), tmp_path) == (rows, files)


def test_a_database_server_gives_the_same_batch(reference, server_url, tmp_path):
    rows, files, _ = reference
    generate_ledger(server_url, customers=1500, as_of=AS_OF)
    assert run_batch(server_url, tmp_path) == (rows, files)


def test_many_small_in_lists_give_the_same_batch(reference, tmp_path, monkeypatch):
    """The pushdown splits its IN lists by what each server takes: the cut changes nothing."""
    from addin.sources import sql_keys

    rows, files, ledger = reference
    monkeypatch.setattr(sql_keys, "CHUNK", 7)
    monkeypatch.setattr(sql_keys, "LARGE_CHUNK", 7)
    monkeypatch.setattr(sql_keys, "ONE_PARAMETER", 7)
    assert run_batch(str(ledger), tmp_path) == (rows, files)
