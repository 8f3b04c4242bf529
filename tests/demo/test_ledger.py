"""The generated ledger: deterministic, every case of the demo present, exact amounts, and the
CSV folder a Swiss ERP would export."""

from __future__ import annotations

import csv
import datetime as dt
import re
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from addin.config import (
    OPEN_ITEM_COLUMNS,
    OPEN_ITEM_OPTIONAL,
    SUBSCRIPTION_COLUMNS,
    SUBSCRIPTION_OPTIONAL,
    Config,
)
from addin.demo import ledger as demo_data
from addin.demo.ledger import DEMO_AS_OF, LedgerStats, generate_ledger, write_csv_folder
from addin.domain.model import Ledger, OpenItem, Rules, Status, Subscription
from addin.domain.rules import select
from addin.sources import read_ledger

MONEY = re.compile(r"^-?\d+\.\d{2}$")
CENTS = "CAST(ROUND({} * 100) AS INTEGER)"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LedgerStats]:
    path = tmp_path_factory.mktemp("demo") / "ledger.sqlite"
    return path, generate_ledger(path)


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql).fetchall()


def scalar(path: Path, sql: str) -> Any:
    return query(path, sql)[0][0]


def table(path: Path, name: str) -> list[tuple[Any, ...]]:
    return query(path, f"SELECT * FROM {name} ORDER BY 1")


def ledger_of(path: Path) -> Ledger:
    """Built straight from the rows, independently of the project's readers."""
    day = dt.date.fromisoformat
    subscriptions = {
        r[0]: Subscription(r[0], r[1], Status(r[2]), r[3] and day(r[3]), r[4] and day(r[4]), r[5])
        for r in table(path, "subscriptions")}
    items = tuple(
        OpenItem(r[0], r[1], r[2], r[3], r[4], day(r[5]), day(r[6]), Decimal(r[7]),
                 Decimal(r[8]), r[9], bool(r[10]), bool(r[11]))
        for r in table(path, "open_items"))
    return Ledger(items, subscriptions)


def test_the_tables_have_the_canonical_columns(demo):
    path, _ = demo
    columns = [r[1] for r in query(path, "PRAGMA table_info(open_items)")]
    assert tuple(columns) == demo_data.ITEM_COLUMNS
    # the demo utility has no VAT codes on its items: an optional column, left out
    assert (*demo_data.ITEM_COLUMNS, "vat_code") == OPEN_ITEM_COLUMNS + OPEN_ITEM_OPTIONAL
    columns = [r[1] for r in query(path, "PRAGMA table_info(subscriptions)")]
    assert tuple(columns) == SUBSCRIPTION_COLUMNS + SUBSCRIPTION_OPTIONAL
    indexes = query(path, "SELECT name, tbl_name FROM sqlite_master "
                          "WHERE type = 'index' AND sql IS NOT NULL")
    indexed = {(t, query(path, f"PRAGMA index_info({n})")[0][2]) for n, t in indexes}
    assert indexed == {("open_items", "subscription_id"), ("open_items", "customer_id"),
                       ("subscriptions", "customer_id")}


def test_the_same_seed_gives_the_same_file_and_another_seed_another_ledger(demo, tmp_path):
    path, stats = demo
    again = tmp_path / "again.sqlite"
    assert generate_ledger(again) == stats
    assert again.read_bytes() == path.read_bytes()
    other = tmp_path / "other.sqlite"
    generate_ledger(other, customers=300, seed=7)
    first = table(other, "open_items")
    assert first != table(path, "open_items")[:len(first)]


def test_generating_again_replaces_the_tables(tmp_path):
    path = tmp_path / "ledger.sqlite"
    generate_ledger(path, customers=500, seed=1)
    stats = generate_ledger(path, customers=50, seed=1)
    assert scalar(path, "SELECT COUNT(*) FROM open_items") == stats.items
    assert scalar(path, "SELECT COUNT(*) FROM subscriptions") == stats.subscriptions


