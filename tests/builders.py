"""Small inline ledgers for tests: one line per item, defaults for everything else."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from addin.config import Config
from addin.domain.model import Ledger, OpenItem, Rules, Status, Subscription
from addin.locations import Location

AS_OF = dt.date(2026, 11, 30)
LONG_OVERDUE = AS_OF - dt.timedelta(days=60)


def item(item_id: str, subscription_id: str, amount: str, *, customer: str = "C1",
         due: dt.date = LONG_OVERDUE, currency: str = "CHF", blocked: bool = False,
         dispute: bool = False, name: str = "Müller Hans", original: str = "100.50",
         vat: str = "") -> OpenItem:
    return OpenItem(
        item_id=item_id, customer_id=customer, customer_name=name,
        subscription_id=subscription_id, document_no=f"F{item_id}",
        document_date=due - dt.timedelta(days=30), due_date=due,
        original_amount=Decimal(original), open_amount=Decimal(amount), currency=currency,
        dunning_block=blocked, dispute=dispute, vat_code=vat)


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


def write_csv_ledger(folder, items: list[OpenItem], subscriptions: list[Subscription]):
    """The ledger as a Swiss ERP would export it: ';', dd.mm.yyyy, UTF-8 with BOM."""
    folder.mkdir(parents=True, exist_ok=True)
    day = lambda d: "" if d is None else f"{d:%d.%m.%Y}"  # noqa: E731
    vat = any(i.vat_code for i in items)  # the column only when an item has a code
    lines = ["item_id;customer_id;customer_name;subscription_id;document_no;document_date;"
             "due_date;original_amount;open_amount;currency;dunning_block;dispute"
             + (";vat_code" if vat else "")]
    for i in items:
        name = '"' + i.customer_name.replace('"', '""') + '"'
        lines.append(";".join([
            i.item_id, i.customer_id, name, i.subscription_id, i.document_no,
            day(i.document_date), day(i.due_date), f"{i.original_amount}", f"{i.open_amount}",
            i.currency, str(int(i.dunning_block)), str(int(i.dispute)),
            *([i.vat_code] if vat else [])]))
    (folder / "open_items.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    lines = ["subscription_id;customer_id;status;end_date;next_bill_date;label"]
    for s in subscriptions:
        lines.append(";".join([s.subscription_id, s.customer_id, s.status.value,
                               day(s.end_date), day(s.next_bill_date), s.label]))
    (folder / "subscriptions.csv").write_text("\ufeff" + "\n".join(lines) + "\n",
                                              encoding="utf-8")
    return folder


def small_utility():
    """Four customers covering each proposal: rebill, transfer, write-off, keep."""
    items = [
        item("I1", "S1", "0.50", customer="C1", name="Müller Hans"),
        item("I2", "S1", "250.00", customer="C1", due=AS_OF + dt.timedelta(days=10)),
        item("I3", "S2", "4.99", customer="C2", name="=Dupont"),
        item("I4", "S2", "-1.00", customer="C2", name="=Dupont"),
        item("I5", "S4", "0.70", customer="C3", name="Boillat; Marie"),
        item("I6", "S5", "3.20", customer="C4", name="Gerber & Fils SA"),
        item("I7", "S1", "0.30", customer="C1", blocked=True),
    ]
    subscriptions = [
        active("S1", "C1", label="Électricité"),
        terminated("S2", "C2"),
        active("S3", "C2", next_bill=dt.date(2026, 12, 15), label="Eau"),
        terminated("S4", "C3"),
        terminated("S5", "C4"),
    ]
    return items, subscriptions


def with_register(path) -> Config:
    """The settings of an installation whose register is the file ``path``."""
    return replace(Config(), register=Location.of(path))
