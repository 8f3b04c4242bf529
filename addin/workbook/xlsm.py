"""Write the review file: an .xlsx as openpyxl writes it, or an .xlsm with the Reliquat VBA
project and ribbon (the same parts as workbook_template.xlsm)."""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from addin.workbook import layout
from addin.workbook.content import WorkbookContent
from addin.workbook.package import make_macro_enabled
from addin.workbook.vba_project import WORKBOOK_CODE_NAME, build_vba_project
from addin.workbook.xlsxwriter_writer import write_workbook

PACKAGE_DIR = Path(__file__).resolve().parents[1]
VBA_DIR = PACKAGE_DIR / "vba"
RIBBON = PACKAGE_DIR / "ribbon" / "customUI.xml"


@lru_cache(maxsize=1)
def vba_project() -> bytes:
    return build_vba_project(VBA_DIR, WORKBOOK_CODE_NAME, [s.code_name for s in layout.SHEETS])


def write_review_file(content: WorkbookContent, path: Path) -> None:
    if path.suffix.lower() != ".xlsm":
        write_workbook(content, path)
        return
    handle, plain = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(handle)
    try:
        write_workbook(content, Path(plain))
        make_macro_enabled(plain, path, vba_project(), RIBBON.read_bytes())
    finally:
        Path(plain).unlink(missing_ok=True)
