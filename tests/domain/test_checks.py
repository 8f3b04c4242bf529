import datetime as dt
from decimal import Decimal

from addin.domain.actions import Action
from addin.domain.batch import Decision, ItemRef
from addin.domain.checks import CommitFacts, check_decisions
from addin.domain.problems import Where
from tests.builders import active, terminated

TODAY = dt.date(2026, 11, 30)
SUBSCRIPTIONS = {"S1": active("S1", "C1"), "S2": terminated("S2", "C1"),
                 "S3": active("S3", "C1")._replace(next_bill_date=None)}


def decision(action: Action, amount: str, sub: str = "S2", target: str | None = None,
             currency: str = "CHF") -> Decision:
    return Decision(Where("review.xlsx", 2), sub, "C1", currency, action, target,
                    (ItemRef("I1", "F1", Decimal(amount)),))


def warnings(*decisions: Decision, online: bool = True) -> list[str]:
    """Online, the source says in which currencies each subscription has items."""
    currencies = {s: frozenset({"CHF"}) for s in SUBSCRIPTIONS} if online else None
    facts = CommitFacts(TODAY, SUBSCRIPTIONS, {}, Decimal("1.00"), currencies)
    result = check_decisions(list(decisions), facts)
    assert result.refusals == [] and len(result.accepted) == len(decisions)
    return [p.message for p in result.warnings]


def test_a_write_off_above_the_limit_is_accepted_with_a_warning():
    assert warnings(decision(Action.WRITE_OFF, "3.20")) == [
        "warning: a write-off of 3.20, above the write-off limit 1.00"]
    assert warnings(decision(Action.WRITE_OFF, "-1.00")) == []


def test_a_charge_on_a_subscription_without_a_next_bill_date_is_accepted_with_a_warning():
    assert warnings(decision(Action.TRANSFER, "0.50", target="S3")) == [
        "warning: S3 has no next bill date: when will it be invoiced?"]


def test_a_transfer_in_a_currency_the_target_is_not_billed_in_is_warned():
    assert warnings(decision(Action.TRANSFER, "0.50", target="S1", currency="EUR")) == [
        "warning: S1 has no item in EUR in the source: check that it is billed in EUR"]


def test_offline_nothing_is_known_of_bill_dates_and_currencies():
    assert warnings(decision(Action.TRANSFER, "0.50", target="S3", currency="EUR"),
                    online=False) == []
