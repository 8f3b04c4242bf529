"""A deterministic ledger of a Swiss municipal utility, for the demo and the tests.

Customers with one to four subscriptions (electricity, water, waste, district heating);
some moved out (every subscription terminated), half of them with a new active one; open
invoices of ordinary size, most not yet due; short payments leaving residuals (0.05 to
4.95, a few exactly 5.00, a few just above); overpayments leaving credits; blocked and
disputed items; a debit and a credit that net to zero; a few EUR items; names that a naive
spreadsheet or CSV writer would break. The same seed gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    insert,
)

SUPPLIES = ("Électricité", "Eau", "Déchets", "Chauffage à distance")
STREETS = ("Rue du Midi", "Rue Centrale", "Chemin des Vignes", "Route de Court",
           "Rue de l'Hôtel-de-Ville", "Bahnhofstrasse", "Grand-Rue", "Rue des Oeuches")
FAMILY = ("Müller", "Boillat", "Gerber", "Schaller", "Chevrolet", "Frei", "Girardin",
          "Steiner", "Rérat", "Zürcher", "d'Aubigné", "Châtelain", "Meier", "Burkhalter")
GIVEN = ("Hans", "Marie", "Pierre", "Anna", "Luc", "Verena", "Nicolas", "Sophie", "Urs")
TRICKY = ("=Dupont", "+Favre Jean", "@Home Sàrl", "Gerber & Fils SA", 'Le "Moulin" SA',
          "Boillat; Marie", "-Tschanz")

metadata = MetaData()
open_items = Table(
    "open_items", metadata,
    Column("item_id", String(20), primary_key=True),
    Column("customer_id", String(20), nullable=False, index=True),
    Column("customer_name", String(100), nullable=False),
    Column("subscription_id", String(20), nullable=False, index=True),
    Column("document_no", String(20), nullable=False),
    Column("document_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("original_amount", Numeric(12, 2), nullable=False),
    Column("open_amount", Numeric(12, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("dunning_block", Integer, nullable=False),
    Column("dispute", Integer, nullable=False),
)
subscriptions = Table(
    "subscriptions", metadata,
    Column("subscription_id", String(20), primary_key=True),
    Column("customer_id", String(20), nullable=False, index=True),
    Column("status", String(12), nullable=False),
    Column("end_date", Date),
    Column("next_bill_date", Date),
    Column("label", String(100)),
)


@dataclass
class LedgerStats:
    customers: int = 0
    subscriptions: int = 0
    items: int = 0
    residual_items: int = 0
    credits: int = 0
    moved_out: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def generate_ledger(target: Path | str, *, customers: int = 4000, seed: int = 2026,
                    as_of: dt.date = dt.date(2026, 11, 30)) -> LedgerStats:
    """Write the ledger to an SQLite file (or any SQLAlchemy URL), replacing its tables."""
    url = str(target) if "://" in str(target) else f"sqlite:///{Path(target).resolve()}"
    engine = create_engine(url)
    stats = LedgerStats()
    try:
        metadata.drop_all(engine)
        metadata.create_all(engine)
        with engine.begin() as conn:
            subs_rows, item_rows = [], []
            for subs, items in _customers(random.Random(seed), customers, as_of, stats):
                subs_rows.extend(subs)
                item_rows.extend(items)
                if len(item_rows) > 20_000:
                    conn.execute(insert(subscriptions), subs_rows)
                    conn.execute(insert(open_items), item_rows)
                    subs_rows, item_rows = [], []
            if subs_rows:
                conn.execute(insert(subscriptions), subs_rows)
            if item_rows:
                conn.execute(insert(open_items), item_rows)
    finally:
        engine.dispose()
    return stats


def _customers(rng: random.Random, count: int, as_of: dt.date, stats: LedgerStats
               ) -> Iterator[tuple[list[dict], list[dict]]]:
    item_no = 0
    for n in range(1, count + 1):
        customer = f"K{n:06d}"
        name = _name(rng)
        moved_out = rng.random() < 0.08
        subs = _subscriptions(rng, customer, n, moved_out, as_of)
        stats.customers += 1
        stats.moved_out += moved_out
        stats.subscriptions += len(subs)
        items = []
        for sub in subs:
            for kind, original, open_amount, due, currency, block, dispute in _invoices(
                    rng, sub, as_of):
                item_no += 1
                items.append({
                    "item_id": f"P{item_no:08d}", "customer_id": customer,
                    "customer_name": name, "subscription_id": sub["subscription_id"],
                    "document_no": f"F{2026_000000 + item_no}",
                    "document_date": due - dt.timedelta(days=30), "due_date": due,
                    "original_amount": original, "open_amount": open_amount,
                    "currency": currency, "dunning_block": block, "dispute": dispute,
                })
                stats.counts[kind] = stats.counts.get(kind, 0) + 1
                stats.residual_items += kind.startswith("residual")
                stats.credits += open_amount < 0
        stats.items += len(items)
        yield subs, items


def _name(rng: random.Random) -> str:
    if rng.random() < 0.01:
        return rng.choice(TRICKY)
    return f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"


def _subscriptions(rng: random.Random, customer: str, n: int, moved_out: bool,
                   as_of: dt.date) -> list[dict]:
    supplies = rng.sample(SUPPLIES, rng.choice((1, 2, 2, 3, 3, 4)))
    address = f"{rng.choice(STREETS)} {rng.randint(1, 80)}"
    subs = []
    for k, supply in enumerate(supplies, start=1):
        sub = {"subscription_id": f"A{n:06d}-{k}", "customer_id": customer,
               "status": "active", "end_date": None,
               "next_bill_date": as_of + dt.timedelta(days=rng.randint(1, 90)),
               "label": f"{supply} – {address}"}
        if moved_out:
            sub.update(status="terminated", next_bill_date=None,
                       end_date=as_of - dt.timedelta(days=rng.randint(20, 300)))
        subs.append(sub)
    if moved_out and rng.random() < 0.5:  # moved within the commune: a new active contract
        new_address = f"{rng.choice(STREETS)} {rng.randint(1, 80)}"
        subs.append({"subscription_id": f"A{n:06d}-9", "customer_id": customer,
                     "status": "active", "end_date": None,
                     "next_bill_date": as_of + dt.timedelta(days=rng.randint(1, 60)),
                     "label": f"{supplies[0]} – {new_address}"})
    return subs


def _invoices(rng: random.Random, sub: dict, as_of: dt.date
              ) -> Iterator[tuple[str, Decimal, Decimal, dt.date, str, int, int]]:
    def cents(low: int, high: int) -> Decimal:
        return Decimal(rng.randint(low, high)).scaleb(-2)

    def overdue(low: int = 35, high: int = 200) -> dt.date:
        return as_of - dt.timedelta(days=rng.randint(low, high))

    active = sub["status"] == "active"
    if active and rng.random() < 0.7:  # the current invoice, not yet due
        amount = cents(4000, 60000)
        yield "current", amount, amount, as_of + dt.timedelta(days=rng.randint(1, 30)), \
            "CHF", 0, 0
    roll = rng.random()
    currency = "EUR" if rng.random() < 0.01 else "CHF"
    original = cents(4000, 60000)
    if roll < 0.10:  # short payment: 100.00 paid on 100.50
        left = cents(5, 495)
        yield "residual", original, left, overdue(), currency, int(rng.random() < 0.03), \
            int(rng.random() < 0.02)
    elif roll < 0.115:
        yield "residual_at_threshold", original, Decimal("5.00"), overdue(), currency, 0, 0
    elif roll < 0.13:
        yield "residual_above_threshold", original, cents(501, 999), overdue(), currency, 0, 0
    elif roll < 0.16:  # overpayment: a credit in the customer's favour
        yield "credit", original, -cents(10, 490), overdue(), currency, 0, 0
    elif roll < 0.17:  # a residual paid too recently to count yet
        yield "residual_recent", original, cents(5, 495), overdue(5, 25), currency, 0, 0
    elif roll < 0.175:  # a debit and a credit that net to zero
        left = cents(20, 300)
        yield "net_zero", original, left, overdue(), "CHF", 0, 0
        yield "net_zero", original, -left, overdue(), "CHF", 0, 0
    elif roll < 0.25:  # an unpaid invoice: ordinary dunning
        yield "unpaid", original, original, overdue(), currency, int(rng.random() < 0.1), 0
