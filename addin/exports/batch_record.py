"""The batch record: who, when, with what settings, what totals, and each file's sha256."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from addin import __version__
from addin.config import Config
from addin.domain.batch import Batch, Decision, transit_balance
from addin.domain.problems import Problem
from addin.locations import redact


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_batch_record(path: Path, batch: Batch, *, files: list[Path], source: str,
                       workbook: str, user: str, at: dt.datetime, offline: bool,
                       stale: list[tuple[Decision, list[Problem]]], config: Config) -> None:
    transit = transit_balance(batch.postings, config.accounts.transit)
    record = {
        "batch_id": batch.batch_id,
        "committed_at": at.isoformat(),
        "committed_by": user,
        "tool_version": __version__,
        "workbook": workbook,
        "source": redact(source),
        "offline": offline,
        "posting_date": batch.posting_date.isoformat(),
        "accounts": vars(config.accounts),
        "billing": {"charge_code": config.billing.charge_code,
                    "vat_code": config.billing.vat_code},
        "counts": {"subscriptions": len(batch.decisions), "items": len(batch.item_ids),
                   "posting_lines": len(batch.postings), "rebill_lines": len(batch.rebills),
                   "refused_rows": len(stale)},
        "totals": [
            {"action": t.action.value, "currency": t.currency, "subscriptions": t.subscriptions,
             "items": t.items, "amount": f"{t.amount:.2f}"}
            for t in batch.totals()
        ],
        "transit_balance": {cur: f"{amount:.2f}" for cur, amount in sorted(transit.items())},
        "refused": [
            {"subscription_id": d.subscription_id, "line": d.where.line,
             "reasons": [p.message for p in problems]}
            for d, problems in stale
        ],
        "files": {f.name: {"sha256": sha256_of(f), "bytes": f.stat().st_size} for f in files},
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
