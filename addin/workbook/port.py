"""The one boundary between the commit/extract flow and a workbook.

Two implementations: ``FileReview`` (a workbook file, openpyxl + calamine) and the xlwings
one (a live workbook in Excel). The flow never imports either library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from addin.workbook.review.content import Value

Rows = Sequence[Sequence[object]]


@dataclass
class Stamps:
    """Cells a commit or a validation writes back: (sheet row, column key) -> value."""

    residuals: dict[tuple[int, str], Value] = field(default_factory=dict)
    items: dict[tuple[int, str], Value] = field(default_factory=dict)
    journal_rows: list[list[Value]] = field(default_factory=list)


class ReviewWorkbook(Protocol):
    """A review workbook, a file or one open in Excel.

    A file is stamped in two steps, so that its stamped copy exists before the batch becomes
    visible: ``write_stamped`` writes the copy at ``stamped_path`` beside it, and the commit
    swaps it in afterwards. A workbook open in Excel has no such copy (``stamped_path`` is
    None): ``install_stamps`` writes the cells and saves, once the batch is committed.
    """

    name: str
    suffix: str

    def read_sheets(self) -> dict[str, list[list[object]]]: ...

    def signature(self) -> str:
        """The file as it was read (size and time), to see whether it changed since."""
        ...

    def stamped_path(self, batch_id: str) -> Path | None: ...

    def write_stamped(self, stamps: Stamps, path: Path) -> None: ...

    def install_stamps(self, stamps: Stamps) -> str:
        """Stamp and save; "" when done, else why not (the batch is committed either way)."""
        ...
