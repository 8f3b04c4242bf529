import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from addin.domain.batch import Accounts, Billing, Decision, ItemRef, build_batch, transit_balance
from addin.domain.model import Action
from addin.domain.money import ZERO
from addin.domain.problems import Where

ACCOUNTS = Accounts(transit="1099", receivable="1100", write_off="6950")
DAY = dt.date(2026, 11, 30)


def decision(action: Action, *amounts: str, sub: str = "S1", target: str | None = None,
             currency: str = "CHF") -> Decision:
    items = tuple(ItemRef(f"{sub}-{i}", f"F{sub}{i}", Decimal(a)) for i, a in enumerate(amounts))
    return Decision(Where("review.xlsm", 2), sub, "C1", currency, action, target, items)


def test_a_debit_residual_moves_from_receivable_to_transit_and_is_billed():
    batch = build_batch((decision(Action.REBILL, "0.50", target="S1"),), "B1", DAY, ACCOUNTS,
                        Billing())
    [line] = batch.postings
    assert (line.debit_account, line.credit_account, line.amount) == ("1099", "1100",
                                                                       Decimal("0.50"))
    [charge] = batch.rebills
    assert (charge.subscription_id, charge.amount, charge.source_subscription_id) == (
        "S1", Decimal("0.50"), "S1")


def test_a_credit_mirrors_every_line():
    batch = build_batch((decision(Action.TRANSFER, "-1.20", target="S9"),), "B1", DAY,
                        ACCOUNTS, Billing())
    [line] = batch.postings
    assert (line.debit_account, line.credit_account, line.amount) == ("1100", "1099",
                                                                       Decimal("1.20"))
    [charge] = batch.rebills
    assert (charge.subscription_id, charge.amount) == ("S9", Decimal("-1.20"))


def test_a_write_off_goes_to_the_write_off_account_and_bills_nothing():
    batch = build_batch((decision(Action.WRITE_OFF, "0.70", "-0.20"),), "B1", DAY, ACCOUNTS,
                        Billing())
    assert [(p.debit_account, p.credit_account, p.amount) for p in batch.postings] == [
        ("6950", "1100", Decimal("0.70")), ("1100", "6950", Decimal("0.20"))]
    assert batch.rebills == ()


def test_keep_posts_nothing():
    batch = build_batch((decision(Action.KEEP, "0.70"),), "B1", DAY, ACCOUNTS, Billing())
    assert (batch.postings, batch.rebills, batch.decisions) == ((), (), ())


cents = st.integers(min_value=-99_999, max_value=99_999).filter(bool).map(
    lambda c: Decimal(c).scaleb(-2))
decisions = st.lists(
    st.tuples(st.sampled_from([Action.REBILL, Action.TRANSFER, Action.WRITE_OFF, Action.KEEP]),
              st.lists(cents, min_size=1, max_size=4), st.sampled_from(["CHF", "EUR"])),
    max_size=12,
).map(lambda specs: tuple(
    decision(action, *(str(a) for a in amounts), sub=f"S{n}", target=f"T{n}", currency=cur)
    for n, (action, amounts, cur) in enumerate(specs)))


@given(decisions)
def test_every_batch_balances_and_transit_equals_the_billing_total(batch_decisions):
    batch = build_batch(batch_decisions, "B1", DAY, ACCOUNTS, Billing())
    debit = sum((p.amount for p in batch.postings), ZERO)
    credit = sum((p.amount for p in batch.postings), ZERO)
    assert debit == credit and all(p.amount > 0 for p in batch.postings)
    for currency in ("CHF", "EUR"):
        billed = sum((r.amount for r in batch.rebills if r.currency == currency), ZERO)
        assert transit_balance(batch.postings, "1099").get(currency, ZERO) == billed
    moved = [i for d in batch_decisions if d.action is not Action.KEEP for i in d.items]
    assert [p.item_id for p in batch.postings] == [i.item_id for i in moved]
    assert [p.amount for p in batch.postings] == [abs(i.amount) for i in moved]
