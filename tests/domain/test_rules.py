import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from addin.domain.actions import Action
from addin.domain.rules import counts, eligible_until, exclusion_reason, select
from tests.builders import AS_OF, active, item, ledger, rules, terminated


def flagged(selection):
    return {(r.subscription.subscription_id, r.currency): r.balance for r in selection.residuals}


def reasons(selection):
    return {e.item.item_id: e.reason for e in selection.exclusions}


def test_threshold_is_inclusive():
    book = ledger([item("1", "S1", "5.00"), item("2", "S2", "5.01", customer="C2")],
                  [active("S1"), active("S2", "C2")])
    assert flagged(select(book, rules("5.00"))) == {("S1", "CHF"): Decimal("5.00")}


def test_basis_is_the_sum_of_the_subscriptions_eligible_items():
    book = ledger([item("1", "S1", "3.00"), item("2", "S1", "1.50"), item("3", "S1", "0.60")],
                  [active("S1")])
    assert flagged(select(book, rules("5.00"))) == {}
    assert flagged(select(book, rules("5.10"))) == {("S1", "CHF"): Decimal("5.10")}


def test_items_not_yet_due_never_count_and_never_block():
    not_due = item("2", "S1", "500.00", due=AS_OF + dt.timedelta(days=10))
    book = ledger([item("1", "S1", "0.50"), not_due], [active("S1")])
    selection = select(book, rules())
    assert flagged(selection) == {("S1", "CHF"): Decimal("0.50")}
    residual = selection.residuals[0]
    assert residual.customer_whole_balance == Decimal("500.50")
    assert residual.customer_overdue_balance == Decimal("0.50")


def test_an_item_counts_from_exactly_min_overdue_days():
    on_the_day = item("1", "S1", "0.50", due=AS_OF - dt.timedelta(days=30))
    a_day_short = item("2", "S2", "0.50", customer="C2", due=AS_OF - dt.timedelta(days=29))
    selection = select(ledger([on_the_day, a_day_short], [active("S1"), active("S2", "C2")]),
                       rules())
    assert flagged(selection) == {("S1", "CHF"): Decimal("0.50")}
    assert reasons(selection) == {"2": "not overdue enough (29 of 30 days)"}


def test_small_items_kept_out_by_a_rule_are_listed_with_their_reason():
    book = ledger(
        [item("1", "S1", "0.50", blocked=True), item("2", "S1", "0.40", dispute=True),
         item("3", "S1", "0.30", due=AS_OF + dt.timedelta(days=5)),
         item("4", "S1", "900.00", blocked=True)],
        [active("S1")])
    selection = select(book, rules())
    assert flagged(selection) == {}
    assert reasons(selection) == {
        "1": "dunning block", "2": "in dispute", "3": "not yet due (due 05.12.2026)"}


def test_a_blocked_item_does_not_count_but_the_others_still_do():
    book = ledger([item("1", "S1", "300.00", blocked=True), item("2", "S1", "0.50")],
                  [active("S1")])
    assert flagged(select(book, rules())) == {("S1", "CHF"): Decimal("0.50")}


def test_a_subscription_that_nets_to_zero_is_not_flagged_and_says_why():
    book = ledger([item("1", "S1", "2.00"), item("2", "S1", "-2.00")], [active("S1")])
    selection = select(book, rules())
    assert flagged(selection) == {}
    assert set(reasons(selection).values()) == {
        "nets to zero with the subscription's other eligible items"}


def test_credits_are_flagged_and_can_be_switched_off():
    book = ledger([item("1", "S1", "-3.20")], [active("S1")])
    assert flagged(select(book, rules())) == {("S1", "CHF"): Decimal("-3.20")}
    selection = select(book, rules(include_credits=False))
    assert flagged(selection) == {}
    assert reasons(selection) == {"1": "credit (include_credits is off)"}


