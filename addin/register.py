"""The register: every item ever committed, in an SQLite file, so none is exported twice.

The ERP still shows an item open until it has imported the posting file; the register
is what keeps a second extraction or commit from taking it again. The item id is the
primary key: a second batch holding the same item cannot be recorded, even by a
concurrent commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from addin.domain.batch import Batch
from addin.domain.model import BatchId, ItemId
from addin.domain.problems import CommitRefused, Problem, ReliquatError, Where
from addin.sql_keys import key_chunks, member_of

metadata = MetaData()
batches = Table(
    "batches", metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("committed_at", String(32), nullable=False),
    Column("committed_by", String(200), nullable=False),
    Column("workbook", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("offline", Integer, nullable=False),
    Column("items", Integer, nullable=False),
)
committed_items = Table(
    "committed_items", metadata,
    Column("item_id", String(100), primary_key=True),
    Column("batch_id", String(40), ForeignKey("batches.batch_id"), nullable=False, index=True),
    Column("subscription_id", String(100), nullable=False),
    Column("customer_id", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("target", String(100)),
)


class Register:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._engine: Engine | None = None

    def _connect(self) -> Engine:
        if self._engine is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._engine = create_engine(f"sqlite:///{self.path}")
                metadata.create_all(self._engine)
            except (OSError, OperationalError) as exc:
                raise ReliquatError(
                    [Problem(Where(str(self.path)), f"cannot open the register: {exc}")]
                ) from exc
        return self._engine

    def committed(self, item_ids: Iterable[ItemId] | None = None) -> dict[ItemId, BatchId]:
        """Item -> batch, for the given items (or all of them when None)."""
        if item_ids is None and not self.path.exists():
            return {}
        query = select(committed_items.c.item_id, committed_items.c.batch_id)
        with self._connect().connect() as conn:
            if item_ids is None:
                return {row.item_id: row.batch_id for row in conn.execute(query)}
            wanted = list(dict.fromkeys(item_ids))
            found: dict[ItemId, BatchId] = {}
            for chunk in key_chunks(conn, wanted):
                rows = conn.execute(query.where(member_of(conn, committed_items.c.item_id,
                                                          chunk)))
                found.update({row.item_id: row.batch_id for row in rows})
            return found

    @contextmanager
    def recording(self, batch: Batch, *, committed_at: dt.datetime, committed_by: str,
                  workbook: str, source: str, offline: bool) -> Iterator[Connection]:
        """Insert the batch in a transaction that commits only if the block succeeds."""
        with self._connect().connect() as conn, conn.begin():
            try:
                conn.execute(insert(batches).values(
                    batch_id=batch.batch_id, committed_at=committed_at.isoformat(),
                    committed_by=committed_by, workbook=workbook, source=source,
                    offline=int(offline), items=len(batch.item_ids)))
                rows = [
                    {"item_id": item.item_id, "batch_id": batch.batch_id,
                     "subscription_id": d.subscription_id, "customer_id": d.customer_id,
                     "currency": d.currency, "amount": f"{item.amount:.2f}",
                     "action": d.action.value, "target": d.target}
                    for d in batch.decisions for item in d.items
                ]
                if rows:
                    conn.execute(insert(committed_items), rows)
            except IntegrityError as exc:
                raise CommitRefused([Problem(Where(str(self.path)),
                    "an item of this batch was committed by another batch meanwhile; "
                    "extract again")]) from exc
            yield conn
