"""Questions an accountant asks of a ledger, for the worksheet functions (udfs/)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from addin.domain.model import Ledger, Rules
from addin.domain.money import ZERO
from addin.domain.rules import active_alternatives, select


def open_balance(ledger: Ledger, subscription_id: str, currency: str = "CHF") -> Decimal:
    """Every open item of the subscription in ``currency``, due or not."""
    return sum((i.open_amount for i in ledger.items
                if i.subscription_id == subscription_id and i.currency == currency), ZERO)


def alternatives(ledger: Ledger, customer_id: str, as_of: dt.date) -> tuple[str, ...]:
    subs = [s for s in ledger.subscriptions.values() if s.customer_id == customer_id]
    return active_alternatives(subs, as_of).get(customer_id, ())


def threshold_catch(ledger: Ledger, rules: Rules) -> tuple[int, Decimal]:
    """How many subscriptions and how much money these rules would flag (every currency)."""
    selection = select(ledger, rules)
    return len(selection.residuals), sum((r.balance for r in selection.residuals), ZERO)
