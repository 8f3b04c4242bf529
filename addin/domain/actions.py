"""What each action does, in one table: adding an action means a member and a row here (and
their tests); the review's dropdown, the checks and their texts follow the table.

For a residual R (DOMAIN.md): REBILL and TRANSFER move R from the receivable to the transit
account and charge it on a next invoice (of the same subscription, or of another active one
of the customer); WRITE_OFF moves it to the write-off account (its VAT share to the VAT
account); KEEP posts nothing and leaves the item for dunning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from addin.domain.money import ZERO

if TYPE_CHECKING:
    from addin.domain.model import Currency  # model's records hold an Action


class Action(StrEnum):
    REBILL = "REBILL"
    TRANSFER = "TRANSFER"
    WRITE_OFF = "WRITE_OFF"
    KEEP = "KEEP"


class Target(StrEnum):
    NONE = "none"  # nothing is billed
    SELF = "self"  # the row's own subscription
    OTHER = "other"  # another active subscription of the same customer, chosen by the reviewer


class Policy(NamedTuple):
    """Attributes:
      counter_account: the name of the account (in ``Accounts``) that takes the residual from
        the receivable; "" when the action posts nothing.
      target: whose next invoice is charged.
      splits_vat: the VAT share of the residual is corrected (a loss on a receivable).
    """

    counter_account: str
    target: Target
    splits_vat: bool

    @property
    def posts(self) -> bool:
        return bool(self.counter_account)

    @property
    def rebills(self) -> bool:
        return self.target is not Target.NONE


POLICIES: dict[Action, Policy] = {
    Action.REBILL: Policy("transit", Target.SELF, False),
    Action.TRANSFER: Policy("transit", Target.OTHER, False),
    Action.WRITE_OFF: Policy("write_off", Target.NONE, True),
    Action.KEEP: Policy("", Target.NONE, False),
}


def policy(action: Action) -> Policy:
    return POLICIES[action]


def actions_where(test: Callable[[Policy], bool]) -> tuple[Action, ...]:
    """The actions whose policy passes ``test``, in the table's order."""
    return tuple(action for action in Action if test(policy(action)))


class ActionTotal(NamedTuple):
    action: Action
    currency: Currency
    subscriptions: int
    items: int
    amount: Decimal


def totals_by_action(rows: Iterable[tuple[Action, Currency, int, Decimal]]
                     ) -> tuple[ActionTotal, ...]:
    """Rows (action, currency, items, amount), one per subscription, summed per action and
    currency, in the order of the actions."""
    subscriptions: dict[tuple[Action, Currency], int] = defaultdict(int)
    items: dict[tuple[Action, Currency], int] = defaultdict(int)
    amounts: dict[tuple[Action, Currency], Decimal] = defaultdict(lambda: ZERO)
    for action, currency, count, amount in rows:
        subscriptions[(action, currency)] += 1
        items[(action, currency)] += count
        amounts[(action, currency)] += amount
    order = list(Action)
    return tuple(ActionTotal(action, currency, subscriptions[(action, currency)],
                             items[(action, currency)], amounts[(action, currency)])
                 for action, currency in sorted(subscriptions,
                                                key=lambda k: (order.index(k[0]), k[1])))
