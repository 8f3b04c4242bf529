"""Write the review file: an .xlsx as openpyxl writes it, or a macro-enabled .xlsm."""

from __future__ import annotations

from pathlib import Path

from addin.workbook.content import WorkbookContent
from addin.workbook.openpyxl_writer import write_workbook


def write_review_file(content: WorkbookContent, path: Path) -> None:
    if path.suffix.lower() == ".xlsm":
        raise NotImplementedError("xlsm packaging lands with the VBA project")
    write_workbook(content, path)
