"""Small inline ledgers for tests: one line per item, defaults for everything else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from addin.domain.model import Ledger, OpenItem, Rules, Status, Subscription

AS_OF = dt.date(2026, 11, 30)
LONG_OVERDUE = AS_OF - dt.timedelta(days=60)


def item(item_id: str, subscription_id: str, amount: str, *, customer: str = "C1",
         due: dt.date = LONG_OVERDUE, currency: str = "CHF", blocked: bool = False,
         dispute: bool = False, name: str = "Müller Hans", original: str = "100.50") -> OpenItem:
    return OpenItem(
        item_id=item_id, customer_id=customer, customer_name=name,
        subscription_id=subscription_id, document_no=f"F{item_id}",
        document_date=due - dt.timedelta(days=30), due_date=due,
        original_amount=Decimal(original), open_amount=Decimal(amount), currency=currency,
        dunning_block=blocked, dispute=dispute)


def active(subscription_id: str, customer: str = "C1", next_bill: dt.date | None = None,
           label: str = "") -> Subscription:
    return Subscription(subscription_id, customer, Status.ACTIVE, None,
                        next_bill or AS_OF + dt.timedelta(days=20), label)


def terminated(subscription_id: str, customer: str = "C1",
               ended: dt.date = dt.date(2026, 3, 31)) -> Subscription:
    return Subscription(subscription_id, customer, Status.TERMINATED, ended, None)


def ledger(items: list[OpenItem], subscriptions: list[Subscription]) -> Ledger:
    return Ledger(tuple(items), {s.subscription_id: s for s in subscriptions})


def rules(threshold: str = "5.00", **changes: object) -> Rules:
    return Rules(threshold=Decimal(threshold), as_of=AS_OF, **changes)  # type: ignore[arg-type]
