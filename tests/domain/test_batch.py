import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from addin.domain.actions import Action
from addin.domain.batch import (
    Accounts,
    Decision,
    ItemRef,
    Ledgering,
    build_batch,
    transit_balance,
)
from addin.domain.money import ZERO, vat_share
from addin.domain.problems import Where

ACCOUNTS = Accounts(transit="1099", receivable="1100", write_off="6950", vat="2201")
RATES = {"N": Decimal("8.1"), "R": Decimal("2.6"), "S": Decimal("3.8"), "Z": Decimal("0")}
LEDGERING = Ledgering(accounts=ACCOUNTS, vat_rates=RATES)
DAY = dt.date(2026, 11, 30)


def decision(action: Action, *amounts: str, sub: str = "S1", target: str | None = None,
             currency: str = "CHF", vat: str = "") -> Decision:
    items = tuple(ItemRef(f"{sub}-{i}", f"F{sub}{i}", Decimal(a), vat)
                  for i, a in enumerate(amounts))
    return Decision(Where("review.xlsm", 2), sub, "C1", currency, action, target, items)


def lines(batch):
    return [(p.debit_account, p.credit_account, p.amount, p.vat_code) for p in batch.postings]


def test_a_debit_residual_moves_from_receivable_to_transit_and_is_billed():
    batch = build_batch((decision(Action.REBILL, "0.50", target="S1"),), "B1", DAY, LEDGERING)
    assert lines(batch) == [("1099", "1100", Decimal("0.50"), "")]
    [charge] = batch.rebills
    assert (charge.subscription_id, charge.amount, charge.source_subscription_id) == (
        "S1", Decimal("0.50"), "S1")


def test_a_credit_mirrors_every_line():
    batch = build_batch((decision(Action.TRANSFER, "-1.20", target="S9"),), "B1", DAY,
                        LEDGERING)
    assert lines(batch) == [("1100", "1099", Decimal("1.20"), "")]
    [charge] = batch.rebills
    assert (charge.subscription_id, charge.amount) == ("S9", Decimal("-1.20"))


def test_a_write_off_goes_to_the_write_off_account_and_bills_nothing():
    batch = build_batch((decision(Action.WRITE_OFF, "0.70", "-0.20"),), "B1", DAY, LEDGERING)
    assert lines(batch) == [("6950", "1100", Decimal("0.70"), ""),
                            ("1100", "6950", Decimal("0.20"), "")]
    assert batch.rebills == ()


def test_keep_posts_nothing():
    batch = build_batch((decision(Action.KEEP, "0.70"),), "B1", DAY, LEDGERING)
    assert (batch.postings, batch.rebills, batch.decisions) == ((), (), ())


# --- the VAT share of a write-off ----------------------------------------------------------------


@pytest.mark.parametrize(("gross", "rate", "share"), [
    ("10.81", "8.1", "0.81"),     # 10.81 x 8.1 / 108.1 = 0.81 exactly
    ("1.00", "8.1", "0.07"),      # 0.0749... rounds down
    ("0.20", "8.1", "0.01"),      # 0.01498...
    ("0.06", "8.1", "0.00"),      # 0.0045: no VAT line
    ("5.13", "2.6", "0.13"),      # 0.13 exactly: 5.13 x 2.6 / 102.6
    ("0.39", "2.6", "0.01"),      # 0.00988... rounds up
    ("4.15", "3.8", "0.15"),      # 0.1519...
    ("3.00", "0", "0.00"),
    ("-1.00", "8.1", "-0.07"),    # a credit mirrors
])
def test_the_vat_share_of_a_gross_amount_at_a_rate(gross, rate, share):
    assert vat_share(Decimal(gross), Decimal(rate)) == Decimal(share)


def test_the_half_cent_is_rounded_away_from_zero():
    """At 8.1 % and 2.6 % no amount in cents has a share of exactly half a cent (R x 81/1081
    and R x 13/513 never end in 5 thousandths); at 2.5 % one does."""
    assert vat_share(Decimal("0.62"), Decimal("2.5")) == Decimal("0.02")  # 0.01512...
    assert vat_share(Decimal("0.615"), Decimal("2.5")) == Decimal("0.02")  # 0.015 exactly
    assert vat_share(Decimal("-0.615"), Decimal("2.5")) == Decimal("-0.02")
    assert vat_share(Decimal("0.205"), Decimal("2.5")) == Decimal("0.01")  # 0.005 exactly


