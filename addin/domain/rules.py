"""Which items count, which subscriptions are flagged, and what is proposed for each.

The threshold is compared with one thing only, stated on every sheet: the sum of a
subscription's *eligible* items in one currency. Items not yet due never count and never
block; every small item a rule keeps out is returned with its reason (seed 004).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from addin.domain.actions import Action
from addin.domain.model import (
    BatchId,
    Currency,
    CustomerId,
    Exclusion,
    ItemId,
    Ledger,
    OpenItem,
    Residual,
    Rules,
    Selection,
    Subscription,
    SubscriptionId,
)
from addin.domain.money import ZERO, vat_share
from addin.domain.texts import Text, text

_Key = tuple[SubscriptionId, Currency]


def exclusion_reason(
    item: OpenItem, rules: Rules, committed: Mapping[ItemId, BatchId]
) -> Text | None:
    """Why an item does not count towards its subscription's basis, or None when it counts."""
    batch = committed.get(item.item_id)
    if batch is not None:
        return text("committed_before", "already committed in batch {batch}", batch=batch)
    if item.dunning_block:
        return text("dunning_block", "dunning block")
    if item.dispute:
        return text("dispute", "in dispute")
    if item.open_amount < 0 and not rules.include_credits:
        return text("credit_off", "credit (include_credits is off)")
    days = (rules.as_of - item.due_date).days
    if days < rules.min_overdue_days:
        if days < 0:
            return text("not_due", "not yet due (due {due})", due=f"{item.due_date:%d.%m.%Y}")
        return text("not_overdue_enough", "not overdue enough ({days} of {minimum} days)",
                    days=days, minimum=rules.min_overdue_days)
    return None


def counts(item: OpenItem, rules: Rules, committed: Mapping[ItemId, BatchId],
           cutoff: dt.date) -> bool:
    """``exclusion_reason(item, ...) is None``, without writing the reason: the rules ask it
    of every item of the ledger. ``cutoff`` is ``eligible_until(rules)``."""
    return (item.due_date <= cutoff and not item.dunning_block and not item.dispute
            and (item.open_amount > 0 or rules.include_credits)
            and item.item_id not in committed)


def eligible_until(rules: Rules) -> dt.date:
    """The last due date overdue enough to count."""
    return rules.as_of - dt.timedelta(days=rules.min_overdue_days)


def active_alternatives(
    subscriptions: Iterable[Subscription], on: dt.date
) -> dict[CustomerId, tuple[SubscriptionId, ...]]:
    """Each customer's active subscriptions, the one billed soonest first."""
    far = dt.date.max
    by_customer: dict[CustomerId, list[Subscription]] = defaultdict(list)
    for sub in subscriptions:
        if sub.is_active_on(on):
            by_customer[sub.customer_id].append(sub)
    return {
        customer: tuple(
            s.subscription_id
            for s in sorted(subs, key=lambda s: (s.next_bill_date or far, s.subscription_id))
        )
        for customer, subs in by_customer.items()
    }


def propose(
    subscription: Subscription,
    balance: Decimal,
    alternatives: tuple[SubscriptionId, ...],
    rules: Rules,
    earlier_batches: int = 0,
) -> tuple[Action, SubscriptionId | None, Text]:
    """The proposed action, its target and a one-line reason a reviewer can read. A repeat
    short-payer goes to dunning: rebilling would reward the habit (seed 000)."""
    if rules.repeat_limit and earlier_batches >= rules.repeat_limit:
        return Action.KEEP, None, text("repeat", "repeat short-payer: {batches} batches in 12 "
                                                 "months", batches=earlier_batches)
    if subscription.is_active_on(rules.as_of):
        return Action.REBILL, subscription.subscription_id, text("active",
                                                                 "subscription active")
    others = tuple(s for s in alternatives if s != subscription.subscription_id)
    if others:
        return Action.TRANSFER, others[0], text(
            "transfer", "terminated; active subscription billed soonest")
    limit = rules.write_off_limit
    if abs(balance) <= limit:
        return Action.WRITE_OFF, None, text(
            "write_off", "terminated, no active subscription, <= {limit}", limit=limit)
    return Action.KEEP, None, text("keep", "terminated, no active subscription, > {limit}",
                                   limit=limit)


