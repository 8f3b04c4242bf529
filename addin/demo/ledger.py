"""A deterministic ledger of a Swiss municipal utility, for ``reliquat demo`` and the benchmarks.

Two tables in the canonical schema, ``open_items`` and ``subscriptions``. The same seed gives the
same rows in the same order: every draw comes from one ``random.Random(seed)``, in a fixed order.

Storage in SQLite (the fast path, plain ``sqlite3``):
  * amounts are TEXT with exactly two decimals (``'100.50'``, ``'-0.40'``). A NUMERIC column would
    turn them into binary floats (``100.5``) or integers (``100``); as text, a reader gets the
    exact digits and ``Decimal`` takes them as they are. SQL must never compare or sum the text
    itself (``open_amount <= 5`` compares strings): go through integer cents,
    ``CAST(ROUND(open_amount * 100) AS INTEGER)``, which is exact for every ledger amount.
  * dates are ISO text ``YYYY-MM-DD``: they sort and compare as text, and ``date()`` reads them.
  * flags are INTEGER 0/1.
Any other SQLAlchemy URL (PostgreSQL, MariaDB) gets native NUMERIC(12, 2) and DATE columns.

Speed: Python draws *runs* of items (the current invoice and the advance instalments issued
with it are one run) and stages one row per run, the subscription riding on its instalments'
row; SQLite expands the staged rows into both tables itself, so ``executemany`` binds about a
third of the rows it otherwise would. Rows go in by chunks and in key order, so the indexes
(built first) only grow at their end: memory stays flat whatever the size of the ledger.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Protocol

DEMO_AS_OF = dt.date(2026, 11, 30)

ITEM_COLUMNS = (
    "item_id", "customer_id", "customer_name", "subscription_id", "document_no",
    "document_date", "due_date", "original_amount", "open_amount", "currency",
    "dunning_block", "dispute",
)
SUBSCRIPTION_COLUMNS = (
    "subscription_id", "customer_id", "status", "end_date", "next_bill_date", "label",
)
_DATE_COLUMNS = frozenset({"document_date", "due_date", "end_date", "next_bill_date"})
_AMOUNT_COLUMNS = frozenset({"original_amount", "open_amount"})

ItemRow = tuple[str, str, str, str, str, str, str, str, str, str, int, int]
SubscriptionRow = tuple[str, str, str, str | None, str | None, str]
# A subscription (when status is set) and a run of ``count`` items (count may be 0):
# subscription_id, customer_id, status, end_date, next_bill_date, label, first item number,
# count, customer_name, document prefix, document_date, due (an index into the calendar, the
# first item's; the next ones fall _INSTALMENT_DAYS apart), original, open, currency,
# dunning_block, dispute.
StagedRow = tuple[str, str, str | None, str | None, str | None, str | None, int, int, str, str,
                  str, int, str, str, str, int, int]

_CHUNK = 20_000  # items per write
# Item and document numbers count from here: a fixed width of 9 digits, cheap to format.
_NUMBERS = 100_000_000
_INSTALMENT_DAYS = 30  # between the due dates of a run's items


@dataclass(slots=True)
class LedgerStats:
    """What was generated. The small cases count items, except ``net_zero_pairs``.

    ``flagged_subscriptions`` is what the default rules (threshold 5.00, 30 days overdue,
    credits included) flag; ``flagged_transfer`` / ``flagged_orphan`` are those on a terminated
    subscription whose customer has / has not another active one.
    """

    customers: int = 0
    subscriptions: int = 0
    active_subscriptions: int = 0
    terminated_subscriptions: int = 0
    moved_customers: int = 0
    moved_with_active: int = 0
    moved_without_active: int = 0
    eur_customers: int = 0
    tricky_names: int = 0
    items: int = 0
    current_items: int = 0  # ordinary invoices and instalments, not yet due
    unpaid_items: int = 0  # ordinary invoices left whole past their due date
    small_items: int = 0  # 0 < |open| < 10: every residual, credit and edge case
    small_debits: int = 0  # 0.01 .. 4.99
    exactly_threshold: int = 0  # 5.00
    above_threshold: int = 0  # 5.01 .. 9.99
    credits: int = 0  # -0.01 .. -4.99
    recent_residuals: int = 0  # small, due fewer than 30 days ago or not yet
    net_zero_pairs: int = 0
    hidden_by_large: int = 0  # small residual beside a large overdue item
    blocked_items: int = 0
    disputed_items: int = 0
    eur_items: int = 0
    flagged_subscriptions: int = 0
    flagged_transfer: int = 0
    flagged_orphan: int = 0

    @property
    def moved_out(self) -> int:
        return self.moved_customers

    @property
    def counts(self) -> dict[str, int]:
        """Item counts by case, under the names the first demo generator used."""
        return {
            "current": self.current_items, "unpaid": self.unpaid_items,
            "residual": self.small_debits, "residual_at_threshold": self.exactly_threshold,
            "residual_above_threshold": self.above_threshold, "credit": self.credits,
            "residual_recent": self.recent_residuals, "net_zero": self.net_zero_pairs,
        }


# --------------------------------------------------------------------------- the municipality

@dataclass(frozen=True, slots=True)
class _Service:
    label: str
    low: int  # invoice amount range, cents
    high: int


_SERVICES = (
    _Service("Électricité", 6_000, 60_000),
    _Service("Eau", 4_000, 25_000),
    _Service("Déchets", 4_000, 12_000),
    _Service("Chauffage à distance", 15_000, 60_000),
)
_SERVICE_COUNTS = (1,) * 15 + (2,) * 35 + (3,) * 35 + (4,) * 15
# The current invoice, alone or with the advance instalments (acomptes) issued with it.
_INSTALMENTS = (1,) * 20 + (2,) * 15 + (3,) * 30 + (4,) * 20 + (6,) * 15

_STREETS = (
    "Rue du Midi", "Rue Centrale", "Grand-Rue", "Rue de l'Hôtel-de-Ville", "Avenue de la Gare",
    "Rue Industrielle", "Route de Court", "Chemin des Vignes", "Rue du Clos", "Rue Neuve",
    "Rue des Oeuches", "Rue de Soleure", "Chemin du Droit", "Rue du Viaduc", "Rue de la Golatte",
    "Rue Pré-Jean-Meunier", "Chemin de la Côte", "Rue des Gorges", "Rue Saint-Germain",
    "Route de Perrefitte", "Rue de Chalière", "Chemin des Lilas", "Rue du Moulin",
    "Bahnhofstrasse", "Hauptgasse", "Dorfstrasse", "Rue Paul-Charmillot", "Rue Beausite",
)
_SURNAMES = (
    "Müller", "Meier", "Schmid", "Keller", "Weber", "Huber", "Schneider", "Steiner", "Fischer",
    "Gerber", "Brunner", "Baumann", "Frei", "Zimmermann", "Moser", "Widmer", "Wyss", "Graf",
    "Roth", "Kohler", "Boillat", "Rossé", "Châtelain", "Girardin", "Froidevaux", "Chappuis",
    "Voirol", "Juillerat", "Monnin", "Charmillot", "Schaller", "Grosjean", "Sauvain", "Rérat",
    "Crevoisier", "Joliat", "Mérillat", "Bourquin", "Favre", "Rochat", "Jeanneret", "Perrin",
    "Gigon", "Paratte", "Wermeille", "Beuret", "Frund", "Cattin", "Rossel", "Zuber", "Jobin",
    "Dubois", "Girard", "Rossier", "Bianchi", "Rossi", "Ferrari", "Da Silva", "Ferreira",
    "Berisha", "Krasniqi", "Nguyen", "d'Aubigné", "D'Andrea", "de Montmollin", "Hänni",
    "Stämpfli", "Bühler", "Nussbaumer", "Lüthi",
)
_FIRST_NAMES = (
    "Hans", "Marie", "Jean", "Anne", "Peter", "Claire", "Luc", "Monique", "Urs", "Ruth",
    "Daniel", "Nicole", "Pierre", "Sandra", "Thomas", "Christine", "Marc", "Sophie", "Beat",
    "Françoise", "Jérôme", "Chantal", "Laurent", "Isabelle", "Reto", "Andrea", "Stéphane",
    "Séverine", "Fabienne", "Yves", "Lukas", "Mélanie", "Noémie", "Cédric", "Gaëlle", "Zoé",
)
_COMPANIES = (
    "{} & Fils SA", "Garage {} Sàrl", "Boulangerie {}", "{} Immobilier SA", "{} Holzbau AG",
    "Menuiserie {} & Cie", "{} Haustechnik GmbH", "Fiduciaire {} SA", "Restaurant chez {}",
)
# Names an ERP holds and a naive CSV or spreadsheet mishandles: formulas, quotes, delimiters.
_TRICKY_NAMES = (
    "=Dupont", "=Dupont Jean", "+Rossier Anne", "@Kohler Urs", "-Jobin Marc",
    'Café "Le Central" Sàrl', 'Keller "Hasi" Hans', "Gerber; Marie",
    "Boillat Marie; c/o Boillat Paul", "d'Aubigné Claire", "L'Auberge de l'Ours Sàrl",
    "Meier, Peter",
)

_TRICKY_RATE = 0.006
_COMPANY_RATE = 0.08
_DOUBLE_NAME_RATE = 0.05
_EUR_RATE = 0.012
_MOVED_RATE = 0.08
_NEW_ADDRESS_RATE = 0.55
_SERVICE_ENDED_RATE = 0.03
_BEHIND_RATE = 0.06  # an active subscription with a large overdue invoice
_FINAL_UNPAID_RATE = 0.12  # a terminated subscription whose final invoice is still open
_TERMINATED_BOOST = 3  # final invoices are short-paid more often: more transfers to propose

# Days relative to as_of; every generated date lies within this window.
_FIRST_DAY = -800
_LAST_DAY = 400


def _calendar(as_of: dt.date) -> tuple[str, ...]:
    """ISO dates from as_of + _FIRST_DAY to as_of + _LAST_DAY; a day's index is its offset
    minus _FIRST_DAY."""
    return tuple((as_of + dt.timedelta(days=d)).isoformat()
                 for d in range(_FIRST_DAY, _LAST_DAY + 1))


_MONEY_LIMIT = 100_000  # cents; every generated amount lies below 1000.00


@cache
def _money_texts() -> tuple[str, ...]:
    # Exact: cents / 100 is the double nearest a two-decimal value, and %.2f rounds back to it.
    return tuple("%.2f" % (cents / 100) for cents in range(_MONEY_LIMIT))


def _money(cents: int) -> str:
    texts = _money_texts()
    return texts[cents] if cents >= 0 else "-" + texts[-cents]


# --------------------------------------------------------------------------- the small cases

@dataclass(frozen=True, slots=True)
class _Kind:
    name: str  # _Builder has a method case_<name>
    weight: int
    flagged: bool  # whether the default rules flag a subscription holding this case alone
    small_items: int
    on_terminated: bool = True


_KINDS = (
    _Kind("short", 40, True, 1),
    _Kind("credit", 12, True, 1),
    _Kind("exact_threshold", 4, True, 1),
    _Kind("pair_small", 6, True, 2),
    _Kind("recent", 8, False, 1, on_terminated=False),
    _Kind("above_threshold", 8, False, 1),
    _Kind("blocked", 4, False, 1),
    _Kind("dispute", 3, False, 1),
    _Kind("net_zero", 4, False, 2),
    _Kind("hidden_by_large", 6, False, 1),
    _Kind("pair_over", 3, False, 2),
)


def _wheel(flagged: bool, terminated: bool) -> tuple[_Kind, ...]:
    """Kinds repeated by weight: one uniform draw picks a kind."""
    return tuple(k for k in _KINDS for _ in range(k.weight)
                 if k.flagged == flagged and (k.on_terminated or not terminated))


# Measured on large ledgers generated with small_share=0 (tests keep them honest).
_REGULAR_ITEMS_PER_SUBSCRIPTION = 2.87
_SUBSCRIPTIONS_PER_CUSTOMER = 2.57
_TERMINATED_SHARE = 0.095


@dataclass(frozen=True, slots=True)
class _Plan:
    """How many customers or items, and the chance a subscription carries each kind of case."""

    customers: int | None
    items: int | None
    p_flagged: float  # for an active subscription; ignored when flagged_target is set
    p_other: float
    flagged_target: int | None

    @classmethod
    def make(cls, customers: int, items: int | None, small_share: float,
             flagged: int | None) -> _Plan:
        weight = sum(k.weight for k in _KINDS)
        small_per_case = sum(k.weight * k.small_items for k in _KINDS) / weight
        per_subscription = (small_share * _REGULAR_ITEMS_PER_SUBSCRIPTION
                            / (small_per_case * (1 - small_share)))
        # Terminated subscriptions are boosted; active ones take less so the mean stays put.
        f = _TERMINATED_SHARE
        per_active = per_subscription / (1 - f + _TERMINATED_BOOST * f)
        flagged_weight = sum(k.weight for k in _KINDS if k.flagged) / weight
        return cls(
            customers=None if items is not None else customers,
            items=items,
            p_flagged=per_active * flagged_weight,
            p_other=per_active * (1 - flagged_weight),
            flagged_target=flagged,
        )


# --------------------------------------------------------------------------- sinks

class _Sink(Protocol):
    def stage(self, rows: Sequence[StagedRow]) -> None: ...


def unstage(row: StagedRow, calendar: Sequence[str]
            ) -> tuple[SubscriptionRow | None, list[ItemRow]]:
    """The subscription and the items of a staged row; SQLite does the same in SQL."""
    (sub_id, customer_id, status, end, next_bill, label, first, count, name, prefix,
     document_date, due, original, open_, currency, blocked, dispute) = row
    subscription = None if status is None else (
        sub_id, customer_id, status, end, next_bill, label or "")
    items: list[ItemRow] = []
    for k in range(count):
        digits = str(_NUMBERS + first + k)
        items.append(("P" + digits, customer_id, name, sub_id, prefix + digits, document_date,
                      calendar[due + _INSTALMENT_DAYS * k], original, open_, currency, blocked,
                      dispute))
    return subscription, items


_SQLITE_DDL = (
    "DROP TABLE IF EXISTS open_items",
    "DROP TABLE IF EXISTS subscriptions",
    """CREATE TABLE subscriptions (
        subscription_id TEXT NOT NULL PRIMARY KEY,
        customer_id TEXT NOT NULL,
        status TEXT NOT NULL,
        end_date TEXT,
        next_bill_date TEXT,
        label TEXT NOT NULL)""",
    """CREATE TABLE open_items (
        item_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        customer_name TEXT NOT NULL,
        subscription_id TEXT NOT NULL,
        document_no TEXT NOT NULL,
        document_date TEXT NOT NULL,
        due_date TEXT NOT NULL,
        original_amount TEXT NOT NULL,
        open_amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        dunning_block INTEGER NOT NULL,
        dispute INTEGER NOT NULL)""",
)
_SQLITE_SCRATCH = (
    "CREATE TEMP TABLE reliquat_calendar (day INTEGER PRIMARY KEY, iso TEXT NOT NULL)",
    "CREATE TEMP TABLE reliquat_k (k INTEGER PRIMARY KEY)",
    """CREATE TEMP TABLE reliquat_stage (
        subscription_id TEXT, customer_id TEXT, status TEXT, end_date TEXT,
        next_bill_date TEXT, label TEXT, first INTEGER, count INTEGER, customer_name TEXT,
        prefix TEXT, document_date TEXT, due INTEGER, original_amount TEXT, open_amount TEXT,
        currency TEXT, dunning_block INTEGER, dispute INTEGER)""",
)
_STAGE = "INSERT INTO temp.reliquat_stage VALUES (" + ", ".join("?" * 17) + ")"
_UNSTAGE_SUBSCRIPTIONS = """
    INSERT INTO subscriptions
    SELECT subscription_id, customer_id, status, end_date, next_bill_date, label
    FROM temp.reliquat_stage WHERE status IS NOT NULL ORDER BY rowid"""
# CROSS JOIN fixes the loop order, so rows go in by run, then by k: in item_id order.
_UNSTAGE_ITEMS = f"""
    INSERT INTO open_items
    SELECT 'P' || ({_NUMBERS} + r.first + k.k), r.customer_id, r.customer_name,
           r.subscription_id, r.prefix || ({_NUMBERS} + r.first + k.k), r.document_date, c.iso,
           r.original_amount, r.open_amount, r.currency, r.dunning_block, r.dispute
    FROM temp.reliquat_stage AS r
    CROSS JOIN temp.reliquat_k AS k
    CROSS JOIN temp.reliquat_calendar AS c
    WHERE k.k < r.count AND c.day = r.due + {_INSTALMENT_DAYS} * k.k
    ORDER BY r.rowid, k.k"""
_INDEXES = (
    ("open_items_subscription_id", "open_items", "subscription_id"),
    ("open_items_customer_id", "open_items", "customer_id"),
    ("subscriptions_customer_id", "subscriptions", "customer_id"),
)


class _SqliteSink:
    def __init__(self, connection: sqlite3.Connection, calendar: Sequence[str]) -> None:
        self.connection = connection
        for statement in _SQLITE_SCRATCH:
            connection.execute(statement)
        connection.executemany("INSERT INTO temp.reliquat_calendar VALUES (?, ?)",
                               enumerate(calendar))
        connection.executemany("INSERT INTO temp.reliquat_k VALUES (?)",
                               ((k,) for k in range(max(_INSTALMENTS))))

    def stage(self, rows: Sequence[StagedRow]) -> None:
        self.connection.executemany(_STAGE, rows)
        self.connection.execute(_UNSTAGE_SUBSCRIPTIONS)
        self.connection.execute(_UNSTAGE_ITEMS)
        self.connection.execute("DELETE FROM temp.reliquat_stage")


@contextmanager
def _sqlite_sink(path: Path, calendar: Sequence[str]) -> Iterator[_Sink]:
    """One transaction: the tables are replaced whole or not at all."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous = OFF")  # a generated file: rerun after a crash
        connection.execute("PRAGMA cache_size = -16384")
        connection.execute("PRAGMA temp_store = MEMORY")  # the staging table, a chunk at most
        connection.execute("BEGIN")
        for statement in _SQLITE_DDL:
            connection.execute(statement)
        # Built before the load: rows come in key order, so each index only grows at its end,
        # in the page cache. Built after, the sort would take memory in proportion to the rows.
        for name, table, column in _INDEXES:
            connection.execute(f"CREATE INDEX {name} ON {table} ({column})")
        yield _SqliteSink(connection, calendar)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()