def test_every_case_of_the_demo_is_there_and_counted_right(demo):
    path, s = demo
    cents = CENTS.format("open_amount")
    count = lambda where: scalar(path, f"SELECT COUNT(*) FROM open_items WHERE {where}")  # noqa: E731
    assert s.customers == 4000 and 8_000 < s.subscriptions < 12_000 and 20_000 < s.items < 40_000
    assert s.small_debits == count(f"{cents} BETWEEN 1 AND 499") > 200
    assert s.exactly_threshold == count("open_amount = '5.00'") > 5
    assert s.above_threshold == count(f"{cents} BETWEEN 501 AND 999") > 10
    assert s.credits == count(f"{cents} < 0") > 50
    assert s.small_items == count(f"ABS({cents}) < 1000")
    assert s.blocked_items == count("dunning_block = 1") > 10
    assert s.disputed_items == count("dispute = 1") > 10
    assert s.eur_items == count("currency = 'EUR'") > 50
    assert s.recent_residuals == count(
        f"ABS({cents}) < 1000 AND due_date > '{DEMO_AS_OF - dt.timedelta(days=30)}'") > 10
    assert s.net_zero_pairs == scalar(path, f"""
        SELECT COUNT(*) FROM open_items d JOIN open_items c USING (subscription_id)
        WHERE {CENTS.format('d.open_amount')} BETWEEN 1 AND 499
          AND {CENTS.format('c.open_amount')} = -{CENTS.format('d.open_amount')}""") > 5
    assert s.hidden_by_large > 5 and s.unpaid_items > 100
    assert s.terminated_subscriptions == scalar(
        path, "SELECT COUNT(*) FROM subscriptions WHERE status = 'terminated'")
    assert 0.06 < s.moved_customers / s.customers < 0.10


def test_moved_customers_some_with_an_active_subscription_elsewhere_some_with_none(demo):
    path, s = demo
    without = scalar(path, """
        SELECT COUNT(DISTINCT customer_id) FROM subscriptions WHERE customer_id NOT IN
        (SELECT customer_id FROM subscriptions WHERE status = 'active')""")
    elsewhere = scalar(path, """
        SELECT COUNT(DISTINCT t.customer_id) FROM subscriptions t JOIN subscriptions a
        ON a.customer_id = t.customer_id AND a.status = 'active' AND t.status = 'terminated'
        AND substr(a.label, instr(a.label, ' – ')) <> substr(t.label, instr(t.label, ' – '))""")
    assert s.moved_without_active == without > 50
    assert s.moved_with_active == elsewhere > 50
    assert s.moved_customers == s.moved_with_active + s.moved_without_active


def test_names_that_break_naive_csv_and_spreadsheets_are_there(demo):
    path, s = demo
    names = {r[0] for r in query(path, "SELECT DISTINCT customer_name FROM open_items")}
    assert s.tricky_names > 5
    assert any(n[0] in "=+@-" for n in names)
    assert any('"' in n for n in names) and any(";" in n for n in names)
    assert any("'" in n for n in names)
    assert any(n.endswith(("SA", "AG", "Sàrl", "GmbH")) for n in names)


def test_the_rules_flag_exactly_the_subscriptions_the_stats_announce(demo):
    path, s = demo
    selection = select(ledger_of(path), Rules(threshold=Decimal("5.00"), as_of=DEMO_AS_OF))
    actions = [r.proposed_action.value for r in selection.residuals]
    assert len(actions) == s.flagged_subscriptions > 100
    assert actions.count("TRANSFER") == s.flagged_transfer > 5
    assert actions.count("WRITE_OFF") + actions.count("KEEP") == s.flagged_orphan
    assert set(actions) == {"REBILL", "TRANSFER", "WRITE_OFF", "KEEP"}
    assert {r.currency for r in selection.residuals} == {"CHF", "EUR"}
    reasons = {e.reason.split(" (")[0] for e in selection.exclusions}
    assert reasons == {"dunning block", "in dispute", "not overdue enough", "not yet due",
                       "nets to zero with the subscription's other eligible items"}


