"""What an accountant gets on paper: every sheet landscape, one page wide, its header row on
every page, the sheet's name and the page number in the footer, the reviewer's columns on the
page. Printed to PDF by LibreOffice and read back with poppler's pdfinfo and pdftotext."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from addin import api
from tests.builders import AS_OF, active, item, terminated, with_register, write_csv_ledger

libreoffice = pytest.importorskip("tests.support.libreoffice")
pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(not libreoffice.soffice_available(),
                       reason="LibreOffice is not installed (make system-deps)"),
    pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
                       reason="poppler-utils is not installed (make system-deps)"),
]

ROOT = Path(__file__).resolve().parents[2]
SHEETS = ("Control", "Residuals", "Items", "Excluded", "Repeat", "Journal")
FOOTER = re.compile(r"^\s*(\S+)\s+(\d+) ?/ ?(\d+)\s*$")


def ledger(folder: Path, rows: int) -> Path:
    """``rows`` flagged subscriptions, half of them ended, with long names and labels."""
    items, subscriptions = [], []
    for n in range(rows):
        customer = f"C{n:04}"
        items.append(item(f"I{n}", f"S{n:04}", f"{n % 5}.{n % 100:02}", customer=customer,
                          name=f"Nussbaumer-Sauvain Stéphane et Marie-Claude {n}"))
        items.append(item(f"J{n}", f"S{n:04}", "250.00", customer=customer,
                          due=AS_OF + dt.timedelta(days=10)))
        label = f"Chauffage à distance – Route de Perrefitte {n}, bâtiment B"
        if n % 2:
            subscriptions.append(terminated(f"S{n:04}", customer))
            subscriptions.append(active(f"T{n:04}", customer, label=label))
        else:
            subscriptions.append(active(f"S{n:04}", customer, label=label))
    items.append(item("X1", "S0000", "0.30", customer="C0000", blocked=True))
    return write_csv_ledger(folder, items, subscriptions)


def committed_review(folder: Path, rows: int) -> Path:
    config = with_register(folder / "register.sqlite")
    review = folder / "review.xlsm"
    api.extract(ledger(folder / "erp", rows), review, as_of=AS_OF, config=config)
    api.commit(review, folder / "exports", config=config, accept_proposals=True)
    return review


def printed(path: Path, folder: Path) -> tuple[list[str], str]:
    """Each page's text as pdftotext lays it out, and pdfinfo's page size."""
    pdf = libreoffice.convert(path, folder / f"{path.stem}.pdf")
    size = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    [page_size] = [line for line in size.stdout.splitlines() if line.startswith("Page size")]
    return pages, page_size


def footer(page: str) -> tuple[str, int, int]:
    """The sheet name and page number of the page's footer."""
    last = [line for line in page.splitlines() if line.strip()][-1]
    match = FOOTER.match(last)
    assert match is not None, f"no sheet name and page number in the footer: {last!r}"
    return match[1], int(match[2]), int(match[3])


def test_a_sixteen_row_review_prints_each_sheet_landscape_on_one_page(tmp_path: Path) -> None:
    pages, page_size = printed(committed_review(tmp_path, 16), tmp_path)

    assert "A4" in page_size
    width, height = map(float, re.findall(r"[\d.]+", page_size)[:2])
    assert width > height  # landscape
    footers = [footer(page) for page in pages]
    assert Counter(name for name, _, _ in footers) == dict.fromkeys(SHEETS, 1)
    assert [number for _, number, _ in footers] == list(range(1, len(pages) + 1))
    assert {total for _, _, total in footers} == {len(pages)}


def test_the_printed_residuals_show_the_reviewers_columns_not_the_helpers(tmp_path: Path
                                                                         ) -> None:
    pages, _ = printed(committed_review(tmp_path, 16), tmp_path)
    [residuals] = [page for page in pages if footer(page)[0] == "Residuals"]
    header = " ".join(residuals.splitlines()[:4])
    for title in ("Subscription", "Reason", "Action", "Target", "subscription", "Accept",
                  "Notes", "Check"):
        assert title in header, title
    assert "_alt_start" not in residuals and "_check" not in residuals
    assert residuals.count("S00") >= 16  # each row, whole: one page wide
    assert "committed" in residuals  # the Check column's stamps fit on the page


def test_a_long_review_repeats_the_header_row_on_every_page(tmp_path: Path) -> None:
    pages, _ = printed(committed_review(tmp_path, 120), tmp_path)
    residuals = [page for page in pages if footer(page)[0] == "Residuals"]
    assert len(residuals) >= 2
    for page in residuals:
        assert "Subscription" in "\n".join(page.splitlines()[:3])


def test_the_empty_template_prints_one_page_per_sheet(tmp_path: Path) -> None:
    pages, _ = printed(ROOT / "workbook_template.xlsm", tmp_path)
    assert [footer(page)[0] for page in pages] == list(SHEETS)
