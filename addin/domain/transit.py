"""The transit account reconciled against the committed rebill lines.

Every REBILL or TRANSFER moves a residual from the receivable to the transit account and
charges it on a next invoice; when the billing system invoices the charge, its own posting
(Dr receivable / Cr transit, referencing the subscription) brings the account back. A
rebill line is *cleared* by a movement on the transit account of the opposite amount in its
currency, whose reference names its subscription (or its batch), dated on or after the
commit; each movement clears one line at most, the oldest lines first. What is not cleared
stays in transit: a line whose subscription ended will never be invoiced.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

from addin.domain.model import BatchId, Currency, SubscriptionId
from addin.domain.money import ZERO

_TOKENS = re.compile(r"[\s;,/|:()\[\]]+")


class RebillDue(NamedTuple):
    """A committed rebill line: an amount charged on the next invoice of ``subscription_id``."""

    batch_id: BatchId
    subscription_id: SubscriptionId  # the one billed
    source_subscription_id: SubscriptionId
    currency: Currency
    amount: Decimal
    committed_on: dt.date

    @property
    def key(self) -> tuple[BatchId, SubscriptionId, Currency]:
        return (self.batch_id, self.source_subscription_id, self.currency)


class Movement(NamedTuple):
    """A line of the transit account, as the ERP exports it (amount: + debit, - credit)."""

    line: int | None
    posting_date: dt.date
    amount: Decimal
    currency: Currency
    document_no: str
    reference: str


class Cleared(NamedTuple):
    due: RebillDue
    document_no: str
    posting_date: dt.date


class Reconciliation(NamedTuple):
    open: tuple[RebillDue, ...]
    cleared: tuple[Cleared, ...]
    unmatched: tuple[Movement, ...]  # neither a clearing nor a posting of Reliquat's
    ours: tuple[Movement, ...]  # Reliquat's own postings to transit (they name a batch)
    expected_balance: dict[Currency, Decimal]  # committed to transit - cleared
    file_balance: dict[Currency, Decimal]


def reconcile(dues: Sequence[RebillDue], movements: Sequence[Movement],
              cleared_before: Mapping[tuple[BatchId, SubscriptionId, Currency], Cleared]
              ) -> Reconciliation:
    """Match movements to rebill lines, the oldest lines first. Lines cleared by an earlier
    reconciliation stay cleared (their movement need not be in this file)."""
    free = sorted(movements, key=lambda m: (m.posting_date, m.line or 0))
    used: set[int] = set()
    cleared: list[Cleared] = []
    still_open: list[RebillDue] = []
    for due in sorted(dues, key=lambda d: (d.committed_on, d.batch_id, d.source_subscription_id)):
        if due.key in cleared_before:
            cleared.append(cleared_before[due.key]._replace(due=due))
            continue
        found = next((i for i, m in enumerate(free) if i not in used and _clears(m, due)), None)
        if found is None:
            still_open.append(due)
            continue
        used.add(found)
        cleared.append(Cleared(due, free[found].document_no, free[found].posting_date))
    batches = {d.batch_id for d in dues}
    rest = [m for i, m in enumerate(free) if i not in used]
    ours = tuple(m for m in rest if batches & _tokens(m.reference))
    return Reconciliation(
        open=tuple(still_open), cleared=tuple(cleared),
        unmatched=tuple(m for m in rest if m not in ours), ours=ours,
        expected_balance=_sums((d.currency, d.amount) for d in still_open),
        file_balance=_sums((m.currency, m.amount) for m in movements))


def _clears(movement: Movement, due: RebillDue) -> bool:
    return (movement.currency == due.currency and movement.amount == -due.amount
            and movement.posting_date >= due.committed_on
            and bool({due.subscription_id, due.batch_id} & _tokens(movement.reference)))


def _tokens(reference: str) -> set[str]:
    return {t for t in _TOKENS.split(reference) if t}


def _sums(pairs: Iterable[tuple[Currency, Decimal]]) -> dict[Currency, Decimal]:
    totals: dict[Currency, Decimal] = defaultdict(lambda: ZERO)
    for currency, amount in pairs:
        totals[currency] += amount
    return dict(sorted(totals.items()))


def age(due: RebillDue, as_of: dt.date) -> int:
    return (as_of - due.committed_on).days