def test_amounts_have_two_decimals_and_sum_exactly_in_decimal_and_in_sql_cents(demo):
    path, _ = demo
    rows = query(path, "SELECT original_amount, open_amount FROM open_items")
    assert all(MONEY.match(a) and MONEY.match(b) for a, b in rows)
    for column in (0, 1):
        total = sum((Decimal(r[column]) for r in rows), Decimal("0.00"))
        name = ("original_amount", "open_amount")[column]
        assert total * 100 == scalar(path, f"SELECT SUM({CENTS.format(name)}) FROM open_items")
    for original, open_ in ((Decimal(a), Decimal(b)) for a, b in rows):
        assert open_ != 0 and (open_ > 0) == (original > 0) and abs(open_) <= abs(original)
        assert abs(original) < 1000


def test_every_item_belongs_to_a_subscription_of_the_same_customer(demo):
    path, _ = demo
    assert scalar(path, """
        SELECT COUNT(*) FROM open_items i LEFT JOIN subscriptions s
        ON s.subscription_id = i.subscription_id AND s.customer_id = i.customer_id
        WHERE s.subscription_id IS NULL""") == 0
    assert scalar(path, "SELECT COUNT(DISTINCT item_id) = COUNT(*) FROM open_items") == 1
    assert scalar(path, "SELECT COUNT(*) FROM (SELECT customer_id FROM open_items "
                        "GROUP BY customer_id HAVING COUNT(DISTINCT customer_name) > 1)") == 0


def test_dates_are_iso_and_consistent_with_the_status(demo):
    path, _ = demo
    for document, due in query(path, "SELECT document_date, due_date FROM open_items"):
        assert dt.date.fromisoformat(document) <= dt.date.fromisoformat(due)
    for status, end, next_bill, label in query(
            path, "SELECT status, end_date, next_bill_date, label FROM subscriptions"):
        assert label.split(" – ")[0] in {"Électricité", "Eau", "Déchets", "Chauffage à distance"}
        if status == "active":
            assert end is None and dt.date.fromisoformat(next_bill) > DEMO_AS_OF
        else:
            assert status == "terminated" and next_bill is None
            assert dt.date.fromisoformat(end) < DEMO_AS_OF


def test_the_csv_folder_is_what_a_swiss_erp_exports(demo, tmp_path):
    path, _ = demo
    items_csv, subscriptions_csv = write_csv_folder(path, tmp_path / "erp")
    for file, name in ((items_csv, "open_items"), (subscriptions_csv, "subscriptions")):
        raw = file.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n")
        with file.open(encoding="utf-8-sig", newline="") as handle:
            header, *rows = list(csv.reader(handle, delimiter=";"))
        assert tuple(header) == tuple(c[1] for c in query(path, f"PRAGMA table_info({name})"))
        dates = [i for i, column in enumerate(header) if column.endswith("_date")]
        expected = [["" if v is None else str(v) for v in row] for row in table(path, name)]
        for row in expected:
            for i in dates:
                row[i] = _swiss(row[i])
        assert rows == expected
    assert b'"Keller ""Hasi"" Hans"' in items_csv.read_bytes() or \
        b'"Gerber; Marie"' in items_csv.read_bytes()


def _swiss(iso: str) -> str:
    return iso and f"{dt.date.fromisoformat(iso):%d.%m.%Y}"


def test_the_csv_folder_and_the_sqlite_file_read_as_the_same_ledger(tmp_path):
    path = tmp_path / "ledger.sqlite"
    generate_ledger(path, customers=150, seed=3)
    write_csv_folder(f"sqlite:///{path}", tmp_path / "erp")
    from_sqlite = read_ledger(path, Config())
    from_csv = read_ledger(tmp_path / "erp", Config())
    key = lambda i: i.item_id  # noqa: E731
    assert sorted(from_csv.items, key=key) == sorted(from_sqlite.items, key=key)
    assert from_csv.subscriptions == from_sqlite.subscriptions


