"""The register: every item ever committed, so that none is exported twice.

The ERP still shows an item open until it has imported the posting file; the register is what
keeps a second extraction or commit from taking it again. The item id is the primary key: a
second batch holding the same item cannot be recorded, even by a concurrent commit.

A register is an SQLite file or a table set in a team's database. It is created by the first
commit (or ``reliquat register init``), never by an extraction or a validation: reading a
register that is not there finds nothing and creates nothing. It has an identity (an id and a
secret that keys the workbook's check values) so that a workbook extracted with one register
is never committed against another.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    create_engine,
    delete,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from addin.domain.model import BatchId, ItemId
from addin.domain.problems import CommitRefused, Problem, ReliquatError, Where
from addin.locations import Location, with_password
from addin.register import schema
from addin.sources.sql_keys import key_chunks, member_of

BUSY_SECONDS = 30  # how long a write waits for another process's transaction on SQLite


class RegisterError(ReliquatError):
    """The register cannot be used: missing, foreign, damaged, busy or not writable."""


@dataclass(frozen=True)
class Identity:
    """Who a register is. The secret never leaves the register (it keys check values)."""

    register_id: str
    created_at: str
    secret: bytes = b""

    def __repr__(self) -> str:
        return f"Identity({self.register_id!r})"


class ClaimedItem(NamedTuple):
    item_id: ItemId
    subscription_id: str
    customer_id: str
    currency: str
    amount: str
    action: str
    target: str | None


@dataclass(frozen=True)
class Entry:
    """One batch as the register knows it (``plan`` says what to finish or undo)."""

    batch_id: BatchId
    state: str
    started_at: str
    committed_by: str
    host: str
    workbook: str
    source: str
    offline: bool
    items: int
    out_dir: str
    plan: dict[str, Any]
    note: str = ""
    posting_date: str = ""
    reverses: str | None = None  # the batch this one reverses
    reversed_by: str | None = None


class Register:
    def __init__(self, location: Location) -> None:
        self.location = location
        self._engine: Engine | None = None
        self._identity: Identity | None = None

    @property
    def shown(self) -> str:
        return self.location.shown

    # -- where it is ---------------------------------------------------------------------

    def file(self) -> Path | None:
        """The SQLite file of a file register (a path or a sqlite:/// URL), else None."""
        if not self.location.is_url:
            return self.location.path
        url = make_url(self.location.given)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(str(url.database)).expanduser().resolve()
        return None

    def exists(self) -> bool:
        file = self.file()
        if file is not None:
            if file.is_dir():
                raise self._error("is a folder, not a register file")
            return file.is_file()
        with self._errors("open"), self._connect().connect() as conn:
            return inspect(conn).has_table(schema.info.name)

    # -- identity ------------------------------------------------------------------------

    def identity(self) -> Identity | None:
        """The register's identity, or None when there is no register at this location."""
        if self._identity is None and self.exists():
            with self.reading() as conn:
                self._identity = self._read_identity(conn)
        return self._identity

    def create(self) -> Identity:
        """Create the register here (first commit, ``register init``, ``register rebuild``),
        under the commit lock. A file register appears whole or not at all: it is made under
        a private name first."""
        if self.exists():
            found = self.identity()
            assert found is not None
            return found
        fresh = Identity(f"R{uuid.uuid4().hex[:15].upper()}",
                         dt.datetime.now().replace(microsecond=0).isoformat(),
                         secrets.token_bytes(32))
        file = self.file()
        if file is None:
            self._create_tables(self._connect(), fresh)
        else:
            self._create_file(file, fresh)
        self._identity = None
        found = self.identity()
        assert found is not None
        return found

    def _create_file(self, file: Path, fresh: Identity) -> None:
        private = file.with_name(f".{file.name}.{os.getpid()}.new")
        with self._errors("create"):
            file.parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(
                URL.create("sqlite+pysqlite"), poolclass=NullPool,
                creator=lambda: sqlite3.connect(f"{private.as_uri()}?mode=rwc", uri=True))
            self._create_tables(engine, fresh)
            engine.dispose()
            with self._errors("create"):
                os.replace(private, file)
        finally:
            with suppress(OSError):
                private.unlink(missing_ok=True)
                Path(f"{private}-journal").unlink(missing_ok=True)

    def _create_tables(self, engine: Engine, fresh: Identity) -> None:
        with self._errors("create"), engine.begin() as conn:
            schema.metadata.create_all(conn)
            if conn.execute(select(schema.info.c.key)).first() is None:
                conn.execute(insert(schema.info), [
                    {"key": "register_id", "value": fresh.register_id},
                    {"key": "created_at", "value": fresh.created_at},
                    {"key": "secret", "value": fresh.secret.hex()},
                    {"key": "schema", "value": schema.SCHEMA_VERSION},
                ])

    def _read_identity(self, conn: Connection) -> Identity:
        tables = set(inspect(conn).get_table_names())
        if schema.info.name not in tables:
            if tables >= schema.EARLIER_LAYOUT:
                raise self._error(
                    "a register of an earlier Reliquat (one beside each workbook, without an "
                    "identity): build the new one from your export folders with "
                    "'reliquat register rebuild --out-dir FOLDER'")
            raise self._error("not a Reliquat register (no reliquat_info table)")
        values = dict(conn.execute(select(schema.info.c.key, schema.info.c.value)).all())
        try:
            return Identity(values["register_id"], values["created_at"],
                            bytes.fromhex(values["secret"]))
        except (KeyError, ValueError):
            raise self._error("a damaged Reliquat register (its identity is incomplete)"
                              ) from None

    # -- what it holds -------------------------------------------------------------------

    def committed(self, item_ids: Iterable[ItemId] | None = None) -> dict[ItemId, BatchId]:
        """Item -> batch, for the given items (or all of them when None); every state counts,
        so the items of a batch being committed are never offered twice."""
        if self.identity() is None:
            return {}
        query = select(schema.items.c.item_id, schema.items.c.batch_id)
        with self.reading() as conn:
            if item_ids is None:
                return {row.item_id: row.batch_id for row in conn.execute(query)}
            found: dict[ItemId, BatchId] = {}
            for chunk in key_chunks(conn, list(dict.fromkeys(item_ids))):
                rows = conn.execute(query.where(member_of(conn, schema.items.c.item_id,
                                                          chunk)))
                found.update({row.item_id: row.batch_id for row in rows})
            return found

    def entries(self, *states: str) -> list[Entry]:
        """The batches in these states (all when none is given), oldest first."""
        if self.identity() is None:
            return []
        query = select(schema.batches).order_by(schema.batches.c.started_at,
                                                schema.batches.c.batch_id)
        if states:
            query = query.where(schema.batches.c.state.in_(states))
        with self.reading() as conn:
            return [_entry(row._mapping) for row in conn.execute(query)]

    def items_of(self, batch_id: BatchId) -> list[ClaimedItem]:
        query = select(*(schema.items.c[f] for f in ClaimedItem._fields)).where(
            schema.items.c.batch_id == batch_id).order_by(schema.items.c.item_id)
        with self.reading() as conn:
            return [ClaimedItem(*row) for row in conn.execute(query)]

    # -- changes -------------------------------------------------------------------------

    def entry(self, batch_id: BatchId) -> Entry | None:
        if self.identity() is None:
            return None
        query = select(schema.batches).where(schema.batches.c.batch_id == batch_id)
        with self.reading() as conn:
            row = conn.execute(query).first()
        return None if row is None else _entry(row._mapping)

    def claim(self, entry: Entry, claimed: list[ClaimedItem]) -> None:
        """Record a batch with its items, in one transaction: refused when any item is
        already claimed by another batch (or the batch it reverses is reversed already)."""
        try:
            with self.writing() as conn:
                conn.execute(insert(schema.batches).values(_row(entry)))
                if claimed:
                    conn.execute(insert(schema.items),
                                 [{**c._asdict(), "batch_id": entry.batch_id}
                                  for c in claimed])
        except IntegrityError as exc:
            message = (f"batch {entry.reverses} is being reversed by another commit meanwhile"
                       if entry.reverses else "an item of this batch was committed by another "
                                              "batch meanwhile; extract again")
            raise CommitRefused([Problem(Where(self.shown), message)]) from exc

    def advance(self, batch_id: BatchId, state: str, note: str | None = None) -> None:
        """A batch that becomes visible (exported) and reverses another one frees that one's
        items in the same transaction: they are open to Reliquat again."""
        values: dict[str, str] = {"state": state}
        if note is not None:
            values["note"] = note
        b = schema.batches
        with self.writing() as conn:
            conn.execute(update(b).where(b.c.batch_id == batch_id).values(**values))
            reverses = conn.execute(select(b.c.reverses).where(b.c.batch_id == batch_id)
                                    ).scalar()
            if state == schema.EXPORTED and reverses:
                _mark_reversed(conn, reverses, batch_id)

    def mark_reversed(self, original: BatchId, by: BatchId) -> None:
        with self.writing() as conn:
            _mark_reversed(conn, original, by)

    def release(self, batch_id: BatchId) -> None:
        """Forget a batch that never became visible: its items are free again."""
        with self.writing() as conn:
            conn.execute(delete(schema.items).where(schema.items.c.batch_id == batch_id))
            conn.execute(delete(schema.batches).where(schema.batches.c.batch_id == batch_id))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- connection ----------------------------------------------------------------------

    def _connect(self) -> Engine:
        if self._engine is not None:
            return self._engine
        file = self.file()
        if file is not None:
            uri = f"{file.as_uri()}?mode=rw"  # never creates: see create
            self._engine = create_engine(
                URL.create("sqlite+pysqlite"), poolclass=NullPool,
                creator=lambda: sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS))
        else:
            try:
                self._engine = create_engine(with_password(self.location.given))
            except ImportError as exc:
                from addin.sources.sql_source import missing_driver

                raise self._error(missing_driver(make_url(self.location.given).drivername,
                                                 exc)) from exc
            except (SQLAlchemyError, ValueError) as exc:
                raise self._error(f"cannot use this database URL: {exc}") from exc
        return self._engine

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection to read, its errors a refusal naming the register."""
        with self._errors("read"), self._connect().connect() as conn:
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A transaction, committed when the block ends well."""
        with self._errors("write"), self._connect().begin() as conn:
            yield conn

    def _error(self, message: str) -> RegisterError:
        return RegisterError([Problem(Where(self.shown), f"register: {message}")])

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Database and file errors as a refusal naming the register, never raw SQL."""
        try:
            yield
        except RegisterError:
            raise
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise self._error(_explain(doing, exc)) from exc
        except OSError as exc:
            raise self._error(f"cannot {doing} it: {exc.strerror or exc}") from exc


def _mark_reversed(conn: Connection, original: BatchId, by: BatchId) -> None:
    conn.execute(delete(schema.items).where(schema.items.c.batch_id == original))
    conn.execute(update(schema.batches).where(schema.batches.c.batch_id == original)
                 .values(reversed_by=by))


def _explain(doing: str, exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip().splitlines()[0]
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return (f"busy: another process has held it for more than {BUSY_SECONDS} s "
                f"({text}); try again in a moment")
    if "not a database" in lowered or "malformed" in lowered:
        return f"not a Reliquat register, or a damaged one ({text})"
    if "readonly" in lowered or "read-only" in lowered:
        return f"cannot {doing} it: it is read-only ({text})"
    if "disk is full" in lowered or "disk i/o" in lowered:
        return f"cannot {doing} it: {text}"
    if "unable to open" in lowered:
        return f"cannot open it ({text})"
    return f"cannot {doing} it: {text}"


def _row(entry: Entry) -> dict[str, object]:
    row = dict(vars(entry))
    row["offline"] = int(entry.offline)
    row["plan"] = json.dumps(entry.plan, sort_keys=True)
    return row


def _entry(row: Any) -> Entry:
    values = dict(row)
    values["offline"] = bool(values["offline"])
    values["plan"] = json.loads(values["plan"] or "{}")
    values["note"] = values.get("note") or ""
    return Entry(**values)
