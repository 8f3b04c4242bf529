"""Write the review file: an .xlsx, or an .xlsm with the Reliquat VBA project and ribbon
(the same parts as workbook_template.xlsm)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from addin.workbook.ooxml.writer import write_package
from addin.workbook.review import layout
from addin.workbook.review.content import WorkbookContent
from addin.workbook.vba.project import WORKBOOK_CODE_NAME, build_vba_project

PACKAGE_DIR = Path(__file__).resolve().parents[1]
VBA_DIR = PACKAGE_DIR / "vba"
RIBBON = PACKAGE_DIR / "ribbon" / "customUI.xml"


@lru_cache(maxsize=1)
def vba_project() -> bytes:
    return build_vba_project(VBA_DIR, WORKBOOK_CODE_NAME, [s.code_name for s in layout.SHEETS])


def write_review_file(content: WorkbookContent, path: Path) -> None:
    if path.suffix.lower() != ".xlsm":
        write_package(content, path)
        return
    write_package(content, path, vba_project=vba_project(), ribbon_xml=RIBBON.read_bytes())