Balances = Mapping[tuple[CustomerId, Currency], tuple[Decimal, Decimal]]


def select(
    ledger: Ledger, rules: Rules, committed: Mapping[ItemId, BatchId] | None = None,
    balances: Balances | None = None, earlier: Mapping[CustomerId, int] | None = None,
    vat_rates: Mapping[str, Decimal] | None = None,
) -> Selection:
    """Apply the rules to a ledger: flagged residuals with proposals, and the small exclusions.

    ``balances`` (customer, currency) -> (whole, overdue) stands in for the sums over the
    customers' items when the ledger holds only part of them (a database did the selection).
    ``earlier``: each customer's earlier residual batches in the 12 months before (from the
    register). ``vat_rates``: VAT code -> percent, for each row's VAT share were it written off.
    """
    earlier = earlier or {}
    vat_rates = vat_rates or {}
    committed = committed or {}
    eligible: dict[_Key, list[OpenItem]] = defaultdict(list)
    kept_out: list[Exclusion] = []
    whole: dict[tuple[CustomerId, Currency], Decimal] = defaultdict(lambda: ZERO)
    overdue: dict[tuple[CustomerId, Currency], Decimal] = defaultdict(lambda: ZERO)
    cutoff = eligible_until(rules)

    for item in ledger.items:
        amount = item.open_amount
        if amount == 0:
            continue
        if balances is None:  # else the source summed them, over all of the customers' items
            customer_key = (item.customer_id, item.currency)
            whole[customer_key] += amount
            if item.due_date < rules.as_of:
                overdue[customer_key] += amount
        if counts(item, rules, committed, cutoff):
            eligible[(item.subscription_id, item.currency)].append(item)
        elif abs(amount) <= rules.threshold:
            reason = exclusion_reason(item, rules, committed)
            assert reason is not None
            kept_out.append(Exclusion(item, reason))

    alternatives = active_alternatives(ledger.subscriptions.values(), rules.as_of)
    residuals: list[Residual] = []
    for (sub_id, currency), items in eligible.items():
        balance = sum((i.open_amount for i in items), ZERO)
        if balance == 0:
            kept_out.extend(
                Exclusion(i, text("nets_to_zero", "nets to zero with the subscription's other "
                                                  "eligible items"))
                for i in items
                if abs(i.open_amount) <= rules.threshold
            )
            continue
        if abs(balance) > rules.threshold:
            continue
        subscription = ledger.subscriptions[sub_id]
        customer_alts = alternatives.get(subscription.customer_id, ())
        batches = earlier.get(subscription.customer_id, 0)
        action, target, why = propose(subscription, balance, customer_alts, rules, batches)
        first = items[0]
        residuals.append(
            Residual(
                subscription=subscription,
                customer_id=subscription.customer_id,
                customer_name=first.customer_name,
                currency=currency,
                items=tuple(sorted(items, key=lambda i: (i.due_date, i.item_id))),
                balance=balance,
                customer_whole_balance=_balance(balances, whole, subscription.customer_id,
                                                currency, 0),
                customer_overdue_balance=_balance(balances, overdue, subscription.customer_id,
                                                  currency, 1),
                proposed_action=action,
                proposed_target=target,
                alternatives=customer_alts,
                reason=why,
                earlier_batches=batches,
                vat_share=sum((vat_share(i.open_amount, vat_rates[i.vat_code]) for i in items
                               if i.vat_code in vat_rates), ZERO),
            )
        )

    residuals.sort(key=lambda r: (r.customer_id, r.subscription.subscription_id, r.currency))
    kept_out.sort(key=lambda e: (e.item.customer_id, e.item.subscription_id, e.item.item_id))
    flagged_customers = {r.customer_id for r in residuals}
    return Selection(
        rules=rules,
        residuals=tuple(residuals),
        exclusions=tuple(kept_out),
        alternatives={c: a for c, a in alternatives.items() if c in flagged_customers},
        items_read=len(ledger.items),
    )


def _balance(given: Balances | None, summed: Mapping[tuple[CustomerId, Currency], Decimal],
             customer: CustomerId, currency: Currency, which: int) -> Decimal:
    if given is None:
        return summed.get((customer, currency), ZERO)
    return given.get((customer, currency), (ZERO, ZERO))[which]
