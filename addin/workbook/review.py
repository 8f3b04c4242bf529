"""Read the review workbook back: the accountant's decisions, located by sheet and row.

Works on plain rows (lists of cell values) so the same code serves a file read by
calamine and a live workbook read through xlwings. Columns are found by their header in
any of the three languages; amounts come back as floats from both readers and are
turned into Decimal cents here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from addin.domain.money import AmountError, to_money
from addin.domain.problems import Problem, Where, WorkbookError
from addin.sources.values import parse_date, parse_text
from addin.workbook import layout

Rows = Sequence[Sequence[object]]


@dataclass(frozen=True, slots=True)
class ReviewRow:
    line: int
    subscription_id: str
    customer_id: str
    customer_name: str
    status: str
    currency: str
    balance: Decimal
    proposed_action: str
    proposed_target: str
    action: str
    target: str
    accept: str
    notes: str
    batch: str


@dataclass(frozen=True, slots=True)
class ReviewItem:
    line: int
    subscription_id: str
    currency: str
    item_id: str
    document_no: str
    due_date: dt.date | None
    open_amount: Decimal
    customer_id: str
    batch: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Review:
    """What a review workbook holds, as the commit needs it."""

    control: dict[str, object]
    rows: tuple[ReviewRow, ...]
    items: tuple[ReviewItem, ...]
    alternatives: dict[str, tuple[str, ...]]  # customer -> active subscriptions offered
    language: str
    titles: dict[str, str]  # sheet key -> title found
    journal_length: int  # data rows already in the Journal

    def text(self, key: str) -> str:
        return parse_text(self.control.get(key))


def find_titles(sheet_names: Sequence[str]) -> dict[str, str]:
    """Map each layout sheet key to the title present in the workbook, in any language."""
    found: dict[str, str] = {}
    for sheet in layout.SHEETS:
        for language in layout.LANGUAGES:
            title = sheet.title(language)
            if title in sheet_names:
                found[sheet.key] = title
                break
    return found


def parse_review(sheets: Mapping[str, Rows], file: str) -> Review:
    """Turn the raw rows of each sheet into a Review; every problem is reported at once."""
    titles = find_titles(list(sheets))
    missing = [s.title("en") for s in layout.SHEETS if s.key not in titles]
    if missing:
        raise WorkbookError(
            [Problem(Where(file), f"not a Reliquat review workbook: missing sheet(s) "
                                  f"{', '.join(missing)}")]
        )
    problems: list[Problem] = []
    control = _control(sheets[titles["control"]])
    language = parse_text(control.get("language")) or "en"
    rows = _parse_rows(sheets[titles["residuals"]], layout.RESIDUALS, titles["residuals"],
                       file, problems, _residual)
    items = _parse_rows(sheets[titles["items"]], layout.ITEMS, titles["items"],
                        file, problems, _item)
    alternatives = _alternatives(sheets[titles["residuals"]], sheets[titles["lists"]],
                                 rows)
    journal = sheets[titles["journal"]]
    if problems:
        raise WorkbookError(problems)
    return Review(
        control=control,
        rows=tuple(rows),
        items=tuple(items),
        alternatives=alternatives,
        language=language if language in layout.LANGUAGES else "en",
        titles=titles,
        journal_length=max(len([r for r in journal if any(_filled(v) for v in r)]) - 1, 0),
    )


def _control(rows: Rows) -> dict[str, object]:
    key_col = layout.CONTROL.index("key")
    value_col = layout.CONTROL.index("value")
    control: dict[str, object] = {}
    for row in rows[1:]:
        if len(row) > key_col and row[key_col]:
            value = row[value_col] if len(row) > value_col else None
            control[str(row[key_col])] = None if value == "" else value
    return control


def header_positions(header: Sequence[object], sheet: layout.Sheet, title: str, file: str
                     ) -> dict[str, int]:
    texts = [parse_text(h) for h in header]
    positions: dict[str, int] = {}
    missing: list[str] = []
    for column in sheet.columns:
        for name in column.headers:
            if name in texts:
                positions[column.key] = texts.index(name)
                break
        else:
            missing.append(column.en)
    if missing:
        raise WorkbookError(
            [Problem(Where(file, line=1, column=m), f"sheet {title!r}: column missing")
             for m in missing]
        )
    return positions


class _Cells:
    """One row's cells by column key, reporting bad values with their place."""

    def __init__(self, row: Sequence[object], positions: dict[str, int], where: Where,
                 problems: list[Problem], sheet: layout.Sheet, language_titles: str) -> None:
        self.row, self.positions, self.where = row, positions, where
        self.problems, self.sheet, self.title = problems, sheet, language_titles

    def raw(self, key: str) -> object:
        index = self.positions[key]
        return self.row[index] if index < len(self.row) else None

    def text(self, key: str) -> str:
        return parse_text(self.raw(key))

    def amount(self, key: str) -> Decimal:
        try:
            return to_money(self.raw(key))
        except AmountError as exc:
            self._report(key, str(exc))
            return Decimal("0.00")

    def date(self, key: str) -> dt.date | None:
        value = self.raw(key)
        if not _filled(value):
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self._report(key, str(exc))
            return None

    def _report(self, key: str, message: str) -> None:
        header = self.sheet.columns[self.sheet.index(key)].en
        self.problems.append(Problem(
            Where(self.where.file, self.where.line, f"{self.title}!{header}"), message))


