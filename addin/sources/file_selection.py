"""The pushdown's selection for a folder of CSV exports, run on its columns.

It returns what a database returns (see pushdown): the eligible items of each subscription
that is flagged or nets to zero, every small item a rule keeps out, the register's items still
open and every item of their subscriptions, every subscription of the customers concerned, and
those customers' whole and overdue balances. ``select`` on that part equals ``select`` on the
whole ledger; only that part becomes records. Rows keep the file's order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from addin.config import Config
from addin.domain.model import ItemId, Ledger, Rules
from addin.domain.problems import SourceError
from addin.domain.rules import Balances, eligible_until
from addin.sources.build import build_ledger
from addin.sources.columnar import (
    ItemColumns,
    SubscriptionColumns,
    arrow_strings,
    item_columns,
    numpy_of,
    read_text_table,
    subscription_columns,
)

Narrowed = tuple[Ledger, Balances, int]


def read_selection_files(files: dict[str, Path], config: Config, rules: Rules,
                         committed: Iterable[ItemId], label: str) -> Narrowed | None:
    """The part of the ledger the rules need, the balances of its customers and the number of
    items in the files; None when only the exact reader can say what is in them."""
    columns = _checked(files, config)
    if columns is None:
        return None
    items, subs = columns
    item_rows, sub_rows, balances = narrow(items, subs, rules, committed)
    ledger = _ledger(items, subs, item_rows, sub_rows, config, label)
    return None if ledger is None else (ledger, balances, len(items.cents))


def read_items_files(files: dict[str, Path], config: Config, subscription_ids: Sequence[str],
                     item_ids: Sequence[ItemId], label: str) -> Ledger | None:
    """As the pushdown's ``read_items``: every item of the given subscriptions, the given
    items wherever they are, and the subscriptions of both; None when only the exact reader
    can say what is in the files."""
    columns = _checked(files, config)
    if columns is None:
        return None
    items, subs = columns
    wanted_subs = _among(subs.ids, subscription_ids)
    item_mask = wanted_subs[items.subscription] | _among(items.ids, item_ids)
    sub_mask = wanted_subs.copy()
    sub_mask[items.subscription[item_mask]] = True
    return _ledger(items, subs, np.flatnonzero(item_mask), np.flatnonzero(sub_mask), config,
                   label)


def _among(column: pa.ChunkedArray, keys: Iterable[str]) -> np.ndarray:
    """Whether each row's value is one of ``keys``."""
    return numpy_of(pc.is_in(column, value_set=arrow_strings(list(keys))))


def _checked(files: dict[str, Path], config: Config
             ) -> tuple[ItemColumns, SubscriptionColumns] | None:
    sub_text = read_text_table(files["subscriptions"], "subscriptions", config)
    item_text = read_text_table(files["open_items"], "open_items", config)
    if sub_text is None or item_text is None:
        return None
    subs = subscription_columns(sub_text)
    items = None if subs is None else item_columns(item_text, subs, config)
    return None if subs is None or items is None else (items, subs)


def _ledger(items: ItemColumns, subs: SubscriptionColumns, item_rows: np.ndarray,
            sub_rows: np.ndarray, config: Config, label: str) -> Ledger | None:
    try:
        return build_ledger(items.text.rows(item_rows), subs.text.rows(sub_rows), config,
                            label)
    except SourceError:  # not expected: the columns were checked as build checks them
        return None


def narrow(items: ItemColumns, subs: SubscriptionColumns, rules: Rules,
           committed: Iterable[ItemId]) -> tuple[np.ndarray, np.ndarray, Balances]:
    """The rows of items and of subscriptions to read, and the balances (see the module)."""
    cents, sub_of = items.cents, items.subscription
    threshold = int(rules.threshold * 100)
    eligible = (cents != 0) & (items.due <= eligible_until(rules).toordinal()) & ~items.blocked
    if not rules.include_credits:
        eligible &= cents > 0
    flagged, nets_to_zero = _candidates(items, len(subs.customer), eligible, threshold)

    committed_open = _among(items.ids, committed)
    touched = np.zeros(len(subs.customer), dtype=bool)
    touched[sub_of[committed_open]] = True

    chosen_customers = np.zeros(len(subs.customers), dtype=bool)
    chosen_customers[subs.customer[flagged | touched]] = True

    small_kept_out = (np.abs(cents) <= threshold) & (cents != 0) & ~eligible
    item_mask = (committed_open | touched[sub_of] | small_kept_out
                 | (eligible & (flagged | nets_to_zero)[sub_of]))
    sub_mask = chosen_customers[subs.customer]
    sub_mask[sub_of[item_mask]] = True
    balances = _balances(items, subs, chosen_customers, rules)
    return np.flatnonzero(item_mask), np.flatnonzero(sub_mask), balances


def _candidates(items: ItemColumns, subscriptions: int, eligible: np.ndarray,
                threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """Per subscription: has a currency whose eligible items sum to 0 < |sum| <= threshold
    (flagged), has one whose eligible items sum to zero."""
    currencies = len(items.currencies)
    group = items.subscription[eligible].astype(np.int64) * currencies + items.currency[eligible]
    sums = np.zeros(subscriptions * currencies, dtype=np.int64)
    np.add.at(sums, group, items.cents[eligible])
    present = np.zeros(subscriptions * currencies, dtype=bool)
    present[group] = True
    small = present & (np.abs(sums) <= threshold)
    by_sub = (subscriptions, currencies)
    return ((small & (sums != 0)).reshape(by_sub).any(axis=1),
            (small & (sums == 0)).reshape(by_sub).any(axis=1))


def _balances(items: ItemColumns, subs: SubscriptionColumns, chosen: np.ndarray,
              rules: Rules) -> Balances:
    """Each chosen customer's whole and overdue balance per currency, in exact cents."""
    customer = subs.customer[items.subscription]
    mask = chosen[customer]
    currencies = len(items.currencies)
    group = customer[mask].astype(np.int64) * currencies + items.currency[mask]
    cents = items.cents[mask]
    overdue_cents = np.where(items.due[mask] < rules.as_of.toordinal(), cents, 0)
    keys = np.unique(group)
    position = np.searchsorted(keys, group)
    whole = np.zeros(len(keys), dtype=np.int64)
    overdue = np.zeros(len(keys), dtype=np.int64)
    np.add.at(whole, position, cents)
    np.add.at(overdue, position, overdue_cents)
    return {(subs.customers[key // currencies].as_py(), items.currencies[key % currencies]):
            (Decimal(int(w)).scaleb(-2), Decimal(int(o)).scaleb(-2))
            for key, w, o in zip(keys.tolist(), whole, overdue, strict=True)}