def test_currencies_never_net_together():
    book = ledger([item("1", "S1", "4.00"), item("2", "S1", "-4.00", currency="EUR")],
                  [active("S1")])
    assert flagged(select(book, rules())) == {
        ("S1", "CHF"): Decimal("4.00"), ("S1", "EUR"): Decimal("-4.00")}


def test_a_subscription_owing_more_than_the_threshold_is_ordinary_dunning():
    book = ledger([item("1", "S1", "0.50"), item("2", "S1", "120.00")], [active("S1")])
    selection = select(book, rules())
    assert flagged(selection) == {}
    assert selection.exclusions == ()


def test_items_committed_in_an_earlier_batch_are_not_offered_again():
    book = ledger([item("1", "S1", "0.50")], [active("S1")])
    selection = select(book, rules(), committed={"1": "B20261101-0900-AAAA"})
    assert flagged(selection) == {}
    assert reasons(selection) == {"1": "already committed in batch B20261101-0900-AAAA"}


def test_active_subscription_is_rebilled_on_itself():
    residual = select(ledger([item("1", "S1", "0.50")], [active("S1")]), rules()).residuals[0]
    assert (residual.proposed_action, residual.proposed_target) == (Action.REBILL, "S1")


def test_terminated_with_no_alternative_is_written_off_up_to_the_limit_else_kept():
    book = ledger([item("1", "S1", "0.80"), item("2", "S2", "3.00", customer="C2")],
                  [terminated("S1"), terminated("S2", "C2")])
    proposals = {r.subscription.subscription_id: (r.proposed_action, r.proposed_target)
                 for r in select(book, rules(write_off_limit=Decimal("1.00"))).residuals}
    assert proposals == {"S1": (Action.WRITE_OFF, None), "S2": (Action.KEEP, None)}


def test_terminated_with_one_alternative_is_transferred_to_it():
    book = ledger([item("1", "S1", "0.80")], [terminated("S1"), active("S9")])
    residual = select(book, rules()).residuals[0]
    assert (residual.proposed_action, residual.proposed_target) == (Action.TRANSFER, "S9")
    assert residual.alternatives == ("S9",)


def test_terminated_with_two_alternatives_goes_to_the_one_billed_soonest():
    book = ledger(
        [item("1", "S1", "0.80")],
        [terminated("S1"), active("S8", next_bill=dt.date(2027, 1, 31)),
         active("S9", next_bill=dt.date(2026, 12, 31)),
         active("S7", customer="C2", next_bill=dt.date(2026, 12, 1))])
    residual = select(book, rules()).residuals[0]
    assert (residual.proposed_action, residual.proposed_target) == (Action.TRANSFER, "S9")
    assert residual.alternatives == ("S9", "S8")


def test_a_subscription_past_its_end_date_is_not_active_whatever_its_status():
    ended = active("S1")._replace(end_date=AS_OF - dt.timedelta(days=1))
    residual = select(ledger([item("1", "S1", "0.80")], [ended]), rules()).residuals[0]
    assert residual.proposed_action is Action.WRITE_OFF


@given(days_overdue=st.integers(-40, 80), cents=st.integers(-900, 900).filter(bool),
       blocked=st.booleans(), dispute=st.booleans(), committed=st.booleans(),
       include_credits=st.booleans(), min_days=st.integers(0, 60))
def test_counts_is_exactly_no_exclusion_reason(days_overdue, cents, blocked, dispute,
                                               committed, include_credits, min_days):
    """``select`` asks ``counts`` of every item and writes a reason only for the small ones
    kept out: both must agree on every item."""
    one = item("1", "S1", str(Decimal(cents).scaleb(-2)), blocked=blocked, dispute=dispute,
               due=AS_OF - dt.timedelta(days=days_overdue))
    settings = rules(include_credits=include_credits, min_overdue_days=min_days)
    register = {"1": "B1"} if committed else {}
    assert counts(one, settings, register, eligible_until(settings)) == (
        exclusion_reason(one, settings, register) is None)
