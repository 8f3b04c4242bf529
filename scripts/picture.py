"""Render the Residuals sheet of a demo review workbook through LibreOffice, as the PNG the
README shows: `make picture` (needs soffice and pdftoppm, installed by make system-deps)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from addin import api  # noqa: E402
from addin.config import Config  # noqa: E402
from addin.demo.ledger import generate_ledger  # noqa: E402
from addin.locations import Location  # noqa: E402
from addin.workbook.review import layout  # noqa: E402
from addin.workbook.review.widths import line_count, line_room  # noqa: E402

OUT = ROOT / "docs" / "review-workbook.png"


DPI = 130


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        generate_ledger(work / "ledger.sqlite", customers=400, as_of=dt.date(2026, 11, 30))
        review = work / "review.xlsx"
        config = replace(Config(), register=Location.of(work / "register.sqlite"))
        api.extract(work / "ledger.sqlite", review, as_of=dt.date(2026, 11, 30), config=config)
        page = printable_residuals(review, work / "residuals.xlsx")
        pdf = to_pdf(page, work)
        subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", "1", "-l", "1",
                        *crop(left=0.2, top=0.7, width=11.3, height=2.45),
                        "-singlefile", str(pdf), str(work / "page")], check=True)
        OUT.parent.mkdir(exist_ok=True)
        shutil.copyfile(work / "page.png", OUT)
    print(f"written {OUT.relative_to(ROOT)}")
    return 0


def crop(*, left: float, top: float, width: float, height: float) -> list[str]:
    """pdftoppm's crop box, given in inches of the landscape A4 page."""
    return ["-x", str(round(left * DPI)), "-y", str(round(top * DPI)),
            "-W", str(round(width * DPI)), "-H", str(round(height * DPI))]


def printable_residuals(review: Path, out: Path, rows: int = 12) -> Path:
    """The Residuals sheet alone, printed as the review prints it (landscape, one page wide),
    its first rows, without the columns a reviewer reads least (label, items, proposed target)
    and those filled by a commit (batch, check): the reviewer's columns print larger."""
    book = openpyxl.load_workbook(review)
    for name in book.sheetnames:
        if name != "Residuals":
            del book[name]
    sheet = book["Residuals"]
    sheet.delete_rows(rows + 2, sheet.max_row)
    for key in ("label", "item_count", "proposed_target", "batch", "check"):
        sheet.column_dimensions[layout.column_letter(layout.RESIDUALS.index(key))].hidden = True
    fit_heights(sheet, rows)
    book.save(out)
    return out


def fit_heights(sheet: Worksheet, rows: int) -> None:
    """Each row as high as its reason and name need, the hidden label left out."""
    wrapped = [layout.RESIDUALS.index(key) for key in ("customer_name", "reason")]
    for row in range(2, rows + 2):
        lines = max(line_count(str(sheet.cell(row, column + 1).value or ""),
                               line_room(sheet.column_dimensions[
                                   layout.column_letter(column)].width))
                    for column in wrapped)
        sheet.row_dimensions[row].height = 15 * lines if lines > 1 else None


def to_pdf(path: Path, work: Path) -> Path:
    profile = work / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(work), str(path)],
                   check=True, capture_output=True, timeout=180, env={**os.environ})
    return work / (path.stem + ".pdf")


if __name__ == "__main__":
    sys.exit(main())
