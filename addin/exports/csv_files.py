"""The two import files: postings for the ERP, charges for the billing system.

Amounts: two decimals, ``.`` as decimal mark, no thousands separator; dates dd.mm.yyyy;
UTF-8. Identifiers (ids, accounts, codes) are written as they are, for the ERP and the
billing system to match (a source with one that would run as a formula is refused when read);
a free text that a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from addin.domain.batch import PostingLine, RebillLine
from addin.domain.formulas import CSV_FORMULA_STARTS
from addin.domain.money import format_money

POSTING_COLUMNS = PostingLine._fields  # the file's columns are the line's fields
REBILL_COLUMNS = RebillLine._fields


def neutralise(text: str) -> str:
    """Prefix a quote to a text a spreadsheet would read as a formula (CSV injection)."""
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


def posting_row(line: PostingLine) -> list[str]:
    return [
        line.batch_id, f"{line.posting_date:%d.%m.%Y}", line.debit_account,
        line.credit_account, format_money(line.amount), line.currency, line.customer_id,
        line.subscription_id, line.item_id, line.document_no, line.action,
        neutralise(line.text), line.vat_code,
    ]


def rebill_row(line: RebillLine) -> list[str]:
    return [
        line.batch_id, line.subscription_id, line.customer_id, line.charge_code,
        format_money(line.amount), line.currency, line.vat_code, line.source_subscription_id,
        line.documents, neutralise(line.text),
    ]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[list[str]],
              delimiter: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL,
                            lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_postings(path: Path, lines: Iterable[PostingLine], delimiter: str = ";") -> None:
    write_csv(path, POSTING_COLUMNS, (posting_row(line) for line in lines), delimiter)


def write_rebills(path: Path, lines: Iterable[RebillLine], delimiter: str = ";") -> None:
    write_csv(path, REBILL_COLUMNS, (rebill_row(line) for line in lines), delimiter)