class _SqlAlchemySink:
    """Other databases: rows unstaged in Python, values converted to DATE and Decimal."""

    def __init__(self, connection: Any, tables: dict[str, Any], calendar: Sequence[str]) -> None:
        self.connection = connection
        self.tables = tables
        self.calendar = calendar

    def stage(self, rows: Sequence[StagedRow]) -> None:
        subscriptions: list[SubscriptionRow] = []
        items: list[ItemRow] = []
        for row in rows:
            subscription, its_items = unstage(row, self.calendar)
            if subscription is not None:
                subscriptions.append(subscription)
            items.extend(its_items)
        # Subscriptions first: the items' foreign keys, if a database adds them, hold.
        self._insert("subscriptions", SUBSCRIPTION_COLUMNS, subscriptions)
        self._insert("open_items", ITEM_COLUMNS, items)

    def _insert(self, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[object]]
                ) -> None:
        if not rows:
            return
        convert = [_native_converter(c) for c in columns]
        records = [{c: f(v) for c, f, v in zip(columns, convert, row, strict=True)}
                   for row in rows]
        self.connection.execute(self.tables[table].insert(), records)


def _native_converter(column: str) -> Callable[[object], object]:
    if column in _DATE_COLUMNS:
        return lambda v: None if v is None else dt.date.fromisoformat(str(v))
    if column in _AMOUNT_COLUMNS:
        return lambda v: Decimal(str(v))
    return lambda v: v


