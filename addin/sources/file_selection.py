"""The pushdown's selection for a folder of CSV exports or a workbook, run on its columns.

It returns what a database returns (see pushdown): the eligible items of each subscription
that is flagged or nets to zero, every small item a rule keeps out, the register's items still
open and every item of their subscriptions, every subscription of the customers concerned, and
those customers' whole and overdue balances. ``select`` on that part equals ``select`` on the
whole ledger; only that part becomes records. Rows keep the file's order.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from addin.config import ENTITIES, Config
from addin.domain.model import ItemId, Ledger, Rules
from addin.domain.problems import SourceError
from addin.domain.rules import Balances, eligible_until
from addin.sources.build import build_ledger
from addin.sources.columnar import (
    Export,
    ItemColumns,
    SubscriptionColumns,
    TextTable,
    arrow_strings,
    item_columns,
    numpy_of,
    others_checked,
    prepare,
    raw_rows,
    subscription_columns,
)

Narrowed = tuple[Ledger, Balances, int]
Exports = dict[str, Export]


@dataclass(frozen=True)
class Picked:
    """The rows of one file to become records: where they are, and their selection columns."""

    rows: np.ndarray
    text: TextTable
    size: int  # rows in the file


def read_selection_files(files: dict[str, Path], config: Config, rules: Rules,
                         committed: Iterable[ItemId], label: str,
                         sheets: Mapping[str, str] | None = None) -> Narrowed | None:
    """The part of the ledger the rules need, the balances of its customers and the number of
    items in the files; None when only the exact reader can say what is in them.

    ``files``: each entity's .csv, or workbook: the sheet ``sheets`` names, else its first."""
    with _prepared(files, config, sheets or {}) as exports:
        narrowed = None if exports is None else _narrowed(exports, config, rules, committed,
                                                          label)
    _release_unused()
    return narrowed


def read_items_files(files: dict[str, Path], config: Config, subscription_ids: Sequence[str],
                     item_ids: Sequence[ItemId], label: str,
                     sheets: Mapping[str, str] | None = None) -> Ledger | None:
    """As the pushdown's ``read_items``: every item of the given subscriptions, the given
    items wherever they are, and the subscriptions of both; None when only the exact reader
    can say what is in the files (``files`` and ``sheets`` as for ``read_selection_files``)."""
    with _prepared(files, config, sheets or {}) as exports:
        ledger = None if exports is None else _items_ledger(exports, config, subscription_ids,
                                                            item_ids, label)
    _release_unused()
    return ledger


def _items_ledger(exports: Exports, config: Config, subscription_ids: Sequence[str],
                  item_ids: Sequence[ItemId], label: str) -> Ledger | None:
    with _reader() as pool:
        picked = _items_picked(exports, subscription_ids, item_ids, pool)
        return None if picked is None else _ledger(exports, *picked, config, label)


def _narrowed(exports: Exports, config: Config, rules: Rules, committed: Iterable[ItemId],
              label: str) -> Narrowed | None:
    with _reader() as pool:
        selected = _selected(exports, rules, committed, pool)
        if selected is None:
            return None
        picked, others, balances = selected
        ledger = _ledger(exports, picked, others, config, label)
        return None if ledger is None else (ledger, balances, picked["open_items"].size)