def test_items_size_the_ledger_with_about_the_small_share(tmp_path):
    path = tmp_path / "sized.sqlite"
    stats = generate_ledger(path, items=20_000, small_share=0.05)
    assert abs(stats.items - 20_000) <= 1_000
    assert scalar(path, "SELECT COUNT(*) FROM open_items") == stats.items
    assert 0.04 < stats.small_items / stats.items < 0.06


def test_a_dirty_ledger_has_about_the_flagged_subscriptions_asked_for(tmp_path):
    path = tmp_path / "dirty.sqlite"
    stats = generate_ledger(path, items=10_000, flagged_subscriptions=400)
    assert abs(stats.flagged_subscriptions - 400) <= 20
    selection = select(ledger_of(path), Rules(threshold=Decimal("5.00"), as_of=DEMO_AS_OF))
    assert len(selection.residuals) == stats.flagged_subscriptions


def test_the_calibration_constants_still_hold(tmp_path):
    stats = generate_ledger(tmp_path / "clean.sqlite", small_share=0)
    assert stats.small_items == 0 and stats.flagged_subscriptions == 0
    per_subscription = stats.items / stats.subscriptions
    assert per_subscription == pytest.approx(demo_data._REGULAR_ITEMS_PER_SUBSCRIPTION, rel=0.05)
    per_customer = stats.subscriptions / stats.customers
    assert per_customer == pytest.approx(demo_data._SUBSCRIPTIONS_PER_CUSTOMER, rel=0.03)
    terminated = stats.terminated_subscriptions / stats.subscriptions
    assert terminated == pytest.approx(demo_data._TERMINATED_SHARE, rel=0.15)


def test_other_databases_get_the_same_rows_through_sqlalchemy(tmp_path, monkeypatch):
    """The generic path (native DATE and NUMERIC columns), run here on SQLite."""
    fast = tmp_path / "fast.sqlite"
    generate_ledger(fast, customers=200)
    generic = tmp_path / "generic.sqlite"
    monkeypatch.setattr(demo_data, "_sqlite_path", lambda target: None)
    generate_ledger(f"sqlite:///{generic}", customers=200)
    monkeypatch.undo()
    write_csv_folder(fast, tmp_path / "fast")
    write_csv_folder(generic, tmp_path / "generic")
    for name in ("open_items.csv", "subscriptions.csv"):
        assert (tmp_path / "generic" / name).read_bytes() == (tmp_path / "fast" / name).read_bytes()


@pytest.mark.database
def test_a_server_database_holds_the_same_ledger(server_url, tmp_path):
    lite = tmp_path / "ledger.sqlite"
    generate_ledger(lite, customers=300)
    generate_ledger(server_url, customers=300)
    write_csv_folder(lite, tmp_path / "lite")
    write_csv_folder(server_url, tmp_path / "server")
    for name in ("open_items.csv", "subscriptions.csv"):
        assert (tmp_path / "server" / name).read_bytes() == (tmp_path / "lite" / name).read_bytes()
    from_server, from_file = read_ledger(server_url, Config()), read_ledger(lite, Config())
    assert from_server.subscriptions == from_file.subscriptions


def test_the_demo_ledger_is_selected_inside_the_database(demo):
    """Written as SQL compares it: the extract does not fall back to reading it whole."""
    from addin.locations import Location
    from addin.sources import read_for_rules

    path, stats = demo
    rules = Rules(threshold=Decimal("5.00"), as_of=DEMO_AS_OF)
    ledger, balances, count = read_for_rules(Location.of(path), Config(), rules, committed=())
    assert balances is not None
    assert len(ledger.items) < count == stats.items
