"""A review workbook open in Excel, through xlwings: the live side of the workbook boundary.

Only a small part of xlwings is used (listed in ``XLWINGS_API`` and checked against the
installed package by a test): whole blocks are read and written in one call each.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from addin.domain.problems import Problem, Where, WorkbookError
from addin.excel.edge import rows_to_excel, to_excel
from addin.workbook.port import Stamps
from addin.workbook.review import layout
from addin.workbook.review.cell_errors import from_live
from addin.workbook.review.content import SheetContent, WorkbookContent
from addin.workbook.review.language import say
from addin.workbook.review.reading import find_titles, language_of

XLWINGS_API = {
    "Book": ("sheets", "names", "save", "fullname", "app", "caller", "selection"),
    "Sheet": ("name", "range", "used_range", "clear_contents"),
    "Range": ("value", "options", "number_format", "clear_contents", "row", "sheet"),
    "App": ("properties", "status_bar", "alert", "screen_updating", "calculation"),
    "Name": ("refers_to",),
}

# By default xlwings reads an error cell as None, the same as an empty one.
READ_OPTIONS = {"ndim": 2, "err_to_str": True}

_FORMATS = {layout.Kind.AMOUNT: layout.AMOUNT, layout.Kind.DATE: "dd.mm.yyyy",
            layout.Kind.INTEGER: "0", layout.Kind.DATETIME: "dd.mm.yyyy hh:mm:ss",
            layout.Kind.TEXT: "@"}


# What a button changes while it writes; the user's own settings come back at the end and
# for every save (Excel stores the calculation mode in the file).
QUIET = {"screen_updating": False, "calculation": "manual"}


def read_block(sheet: Any) -> list[list[object]]:
    """Every used cell; an error value (#N/A…) as a ``CellError``, never as an empty cell."""
    values = sheet.used_range.options(**READ_OPTIONS).value
    return [list(map(from_live, row)) for row in values] if values else []


def _sheet(book: Any, key: str) -> Any:
    names = [s.name for s in book.sheets]
    titles = find_titles(names)
    if key not in titles:
        raise WorkbookError([Problem(Where(str(book.fullname)),
                                     f"missing sheet {layout.SHEETS_BY_KEY[key].title('en')}")])
    return book.sheets[titles[key]]


# One COM call per block of rows: large enough that the call's cost is spread over many
# cells, small enough that Excel never has to marshal one array of millions of cells.
BLOCK_ROWS = 10_000


class LiveWorkbook:
    """The review workbook open in Excel."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.name = str(book.fullname)
        self.suffix = Path(self.name).suffix.lower() or ".xlsm"
        self._user_settings: dict[str, object] = {}

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Screen updating and automatic calculation off while writing; the user's settings
        are put back at the end, even on error, and for every save meanwhile."""
        app = self.book.app
        self._user_settings = {name: getattr(app, name) for name in QUIET}
        try:
            with app.properties(**QUIET):
                yield
        finally:
            self._user_settings = {}

    def _save(self) -> None:
        """Saved as the user had Excel set: a review saved in manual calculation would
        reopen in manual and switch the whole Excel session to manual."""
        with self.book.app.properties(**self._user_settings):
            self.book.save()

    def read_sheets(self) -> dict[str, list[list[object]]]:
        return {sheet.name: read_block(sheet) for sheet in self.book.sheets}

    def control_inputs(self) -> dict[str, object]:
        rows = read_block(_sheet(self.book, "control"))
        key, value = layout.CONTROL.index("key"), layout.CONTROL.index("value")
        return {str(r[key]): r[value] for r in rows[1:] if len(r) > key and r[key]}

    def write_content(self, content: WorkbookContent) -> None:
        """Replace every sheet's data; on any failure put the previous values back."""
        snapshot = {s.sheet.key: read_block(_sheet(self.book, s.sheet.key))
                    for s in content.sheets}
        try:
            for sheet_content in content.sheets:
                self._write_sheet(sheet_content)
            for name, reference in content.names.items():
                self.book.names[name].refers_to = "=" + reference
        except BaseException:
            for key, rows in snapshot.items():
                sheet = _sheet(self.book, key)
                sheet.clear_contents()
                if rows:
                    sheet.range("A1").value = rows
            raise

    def _write_sheet(self, content: SheetContent) -> None:
        sheet = _sheet(self.book, content.sheet.key)
        sheet.clear_contents()
        rows: list[list[object]] = [list(content.header)] if content.with_header else []
        rows += content.rows
        if not rows:
            return
        first = 2 if content.with_header else 1
        last = first + max(len(content.rows), 1) - 1
        for index, column in enumerate(content.sheet.columns):
            sheet.range((first, index + 1), (last, index + 1)).number_format = \
                _FORMATS[column.kind]
        values = rows_to_excel(rows)
        for start in range(0, len(values), BLOCK_ROWS):
            sheet.range((start + 1, 1)).value = values[start:start + BLOCK_ROWS]

    def write_checks(self, problems: Sequence[Problem],
                     ok_lines: Sequence[int | None] = ()) -> None:
        """The Validate button's result, on the rows: each row's problems, or ok, in the
        workbook's language."""
        sheet_title = _sheet(self.book, "residuals").name
        language = self.language
        cells: dict[tuple[int, str], object] = {(line, "check"): "ok" for line in ok_lines
                                                if line is not None}
        for problem in problems:
            line = problem.where.line
            if line is None or not problem.where.file.endswith(Path(self.name).name):
                continue
            if problem.where.column.startswith(f"{sheet_title}!") or not \
                    problem.where.column.count("!"):
                key = (line, "check")
                previous = cells.get(key)
                message = say(problem.message, language)
                cells[key] = message if previous in (None, "ok") else f"{previous}; {message}"
        _SavedLive(self).apply("residuals", layout.RESIDUALS, cells)

    @property
    def language(self) -> str:
        """The language of the sheets' titles (en, fr, de)."""
        return language_of(layout.RESIDUALS, _sheet(self.book, "residuals").name)

    def signature(self) -> str:
        return ""  # Excel holds the workbook: nothing can swap its file meanwhile

    def stamped_path(self, batch_id: str) -> None:
        return None

    def write_stamped(self, stamps: Stamps, path: Path) -> None:
        raise AssertionError("a workbook open in Excel is stamped in place")

    def selected_batch(self) -> str:
        """The batch whose Journal block holds the selected cell ("" elsewhere)."""
        selection = self.book.selection
        journal = _sheet(self.book, "journal")
        if selection is None or selection.sheet.name != journal.name or selection.row < 2:
            return ""
        value = journal.range((selection.row, 1)).value
        return value.strip() if isinstance(value, str) else ""

    def install_stamps(self, stamps: Stamps) -> str:
        """The batch is committed already: stamp and save; if Excel fails, put the cells back
        and say so (the register and the export folder hold the batch)."""
        saved = _SavedLive(self)
        try:
            saved.apply("residuals", layout.RESIDUALS, stamps.residuals)
            saved.apply("items", layout.ITEMS, stamps.items)
            saved.append_journal(stamps.journal_rows)
            self._save()
        except Exception as exc:  # any COM or AppleScript error: the batch stays committed
            with suppress(Exception):
                saved.undo()
            return f"the workbook could not be stamped in Excel ({type(exc).__name__}: {exc})"
        return ""


@dataclass
class _SavedLive:
    """Remembers each column it overwrote, so a failed commit can put the workbook back."""

    live: LiveWorkbook
    previous: list[tuple[Any, object]] = field(default_factory=list)

    def apply(self, key: str, sheet_def: layout.Sheet,
              cells: dict[tuple[int, str], object]) -> None:
        if not cells:
            return
        sheet = _sheet(self.live.book, key)
        last = max(line for line, _ in cells)
        for column_key in sorted({k for _, k in cells}):
            col = sheet_def.index(column_key) + 1
            block = sheet.range((2, col), (last, col))
            before = block.options(ndim=2).value
            values = [list(r) for r in before]
            for (line, k), value in cells.items():
                if k == column_key:
                    values[line - 2][0] = to_excel(value)  # type: ignore[arg-type]
            self.previous.append((block, before))
            block.value = values

    def append_journal(self, rows: list[list[object]]) -> None:
        if not rows:
            return
        sheet = _sheet(self.live.book, "journal")
        start = len(read_block(sheet)) + 1
        block = sheet.range((start, 1), (start + len(rows) - 1, len(rows[0])))
        self.previous.append((block, None))
        block.value = rows_to_excel(rows)  # type: ignore[arg-type]

    def undo(self) -> None:
        for block, before in reversed(self.previous):
            if before is None:
                block.clear_contents()
            else:
                block.value = before