def _parse_rows(rows: Rows, sheet: layout.Sheet, title: str, file: str,
                problems: list[Problem], build: object) -> list:  # type: ignore[type-arg]
    if not rows:
        raise WorkbookError([Problem(Where(file), f"sheet {title!r} is empty")])
    positions = header_positions(rows[0], sheet, title, file)
    parsed = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(_filled(v) for v in row):
            continue
        cells = _Cells(row, positions, Where(file, number), problems, sheet, title)
        parsed.append(build(cells, number))  # type: ignore[operator]
    return parsed


def _residual(c: _Cells, line: int) -> ReviewRow:
    return ReviewRow(
        line=line,
        subscription_id=c.text("subscription_id"),
        customer_id=c.text("customer_id"),
        customer_name=c.text("customer_name"),
        status=c.text("status"),
        currency=c.text("currency"),
        balance=c.amount("balance"),
        proposed_action=c.text("proposed_action"),
        proposed_target=c.text("proposed_target"),
        action=c.text("action").upper(),
        target=c.text("target"),
        accept=c.text("accept"),
        notes=c.text("notes"),
        batch=c.text("batch"),
    )


def _item(c: _Cells, line: int) -> ReviewItem:
    return ReviewItem(
        line=line,
        subscription_id=c.text("subscription_id"),
        currency=c.text("currency"),
        item_id=c.text("item_id"),
        document_no=c.text("document_no"),
        due_date=c.date("due_date"),
        open_amount=c.amount("open_amount"),
        customer_id=c.text("customer_id"),
        batch=c.text("batch"),
        fingerprint=c.text("fingerprint"),
    )


def _alternatives(residual_rows: Rows, list_rows: Rows, rows: list[ReviewRow]
                  ) -> dict[str, tuple[str, ...]]:
    """The subscriptions each row's Target dropdown offers, read from the hidden Lists sheet."""
    column = layout.LISTS.index("alternatives")
    flat = [parse_text(r[column]) if len(r) > column else "" for r in list_rows]
    header = [parse_text(h) for h in residual_rows[0]]
    start_col = header.index("_alt_start")
    count_col = header.index("_alt_count")
    offered: dict[str, tuple[str, ...]] = {}
    by_line = {r.line: r for r in rows}
    for number, raw in enumerate(residual_rows[1:], start=2):
        row = by_line.get(number)
        if row is None or row.customer_id in offered:
            continue
        try:
            start = int(float(str(raw[start_col])))
            count = int(float(str(raw[count_col])))
        except (ValueError, IndexError):
            continue
        offered[row.customer_id] = tuple(s for s in flat[start:start + count] if s)
    return offered


def _filled(value: object) -> bool:
    return value is not None and value != ""


def is_yes(text: str) -> bool:
    return text.strip().lower() in layout.YES_WORDS


def is_no(text: str) -> bool:
    return text.strip().lower() in layout.NO_WORDS
