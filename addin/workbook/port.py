"""The one boundary between the commit/extract flow and a workbook.

Two implementations: ``FileReview`` (a workbook file, openpyxl + calamine) and the xlwings
one (a live workbook in Excel). The flow never imports either library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from addin.workbook.content import Value

Rows = Sequence[Sequence[object]]


@dataclass
class Stamps:
    """Cells a commit or a validation writes back: (sheet row, column key) -> value."""

    residuals: dict[tuple[int, str], Value] = field(default_factory=dict)
    items: dict[tuple[int, str], Value] = field(default_factory=dict)
    journal_rows: list[list[Value]] = field(default_factory=list)


class Saved(Protocol):
    """A workbook saved with its stamps: ``undo`` puts the previous one back, ``done`` ends."""

    def undo(self) -> None: ...

    def done(self) -> None: ...


class ReviewWorkbook(Protocol):
    name: str
    suffix: str

    def read_sheets(self) -> dict[str, list[list[object]]]: ...

    def save_stamped(self, stamps: Stamps, audit_copy: Path | None) -> Saved: ...
