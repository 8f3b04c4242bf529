"""The two import files: postings for the ERP, charges for the billing system.

Amounts: two decimals, ``.`` as decimal mark, no thousands separator; dates dd.mm.yyyy;
UTF-8, UTF-8 with a BOM or Windows-1252 (``[export] encoding``). Identifiers (ids, accounts,
codes) are written as they are, for the ERP and the billing system to match (a source with one
that would run as a formula is refused when read); a free text that a spreadsheet would run as
a formula is neutralised.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from addin.domain.batch import PostingLine, RebillLine
from addin.domain.formulas import CSV_FORMULA_STARTS
from addin.domain.money import format_money
from addin.domain.problems import Problem, ReliquatError, Where

POSTING_COLUMNS = (
    "batch_id", "posting_date", "debit_account", "credit_account", "amount", "currency",
    "customer_id", "subscription_id", "item_id", "document_no", "action", "text",
)
REBILL_COLUMNS = (
    "batch_id", "subscription_id", "customer_id", "charge_code", "amount", "currency",
    "vat_code", "source_subscription_id", "documents", "text",
)


def neutralise(text: str) -> str:
    """Prefix a quote to a text a spreadsheet would read as a formula (CSV injection)."""
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


def posting_row(line: PostingLine) -> list[str]:
    return [
        line.batch_id, f"{line.posting_date:%d.%m.%Y}", line.debit_account,
        line.credit_account, format_money(line.amount), line.currency, line.customer_id,
        line.subscription_id, line.item_id, line.document_no, line.action.value,
        neutralise(line.text),
    ]


def rebill_row(line: RebillLine) -> list[str]:
    return [
        line.batch_id, line.subscription_id, line.customer_id, line.charge_code,
        format_money(line.amount), line.currency, line.vat_code, line.source_subscription_id,
        line.documents, neutralise(line.text),
    ]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[list[str]],
              delimiter: str, encoding: str = "utf-8", name: str = "") -> None:
    """``name``: the file's name in the export folder, when ``path`` is a private one. A
    character the encoding cannot hold is refused, naming the file, line and column (the
    commit then removes the half-written private file)."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL,
                            lineterminator="\r\n")
        writer.writerow(header)
        for line, row in enumerate(rows, start=2):
            try:
                writer.writerow(row)
            except UnicodeEncodeError as exc:
                raise _unwritable(path.with_name(name or path.name), line, header, row,
                                  encoding) from exc


def _unwritable(path: Path, line: int, header: Sequence[str], row: list[str],
                encoding: str) -> ReliquatError:
    column, char = next((column, char) for column, field in zip(header, row, strict=True)
                        for char in field if not _holds(encoding, char))
    advice = ": change [export] encoding to utf-8 or utf-8-sig, or the text" \
        if encoding == "cp1252" else ""
    return ReliquatError([Problem(
        Where(str(path), line, column),
        f"{char!r} (U+{ord(char):04X}) cannot be written in {encoding}{advice}")])


def _holds(encoding: str, char: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def write_postings(path: Path, lines: Iterable[PostingLine], delimiter: str = ";",
                   encoding: str = "utf-8", name: str = "") -> None:
    write_csv(path, POSTING_COLUMNS, (posting_row(line) for line in lines), delimiter,
              encoding, name)


def write_rebills(path: Path, lines: Iterable[RebillLine], delimiter: str = ";",
                  encoding: str = "utf-8", name: str = "") -> None:
    write_csv(path, REBILL_COLUMNS, (rebill_row(line) for line in lines), delimiter,
              encoding, name)
