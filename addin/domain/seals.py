"""Check values: what an extraction saw, keyed with the register's secret.

The workbook carries the reviewer's decisions; the facts beside them (customer, items,
amounts, the rules) are only a picture of the source. Each row, each item and the rules get a
check value computed with a secret that stays in the register, never in the workbook: an edited
amount, a customer moved by a one-column sort or an item added under a row no longer matches,
and a check value cannot be recomputed by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from addin.domain.model import CustomerId, ItemId, Rules, SubscriptionId

_FIELD = "\x1f"
_LIST = "\x1e"


class ItemFacts(NamedTuple):
    """What an extraction saw of one item, and what a commit exports of it."""

    item_id: ItemId
    document_no: str
    due_date: dt.date | None
    amount: Decimal
    vat_code: str = ""


class RowFacts(NamedTuple):
    """What an extraction saw of one review row: a subscription in one currency."""

    subscription_id: SubscriptionId
    currency: str
    customer_id: CustomerId
    status: str
    items: tuple[ItemFacts, ...]  # in item id order

    @property
    def balance(self) -> Decimal:
        return sum((i.amount for i in self.items), Decimal("0.00"))


def _mac(secret: bytes, parts: Iterable[object]) -> str:
    mac = _keyed(secret).copy()
    mac.update(_FIELD.join(map(str, parts)).encode("utf-8"))
    return mac.hexdigest()[:32]


@lru_cache(maxsize=4)
def _keyed(secret: bytes) -> hmac.HMAC:
    """HMAC-SHA256 keyed once, copied for each message: cheaper than keying it again, and a
    copy keeps the GIL where ``hmac.digest`` gives it up on every call (which, beside a
    thread of the commit at work, costs a wait each time)."""
    return hmac.new(secret, digestmod=hashlib.sha256)


def _day(day: dt.date | None) -> str:
    return "" if day is None else day.isoformat()


def rules_seal(secret: bytes, extraction_id: str, register_id: str, source: str,
               rules: Rules) -> str:
    return _mac(secret, ("rules", extraction_id, register_id, source, f"{rules.threshold:.2f}",
                         rules.as_of.isoformat(), rules.min_overdue_days,
                         f"{rules.write_off_limit:.2f}", rules.include_credits))


def item_seal(secret: bytes, extraction_id: str, subscription_id: SubscriptionId,
              currency: str, customer_id: CustomerId, item: ItemFacts) -> str:
    """One line of the Items sheet, with the subscription, currency and customer it shows."""
    return _mac(secret, ("item", extraction_id, subscription_id, currency, customer_id,
                         item.item_id, item.document_no, _day(item.due_date),
                         f"{item.amount:.2f}", item.vat_code))


def row_seal(secret: bytes, extraction_id: str, row: RowFacts,
             alternatives: Iterable[SubscriptionId]) -> str:
    """The row, the ids of its items and the subscriptions its Target dropdown offers."""
    return _mac(secret, ("row", extraction_id, row.subscription_id, row.currency,
                         row.customer_id, row.status, f"{row.balance:.2f}",
                         _LIST.join(i.item_id for i in row.items), _LIST.join(alternatives)))
