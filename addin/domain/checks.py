"""The commit checks: is each accepted decision allowed?

Three kinds of problem: a *refusal* (the decision itself is wrong: the accountant must fix
the row, nothing is committed), a *stale* row (the source moved since extraction, found
when the facts are read: the row is left out, and the batch goes on with the rest only when
the accountant confirms), and a *warning* (allowed, but worth a look: shown in Check).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from addin.domain.actions import Policy, Target, actions_where, policy
from addin.domain.batch import Decision
from addin.domain.model import BatchId, ItemId, Subscription, SubscriptionId
from addin.domain.problems import Problem, Where
from addin.domain.texts import Text, either, text


@dataclass(frozen=True)
class CommitFacts:
    """What is known at commit time: the subscriptions (from the source, or offline from the
    extraction) and the items the register already holds."""

    today: dt.date
    subscriptions: Mapping[SubscriptionId, Subscription]
    committed: Mapping[ItemId, BatchId]
    write_off_limit: Decimal | None = None
    currencies: Mapping[SubscriptionId, frozenset[str]] | None = None  # None: not known


@dataclass
class CheckResult:
    accepted: list[Decision] = field(default_factory=list)
    refusals: list[Problem] = field(default_factory=list)
    stale: list[tuple[Decision, list[Problem]]] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def stale_problems(self) -> list[Problem]:
        return [p for _, problems in self.stale for p in problems]


def check_decisions(decisions: list[Decision], facts: CommitFacts,
                    stale: list[tuple[Decision, list[Problem]]] | None = None) -> CheckResult:
    result = CheckResult(stale=list(stale or []))
    seen: dict[ItemId, Where] = {}
    for decision in decisions:
        refusals = _refusals(decision, facts) + _duplicates(decision, seen)
        result.refusals.extend(refusals)
        if not refusals:
            result.accepted.append(decision)
            result.warnings.extend(_warnings(decision, facts))
    return result


def _warnings(d: Decision, facts: CommitFacts) -> list[Problem]:
    """Allowed, but unusual: a write-off beyond the limit, a charge on a subscription with no
    next bill date, or in a currency its subscription is not billed in."""
    found = []
    rules = policy(d.action)
    if rules.splits_vat and facts.write_off_limit is not None and \
            abs(d.balance) > facts.write_off_limit:
        found.append(Problem(_at(d, "Action"), text(
            "warn_limit", "warning: a write-off of {amount}, above the write-off limit {limit}",
            amount=f"{d.balance:.2f}", limit=f"{facts.write_off_limit:.2f}")))
    if rules.rebills:
        billed = d.target or d.subscription_id
        target = facts.subscriptions.get(billed)
        if target is not None and target.next_bill_date is None and facts.currencies is not None:
            found.append(Problem(_at(d, "Target subscription"), text(
                "warn_bill_date", "warning: {subscription} has no next bill date: when will it "
                "be invoiced?", subscription=billed)))
        currencies = (facts.currencies or {}).get(billed)
        if facts.currencies is not None and d.currency not in (currencies or frozenset()):
            found.append(Problem(_at(d, "Target subscription"), text(
                "warn_currency", "warning: {subscription} has no item in {currency} in the "
                "source: check that it is billed in {currency}", subscription=billed,
                currency=d.currency)))
    return found


def _at(d: Decision, column: str) -> Where:
    return d.where._replace(column=column)


def _refusals(d: Decision, facts: CommitFacts) -> list[Problem]:
    problems: list[Problem] = []
    source = facts.subscriptions.get(d.subscription_id)
    target = policy(d.action).target
    if target is Target.SELF:
        if source is None:
            problems.append(Problem(_at(d, "Action"), text(
                "subscription_unknown", "subscription {subscription} is unknown in the source",
                subscription=d.subscription_id)))
        elif not source.is_active_on(facts.today):
            problems.append(Problem(_at(d, "Action"), text(
                "needs_active", "{action} needs an active subscription: {subscription} is "
                "{state}; choose {choices}", action=d.action.value,
                subscription=d.subscription_id, state=state_of(source),
                choices=either(actions_where(_fits_terminated)))))
    elif target is Target.OTHER:
        problems.extend(_target_problems(d, facts))
    for item in d.items:
        batch = facts.committed.get(item.item_id)
        if batch is not None:
            problems.append(Problem(_at(d, "Subscription"), text(
                "item_committed", "item {item} was already committed in batch {batch}",
                item=item.item_id, batch=batch)))
    return problems


def _fits_terminated(p: Policy) -> bool:
    return p.posts and p.target is not Target.SELF


def _bills_itself(p: Policy) -> bool:
    return p.target is Target.SELF


def _target_problems(d: Decision, facts: CommitFacts) -> list[Problem]:
    where = _at(d, "Target subscription")
    if not d.target:
        return [Problem(where, text("needs_target", "{action} needs a target subscription",
                                    action=d.action.value))]
    if d.target == d.subscription_id:
        return [Problem(where, text("needs_other", "{action} needs another subscription than "
                                    "the source; use {same} to bill the same one",
                                    action=d.action.value,
                                    same=either(actions_where(_bills_itself))))]
    target = facts.subscriptions.get(d.target)
    if target is None:
        return [Problem(where, text("target_unknown", "target {target} is not a known "
                                    "subscription", target=d.target))]
    if target.customer_id != d.customer_id:
        return [Problem(where, text("target_customer", "target {target} belongs to customer "
                                    "{owner}, not {customer}", target=d.target,
                                    owner=target.customer_id, customer=d.customer_id))]
    if not target.is_active_on(facts.today):
        return [Problem(where, text("target_state", "target {target} is {state}",
                                    target=d.target, state=state_of(target)))]
    return []


def _duplicates(d: Decision, seen: dict[ItemId, Where]) -> list[Problem]:
    problems = []
    for item in d.items:
        if item.item_id in seen:
            problems.append(Problem(d.where, text("item_twice", "item {item} is also on line "
                                                  "{line}", item=item.item_id,
                                                  line=seen[item.item_id].line)))
        seen[item.item_id] = d.where
    return problems


def state_of(sub: Subscription) -> Text:
    """A subscription's status as a reviewer reads it, with its end day once ended."""
    status = text(f"status_{sub.status.value}", sub.status.value)
    if sub.end_date is not None:
        return text("ended", "{status} (ended {day})", status=status,
                    day=f"{sub.end_date:%d.%m.%Y}")
    return status
