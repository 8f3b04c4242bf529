"""From accepted decisions to the lines of a batch: postings for the ERP, charges for billing.

For a residual R of item I (DOMAIN.md):
  REBILL / TRANSFER  Dr transit R / Cr receivable   and a charge R on the target's next invoice
  WRITE_OFF          Dr write-off R / Cr receivable and nothing to bill
A credit (R < 0) mirrors every line; posting amounts are always positive.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from addin.domain.model import Action, BatchId, Currency, CustomerId, ItemId, SubscriptionId
from addin.domain.money import ZERO
from addin.domain.problems import Where

Account = str


@dataclass(frozen=True)
class Accounts:
    transit: Account = "1099"
    receivable: Account = "1100"
    write_off: Account = "6950"


@dataclass(frozen=True)
class Billing:
    charge_code: str = "RELIQUAT"
    vat_code: str = "V0"
    text: str = "Balance of previous invoices"


class ItemRef(NamedTuple):
    item_id: ItemId
    document_no: str
    amount: Decimal


class Decision(NamedTuple):
    """One accepted review row: what to do with one subscription's residual in one currency."""

    where: Where
    subscription_id: SubscriptionId
    customer_id: CustomerId
    currency: Currency
    action: Action
    target: SubscriptionId | None
    items: tuple[ItemRef, ...]

    @property
    def balance(self) -> Decimal:
        return sum((i.amount for i in self.items), ZERO)


class PostingLine(NamedTuple):
    batch_id: BatchId
    posting_date: dt.date
    debit_account: Account
    credit_account: Account
    amount: Decimal
    currency: Currency
    customer_id: CustomerId
    subscription_id: SubscriptionId
    item_id: ItemId
    document_no: str
    action: Action
    text: str


class RebillLine(NamedTuple):
    batch_id: BatchId
    subscription_id: SubscriptionId
    customer_id: CustomerId
    charge_code: str
    amount: Decimal
    currency: Currency
    vat_code: str
    source_subscription_id: SubscriptionId
    documents: str
    text: str


@dataclass(frozen=True, slots=True)
class ActionTotal:
    action: Action
    currency: Currency
    subscriptions: int
    items: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: BatchId
    posting_date: dt.date
    decisions: tuple[Decision, ...]
    postings: tuple[PostingLine, ...]
    rebills: tuple[RebillLine, ...]

    def totals(self) -> tuple[ActionTotal, ...]:
        subs: dict[tuple[Action, str], int] = defaultdict(int)
        items: dict[tuple[Action, str], int] = defaultdict(int)
        amounts: dict[tuple[Action, str], Decimal] = defaultdict(lambda: ZERO)
        for d in self.decisions:
            key = (d.action, d.currency)
            subs[key] += 1
            items[key] += len(d.items)
            amounts[key] += d.balance
        return tuple(
            ActionTotal(action, currency, subs[(action, currency)], items[(action, currency)],
                        amounts[(action, currency)])
            for action, currency in sorted(subs, key=lambda k: (list(Action).index(k[0]), k[1]))
        )

    @property
    def item_ids(self) -> tuple[ItemId, ...]:
        return tuple(i.item_id for d in self.decisions for i in d.items)


def build_batch(
    decisions: tuple[Decision, ...],
    batch_id: BatchId,
    posting_date: dt.date,
    accounts: Accounts,
    billing: Billing,
) -> Batch:
    """The lines of a batch; KEEP decisions post nothing and are left out."""
    moving = tuple(d for d in decisions if d.action is not Action.KEEP)
    postings = tuple(
        _posting(d, item, batch_id, posting_date, accounts) for d in moving for item in d.items
    )
    rebills = tuple(
        _rebill(d, batch_id, billing)
        for d in moving
        if d.action in (Action.REBILL, Action.TRANSFER) and d.balance != 0
    )
    return Batch(batch_id, posting_date, moving, postings, rebills)


def _posting(d: Decision, item: ItemRef, batch_id: BatchId, day: dt.date,
             accounts: Accounts) -> PostingLine:
    other = accounts.write_off if d.action is Action.WRITE_OFF else accounts.transit
    if item.amount >= 0:
        debit, credit = other, accounts.receivable
    else:
        debit, credit = accounts.receivable, other
    text = f"Reliquat {d.action.value} {item.document_no}"
    if d.action is Action.TRANSFER and d.target:
        text += f" -> {d.target}"
    return PostingLine(
        batch_id=batch_id,
        posting_date=day,
        debit_account=debit,
        credit_account=credit,
        amount=abs(item.amount),
        currency=d.currency,
        customer_id=d.customer_id,
        subscription_id=d.subscription_id,
        item_id=item.item_id,
        document_no=item.document_no,
        action=d.action,
        text=text,
    )


def _rebill(d: Decision, batch_id: BatchId, billing: Billing) -> RebillLine:
    target = d.target if d.action is Action.TRANSFER and d.target else d.subscription_id
    documents = " ".join(i.document_no for i in d.items)
    return RebillLine(
        batch_id=batch_id,
        subscription_id=target,
        customer_id=d.customer_id,
        charge_code=billing.charge_code,
        amount=d.balance,
        currency=d.currency,
        vat_code=billing.vat_code,
        source_subscription_id=d.subscription_id,
        documents=documents,
        text=f"{billing.text} {documents}",
    )


def transit_balance(postings: tuple[PostingLine, ...], transit: Account) -> dict[str, Decimal]:
    """Debit minus credit on the transit account, per currency."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in postings:
        if line.debit_account == transit:
            totals[line.currency] += line.amount
        if line.credit_account == transit:
            totals[line.currency] -= line.amount
    return dict(totals)
