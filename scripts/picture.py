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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from addin import api  # noqa: E402
from addin.config import Config  # noqa: E402
from addin.demo.ledger import generate_ledger  # noqa: E402
from addin.locations import Location  # noqa: E402

OUT = ROOT / "docs" / "review-workbook.png"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        generate_ledger(work / "ledger.sqlite", customers=400, as_of=dt.date(2026, 11, 30))
        review = work / "review.xlsx"
        config = replace(Config(), register=Location.of(work / "register.sqlite"))
        api.extract(work / "ledger.sqlite", review, as_of=dt.date(2026, 11, 30), config=config)
        page = printable_residuals(review, work / "residuals.xlsx")
        pdf = to_pdf(page, work)
        subprocess.run(["pdftoppm", "-png", "-r", "120", "-f", "1", "-l", "1", "-x", "60",
                        "-y", "60", "-W", "1280", "-H", "260", "-singlefile", str(pdf),
                        str(work / "page")], check=True)
        OUT.parent.mkdir(exist_ok=True)
        shutil.copyfile(work / "page.png", OUT)
    print(f"written {OUT.relative_to(ROOT)}")
    return 0


def printable_residuals(review: Path, out: Path, rows: int = 14) -> Path:
    """The Residuals sheet alone, its first rows and the columns a reviewer reads first."""
    book = openpyxl.load_workbook(review)
    for name in book.sheetnames:
        if name != "Residuals":
            del book[name]
    sheet = book["Residuals"]
    sheet.delete_rows(rows + 2, sheet.max_row)
    for letter in ("D", "L", "Q", "R", "S", "T", "U"):
        sheet.column_dimensions[letter].hidden = True
    sheet.column_dimensions["M"].width = 36
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True
    book.save(out)
    return out


def to_pdf(path: Path, work: Path) -> Path:
    profile = work / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(work), str(path)],
                   check=True, capture_output=True, timeout=180, env={**os.environ})
    return work / (path.stem + ".pdf")


if __name__ == "__main__":
    sys.exit(main())
