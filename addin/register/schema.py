"""The register's tables. Names carry a prefix so that a register can share a team's database.

A batch goes through three states, so that a commit interrupted at any point can be finished
or undone by the next command (see addin/commit/protocol.py):

  pending   its items are claimed; its files may be written privately, not yet visible
  exported  every export file is in the export folder: the batch is committed
  done      the workbook was stamped too (or could not be, and the batch says why)
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Text

PENDING, EXPORTED, DONE = "pending", "exported", "done"
SCHEMA_VERSION = "2"

metadata = MetaData()

info = Table(
    "reliquat_info", metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

batches = Table(
    "reliquat_batches", metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("state", String(10), nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("committed_by", String(200), nullable=False),
    Column("host", String(200), nullable=False),
    Column("workbook", Text, nullable=False),
    Column("source", Text, nullable=False),  # the shown form: never a password
    Column("offline", Integer, nullable=False),
    Column("items", Integer, nullable=False),
    Column("out_dir", Text, nullable=False),
    Column("plan", Text, nullable=False),  # JSON: what to finish or undo after a crash
    Column("note", Text, nullable=False, default=""),
    Column("posting_date", String(10), nullable=False, default=""),
    # A reversal names the batch it reverses; unique: a batch is reversed once at most.
    Column("reverses", String(40), unique=True),
    Column("reversed_by", String(40)),
)

items = Table(
    "reliquat_items", metadata,
    # The primary key is the guarantee: an item can be claimed by one batch only.
    Column("item_id", String(200), primary_key=True),
    Column("batch_id", String(40), ForeignKey("reliquat_batches.batch_id"), nullable=False,
           index=True),
    Column("subscription_id", String(200), nullable=False),
    Column("customer_id", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("target", String(200)),
)

# Rebill lines seen cleared on the transit account by a reconciliation (reliquat reconcile).
cleared = Table(
    "reliquat_cleared", metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("source_subscription_id", String(200), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("subscription_id", String(200), nullable=False),
    Column("document_no", String(200), nullable=False),
    Column("cleared_on", String(10), nullable=False),
    Column("reconciled_at", String(32), nullable=False),
)

# The first register layout (Reliquat 0.1): no identity, one file beside each workbook.
EARLIER_LAYOUT = {"batches", "committed_items"}
