"""The domain records: plain, frozen, typed. No Excel, no files, no databases here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

ItemId = str
CustomerId = str
SubscriptionId = str
Currency = str
BatchId = str


class Action(StrEnum):
    REBILL = "REBILL"
    TRANSFER = "TRANSFER"
    WRITE_OFF = "WRITE_OFF"
    KEEP = "KEEP"


class Status(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"


_ACTIVE = Status.ACTIVE  # an enum member looked up on its class costs 200 ns in 3.11


class OpenItem(NamedTuple):
    """One receivable line not fully settled (a tuple: a million are built in a fraction of a
    second, four times faster than frozen dataclasses).

    Attributes:
      open_amount: signed; + the customer owes us, - we owe the customer.
      dunning_block / dispute: the ERP's flags that keep an item out of dunning.
    """

    item_id: ItemId
    customer_id: CustomerId
    customer_name: str
    subscription_id: SubscriptionId
    document_no: str
    document_date: dt.date
    due_date: dt.date
    original_amount: Decimal
    open_amount: Decimal
    currency: Currency
    dunning_block: bool = False
    dispute: bool = False


class Subscription(NamedTuple):
    subscription_id: SubscriptionId
    customer_id: CustomerId
    status: Status
    end_date: dt.date | None
    next_bill_date: dt.date | None
    label: str = ""

    def is_active_on(self, day: dt.date) -> bool:
        """Active by status and not ended before ``day``: only such a one can be billed again."""
        if self.status is not _ACTIVE:
            return False
        return self.end_date is None or self.end_date >= day


@dataclass(frozen=True, slots=True)
class Ledger:
    """What a source yields: the open items and the subscriptions they belong to."""

    items: tuple[OpenItem, ...]
    subscriptions: dict[SubscriptionId, Subscription]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Rules:
    """The accountant's settings for one extraction.

    Attributes:
      threshold: a subscription is flagged when 0 < |sum of its eligible items| <= threshold.
      min_overdue_days: an item counts once (as_of - due_date) >= this.
      write_off_limit: a terminated subscription with no active alternative is
        proposed for write-off up to this amount, else kept for dunning.
    """

    threshold: Decimal
    as_of: dt.date
    min_overdue_days: int = 30
    write_off_limit: Decimal = Decimal("1.00")
    include_credits: bool = True


class Exclusion(NamedTuple):
    """A small item a rule kept out, with the reason shown to the accountant."""

    item: OpenItem
    reason: str


@dataclass(frozen=True, slots=True)
class CustomerBalance:
    """The whole picture of a customer beside the small residual (seed 004)."""

    whole: dict[Currency, Decimal]
    overdue: dict[Currency, Decimal]


class Residual(NamedTuple):
    """One flagged subscription (in one currency) and the proposal for it."""

    subscription: Subscription
    customer_id: CustomerId
    customer_name: str
    currency: Currency
    items: tuple[OpenItem, ...]
    balance: Decimal
    customer_whole_balance: Decimal
    customer_overdue_balance: Decimal
    proposed_action: Action
    proposed_target: SubscriptionId | None
    alternatives: tuple[SubscriptionId, ...]
    reason: str = ""

    @property
    def key(self) -> tuple[SubscriptionId, Currency]:
        return (self.subscription.subscription_id, self.currency)


@dataclass(frozen=True, slots=True)
class Selection:
    """The result of applying the rules to a ledger."""

    rules: Rules
    residuals: tuple[Residual, ...]
    exclusions: tuple[Exclusion, ...]
    alternatives: dict[CustomerId, tuple[SubscriptionId, ...]] = field(default_factory=dict)
    items_read: int = 0
