"""The reconciliation report: an .xlsx with the open and cleared rebill lines, the movements
that match nothing, and the balances; or the same as JSON for a script."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from addin.domain.transit import Reconciliation, age


def as_json(found: Reconciliation, as_of: dt.date, alert_days: int,
            statuses: dict[str, str]) -> str:
    def money(amount: Decimal) -> str:
        return f"{amount:.2f}"

    data: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "open": [{"batch_id": d.batch_id, "subscription_id": d.subscription_id,
                  "amount": money(d.amount), "currency": d.currency, "days": age(d, as_of),
                  "alert": age(d, as_of) > alert_days,
                  "status": statuses.get(d.subscription_id, "")} for d in found.open],
        "cleared": [{"batch_id": c.due.batch_id, "subscription_id": c.due.subscription_id,
                     "amount": money(c.due.amount), "currency": c.due.currency,
                     "document_no": c.document_no, "cleared_on": c.posting_date.isoformat()}
                    for c in found.cleared],
        "unmatched": [{"line": m.line, "posting_date": m.posting_date.isoformat(),
                       "amount": money(m.amount), "currency": m.currency,
                       "document_no": m.document_no, "reference": m.reference}
                      for m in found.unmatched],
        "expected_balance": {c: money(a) for c, a in found.expected_balance.items()},
        "file_balance": {c: money(a) for c, a in found.file_balance.items()},
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def write_report(path: Path, found: Reconciliation, as_of: dt.date, alert_days: int,
                 statuses: dict[str, str]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Open"
    sheet.append(["Batch", "Subscription", "From subscription", "Amount", "Currency",
                  "Committed", "Days", f"Over {alert_days} days", "Subscription now"])
    for d in found.open:
        sheet.append([d.batch_id, d.subscription_id, d.source_subscription_id, d.amount,
                      d.currency, d.committed_on, age(d, as_of),
                      "yes" if age(d, as_of) > alert_days else "",
                      statuses.get(d.subscription_id, "")])
    sheet = book.create_sheet("Cleared")
    sheet.append(["Batch", "Subscription", "Amount", "Currency", "Cleared by", "On"])
    for c in found.cleared:
        sheet.append([c.due.batch_id, c.due.subscription_id, c.due.amount, c.due.currency,
                      c.document_no, c.posting_date])
    sheet = book.create_sheet("Unmatched")
    sheet.append(["Line", "Date", "Amount", "Currency", "Document", "Reference"])
    for m in found.unmatched:
        sheet.append([m.line, m.posting_date, m.amount, m.currency, m.document_no,
                      m.reference])
    sheet = book.create_sheet("Balance")
    sheet.append(["Currency", "Committed to transit, not cleared", "The file shows"])
    for currency in sorted(set(found.expected_balance) | set(found.file_balance)):
        sheet.append([currency, found.expected_balance.get(currency, Decimal(0)),
                      found.file_balance.get(currency, Decimal(0))])
    for ws in book.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "DD.MM.YYYY"
    book.save(path)