def test_a_write_off_posts_its_vat_share_to_the_vat_account():
    batch = build_batch((decision(Action.WRITE_OFF, "10.81", vat="N"),), "B1", DAY, LEDGERING)
    assert lines(batch) == [("6950", "1100", Decimal("10.00"), "N"),
                            ("2201", "1100", Decimal("0.81"), "N")]
    assert batch.vat_totals("2201") == {"CHF": Decimal("0.81")}


def test_a_credit_written_off_mirrors_its_vat_line():
    batch = build_batch((decision(Action.WRITE_OFF, "-5.13", vat="R"),), "B1", DAY, LEDGERING)
    assert lines(batch) == [("1100", "6950", Decimal("5.00"), "R"),
                            ("1100", "2201", Decimal("0.13"), "R")]
    assert batch.vat_totals("2201") == {"CHF": Decimal("-0.13")}


def test_no_vat_line_at_zero_rate_for_a_share_below_half_a_cent_or_without_a_code():
    batch = build_batch((decision(Action.WRITE_OFF, "3.00", sub="S1", vat="Z"),
                         decision(Action.WRITE_OFF, "0.06", sub="S2", vat="N"),
                         decision(Action.WRITE_OFF, "0.70", sub="S3")), "B1", DAY, LEDGERING)
    assert lines(batch) == [("6950", "1100", Decimal("3.00"), "Z"),
                            ("6950", "1100", Decimal("0.06"), "N"),
                            ("6950", "1100", Decimal("0.70"), "")]


def test_a_rebill_stays_vat_neutral():
    batch = build_batch((decision(Action.REBILL, "10.81", vat="N", target="S1"),), "B1", DAY,
                        LEDGERING)
    assert lines(batch) == [("1099", "1100", Decimal("10.81"), "N")]


# --- every batch --------------------------------------------------------------------------------

cents = st.integers(min_value=-99_999, max_value=99_999).filter(bool).map(
    lambda c: Decimal(c).scaleb(-2))
decisions = st.lists(
    st.tuples(st.sampled_from([Action.REBILL, Action.TRANSFER, Action.WRITE_OFF, Action.KEEP]),
              st.lists(cents, min_size=1, max_size=4), st.sampled_from(["CHF", "EUR"]),
              st.sampled_from(["", "N", "R", "Z"])),
    max_size=12,
).map(lambda specs: tuple(
    decision(action, *(str(a) for a in amounts), sub=f"S{n}", target=f"T{n}", currency=cur,
             vat=vat)
    for n, (action, amounts, cur, vat) in enumerate(specs)))


def balances(batch) -> dict[tuple[str, str], Decimal]:
    """Debit minus credit per account and currency."""
    found: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for p in batch.postings:
        found[(p.debit_account, p.currency)] += p.amount
        found[(p.credit_account, p.currency)] -= p.amount
    return dict(found)


@given(decisions)
def test_every_batch_balances_and_transit_equals_the_billing_total(batch_decisions):
    batch = build_batch(batch_decisions, "B1", DAY, LEDGERING)
    assert all(p.amount > 0 for p in batch.postings)
    by_account = balances(batch)
    moved = [(d, i) for d in batch_decisions if d.action is not Action.KEEP for i in d.items]
    for currency in ("CHF", "EUR"):
        cleared = sum((i.amount for d, i in moved if d.currency == currency), ZERO)
        assert by_account.get(("1100", currency), ZERO) == -cleared  # the receivable
        others = sum((v for (account, cur), v in by_account.items()
                      if cur == currency and account != "1100"), ZERO)
        assert others == cleared  # what left the receivable went somewhere, to the cent
        billed = sum((r.amount for r in batch.rebills if r.currency == currency), ZERO)
        assert transit_balance(batch.postings, "1099").get(currency, ZERO) == billed
        written_off = sum((i.amount for d, i in moved
                           if d.currency == currency and d.action is Action.WRITE_OFF), ZERO)
        assert by_account.get(("6950", currency), ZERO) + \
            by_account.get(("2201", currency), ZERO) == written_off
    assert sorted({p.item_id for p in batch.postings}) == sorted(i.item_id for _, i in moved)
