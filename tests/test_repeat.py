"""Repeat short-payers: the customers whose residuals were committed before, batch after
batch, are shown, and sent to dunning once they reach the repeat limit."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from addin import api
from addin.config import Config
from addin.domain.actions import Action
from addin.workbook.ooxml.calamine import read_sheets
from tests.builders import AS_OF, active, item, small_utility, write_csv_ledger

NOW = dt.datetime(2026, 11, 30, 9, 0)


def with_repeat_limit(limit: int) -> Config:
    config = Config()
    return replace(config, rules=replace(config.rules, repeat_limit=limit))


@pytest.fixture
def after_a_batch(tmp_path: Path) -> tuple[Path, list, list]:
    """A first batch committed; then the same customers leave a small amount open again."""
    items, subscriptions = small_utility()
    source = write_csv_ledger(tmp_path / "erp", items, subscriptions)
    api.extract(source, tmp_path / "first.xlsx", as_of=AS_OF, now=NOW)
    api.commit(tmp_path / "first.xlsx", tmp_path / "out", accept_proposals=True, now=NOW)
    again = [*items, item("I8", "S1", "0.40", customer="C1"),
             item("I9", "S3", "0.60", customer="C2", name="=Dupont")]
    write_csv_ledger(tmp_path / "erp", again, subscriptions)
    return source, again, subscriptions


def proposals(outcome) -> dict[str, tuple[Action, int, str]]:
    return {r.subscription.subscription_id: (r.proposed_action, r.earlier_batches, r.reason)
            for r in outcome.selection.residuals}


def test_each_row_shows_the_customers_earlier_batches(after_a_batch, tmp_path):
    source, _, _ = after_a_batch
    review = tmp_path / "second.xlsx"
    outcome = api.extract(source, review, as_of=AS_OF)
    assert proposals(outcome) == {
        "S1": (Action.REBILL, 1, "subscription active"),
        "S3": (Action.REBILL, 1, "subscription active"),
        "S5": (Action.KEEP, 0, "terminated, no active subscription, > 1.00")}
    residuals = read_sheets(review)["Residuals"]
    column = residuals[0].index("Earlier residuals")
    assert [r[column] for r in residuals[1:]] == [1, 1, 0]


def test_a_customer_at_the_repeat_limit_is_proposed_for_dunning(after_a_batch, tmp_path):
    source, _, _ = after_a_batch
    outcome = api.extract(source, tmp_path / "second.xlsx", as_of=AS_OF,
                          config=with_repeat_limit(1))
    assert proposals(outcome)["S1"] == (Action.KEEP, 1,
                                        "repeat short-payer: 1 batches in 12 months")
    assert api.extract(source, tmp_path / "third.xlsx", as_of=AS_OF,
                       config=with_repeat_limit(2)).selection.residuals[0].proposed_action \
        is Action.REBILL


def test_the_repeat_sheet_lists_the_customers_seen_before(after_a_batch, tmp_path):
    source, _, _ = after_a_batch
    review = tmp_path / "second.xlsx"
    outcome = api.extract(source, review, as_of=AS_OF)
    [first] = {h.first_batch for h in outcome.selection.repeaters}
    repeat = read_sheets(review)["Repeat"]
    assert repeat[0][:6] == ["Customer", "Name", "Currency", "Earlier batches", "Items",
                             "Total"]
    assert [r[:8] for r in repeat[1:]] == [
        ["C2", "=Dupont", "CHF", 1, 2, 3.99, first, first],
        ["C1", "Müller Hans", "CHF", 1, 1, 0.5, first, first],
    ]


def test_reversed_batches_and_batches_older_than_a_year_do_not_count(tmp_path):
    items, subscriptions = small_utility()
    source = write_csv_ledger(tmp_path / "erp", items, subscriptions)
    long_ago = dt.datetime(2025, 10, 1, 9, 0)
    api.extract(source, tmp_path / "old.xlsx", as_of=AS_OF, now=long_ago)
    api.commit(tmp_path / "old.xlsx", tmp_path / "out", accept_proposals=True, now=long_ago)
    write_csv_ledger(tmp_path / "erp", [*items, item("I8", "S1", "0.40", customer="C1")],
                     subscriptions)
    outcome = api.extract(source, tmp_path / "now.xlsx", as_of=AS_OF)
    assert proposals(outcome)["S1"][1] == 0  # committed 425 days before the as-of date
    recent = api.commit(tmp_path / "now.xlsx", tmp_path / "out", accept_proposals=True,
                        now=NOW).batch.batch_id
    api.reverse(recent, now=NOW)
    write_csv_ledger(tmp_path / "erp", [*items, item("I8", "S1", "0.40", customer="C1"),
                                        item("I9", "S1", "0.10", customer="C1")], subscriptions)
    later = api.extract(source, tmp_path / "later.xlsx", as_of=AS_OF)
    assert proposals(later)["S1"][1] == 0


def test_rows_without_history_keep_their_proposal(tmp_path):
    source = write_csv_ledger(tmp_path / "erp", [item("I1", "S1", "0.50")], [active("S1")])
    outcome = api.extract(source, tmp_path / "r.xlsx", as_of=AS_OF, config=with_repeat_limit(1))
    assert proposals(outcome) == {"S1": (Action.REBILL, 0, "subscription active")}
    assert outcome.selection.repeaters == ()


def test_the_register_alone_lists_every_customer_seen(after_a_batch, tmp_path, capsys):
    from addin.cli import main

    found = api.repeat_short_payers(12, today=AS_OF)
    assert [(h.customer_id, h.batches, h.items, str(h.total)) for h in found] == [
        ("C2", 1, 2, "3.99"), ("C3", 1, 1, "0.70"), ("C1", 1, 1, "0.50")]
    assert api.repeat_short_payers(12, today=dt.date(2028, 1, 1)) == ()
    assert main(["repeat", "--out", str(tmp_path / "repeat.xlsx")]) == 0
    assert "C2" in capsys.readouterr().out
    assert read_sheets(tmp_path / "repeat.xlsx")["Repeat"][1][:3] == ["C2", "CHF", 1]


def test_the_limit_counts_batches_over_several_months(tmp_path):
    """Each month the customer leaves a small amount open again; the third time, with a
    limit of 2, dunning is proposed instead of another rebill."""
    subscriptions = [active("S1", "C1")]
    items = []
    for month, day in ((1, dt.date(2026, 9, 30)), (2, dt.date(2026, 10, 31))):
        items.append(item(f"A{month}", "S1", "0.45", due=day - dt.timedelta(days=40)))
        source = write_csv_ledger(tmp_path / "erp", items, subscriptions)
        review = tmp_path / f"month-{month}.xlsx"
        api.extract(source, review, as_of=day)
        api.commit(review, tmp_path / "out", accept_proposals=True,
                   now=dt.datetime.combine(day, dt.time(9)))
    items.append(item("A3", "S1", "0.45", due=AS_OF - dt.timedelta(days=40)))
    source = write_csv_ledger(tmp_path / "erp", items, subscriptions)
    counted = {limit: proposals(api.extract(source, tmp_path / f"nov-{limit}.xlsx",
                                            as_of=AS_OF, config=with_repeat_limit(limit)))
               for limit in (2, 3)}
    assert counted[2]["S1"] == (Action.KEEP, 2, "repeat short-payer: 2 batches in 12 months")
    assert counted[3]["S1"] == (Action.REBILL, 2, "subscription active")