@contextmanager
def _sqlalchemy_sink(url: str, calendar: Sequence[str]) -> Iterator[_Sink]:
    from sqlalchemy import (
        Column,
        Date,
        Index,
        MetaData,
        Numeric,
        SmallInteger,
        String,
        Table,
        create_engine,
    )

    metadata = MetaData()
    subscriptions = Table(
        "subscriptions", metadata,
        Column("subscription_id", String(20), primary_key=True),
        Column("customer_id", String(20), nullable=False),
        Column("status", String(12), nullable=False),
        Column("end_date", Date),
        Column("next_bill_date", Date),
        Column("label", String(200), nullable=False),
    )
    items = Table(
        "open_items", metadata,
        Column("item_id", String(20), primary_key=True),
        Column("customer_id", String(20), nullable=False),
        Column("customer_name", String(200), nullable=False),
        Column("subscription_id", String(20), nullable=False),
        Column("document_no", String(20), nullable=False),
        Column("document_date", Date, nullable=False),
        Column("due_date", Date, nullable=False),
        Column("original_amount", Numeric(12, 2), nullable=False),
        Column("open_amount", Numeric(12, 2), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("dunning_block", SmallInteger, nullable=False),
        Column("dispute", SmallInteger, nullable=False),
    )
    tables = {"subscriptions": subscriptions, "open_items": items}
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            metadata.drop_all(connection, checkfirst=True)
            metadata.create_all(connection)
            yield _SqlAlchemySink(connection, tables, calendar)
            for name, table, column in _INDEXES:
                Index(name, tables[table].c[column]).create(connection)
    finally:
        engine.dispose()


def _sqlite_path(target: str | Path) -> Path | None:
    """The file behind a path or a ``sqlite:///`` URL; None for any other database."""
    if isinstance(target, Path) or "://" not in target:
        return Path(target)
    from sqlalchemy.engine import make_url

    url = make_url(target)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database)  # type: ignore[arg-type]
    return None


