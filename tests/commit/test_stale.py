"""Between extraction and commit, customers pay: the commit re-reads the source."""

import datetime as dt

import pytest

from addin import api
from addin.domain.problems import CommitRefused
from addin.workbook.ooxml.calamine import read_sheets
from tests.builders import AS_OF, small_utility, write_csv_ledger

NOW = dt.datetime(2026, 11, 30, 9, 15)


@pytest.fixture
def setup(tmp_path):
    items, subs = small_utility()
    folder = write_csv_ledger(tmp_path / "erp", items, subs)
    api.register_init()  # the offline commit needs the register's check values
    review = tmp_path / "review.xlsx"
    api.extract(folder, review, as_of=AS_OF, now=NOW)
    return tmp_path, folder, review, items, subs


def pay(folder, items, subs, item_id, now_open):
    """The ERP's next export: the item paid (gone) or its open amount changed."""
    from decimal import Decimal

    changed = [i._replace(open_amount=Decimal(now_open)) if i.item_id == item_id else i
               for i in items]
    write_csv_ledger(folder, [i for i in changed if i.open_amount != 0], subs)


def test_a_paid_item_refuses_the_commit_and_names_it(setup):
    tmp_path, folder, review, items, subs = setup
    pay(folder, items, subs, "I1", "0")
    before = review.read_bytes()
    with pytest.raises(CommitRefused) as refused:
        api.commit(review, tmp_path / "out", accept_proposals=True, now=NOW)
    lines = str(refused.value).splitlines()
    assert lines[0] == f"{review}, line 2, subscription S1: item I1 is no longer open in the source"
    assert "commit the other 2 with --confirm-partial" in lines[-1]
    assert review.read_bytes() == before and not (tmp_path / "out").exists()


def test_a_changed_amount_is_named_with_both_amounts(setup):
    tmp_path, folder, review, items, subs = setup
    pay(folder, items, subs, "I3", "2.99")
    with pytest.raises(CommitRefused, match="item I3: open amount is now 2.99, was 4.99 at "
                                            "extraction"):
        api.commit(review, tmp_path / "out", accept_proposals=True, now=NOW)


def test_a_confirmed_partial_commit_goes_on_and_writes_the_reason_on_the_row(setup):
    tmp_path, folder, review, items, subs = setup
    pay(folder, items, subs, "I1", "0")
    outcome = api.commit(review, tmp_path / "out", accept_proposals=True,
                         confirm_partial=True, now=NOW)
    assert [d.subscription_id for d in outcome.batch.decisions] == ["S2", "S4"]
    residuals = read_sheets(review)["Residuals"]
    assert residuals[1][17] == "" and residuals[1][18] == (
        "not committed: item I1 is no longer open in the source")
    journal = read_sheets(review)["Journal"]
    assert [r[3] for r in journal[1:]] == ["batch", "action", "action", "refused"]


def test_an_offline_commit_does_not_read_the_source_and_says_so(setup):
    tmp_path, folder, review, items, subs = setup
    pay(folder, items, subs, "I1", "0")
    outcome = api.commit(review, tmp_path / "out", accept_proposals=True, offline=True,
                         now=NOW)
    assert outcome.offline and len(outcome.batch.decisions) == 3
    import json

    record = json.loads((tmp_path / "out" / f"batch_{outcome.batch.batch_id}.json").read_text())
    assert record["offline"] is True


def test_items_of_an_earlier_batch_still_open_in_the_erp_leave_the_next_commit_alone(setup):
    """The ERP shows last month's items open until it has imported their posting file: the
    next month's row on the same subscription is not stale for them."""
    from tests.builders import item

    tmp_path, folder, review, items, subs = setup
    api.commit(review, tmp_path / "out", accept_proposals=True, now=NOW)
    write_csv_ledger(folder, [*items, item("I8", "S1", "0.40", customer="C1")], subs)
    later = tmp_path / "later.xlsx"
    api.extract(folder, later, as_of=AS_OF, now=NOW)
    outcome = api.commit(later, tmp_path / "out", accept_proposals=True, now=NOW)
    assert [i.item_id for d in outcome.batch.decisions for i in d.items] == ["I8"]


@pytest.mark.parametrize("confirm", [False, True])
def test_when_every_accepted_row_changed_the_refusal_says_so(setup, confirm):
    tmp_path, folder, review, items, subs = setup
    import openpyxl

    book = openpyxl.load_workbook(review)
    book["Residuals"]["P2"] = "Yes"  # S1 only
    book.save(review)
    pay(folder, items, subs, "I1", "0")
    with pytest.raises(CommitRefused) as refused:
        api.commit(review, tmp_path / "out", confirm_partial=confirm, now=NOW)
    lines = str(refused.value).splitlines()
    assert lines[0].endswith("item I1 is no longer open in the source")
    assert lines[-1] == (f"{review}: nothing to commit: every accepted row (1) changed in "
                         f"the source since extraction; extract again")
