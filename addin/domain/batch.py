"""From accepted decisions to the lines of a batch: postings for the ERP, charges for billing.

For a residual R of item I (DOMAIN.md; what each action does is in ``actions.POLICIES``):
  REBILL / TRANSFER  Dr transit R / Cr receivable   and a charge R on the target's next invoice
  WRITE_OFF          Dr write-off R - V / Cr receivable, Dr VAT V / Cr receivable, where V is
                     the VAT share of R at the item's rate r: R x r / (100 + r), to the cent
A credit (R < 0) mirrors every line; posting amounts are always positive.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from addin.domain.actions import Action, ActionTotal, Target, policy, totals_by_action
from addin.domain.model import BatchId, Currency, CustomerId, ItemId, SubscriptionId
from addin.domain.money import ZERO, vat_share
from addin.domain.problems import Where

Account = str
VatRates = Mapping[str, Decimal]  # VAT code -> rate in percent


@dataclass(frozen=True)
class Accounts:
    transit: Account = "1099"
    receivable: Account = "1100"
    write_off: Account = "6950"
    vat: Account = "2201"


@dataclass(frozen=True)
class Billing:
    """The charge on the next invoice, and the texts of the lines (``posting_text`` may name
    {action} and {document}; a transfer adds " -> " and its target)."""

    charge_code: str = "RELIQUAT"
    vat_code: str = "V0"
    text: str = "Balance of previous invoices"  # on the invoice, followed by the documents
    posting_text: str = "Reliquat {action} {document}"


@dataclass(frozen=True)
class Ledgering:
    """How a batch is posted: the accounts, the billing charge and the VAT rates."""

    accounts: Accounts = field(default_factory=Accounts)
    billing: Billing = field(default_factory=Billing)
    vat_rates: VatRates = field(default_factory=dict)


class ItemRef(NamedTuple):
    item_id: ItemId
    document_no: str
    amount: Decimal
    vat_code: str = ""


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
    action: str  # an Action, or REVERSAL
    text: str
    vat_code: str = ""


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
class Batch:
    batch_id: BatchId
    posting_date: dt.date
    decisions: tuple[Decision, ...]
    postings: tuple[PostingLine, ...]
    rebills: tuple[RebillLine, ...]

    def totals(self) -> tuple[ActionTotal, ...]:
        return totals_by_action((d.action, d.currency, len(d.items), d.balance)
                                for d in self.decisions)

    def vat_totals(self, vat: Account) -> dict[Currency, Decimal]:
        """The VAT corrected by the write-offs, per currency (signed: + reduces VAT owed)."""
        totals: dict[Currency, Decimal] = defaultdict(lambda: ZERO)
        for line in self.postings:
            if line.debit_account == vat:
                totals[line.currency] += line.amount
            elif line.credit_account == vat:
                totals[line.currency] -= line.amount
        return dict(totals)

    @property
    def item_ids(self) -> tuple[ItemId, ...]:
        return tuple(i.item_id for d in self.decisions for i in d.items)


def build_batch(decisions: tuple[Decision, ...], batch_id: BatchId, posting_date: dt.date,
                ledgering: Ledgering) -> Batch:
    """The lines of a batch; KEEP decisions post nothing and are left out."""
    moving = tuple(d for d in decisions if policy(d.action).posts)
    postings = tuple(line for d in moving for item in d.items
                     for line in _postings(d, item, batch_id, posting_date, ledgering))
    rebills = tuple(_rebill(d, batch_id, ledgering.billing) for d in moving
                    if policy(d.action).rebills and d.balance != 0)
    return Batch(batch_id, posting_date, moving, postings, rebills)


def _postings(d: Decision, item: ItemRef, batch_id: BatchId, day: dt.date,
              ledgering: Ledgering) -> list[PostingLine]:
    """The item's residual from the receivable to the action's account: one line, or two
    when a write-off carries a VAT share (the share to the VAT account)."""
    accounts = ledgering.accounts
    rules = policy(d.action)
    counter = getattr(accounts, rules.counter_account)
    text = ledgering.billing.posting_text.format(action=d.action.value,
                                                 document=item.document_no)
    if rules.target is Target.OTHER and d.target:
        text += f" -> {d.target}"
    share = ZERO
    if rules.splits_vat and item.vat_code in ledgering.vat_rates:
        share = vat_share(item.amount, ledgering.vat_rates[item.vat_code])
    lines = [_line(d, item, batch_id, day, accounts.receivable, counter, item.amount - share,
                   text)]
    if share != 0:
        lines.append(_line(d, item, batch_id, day, accounts.receivable, accounts.vat, share,
                           text))
    return lines


def _line(d: Decision, item: ItemRef, batch_id: BatchId, day: dt.date, receivable: Account,
          account: Account, amount: Decimal, text: str) -> PostingLine:
    debit, credit = (account, receivable) if amount >= 0 else (receivable, account)
    return PostingLine(
        batch_id=batch_id, posting_date=day, debit_account=debit, credit_account=credit,
        amount=abs(amount), currency=d.currency, customer_id=d.customer_id,
        subscription_id=d.subscription_id, item_id=item.item_id,
        document_no=item.document_no, action=d.action.value, text=text,
        vat_code=item.vat_code)


def _rebill(d: Decision, batch_id: BatchId, billing: Billing) -> RebillLine:
    target = d.target if policy(d.action).target is Target.OTHER and d.target \
        else d.subscription_id
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


REVERSAL = "REVERSAL"  # the action of a reversal's posting lines


def reversal(original: BatchId, postings: tuple[PostingLine, ...],
             rebills: tuple[RebillLine, ...], batch_id: BatchId, posting_date: dt.date
             ) -> Batch:
    """A batch that undoes ``original``: each posting line with debit and credit swapped,
    each rebill line with its amount negated. Together they net to zero per account,
    currency and subscription."""
    lines = tuple(line._replace(
        batch_id=batch_id, posting_date=posting_date, debit_account=line.credit_account,
        credit_account=line.debit_account, action=REVERSAL,
        text=f"Reliquat {REVERSAL} of {original} {line.document_no}") for line in postings)
    charges = tuple(charge._replace(batch_id=batch_id, amount=-charge.amount + ZERO,
                                    text=f"Reversal of {original}: {charge.text}")
                    for charge in rebills)
    return Batch(batch_id, posting_date, (), lines, charges)


def transit_balance(postings: tuple[PostingLine, ...], transit: Account) -> dict[str, Decimal]:
    """Debit minus credit on the transit account, per currency."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in postings:
        if line.debit_account == transit:
            totals[line.currency] += line.amount
        if line.credit_account == transit:
            totals[line.currency] -= line.amount
    return dict(totals)
