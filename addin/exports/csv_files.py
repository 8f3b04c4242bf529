"""The two import files: postings for the ERP, charges for the billing system.

Amounts: two decimals, ``.`` as decimal mark, no thousands separator; dates dd.mm.yyyy;
UTF-8, UTF-8 with a BOM or Windows-1252 (``[export] encoding``). Identifiers (ids, accounts,
codes) are written as they are, for the ERP and the billing system to match (a source with one
that would run as a formula is refused when read); a free text that a spreadsheet would run as
a formula is neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from pathlib import Path

from addin.domain.batch import PostingLine, RebillLine
from addin.domain.formulas import CSV_FORMULA_STARTS
from addin.domain.money import format_money
from addin.domain.problems import Problem, ReliquatError, Where

POSTING_COLUMNS = PostingLine._fields  # the file's columns are the line's fields
REBILL_COLUMNS = RebillLine._fields


def neutralise(text: str) -> str:
    """Prefix a quote to a text a spreadsheet would read as a formula (CSV injection)."""
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


@lru_cache(maxsize=64)  # a batch posts on one day or a few: strftime once for each
def _day_text(day: dt.date) -> str:
    return f"{day:%d.%m.%Y}"


def posting_row(line: PostingLine) -> list[str]:
    return [
        line.batch_id, _day_text(line.posting_date), line.debit_account,
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


_BUFFER = 1 << 20  # fewer, larger writes
_ROWS_AT_ONCE = 4096  # rows handed to the csv module in one call


def write_csv(path: Path, header: Sequence[str], rows: Iterator[list[str]],
              delimiter: str, encoding: str = "utf-8", name: str = "") -> None:
    """``name``: the file's name in the export folder, when ``path`` is a private one. A
    character the encoding cannot hold is refused, naming the file, line and column (the
    commit then removes the half-written private file)."""
    with path.open("w", encoding=encoding, newline="", buffering=_BUFFER) as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL,
                            lineterminator="\r\n")
        writer.writerow(header)
        line = 2  # of the first row of ``block``
        while block := list(islice(rows, _ROWS_AT_ONCE)):
            try:
                writer.writerows(block)
            except UnicodeEncodeError as exc:
                at, row = next((at, row) for at, row in enumerate(block, start=line)
                               if not _all_held(encoding, row))
                raise _unwritable(path.with_name(name or path.name), at, header, row,
                                  encoding) from exc
            line += len(block)


def _unwritable(path: Path, line: int, header: Sequence[str], row: list[str],
                encoding: str) -> ReliquatError:
    column, char = next((column, char) for column, field in zip(header, row, strict=True)
                        for char in field if not _holds(encoding, char))
    advice = ": change [export] encoding to utf-8 or utf-8-sig, or the text" \
        if encoding == "cp1252" else ""
    return ReliquatError([Problem(
        Where(str(path), line, column),
        f"{char!r} (U+{ord(char):04X}) cannot be written in {encoding}{advice}")])


def _all_held(encoding: str, row: list[str]) -> bool:
    return all(_holds(encoding, field) for field in row)


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


def read_postings(path: Path, encoding: str = "utf-8-sig") -> list[PostingLine]:
    """A posting file as written (an earlier one may lack the vat_code column), in the
    encoding its batch record names."""
    return [PostingLine(
        batch_id=row["batch_id"], posting_date=_day(row["posting_date"]),
        debit_account=row["debit_account"], credit_account=row["credit_account"],
        amount=Decimal(row["amount"]), currency=row["currency"],
        customer_id=row["customer_id"], subscription_id=row["subscription_id"],
        item_id=row["item_id"], document_no=row["document_no"], action=row["action"],
        text=_plain(row["text"]), vat_code=row.get("vat_code") or "")
        for row in _rows(path, encoding)]


def read_rebills(path: Path, encoding: str = "utf-8-sig") -> list[RebillLine]:
    return [RebillLine(
        batch_id=row["batch_id"], subscription_id=row["subscription_id"],
        customer_id=row["customer_id"], charge_code=row["charge_code"],
        amount=Decimal(row["amount"]), currency=row["currency"], vat_code=row["vat_code"],
        source_subscription_id=row["source_subscription_id"], documents=row["documents"],
        text=_plain(row["text"]))
        for row in _rows(path, encoding)]


def _rows(path: Path, encoding: str) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig" if encoding.startswith("utf-8") else encoding)
    header = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t", "|"), key=header.count)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def _day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d.%m.%Y").date()


def _plain(text: str) -> str:
    """A free text as it was before ``neutralise``."""
    return text[1:] if text.startswith("'") and text[1:].startswith(CSV_FORMULA_STARTS) else text