def _open_sink(target: str | Path, calendar: Sequence[str]) -> AbstractContextManager[_Sink]:
    path = _sqlite_path(target)
    if path is not None:
        return _sqlite_sink(path, calendar)
    return _sqlalchemy_sink(str(target), calendar)


# --------------------------------------------------------------------------- generation

@dataclass(slots=True)
class _Customer:
    customer_id: str
    name: str
    currency: str
    step: int  # smallest amount step in cents: CHF is billed in 5-rappen steps
    has_active: bool


class _Builder:
    """Draws the ledger customer by customer, staging rows and flushing them in chunks.

    Dates are handled as offsets in days from as_of. The current subscription's items get
    their due dates clamped into [floor, ceiling]: after a new subscription started, before
    a terminated one's final invoice fell due.
    """

    def __init__(self, rng: random.Random, calendar: Sequence[str], plan: _Plan,
                 sink: _Sink) -> None:
        self.random = rng.random
        self.calendar = calendar
        self.plan = plan
        self.sink = sink
        self.stats = LedgerStats()
        self.money = _money_texts()
        self.staged: list[StagedRow] = []
        self.item_no = 0
        self.flushed_items = 0
        self.subscription_no = 0
        self.floor = _FIRST_DAY
        self.ceiling = _LAST_DAY
        self.wheels = {(f, t): _wheel(f, t) for f in (True, False) for t in (True, False)}
        # The chance a subscription carries any small case: one cheap draw skips the rest.
        self.any_case = tuple(
            1.0 if plan.flagged_target is not None
            else min(1.0, (plan.p_flagged + plan.p_other) * (_TERMINATED_BOOST if t else 1))
            for t in (False, True))  # indexed by terminated

    # ---- the loop

    def run(self) -> LedgerStats:
        plan = self.plan
        if plan.items is not None:
            while self.item_no < plan.items:
                self.customer()
        else:
            for _ in range(plan.customers or 0):
                self.customer()
        self.flush()
        stats = self.stats
        stats.items = self.item_no
        stats.current_items = self.item_no - stats.small_items - stats.unpaid_items
        stats.subscriptions = self.subscription_no
        stats.active_subscriptions = self.subscription_no - stats.terminated_subscriptions
        return stats

    def flush(self) -> None:
        if self.staged:
            self.sink.stage(self.staged)
            self.staged = []
        self.flushed_items = self.item_no

    # ---- customers and subscriptions

    def customer(self) -> None:
        r = self.random
        stats = self.stats
        stats.customers += 1
        customer_id = f"C{stats.customers:07d}"
        name = self.name()
        eur = r() < _EUR_RATE
        services = _SERVICES[:_SERVICE_COUNTS[int(r() * len(_SERVICE_COUNTS))]]
        street = self.address()
        first_item = self.item_no
        if r() < _MOVED_RATE:
            self.moved_customer(customer_id, name, eur, services, street)
        else:
            customer = _Customer(customer_id, name, "EUR" if eur else "CHF", 1 if eur else 5, True)
            for index, service in enumerate(services):
                ended = index > 0 and r() < _SERVICE_ENDED_RATE
                end = -int(80 + r() * 640) if ended else None
                self.subscription(customer, service, street, end, None)
        if eur:
            stats.eur_customers += 1
            stats.eur_items += self.item_no - first_item
        if self.item_no - self.flushed_items >= _CHUNK:
            self.flush()

    def moved_customer(self, customer_id: str, name: str, eur: bool,
                       services: tuple[_Service, ...], street: str) -> None:
        """All old subscriptions end at the move; some customers stay in town, at a new address."""
        r = self.random
        move = -int(80 + r() * 640)
        stays = r() < _NEW_ADDRESS_RATE
        customer = _Customer(customer_id, name, "EUR" if eur else "CHF", 1 if eur else 5, stays)
        self.stats.moved_customers += 1
        for service in services:
            self.subscription(customer, service, street, move, None)
        if stays:
            self.stats.moved_with_active += 1
            new_street = self.address()
            while new_street == street:
                new_street = self.address()
            for service in _SERVICES[:1 + int(r() * 2)]:
                self.subscription(customer, service, new_street, None, move)
        else:
            self.stats.moved_without_active += 1

    def subscription(self, customer: _Customer, service: _Service, street: str,
                     end: int | None, start: int | None) -> None:
        """``end``: the day it ended (terminated); ``start``: the day it began, if recent."""
        r = self.random
        self.subscription_no += 1
        sub_id = f"A{self.subscription_no:08d}"
        label = service.label + " – " + street
        terminated = end is not None
        if end is not None:
            self.stats.terminated_subscriptions += 1
            self.floor, self.ceiling = _FIRST_DAY + 60, end + 45
        else:
            next_bill = self.calendar[1 + int(r() * 92) - _FIRST_DAY]
            self.floor = _FIRST_DAY + 60 if start is None else start + 30
            self.ceiling = _LAST_DAY
        may_be_behind = True
        if r() < self.any_case[terminated]:
            kind = self.draw_kind(terminated)
            if kind is not None:
                self.small_case(kind, customer, sub_id, service, terminated)
                may_be_behind = not kind.flagged  # a large overdue item would hide the case
        if end is not None:
            self.staged.append((
                sub_id, customer.customer_id, "terminated", self.calendar[end - _FIRST_DAY], None,
                label, 0, 0, customer.name, "", "", 0, "", "", customer.currency, 0, 0))
            if may_be_behind and r() < _FINAL_UNPAID_RATE:
                self.large(customer, sub_id, service, end + 35 + int(r() * 10), flags=True)
        else:
            self.instalments(customer, sub_id, service, next_bill, label)
            if may_be_behind and r() < _BEHIND_RATE:
                self.large(customer, sub_id, service, -(31 + int(r() * 120)), flags=True)

    def draw_kind(self, terminated: bool) -> _Kind | None:
        """Which small case, if any, once a first draw fell below ``any_case``."""
        plan = self.plan
        boost = _TERMINATED_BOOST if terminated else 1
        if plan.flagged_target is None:
            p_flagged = plan.p_flagged * boost
        else:
            remaining = plan.flagged_target - self.stats.flagged_subscriptions
            p_flagged = min(1.0, max(0.0, remaining / self.remaining_subscriptions()))
        p_other = min(1.0 - p_flagged, plan.p_other * boost)
        # Scaled to the first draw's range: both draws together give p_flagged and p_other.
        x = self.random() * self.any_case[terminated]
        if x < p_flagged:
            wheel = self.wheels[(True, terminated)]
        elif x < p_flagged + p_other:
            wheel = self.wheels[(False, terminated)]
        else:
            return None
        return wheel[int(self.random() * len(wheel))]

    def remaining_subscriptions(self) -> float:
        """An estimate, to spread the flagged subscriptions a dirty ledger asks for."""
        plan = self.plan
        if plan.items is not None:
            per_subscription = _REGULAR_ITEMS_PER_SUBSCRIPTION + 0.2
            return max(1.0, (plan.items - self.item_no) / per_subscription)
        left = (plan.customers or 0) - self.stats.customers + 1
        return max(1.0, left * _SUBSCRIPTIONS_PER_CUSTOMER)

    # ---- items

    def instalments(self, customer: _Customer, sub_id: str, service: _Service, next_bill: str,
                    label: str) -> None:
        """The active subscription, with its current invoice and the equal advance instalments
        issued with it: none due yet."""
        r = self.random
        due = 1 + int(r() * 30) - _FIRST_DAY  # an index into the calendar
        count = _INSTALMENTS[int(r() * len(_INSTALMENTS))]
        step = customer.step
        amount = self.money[
            service.low + step * int(r() * ((service.high - service.low) // step + 1))]
        self.staged.append((
            sub_id, customer.customer_id, "active", None, next_bill, label, self.item_no + 1,
            count, customer.name, "F", self.calendar[due - 30], due, amount, amount,
            customer.currency, 0, 0))
        self.item_no += count

    def large(self, customer: _Customer, sub_id: str, service: _Service, due: int, *,
              flags: bool) -> None:
        """A whole invoice left unpaid; sometimes under a payment plan or contested."""
        blocked = disputed = 0
        if flags:
            x = self.random()
            blocked, disputed = int(x < 0.08), int(0.08 <= x < 0.13)
        amount = self.amount(service, customer.step)
        self.item(customer, sub_id, due, amount, amount, blocked=blocked, dispute=disputed)
        self.stats.unpaid_items += 1

    def item(self, customer: _Customer, sub_id: str, due: int, original: int, open_: int, *,
             payment: bool = False, blocked: int = 0, dispute: int = 0) -> None:
        """One item; ``due`` is an offset from as_of, clamped to the subscription's bounds."""
        due = min(max(due, self.floor), self.ceiling) - _FIRST_DAY
        # An invoice is due 30 days after its date; a payment's credit is due the day it came.
        document = due if payment else due - 30
        self.staged.append((
            sub_id, customer.customer_id, None, None, None, None, self.item_no + 1, 1,
            customer.name, "Z" if payment else "F", self.calendar[document], due,
            _money(original), _money(open_), customer.currency, blocked, dispute))
        self.item_no += 1
        self.stats.blocked_items += blocked
        self.stats.disputed_items += dispute

    def amount(self, service: _Service, step: int) -> int:
        return self.pick(service.low, service.high, step)

    def pick(self, low: int, high: int, step: int) -> int:
        """A multiple of ``step`` above ``low``, at most ``high``."""
        return low + step * int(self.random() * ((high - low) // step + 1))

    def overdue(self) -> int:
        """A due date for a residual: 30 days ago (the edge) now and then, else well past."""
        return -30 if self.random() < 0.05 else -(31 + int(self.random() * 370))

    def small_debit(self, step: int) -> int:
        """Mostly the cents of a payment rounded to the franc, else up to 4.95."""
        if self.random() < 0.6:
            return self.pick(step, 95, step)
        return self.pick(100, 495, step)

    def short_payment(self, customer: _Customer, sub_id: str, service: _Service, residual: int,
                      due: int, *, blocked: int = 0, dispute: int = 0) -> None:
        """Paid a round sum: 100.00 on 100.50 leaves 0.50; 120.00 on 123.40 leaves 3.40."""
        unit = 100 if residual < 100 else 500 if residual < 500 else 1000
        paid = self.amount(service, 5) // unit * unit
        self.item(customer, sub_id, due, paid + residual, residual,
                  blocked=blocked, dispute=dispute)
        self.count_small(residual)

    def overpayment(self, customer: _Customer, sub_id: str, service: _Service, credit: int,
                    due: int) -> None:
        """Paid a round sum above the invoice: the payment's unused part stays as a credit."""
        unit = 100 if credit < 100 else 500
        paid = (self.amount(service, 5) // unit + 1) * unit
        self.item(customer, sub_id, due, -paid, -credit, payment=True)
        self.count_small(-credit)

    def count_small(self, cents: int) -> None:
        stats = self.stats
        stats.small_items += 1
        if cents < 0:
            stats.credits += 1
        elif cents < 500:
            stats.small_debits += 1
        elif cents == 500:
            stats.exactly_threshold += 1
        else:
            stats.above_threshold += 1

    # ---- the small cases, one method each (see _KINDS)

    def small_case(self, kind: _Kind, customer: _Customer, sub_id: str, service: _Service,
                   terminated: bool) -> None:
        case: Callable[[_Customer, str, _Service], None] = getattr(self, f"case_{kind.name}")
        case(customer, sub_id, service)
        if kind.flagged:
            self.stats.flagged_subscriptions += 1
            if terminated and customer.has_active:
                self.stats.flagged_transfer += 1
            elif terminated:
                self.stats.flagged_orphan += 1

    def case_short(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        self.short_payment(customer, sub_id, service, self.small_debit(customer.step),
                           self.overdue())

    def case_credit(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        self.overpayment(customer, sub_id, service, self.pick(10, 490, customer.step),
                         self.overdue())

    def case_exact_threshold(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        self.short_payment(customer, sub_id, service, 500, self.overdue())

    def case_pair_small(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        """Two residuals whose sum is small and not zero: two debits, or a debit and a credit."""
        step = customer.step
        first = self.pick(step, 250, step)
        self.short_payment(customer, sub_id, service, first, self.overdue())
        if self.random() < 0.5:
            second = self.pick(step, 500 - first, step)
            self.short_payment(customer, sub_id, service, second, self.overdue())
        else:
            credit = self.pick(10, 490, step)
            credit = credit + step if credit == first else credit
            self.overpayment(customer, sub_id, service, credit, self.overdue())

    def case_recent(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        """Due 10 or 29 days ago, or not yet: paid short before the due date."""
        x = self.random()
        due = -10 if x < 0.6 else -29 if x < 0.85 else 5 + int(self.random() * 15)
        self.stats.recent_residuals += 1
        self.short_payment(customer, sub_id, service, self.small_debit(customer.step), due)

    def case_above_threshold(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        residual = 501 if self.random() < 0.15 else self.pick(501, 999, 1)
        self.short_payment(customer, sub_id, service, residual, self.overdue())

    def case_blocked(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        self.short_payment(customer, sub_id, service, self.small_debit(customer.step),
                           self.overdue(), blocked=1)

    def case_dispute(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        self.short_payment(customer, sub_id, service, self.small_debit(customer.step),
                           self.overdue(), dispute=1)

    def case_net_zero(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        """Short on one invoice, over on another by the same amount."""
        amount = self.pick(10, 490, customer.step)
        self.stats.net_zero_pairs += 1
        self.short_payment(customer, sub_id, service, amount, self.overdue())
        self.overpayment(customer, sub_id, service, amount, self.overdue())

    def case_hidden_by_large(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        self.stats.hidden_by_large += 1
        self.short_payment(customer, sub_id, service, self.small_debit(customer.step),
                           self.overdue())
        self.large(customer, sub_id, service, -(31 + int(self.random() * 120)), flags=False)

    def case_pair_over(self, customer: _Customer, sub_id: str, service: _Service) -> None:
        """Two small debits that together exceed 5.00."""
        first = self.pick(255, 495, customer.step)
        self.short_payment(customer, sub_id, service, first, self.overdue())
        second = self.pick(505 - first, 495, customer.step)
        self.short_payment(customer, sub_id, service, second, self.overdue())

    # ---- names and addresses

    def name(self) -> str:
        r = self.random
        x = r()
        if x < _TRICKY_RATE:
            self.stats.tricky_names += 1
            return _TRICKY_NAMES[int(r() * len(_TRICKY_NAMES))]
        surname = self.surname()
        if x < _TRICKY_RATE + _COMPANY_RATE:
            return _COMPANIES[int(r() * len(_COMPANIES))].format(surname)
        if x < _TRICKY_RATE + _COMPANY_RATE + _DOUBLE_NAME_RATE:
            other = self.surname()
            if other != surname:
                surname = f"{surname}-{other}"
        return f"{surname} {_FIRST_NAMES[int(r() * len(_FIRST_NAMES))]}"

    def surname(self) -> str:
        return _SURNAMES[int(self.random() * len(_SURNAMES))]

    def address(self) -> str:
        r = self.random
        street = _STREETS[int(r() * len(_STREETS))]
        number = 1 + int(r() * 120)
        suffix = "a" if r() < 0.08 else ""
        return f"{street} {number}{suffix}"


# --------------------------------------------------------------------------- public API

def generate_ledger(
    target: str | Path,
    *,
    customers: int = 4000,
    seed: int = 2026,
    as_of: dt.date = DEMO_AS_OF,
    items: int | None = None,
    small_share: float = 0.03,
    flagged_subscriptions: int | None = None,
) -> LedgerStats:
    """Write ``open_items`` and ``subscriptions`` to ``target``, replacing them if present.

    ``target`` is a SQLite file path or a SQLAlchemy URL. The ledger is sized by ``customers``,
    or by ``items`` (open items, to within one customer) when given. ``small_share`` is about
    the share of small items (every residual, credit and edge case). ``flagged_subscriptions``
    asks for about that many subscriptions the default rules flag (a "dirty" ledger) instead
    of the number ``small_share`` implies.
    """
    if customers < 1 or (items is not None and items < 1):
        raise ValueError("customers and items must be positive")
    if not 0 <= small_share < 0.5:
        raise ValueError(f"small_share must be in [0, 0.5): {small_share}")
    if flagged_subscriptions is not None and flagged_subscriptions < 0:
        raise ValueError("flagged_subscriptions must not be negative")
    plan = _Plan.make(customers, items, small_share, flagged_subscriptions)
    calendar = _calendar(as_of)
    with _open_sink(target, calendar) as sink:
        stats = _Builder(random.Random(seed), calendar, plan, sink).run()
    return stats


def write_csv_folder(source_url_or_path: str | Path, folder: str | Path, *,
                     delimiter: str = ";", swiss_dates: bool = True) -> tuple[Path, Path]:
    """Export both tables as a Swiss ERP would: ``;``, dd.mm.yyyy, UTF-8 with BOM, CRLF.

    Names are written as the ERP holds them (``=Dupont`` stays a would-be formula); the csv
    module quotes only what holds the delimiter, a quote or a line break. Streams.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table, columns, key in (("open_items", ITEM_COLUMNS, "item_id"),
                                ("subscriptions", SUBSCRIPTION_COLUMNS, "subscription_id")):
        out = folder / f"{table}.csv"
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
            writer.writerow(columns)
            with _exported_rows(source_url_or_path, table, columns, key, swiss_dates) as rows:
                writer.writerows(rows)
        written.append(out)
    return written[0], written[1]


def _exported_rows(source: str | Path, table: str, columns: tuple[str, ...], key: str,
                   swiss_dates: bool) -> AbstractContextManager[Iterator[Sequence[object]]]:
    path = _sqlite_path(source)
    if path is not None:
        return _sqlite_rows(path, table, columns, key, swiss_dates)
    return _database_rows(str(source), table, columns, key, swiss_dates)


@contextmanager
def _sqlite_rows(path: Path, table: str, columns: tuple[str, ...], key: str,
                 swiss_dates: bool) -> Iterator[Iterator[Sequence[object]]]:
    if not path.is_file():
        raise FileNotFoundError(path)
    connection = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        select = ", ".join(_sqlite_export_expression(c, swiss_dates) for c in columns)
        yield connection.execute(f"SELECT {select} FROM {table} ORDER BY {key}")
    finally:
        connection.close()


@contextmanager
def _database_rows(url: str, table: str, columns: tuple[str, ...], key: str,
                   swiss_dates: bool) -> Iterator[Iterator[Sequence[object]]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True).execute(
                text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}"))
            formats = [_export_formatter(c, swiss_dates) for c in columns]
            yield ([f(v) for f, v in zip(formats, row, strict=True)] for row in result)
    finally:
        engine.dispose()


def _sqlite_export_expression(column: str, swiss_dates: bool) -> str:
    """Formatting done by SQLite, so rows go from the cursor to the csv writer untouched."""
    if column in _DATE_COLUMNS and swiss_dates:
        return (f"substr({column}, 9, 2) || '.' || substr({column}, 6, 2) || '.' "
                f"|| substr({column}, 1, 4)")
    if column in _AMOUNT_COLUMNS:
        return f"printf('%.2f', {column})"  # as is for text; exact for a REAL holding cents
    return column


def _export_formatter(column: str, swiss_dates: bool) -> Callable[[object], object]:
    if column in _DATE_COLUMNS:
        def day(value: object) -> object:
            if value is None:
                return ""
            date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
            return f"{date:%d.%m.%Y}" if swiss_dates else date.isoformat()
        return day
    if column in _AMOUNT_COLUMNS:
        return lambda value: f"{Decimal(str(value)):.2f}"
    return lambda value: value
