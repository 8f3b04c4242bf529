"""What the register knows beyond the items it holds: each customer's committed residuals
(repeat short-payers) and the rebill lines in transit, with those a reconciliation saw
cleared."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import delete, insert, select

from addin.domain.actions import POLICIES
from addin.domain.history import CommittedResidual
from addin.domain.model import BatchId
from addin.domain.transit import Cleared, RebillDue
from addin.register import schema
from addin.register.store import Register


def residuals_since(register: Register, day: dt.date) -> list[CommittedResidual]:
    """The items of batches that count (committed, not reversed) since ``day``."""
    if register.identity() is None:
        return []
    b, i = schema.batches, schema.items
    query = (select(i.c.customer_id, i.c.currency, i.c.batch_id, b.c.started_at, i.c.amount)
             .join(b, b.c.batch_id == i.c.batch_id)
             .where(b.c.state.in_((schema.EXPORTED, schema.DONE)),
                    b.c.reversed_by.is_(None), b.c.started_at >= day.isoformat()))
    with register.reading() as conn:
        return [CommittedResidual(row[0], row[1], row[2], row[3], Decimal(row[4]))
                for row in conn.execute(query)]

def rebills_due(register: Register) -> list[RebillDue]:
    """The rebill lines of the batches that count, as their rebill files hold them: one
    per batch, source subscription and currency, charged on the target's invoice."""
    if register.identity() is None:
        return []
    b, i = schema.batches, schema.items
    rebilling = [a.value for a, p in POLICIES.items() if p.rebills]
    query = (select(i.c.batch_id, i.c.subscription_id, i.c.target, i.c.currency,
                    i.c.amount, b.c.started_at)
             .join(b, b.c.batch_id == i.c.batch_id)
             .where(b.c.state.in_((schema.EXPORTED, schema.DONE)),
                    b.c.reversed_by.is_(None), i.c.action.in_(rebilling)))
    sums: dict[tuple[str, str, str, str, str], Decimal] = defaultdict(Decimal)
    with register.reading() as conn:
        for batch, source, target, currency, amount, started in conn.execute(query):
            sums[(batch, target or source, source, currency, started[:10])] += \
                Decimal(amount)
    return [RebillDue(batch, target, source, currency, amount + 0,
                      dt.date.fromisoformat(day))
            for (batch, target, source, currency, day), amount in sorted(sums.items())
            if amount != 0]

def cleared(register: Register) -> dict[tuple[BatchId, str, str], Cleared]:
    """The rebill lines earlier reconciliations saw cleared (the ``due`` is a stand-in:
    ``reconcile`` puts the line itself back)."""
    if register.identity() is None:
        return {}
    c = schema.cleared
    with register.reading() as conn:
        rows = conn.execute(select(c)).all()
    return {(r.batch_id, r.source_subscription_id, r.currency): Cleared(
        RebillDue(r.batch_id, r.subscription_id, r.source_subscription_id, r.currency,
                  Decimal(0), dt.date.min), r.document_no,
        dt.date.fromisoformat(r.cleared_on)) for r in rows}

def record_cleared(register: Register, found: Iterable[Cleared], at: dt.datetime) -> None:
    """Remember the lines a reconciliation saw cleared, and when it ran."""
    rows = [{"batch_id": c.due.batch_id, "source_subscription_id":
             c.due.source_subscription_id, "currency": c.due.currency,
             "subscription_id": c.due.subscription_id, "document_no": c.document_no,
             "cleared_on": c.posting_date.isoformat(), "reconciled_at": at.isoformat()}
            for c in found]
    known = cleared(register)
    new = [r for r in rows
           if (r["batch_id"], r["source_subscription_id"], r["currency"]) not in known]
    with register.writing() as conn:
        if new:
            conn.execute(insert(schema.cleared), new)
        conn.execute(delete(schema.info).where(schema.info.c.key == "reconciled_at"))
        conn.execute(insert(schema.info).values(key="reconciled_at",
                                                value=at.isoformat()))

def reconciled_at(register: Register) -> str:
    """When the transit account was last reconciled ("" for never)."""
    if register.identity() is None:
        return ""
    with register.reading() as conn:
        found = conn.execute(select(schema.info.c.value)
                             .where(schema.info.c.key == "reconciled_at")).scalar()
    return found or ""
