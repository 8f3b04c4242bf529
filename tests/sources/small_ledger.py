"""One small ledger, written in each form an ERP may hand it over, and the records it must give.

Chosen to trip a careless reader: an id with leading zeros, a name holding the delimiter and a
quote, a thousands separator, a credit, an empty end date, French words for a status.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import openpyxl

from addin.domain.model import OpenItem, Status, Subscription

ITEM_HEADER = ("item_id", "customer_id", "customer_name", "subscription_id", "document_no",
               "document_date", "due_date", "original_amount", "open_amount", "currency",
               "dunning_block", "dispute")
SUB_HEADER = ("subscription_id", "customer_id", "status", "end_date", "next_bill_date", "label")

# The rows as a Swiss export writes them: ';', dd.mm.yyyy, "'" between thousands.
ITEMS = (
    ("I1", "C1", "Müller Hans", "S1", "F1", "01.09.2026", "01.10.2026", "1'100.50", "0.50",
     "CHF", "0", "0"),
    ("007", "0042", 'Boillat; Marie "Mimi"', "S2", "F2", "15.02.2026", "17.03.2026", "80.00",
     "-1.00", "CHF", "1", "0"),
    ("I3", "0042", 'Boillat; Marie "Mimi"', "S3", "F3", "01.10.2026", "31.10.2026", "45.20",
     "4.20", "EUR", "0", "1"),
)
SUBS = (
    ("S1", "C1", "active", "", "15.12.2026", "Électricité"),
    ("S2", "0042", "résilié", "31.03.2026", "", "Eau"),
    ("S3", "0042", "Active", "", "01.01.2027", ""),
)

EXPECTED_ITEMS = (
    OpenItem("I1", "C1", "Müller Hans", "S1", "F1", dt.date(2026, 9, 1), dt.date(2026, 10, 1),
             Decimal("1100.50"), Decimal("0.50"), "CHF"),
    OpenItem("007", "0042", 'Boillat; Marie "Mimi"', "S2", "F2", dt.date(2026, 2, 15),
             dt.date(2026, 3, 17), Decimal("80.00"), Decimal("-1.00"), "CHF",
             dunning_block=True),
    OpenItem("I3", "0042", 'Boillat; Marie "Mimi"', "S3", "F3", dt.date(2026, 10, 1),
             dt.date(2026, 10, 31), Decimal("45.20"), Decimal("4.20"), "EUR", dispute=True),
)
EXPECTED_SUBS = {
    "S1": Subscription("S1", "C1", Status.ACTIVE, None, dt.date(2026, 12, 15), "Électricité"),
    "S2": Subscription("S2", "0042", Status.TERMINATED, dt.date(2026, 3, 31), None, "Eau"),
    "S3": Subscription("S3", "0042", Status.ACTIVE, None, dt.date(2027, 1, 1), ""),
}
DATE_COLUMNS = {"document_date", "due_date", "end_date", "next_bill_date"}
AMOUNT_COLUMNS = {"original_amount", "open_amount"}


def csv_line(cells: tuple[str, ...], delimiter: str) -> str:
    def quoted(cell: str) -> str:
        if delimiter in cell or '"' in cell or "\n" in cell:
            return '"' + cell.replace('"', '""') + '"'
        return cell
    return delimiter.join(quoted(c) for c in cells)


def write_csv(folder: Path, *, delimiter: str = ";", iso: bool = False, bom: bool = True,
              items: tuple[tuple[str, ...], ...] = ITEMS,
              subs: tuple[tuple[str, ...], ...] = SUBS) -> Path:
    """Both files; ``iso`` writes 2026-09-01 and 1100.50 instead of 01.09.2026 and 1'100.50."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (("open_items", ITEM_HEADER, items),
                               ("subscriptions", SUB_HEADER, subs)):
        lines = [csv_line(header, delimiter)]
        lines += [csv_line(iso_cells(header, row) if iso else row, delimiter) for row in rows]
        text = ("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n"
        (folder / f"{name}.csv").write_text(text, encoding="utf-8", newline="")
    return folder


def iso_cells(header: tuple[str, ...], row: tuple[str, ...]) -> tuple[str, ...]:
    def iso(column: str, cell: str) -> str:
        if column in DATE_COLUMNS and cell:
            return dt.datetime.strptime(cell, "%d.%m.%Y").date().isoformat()
        return cell.replace("'", "")
    return tuple(iso(column, cell) for column, cell in zip(header, row, strict=True))


def typed(column: str, cell: str) -> object:
    """A cell as Excel or a database holds it: dates as dates, amounts and flags as numbers."""
    if column in DATE_COLUMNS:
        return dt.datetime.strptime(cell, "%d.%m.%Y").date() if cell else None
    if column in AMOUNT_COLUMNS:
        return float(cell.replace("'", ""))
    if column in ("dunning_block", "dispute"):
        return int(cell)
    return cell


def write_xlsx(path: Path, sheets: tuple[str, str] = ("open_items", "subscriptions")) -> Path:
    """Typed cells, as an accountant's workbook holds them; ids stay text ('007')."""
    return write_sheets(path, [(sheets[0], ITEM_HEADER, ITEMS), (sheets[1], SUB_HEADER, SUBS)])


def write_sheets(path: Path, sheets: list[tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]]]
                 ) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet_name, header, rows in sheets:
        sheet = book.create_sheet(sheet_name)
        sheet.append(header)
        for row in rows:
            sheet.append([typed(c, cell) for c, cell in zip(header, row, strict=True)])
    book.save(path)
    return path


def write_sqlite(path: Path, *, item_table: str = "open_items", sub_table: str = "subscriptions",
                 item_header: tuple[str, ...] = ITEM_HEADER,
                 sub_header: tuple[str, ...] = SUB_HEADER) -> Path:
    """Amounts NUMERIC (SQLite hands them back as floats), dates ISO text, flags INTEGER."""
    with sqlite3.connect(path) as connection:
        for table, canonical, header, rows in ((item_table, ITEM_HEADER, item_header, ITEMS),
                                               (sub_table, SUB_HEADER, sub_header, SUBS)):
            declared = ", ".join(f'"{h}" {_sqlite_type(c)}'
                                 for c, h in zip(canonical, header, strict=True))
            connection.execute(f'CREATE TABLE "{table}" ({declared})')
            connection.executemany(
                f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(header))})',
                [[_sqlite_value(c, cell) for c, cell in zip(canonical, row, strict=True)]
                 for row in rows])
    connection.close()
    return path


def _sqlite_type(column: str) -> str:
    if column in AMOUNT_COLUMNS:
        return "NUMERIC"
    return "INTEGER" if column in ("dunning_block", "dispute") else "TEXT"


def _sqlite_value(column: str, cell: str) -> object:
    value = typed(column, cell)
    return value.isoformat() if isinstance(value, dt.date) else value
