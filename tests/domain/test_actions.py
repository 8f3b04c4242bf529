"""The policy table: one row per action, and the texts that name actions follow it."""

import datetime as dt
from decimal import Decimal

from addin.domain.actions import POLICIES, Action, Target, actions_where, policy
from addin.domain.batch import Decision, ItemRef
from addin.domain.checks import CommitFacts, check_decisions
from addin.domain.model import Subscription
from addin.domain.problems import Where
from tests.builders import active, terminated

TODAY = dt.date(2026, 11, 30)


def test_every_action_has_one_policy_in_the_order_of_the_actions():
    assert list(POLICIES) == list(Action)


def test_an_action_that_rebills_posts_through_the_transit_account():
    for action in actions_where(lambda p: p.rebills):
        assert policy(action).counter_account == "transit", action


def test_only_a_posting_action_splits_the_vat():
    assert set(actions_where(lambda p: p.splits_vat)) <= set(actions_where(lambda p: p.posts))


def refusal(action: Action, source: Subscription, target: str | None = None) -> str:
    decision = Decision(Where("review.xlsx", 2), source.subscription_id, "C1", "CHF", action,
                        target, (ItemRef("I1", "F1", Decimal("0.50")),))
    [problem] = check_decisions([decision], CommitFacts(TODAY, {"S1": source}, {})).refusals
    return problem.message


def test_a_terminated_subscription_is_offered_the_actions_that_fit_it():
    fitting = actions_where(lambda p: p.posts and p.target is not Target.SELF)
    message = refusal(Action.REBILL, terminated("S1"))
    assert message.endswith("; choose " + " or ".join(fitting))


def test_a_target_on_the_source_itself_is_sent_to_the_action_that_bills_it():
    [itself] = actions_where(lambda p: p.target is Target.SELF)
    message = refusal(Action.TRANSFER, active("S1"), target="S1")
    assert message.endswith(f"use {itself} to bill the same one")
