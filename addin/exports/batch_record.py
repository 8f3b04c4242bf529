"""The batch record: who, when, with what settings and register, every item, the totals, and
each file's sha256.

It is the export folder's own witness: it lists every item of the batch, so that an item
exported once is refused again even by a register that lost it (``addin/register/witness``),
and a lost register can be rebuilt from the records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from addin import __version__
from addin.config import Config
from addin.domain.batch import Batch, Decision, transit_balance
from addin.domain.model import Rules
from addin.domain.problems import Problem

ITEM_COLUMNS = ("item_id", "subscription_id", "customer_id", "currency", "amount", "action",
                "target")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class RecordContext:
    """Where a batch comes from and where it is recorded (every location in its shown form)."""

    source: str
    workbook: str
    user: str
    at: dt.datetime
    offline: bool
    register_id: str
    register: str
    rules: Rules | None = None  # the extraction's (a reversal has none)
    reverses: str = ""
    reason: str = ""


def _rules(rules: Rules | None) -> dict[str, str | int | bool] | None:
    if rules is None:
        return None
    return {"threshold": f"{rules.threshold:.2f}", "as_of": rules.as_of.isoformat(),
            "min_overdue_days": rules.min_overdue_days,
            "write_off_limit": f"{rules.write_off_limit:.2f}",
            "include_credits": rules.include_credits, "repeat_limit": rules.repeat_limit}


def item_rows(batch: Batch) -> list[list[str | None]]:
    return [[item.item_id, d.subscription_id, d.customer_id, d.currency, f"{item.amount:.2f}",
             d.action.value, d.target] for d in batch.decisions for item in d.items]


def write_batch_record(path: Path, batch: Batch, *, files: Mapping[str, Path],
                       context: RecordContext, stale: list[tuple[Decision, list[Problem]]],
                       config: Config) -> None:
    """``files`` maps each file's name in the export folder to where it is now."""
    transit = transit_balance(batch.postings, config.accounts.transit)
    record = {
        "batch_id": batch.batch_id,
        "committed_at": context.at.isoformat(),
        "committed_by": context.user,
        "tool_version": __version__,
        "register": {"id": context.register_id, "location": context.register},
        "workbook": context.workbook,
        "source": context.source,
        "offline": context.offline,
        "posting_date": batch.posting_date.isoformat(),
        "rules": _rules(context.rules),
        "accounts": vars(config.accounts),
        "vat_rates": {code: str(rate) for code, rate in sorted(config.vat_rates.items())},
        "billing": {"charge_code": config.billing.charge_code,
                    "vat_code": config.billing.vat_code},
        "export": {"delimiter": config.delimiter, "encoding": config.encoding},
        "counts": {"subscriptions": len(batch.decisions), "items": len(batch.item_ids),
                   "posting_lines": len(batch.postings), "rebill_lines": len(batch.rebills),
                   "refused_rows": len(stale)},
        "totals": [
            {"action": t.action.value, "currency": t.currency, "subscriptions": t.subscriptions,
             "items": t.items, "amount": f"{t.amount:.2f}"}
            for t in batch.totals()
        ],
        "transit_balance": {cur: f"{amount:.2f}" for cur, amount in sorted(transit.items())},
        "vat": {cur: f"{amount:.2f}"
                for cur, amount in sorted(batch.vat_totals(config.accounts.vat).items())},
        "refused": [
            {"subscription_id": d.subscription_id, "line": d.where.line,
             "reasons": [p.message for p in problems]}
            for d, problems in stale
        ],
        "files": {name: {"sha256": sha256_of(f), "bytes": f.stat().st_size}
                  for name, f in files.items()},
        "item_columns": list(ITEM_COLUMNS),
        "items": Rows(item_rows(batch)),
    }
    if context.reverses:
        record.update(reverses=context.reverses, reason=context.reason)
    path.write_text(record_text(record), encoding="utf-8")


class Rows(list[list[str | None]]):
    """A list written one row per line: a record of 100 000 items stays readable and small."""


def record_text(record: Mapping[str, object]) -> str:
    """``json.dumps(record, indent=2)``, except that a ``Rows`` value has a row per line."""
    fields = [f"  {_json(key)}: {_value(value)}" for key, value in record.items()]
    return "{\n" + ",\n".join(fields) + "\n}\n"


def _value(value: object) -> str:
    if isinstance(value, Rows):
        return "[\n" + ",\n".join(f"    {_json(row)}" for row in value) + "\n  ]" \
            if value else "[]"
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps would build one per row


def _json(value: object) -> str:
    return _ENCODER.encode(value)
