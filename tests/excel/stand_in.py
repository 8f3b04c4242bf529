"""An in-memory stand-in for the part of xlwings that addin.excel uses (XLWINGS_API).

Cells live in a dict; saving writes them to the book's file as JSON so a copy of the saved
workbook is a real file, as in Excel.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path


def _cell(ref: str) -> tuple[int, int]:
    letters, digits = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    return int(digits), column


# What xlwings on Windows reads from an error cell with err_to_str: the text of the seven
# errors it knows, the COM code of any other (None without err_to_str).
_ERRORS_READ = {"#DIV/0!": "#DIV/0!", "#N/A": "#N/A", "#NAME?": "#NAME?", "#NULL!": "#NULL!",
                "#NUM!": "#NUM!", "#REF!": "#REF!", "#VALUE!": "#VALUE!",
                "#SPILL!": -2146826243, "#CALC!": -2146826238}


class ExcelError:
    """An error value in a cell."""

    def __init__(self, text: str) -> None:
        self.text = text

    def read(self, err_to_str: bool) -> object:
        return _ERRORS_READ[self.text] if err_to_str else None


class Range:
    def __init__(self, sheet: Sheet, first: tuple[int, int], last: tuple[int, int],
                 ndim: int | None = None, err_to_str: bool = False) -> None:
        self.sheet, self.first, self.last, self.ndim = sheet, first, last, ndim
        self.err_to_str = err_to_str

    @property
    def row(self) -> int:
        return self.first[0]

    def options(self, ndim: int | None = None, err_to_str: bool = False, **_: object) -> Range:
        return Range(self.sheet, self.first, self.last, ndim, err_to_str)

    def _read(self, position: tuple[int, int]) -> object:
        value = self.sheet.cells.get(position)
        return value.read(self.err_to_str) if isinstance(value, ExcelError) else value

    @property
    def value(self):
        (r1, c1), (r2, c2) = self.first, self.last
        rows = [[self._read((r, c)) for c in range(c1, c2 + 1)]
                for r in range(r1, r2 + 1)]
        if self.ndim == 2 or (len(rows) > 1 and len(rows[0]) > 1):
            return rows
        if (r1, c1) == (r2, c2):
            return rows[0][0]
        return [row[0] for row in rows] if c1 == c2 else rows[0]

    @value.setter
    def value(self, data) -> None:
        self.sheet.book.app.writes += 1
        if not isinstance(data, list):
            data = [[data]]
        elif data and not isinstance(data[0], list):
            data = [data]
        r1, c1 = self.first
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                if isinstance(v, str) and v.startswith("="):
                    raise AssertionError(f"would become a formula in Excel: {v!r}")
                if isinstance(v, str) and v.startswith("'"):
                    v = v[1:]  # Excel's text prefix is not part of the value
                self.sheet.cells[(r1 + i, c1 + j)] = None if v == "" else v

    @property
    def number_format(self) -> str:
        return self.sheet.formats.get(self.first, "General")

    @number_format.setter
    def number_format(self, fmt: str) -> None:
        (r1, c1), (_, c2) = self.first, self.last
        for c in range(c1, c2 + 1):
            self.sheet.formats[(r1, c)] = fmt

    def clear_contents(self) -> None:
        (r1, c1), (r2, c2) = self.first, self.last
        for key in [k for k in self.sheet.cells if r1 <= k[0] <= r2 and c1 <= k[1] <= c2]:
            del self.sheet.cells[key]


class Sheet:
    def __init__(self, book: Book, name: str) -> None:
        self.book, self.name = book, name
        self.cells: dict[tuple[int, int], object] = {}
        self.formats: dict[tuple[int, int], str] = {}

    def range(self, first, last=None) -> Range:
        start = _cell(first) if isinstance(first, str) else first
        end = start if last is None else (_cell(last) if isinstance(last, str) else last)
        return Range(self, start, end)

    @property
    def used_range(self) -> Range:
        filled = [k for k, v in self.cells.items() if v not in (None, "")]
        if not filled:
            return Range(self, (1, 1), (1, 1))
        return Range(self, (1, 1), (max(r for r, _ in filled), max(c for _, c in filled)))

    def clear_contents(self) -> None:
        self.cells.clear()


class Sheets(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            for sheet in self:
                if sheet.name == key:
                    return sheet
            raise KeyError(key)
        return super().__getitem__(key)


class Name:
    def __init__(self, refers_to: str) -> None:
        self.refers_to = refers_to


class App:
    def __init__(self, answers: list[str] | None = None) -> None:
        self.status_bar: object = False
        self.status_history: list[object] = []
        self.alerts: list[tuple[str, str]] = []
        self.answers = list(answers or [])
        self.screen_updating, self.calculation = True, "automatic"
        self.writes = 0

    def __setattr__(self, name, value):
        if name == "status_bar" and "status_history" in self.__dict__:
            self.status_history.append(value)
        super().__setattr__(name, value)

    @contextmanager
    def properties(self, **changes):
        before = {k: getattr(self, k) for k in changes}
        for k, v in changes.items():
            setattr(self, k, v)
        try:
            yield
        finally:
            for k, v in before.items():
                setattr(self, k, v)

    def alert(self, prompt: str, title: str = "", buttons: str = "ok", **_: object) -> str:
        self.alerts.append((title, prompt))
        return self.answers.pop(0) if buttons != "ok" and self.answers else "ok"


class Book:
    def __init__(self, path: Path, app: App | None = None) -> None:
        self.fullname = str(path)
        self.app = app or App()
        self.sheets = Sheets()
        self.names: dict[str, Name] = {}
        self.saves = 0
        self.saved_with: list[tuple[bool, str]] = []  # Excel's settings at each save
        self.selection: Range | None = None  # what the user selected, as Book.selection

    def select(self, sheet: str, row: int, column: int = 1) -> None:
        self.selection = Range(self.sheets[sheet], (row, column), (row, column))

    @classmethod
    def from_content(cls, path: Path, content, app: App | None = None) -> Book:
        """A book laid out like the template: the sheets and names of a WorkbookContent."""
        book = cls(path, app)
        for sheet_content in content.sheets:
            sheet = Sheet(book, sheet_content.title)
            rows = ([sheet_content.header] if sheet_content.with_header else []) \
                + sheet_content.rows
            for r, row in enumerate(rows, start=1):
                for c, v in enumerate(row, start=1):
                    if v not in (None, ""):
                        sheet.cells[(r, c)] = v
            book.sheets.append(sheet)
        book.names = {n: Name("=" + ref) for n, ref in content.names.items()}
        book.save()
        return book

    def save(self) -> None:
        self.saves += 1
        self.saved_with.append((self.app.screen_updating, self.app.calculation))
        data = {s.name: {f"{r},{c}": repr(v) for (r, c), v in s.cells.items()}
                for s in self.sheets}
        Path(self.fullname).write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
