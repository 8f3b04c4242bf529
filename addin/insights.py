"""Questions an accountant asks of a ledger, for the worksheet functions (udfs/)."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from functools import lru_cache

from addin.config import Config, load_config
from addin.domain.model import Ledger, Rules
from addin.domain.money import ZERO
from addin.domain.rules import active_alternatives, select
from addin.locations import Location
from addin.sources import read_ledger


def load_ledger(source: str | Location, config_path: str = "") -> Ledger:
    """A ledger read once per source version: a file source is read again when it changes."""
    location = source if isinstance(source, Location) else Location.of(source)
    return _cached(location, config_path, _version(location))


def _version(source: Location) -> float:
    if source.is_url:
        return 0.0
    path = source.given
    try:
        if os.path.isdir(path):
            return max((os.path.getmtime(os.path.join(path, n)) for n in os.listdir(path)),
                       default=0.0)
        return os.path.getmtime(path)
    except OSError:
        return -1.0


@lru_cache(maxsize=8)
def _cached(source: Location, config_path: str, version: float) -> Ledger:
    return read_ledger(source, load_config(config_path or None))


def open_balance(ledger: Ledger, subscription_id: str, currency: str = "CHF") -> Decimal:
    return sum((i.open_amount for i in ledger.items
                if i.subscription_id == subscription_id and i.currency == currency), ZERO)


def alternatives(ledger: Ledger, customer_id: str, as_of: dt.date) -> tuple[str, ...]:
    subs = [s for s in ledger.subscriptions.values() if s.customer_id == customer_id]
    return active_alternatives(subs, as_of).get(customer_id, ())


def threshold_catch(ledger: Ledger, threshold: Decimal, as_of: dt.date,
                    config: Config | None = None) -> tuple[int, Decimal]:
    """How many subscriptions and how much money a threshold would flag (CHF and EUR alike)."""
    settings = (config or Config()).rules
    rules = Rules(threshold=threshold, as_of=as_of, min_overdue_days=settings.min_overdue_days,
                  write_off_limit=settings.write_off_limit,
                  include_credits=settings.include_credits)
    selection = select(ledger, rules)
    return len(selection.residuals), sum((r.balance for r in selection.residuals), ZERO)


def catch_table(ledger: Ledger, thresholds: list[Decimal], as_of: dt.date
                ) -> list[tuple[Decimal, int, Decimal]]:
    return [(t, *threshold_catch(ledger, t, as_of)) for t in thresholds]


__all__ = ["alternatives", "catch_table", "load_ledger", "open_balance",
           "threshold_catch"]
