"""Read the review workbook back: the accountant's decisions, located by sheet and row.

Works on plain rows (lists of cell values) so the same code serves a file read by
calamine and a live workbook read through xlwings. Columns are found by their header in
any of the three languages; amounts come back as floats from both readers and are
turned into Decimal cents here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, TypeVar

from addin.domain.money import to_money
from addin.domain.problems import Problem, Where, WorkbookError
from addin.sources.values import parse_date, parse_text
from addin.workbook.review import layout
from addin.workbook.review.cell_errors import CellError

Rows = Sequence[Sequence[object]]
T = TypeVar("T")


class ReviewRow(NamedTuple):
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
    seal: str


class ReviewItem(NamedTuple):
    line: int
    subscription_id: str
    currency: str
    item_id: str
    document_no: str
    due_date: dt.date | None
    open_amount: Decimal
    customer_id: str
    batch: str
    seal: str
    vat_code: str


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

    def column(self, sheet: str, key: str) -> str:
        """``Sheet!Header`` as the reviewer sees them, in the workbook's language."""
        definition = layout.SHEETS_BY_KEY[sheet]
        title = self.titles[sheet]
        header = definition.columns[definition.index(key)].header(
            language_of(definition, title))
        return f"{title}!{header}"

    def in_language(self, english: str) -> str:
        """A Residuals header named in English (as the domain's checks do), as shown."""
        for column in layout.RESIDUALS.columns:
            if column.en == english:
                return column.header(language_of(layout.RESIDUALS, self.titles["residuals"]))
        return english


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
    control = _control(sheets[titles["control"]], titles["control"], file)
    language = parse_text(control.get("language")) or "en"
    rows = _residuals(_Columns(sheets[titles["residuals"]], layout.RESIDUALS,
                               titles["residuals"], file, problems))
    items = _items(_Columns(sheets[titles["items"]], layout.ITEMS, titles["items"], file,
                            problems))
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


def _control(rows: Rows, title: str, file: str) -> dict[str, object]:
    key_col = layout.CONTROL.index("key")
    value_col = layout.CONTROL.index("value")
    control: dict[str, object] = {}
    for row in rows[1:]:
        if len(row) > key_col and row[key_col]:
            value = row[value_col] if len(row) > value_col else None
            control[str(row[key_col])] = None if value == "" else value
    if not control:
        raise WorkbookError([Problem(Where(file), f"sheet {title!r} is empty: its settings "
                                                  f"(source, extraction...) are gone")])
    return control


def language_of(sheet: layout.Sheet, title: str) -> str:
    """The language a sheet's title is in: its messages name its headers in it."""
    return next((lang for lang in layout.LANGUAGES if sheet.title(lang) == title), "en")


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


class _Columns:
    """The filled data rows of one sheet, parsed a column at a time; a bad amount or date is
    reported with its row and column."""

    def __init__(self, rows: Rows, sheet: layout.Sheet, title: str, file: str,
                 problems: list[Problem]) -> None:
        if not rows:
            raise WorkbookError([Problem(Where(file), f"sheet {title!r} is empty")])
        self.positions = header_positions(rows[0], sheet, title, file)
        self.sheet, self.title, self.file, self.problems = sheet, title, file, problems
        self.language = language_of(sheet, title)
        width = max(self.positions.values()) + 1
        kept = [(line, row) for line, row in enumerate(rows[1:], start=2) if not _blank(row)]
        self.lines = [line for line, _ in kept]
        body = [row if len(row) >= width else [*row, *[None] * (width - len(row))]
                for _, row in kept]
        self.columns = list(zip(*body, strict=False)) if body else [()] * width

    def texts(self, key: str) -> list[str]:
        column = self.columns[self.positions[key]]
        kinds = set(map(type, column))
        if kinds <= {str}:
            return list(map(str.strip, column))  # type: ignore[arg-type]
        if CellError in kinds:
            for line, value in zip(self.lines, column, strict=True):
                if isinstance(value, CellError):
                    self._report(line, key, value.problem)
        return list(map(parse_text, column))

    def amounts(self, key: str) -> list[Decimal]:
        return self._parsed(key, to_money, Decimal("0.00"), {})

    def dates(self, key: str) -> list[dt.date | None]:
        return self._parsed(key, parse_date, None, {None: None, "": None})

    def _parsed(self, key: str, parse: Callable[[object], T], bad: T,
                known: dict[object, T]) -> list[T]:
        """Each distinct value parsed once (``known`` holds values taken as they are)."""
        out: list[T] = []
        for line, value in zip(self.lines, self.columns[self.positions[key]], strict=True):
            try:
                out.append(known[value])
                continue
            except (KeyError, TypeError):  # not seen yet, or unhashable (a live workbook)
                pass
            try:
                if isinstance(value, CellError):
                    raise ValueError(value.problem)
                parsed = parse(value)
            except ValueError as exc:  # AmountError is one
                self._report(line, key, str(exc))
                parsed = bad
            else:
                with suppress(TypeError):
                    known[value] = parsed
            out.append(parsed)
        return out

    def _report(self, line: int, key: str, message: str) -> None:
        header = self.sheet.columns[self.sheet.index(key)].header(self.language)
        self.problems.append(Problem(Where(self.file, line, f"{self.title}!{header}"),
                                     message))


def _blank(row: Sequence[object]) -> bool:
    try:
        return set(row) <= _EMPTY
    except TypeError:
        return not any(_filled(v) for v in row)


_EMPTY = frozenset({None, ""})


def _residuals(table: _Columns) -> list[ReviewRow]:
    text = table.texts
    return list(map(
        ReviewRow, table.lines, text("subscription_id"), text("customer_id"),
        text("customer_name"), text("status"), text("currency"), table.amounts("balance"),
        text("proposed_action"), text("proposed_target"), list(map(str.upper, text("action"))),
        text("target"), text("accept"), text("notes"), text("batch"), text("seal")))


def _items(table: _Columns) -> list[ReviewItem]:
    text = table.texts
    return list(map(
        ReviewItem, table.lines, text("subscription_id"), text("currency"), text("item_id"),
        text("document_no"), table.dates("due_date"), table.amounts("open_amount"),
        text("customer_id"), text("batch"), text("seal"), text("vat_code")))


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
        except (ValueError, IndexError, OverflowError):  # inf, from a text such as "1e999"
            continue
        offered[row.customer_id] = tuple(s for s in flat[start:start + count] if s)
    return offered


def _filled(value: object) -> bool:
    return value is not None and value != ""


def is_yes(text: str) -> bool:
    return text.strip().lower() in layout.YES_WORDS


def is_no(text: str) -> bool:
    return text.strip().lower() in layout.NO_WORDS


def reviewer_input(review: Review) -> list[int]:
    """The Residuals lines a reviewer has worked on: an Accept, a changed Action or Target,
    a note."""
    return [row.line for row in review.rows
            if row.accept or row.notes or (row.action and row.action != row.proposed_action)
            or (row.target and row.target != row.proposed_target)]
