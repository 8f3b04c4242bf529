"""What goes into a workbook, independent of the library that writes it.

The openpyxl writer (a file) and the xlwings writer (a live workbook) both take a
``WorkbookContent``; neither decides anything about layout or values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from addin.workbook.review.layout import Sheet

Value = object  # str, Decimal, int, date, datetime or None; converted at each writer's edge


@dataclass(frozen=True, slots=True)
class ListValidation:
    """A dropdown over one column of the data rows; ``formula`` is relative to the first row."""

    column: str  # column key
    formula: str
    allow_blank: bool = True


@dataclass(slots=True)
class SheetContent:
    sheet: Sheet
    language: str
    rows: list[list[Value]]
    validations: tuple[ListValidation, ...] = ()
    with_header: bool = True
    reserved_rows: int = 0  # rows the dropdowns cover beyond the data (for the template)
    # The rows whose editable cells are the user's to fill (yellow); None: every row.
    input_rows: frozenset[int] | None = None

    @property
    def title(self) -> str:
        return self.sheet.title(self.language)

    @property
    def header(self) -> list[str]:
        return [c.header(self.language) for c in self.sheet.columns]


@dataclass(frozen=True, slots=True)
class CellAt:
    sheet: str  # sheet key
    row: int  # index in the sheet's rows
    column: int  # 0-based


@dataclass(slots=True)
class WorkbookContent:
    sheets: list[SheetContent]
    names: dict[str, str] = field(default_factory=dict)  # defined name -> "Sheet!$A$1:$A$4"
    language: str = "en"
    # Where a file writer says how many texts it cut to fit a cell; that sheet is written last.
    cut_count_at: CellAt | None = None

    def sheet(self, key: str) -> SheetContent:
        for content in self.sheets:
            if content.sheet.key == key:
                return content
        raise KeyError(key)