def _reader() -> ThreadPoolExecutor:
    """The thread of the second read (see ``SecondRead``); leaving it waits for the read."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="reliquat-read")


class SecondRead:
    """The other columns of both exports, read in a thread from the moment the first read is
    done: Arrow splits the files outside the GIL while the first read's columns are checked
    and narrowed here (0.13 s of 2.4 on the 1 M-row export, for 60 MB more at the peak)."""

    def __init__(self, exports: Exports, pool: ThreadPoolExecutor) -> None:
        self._reads = {entity: pool.submit(exports[entity].read, False) for entity in ENTITIES}

    def __getitem__(self, entity: str) -> TextTable | None:
        return self._reads[entity].result()  # the read's own error, if it failed, is raised


def _release_unused() -> None:
    """What the columns freed goes back to the system: the next read, or the stages after
    the reads, would otherwise start from the last peak (70 MB more on the 1 M-row export)."""
    pa.default_memory_pool().release_unused()


# The first read's columns are let go when these return: only the picked rows are kept.
def _selected(exports: Exports, rules: Rules, committed: Iterable[ItemId],
              pool: ThreadPoolExecutor
              ) -> tuple[dict[str, Picked], SecondRead, Balances] | None:
    columns = _checked(exports, pool)
    if columns is None:
        return None
    items, subs, others = columns
    item_rows, sub_rows, balances = narrow(items, subs, rules, committed)
    return _picked(items, subs, item_rows, sub_rows), others, balances


def _items_picked(exports: Exports, subscription_ids: Sequence[str],
                  item_ids: Sequence[ItemId], pool: ThreadPoolExecutor
                  ) -> tuple[dict[str, Picked], SecondRead] | None:
    columns = _checked(exports, pool)
    if columns is None:
        return None
    items, subs, others = columns
    wanted_subs = _among(subs.ids, subscription_ids)
    item_mask = wanted_subs[items.subscription] | _among(items.ids, item_ids)
    sub_mask = wanted_subs.copy()
    sub_mask[items.subscription[item_mask]] = True
    return _picked(items, subs, np.flatnonzero(item_mask), np.flatnonzero(sub_mask)), others


def _picked(items: ItemColumns, subs: SubscriptionColumns, item_rows: np.ndarray,
            sub_rows: np.ndarray) -> dict[str, Picked]:
    return {"open_items": Picked(item_rows, items.text.take(item_rows), len(items.cents)),
            "subscriptions": Picked(sub_rows, subs.text.take(sub_rows), len(subs.customer))}


def _among(column: pa.ChunkedArray, keys: Iterable[str]) -> np.ndarray:
    """Whether each row's value is one of ``keys``."""
    return numpy_of(pc.is_in(column, value_set=arrow_strings(list(keys))))


@contextmanager
def _prepared(files: dict[str, Path], config: Config, sheets: Mapping[str, str]
              ) -> Iterator[Exports | None]:
    """Both exports ready to be read (None when a UTF-8 copy could not be written), with a
    folder for the copies, removed afterwards."""
    # Arrow's own allocator (mimalloc) keeps what a read's threads freed and NumPy cannot
    # reuse it; the C library's gives it back: the 1 M-row export's peak fell from 340-360 MB
    # to 270 MB (240 MB with the rows kept by a mask), and the read took no longer.
    pa.set_memory_pool(pa.system_memory_pool())
    with tempfile.TemporaryDirectory(prefix="reliquat-csv-") as spare:
        exports = {entity: _export(files[entity], sheets.get(entity), entity, config,
                                   Path(spare)) for entity in ENTITIES}
        yield None if None in exports.values() else cast(Exports, exports)


def _export(path: Path, sheet: str | None, entity: str, config: Config, spare: Path
            ) -> Export | None:
    if path.suffix.casefold() == ".csv":
        return prepare(path, entity, config, spare)
    from addin.sources.sheet_columns import SheetExport

    return SheetExport(path, sheet, entity, config)


def _checked(exports: Exports, pool: ThreadPoolExecutor
             ) -> tuple[ItemColumns, SubscriptionColumns, SecondRead] | None:
    sub_text = exports["subscriptions"].read(selection=True)
    item_text = exports["open_items"].read(selection=True)
    if sub_text is None or item_text is None:
        return None
    others = SecondRead(exports, pool)
    subs = subscription_columns(sub_text)
    items = None if subs is None else item_columns(item_text, subs)
    return None if subs is None or items is None else (items, subs, others)


def _ledger(exports: Exports, picked: dict[str, Picked], second: SecondRead, config: Config,
            label: str) -> Ledger | None:
    """The picked rows as records, once the second read found every other column as the
    exact reader wants it."""
    _release_unused()  # the first read's columns are let go by now
    raw = []
    for entity in ENTITIES:
        others = second[entity]
        part = picked[entity]
        changed = not exports[entity].unchanged()
        if others is None or changed or others.table.num_rows != part.size:
            return None
        if not others_checked(others, config):
            return None
        raw.append(raw_rows(part.text, others.take(part.rows)))
    try:
        return build_ledger(raw[0], raw[1], config, label)
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
