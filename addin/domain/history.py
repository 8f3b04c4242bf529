"""Repeat short-payers: the residuals a register has seen per customer (seed 000: "more and
more customers leave a deliberately small amount open"). One residual is friction; the same
customer in batch after batch is a habit that rebilling rewards."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from addin.domain.model import BatchId, Currency, CustomerHistory, CustomerId
from addin.domain.money import ZERO


class CommittedResidual(NamedTuple):
    """One item of a batch that counts (committed, not reversed), as the register holds it."""

    customer_id: CustomerId
    currency: Currency
    batch_id: BatchId
    committed_at: str  # ISO, so that batches sort by time
    amount: Decimal


def earlier_batches(residuals: Iterable[CommittedResidual]) -> dict[CustomerId, int]:
    """Per customer: in how many batches residuals of theirs were committed."""
    batches: dict[CustomerId, set[BatchId]] = defaultdict(set)
    for r in residuals:
        batches[r.customer_id].add(r.batch_id)
    return {customer: len(found) for customer, found in batches.items()}


def customer_histories(residuals: Iterable[CommittedResidual]) -> list[CustomerHistory]:
    """Per customer and currency: batches, items, total, first and last batch; the most
    batches first, then the largest total."""
    batches: dict[tuple[CustomerId, Currency], dict[BatchId, str]] = defaultdict(dict)
    items: dict[tuple[CustomerId, Currency], int] = defaultdict(int)
    totals: dict[tuple[CustomerId, Currency], Decimal] = defaultdict(lambda: ZERO)
    for r in residuals:
        key = (r.customer_id, r.currency)
        batches[key][r.batch_id] = r.committed_at
        items[key] += 1
        totals[key] += r.amount
    found = []
    for (customer, currency), seen in batches.items():
        order = sorted(seen, key=lambda b: (seen[b], b))
        found.append(CustomerHistory(customer, currency, len(seen), items[(customer, currency)],
                                     totals[(customer, currency)], order[0], order[-1]))
    return sorted(found, key=lambda h: (-h.batches, -h.total, h.customer_id, h.currency))
