"""From raw columns to open items and subscriptions, every bad cell reported with its place.

Columns are converted and checked whole; records are built only from a table without a problem,
so a source either yields a complete ledger or raises a SourceError listing what is wrong.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Collection, Sequence
from itertools import compress

from addin.config import Config
from addin.domain.model import Ledger, OpenItem, Status, Subscription
from addin.domain.money import ZERO
from addin.domain.problems import SourceError
from addin.sources.columns import (
    Issues,
    duplicates,
    identifiers,
    located_problems,
    parsed,
    texts,
)
from addin.sources.table import RawColumns
from addin.sources.values import (
    parse_amount,
    parse_currency,
    parse_date,
    parse_flag,
    parse_status,
)

Columns = dict[str, Sequence[object]]


def build_ledger(items: RawColumns, subscriptions: RawColumns, config: Config,
                 description: str) -> Ledger:
    """The ledger, or a SourceError listing every bad cell."""
    sub_issues = Issues(subscriptions, "subscription")
    item_issues = Issues(items, "item")
    subs = _subscription_columns(subscriptions, sub_issues)
    owners = _owners(subs)
    item_columns = _item_columns(items, owners, item_issues, config.vat_rates)
    problems = located_problems(sub_issues, item_issues)
    if problems:
        raise SourceError(problems)
    built_items = tuple(map(OpenItem._make,
                            zip(*_in_field_order(OpenItem, item_columns), strict=True)))
    built_subs = map(Subscription._make,
                     zip(*_in_field_order(Subscription, subs), strict=True))
    return Ledger(built_items, dict(zip(sub_issues.ids, built_subs, strict=True)), description)


def _subscription_columns(raw: RawColumns, issues: Issues) -> Columns:
    no_date: dt.date | None = None
    issues.ids = identifiers(raw, "subscription_id", issues)
    columns: Columns = {"subscription_id": issues.ids}
    columns["customer_id"] = identifiers(raw, "customer_id", issues)
    columns["status"] = parsed(raw, "status", parse_status, issues, Status.TERMINATED)
    for canonical in ("end_date", "next_bill_date"):
        columns[canonical] = parsed(raw, canonical, parse_date, issues, no_date,
                                    required=False)
    columns["label"] = texts(raw, "label", issues, required=False)
    _note_duplicates("subscription_id", "subscription", issues)
    return columns


def _owners(subs: Columns) -> dict[object, object]:
    """Subscription -> its customer, as on the subscription's first row."""
    ids, customers = subs["subscription_id"], subs["customer_id"]
    owners = dict(zip(reversed(ids), reversed(customers), strict=True))
    owners.pop("", None)
    return owners


def _item_columns(raw: RawColumns, owners: dict[object, object], issues: Issues,
                  vat_codes: Collection[str]) -> Columns:
    issues.ids = identifiers(raw, "item_id", issues)
    columns: Columns = {"item_id": issues.ids}
    for canonical in ("customer_id", "subscription_id", "document_no"):
        columns[canonical] = identifiers(raw, canonical, issues)
    columns["customer_name"] = texts(raw, "customer_name", issues, required=False)
    for canonical in ("document_date", "due_date"):
        columns[canonical] = parsed(raw, canonical, parse_date, issues, dt.date.min)
    for canonical in ("original_amount", "open_amount"):
        columns[canonical] = parsed(raw, canonical, parse_amount, issues, ZERO)
    columns["currency"] = parsed(raw, "currency", parse_currency, issues, "")
    for canonical in ("dunning_block", "dispute"):
        columns[canonical] = parsed(raw, canonical, parse_flag, issues, False, required=False)
    columns["vat_code"] = texts(raw, "vat_code", issues, required=False)
    _note_unknown_vat_codes(columns["vat_code"], vat_codes, issues)
    _note_duplicates("item_id", "item", issues)
    _note_foreign_subscriptions(columns, owners, issues)
    return columns


def _note_unknown_vat_codes(codes: Sequence[object], known: Collection[str],
                            issues: Issues) -> None:
    """With [vat.rates] set, every VAT code must have a rate (an empty one has no VAT)."""
    if not known:
        return
    unknown = set(codes) - set(known) - {""}
    if unknown:
        issues.note([row for row, code in enumerate(codes) if code in unknown], "vat_code",
                    lambda row: f"VAT code {codes[row]!r} has no rate in [vat.rates] "
                                f"({', '.join(sorted(known))})")


def _note_duplicates(canonical: str, noun: str, issues: Issues) -> None:
    ids = issues.ids
    repeated = duplicates(ids)
    first = dict(repeated)
    issues.note([row for row, _ in repeated], canonical,
                lambda row: f"duplicate {noun} {ids[row]!r}{_first_at(issues, first[row])}")


def _first_at(issues: Issues, row: int) -> str:
    """Where the first copy is: its line in a file; a database's rows have no order to cite."""
    line = issues.raw.line_of(row)
    return ": more than one row has it" if line is None else f" (first at line {line})"


def _note_foreign_subscriptions(columns: Columns, owners: dict[object, object],
                                issues: Issues) -> None:
    """An item's subscription must exist and belong to the item's customer."""
    subscriptions, customers = columns["subscription_id"], columns["customer_id"]
    differ = list(map(operator.ne, map(owners.get, subscriptions), customers))
    if True not in differ:
        return
    rows = [row for row in compress(range(len(differ)), differ)
            if subscriptions[row] and customers[row]]  # an empty id is reported as empty
    issues.note([row for row in rows if subscriptions[row] not in owners], "subscription_id",
                lambda row: f"unknown subscription {subscriptions[row]!r}")
    issues.note([row for row in rows if subscriptions[row] in owners], "customer_id",
                lambda row: f"customer {customers[row]!r} but subscription "
                            f"{subscriptions[row]!r} belongs to {owners[subscriptions[row]]!r}")


def _in_field_order(record: type[OpenItem | Subscription], columns: Columns
                    ) -> list[Sequence[object]]:
    return [columns[name] for name in record._fields]

