"""A second click while a button runs: on macOS RunPython returns at once, so the second
click is a second Python process beside the first. Here the first run is another process
(it finds the same temp folder through TMPDIR, see conftest)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from addin.excel import buttons
from addin.workbook.review.render import template_content
from tests.builders import small_utility, write_csv_ledger
from tests.excel.stand_in import Book

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from addin.excel.run_guard import one_run
with one_run(sys.argv[1], sys.argv[2]):
    print("running", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def book(tmp_path: Path) -> Book:
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    inputs = {"source": str(source), "threshold": 5.0, "as_of": dt.datetime(2026, 11, 30),
              "out_dir": str(tmp_path / "exports")}
    return Book.from_content(tmp_path / "Reliquat.xlsm", template_content("en", inputs))


def running(workbook: str, action: str) -> Iterator[subprocess.Popen[str]]:
    """A button's run in another process, holding the workbook until told to finish."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, workbook, action], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None and process.stdout.readline() == "running\n"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


@pytest.fixture
def first_run(book: Book) -> Iterator[subprocess.Popen[str]]:
    yield from running(book.fullname, "Extract")


def snapshot(book: Book) -> dict[str, dict]:
    return {s.name: dict(s.cells) for s in book.sheets}


def test_a_second_click_while_a_run_goes_on_is_refused_and_changes_nothing(book, first_run):
    before, saves = snapshot(book), book.saves
    buttons.commit(book)
    (title, message), = book.app.alerts
    assert title == "Reliquat – Commit"
    assert re.fullmatch(r"Reliquat is already running Extract on this workbook "
                        r"\(since \d\d:\d\d\); wait for it to finish", message), message
    assert snapshot(book) == before and book.saves == saves
    assert book.app.status_history == [] and book.app.calculation == "automatic"


def test_once_the_first_run_ends_the_next_click_runs(book, first_run):
    buttons.extract(book)
    assert "already running" in book.app.alerts[-1][1]
    first_run.communicate("done\n", timeout=30)
    assert first_run.returncode == 0
    buttons.extract(book)
    assert book.app.alerts[-1][1].startswith("4 subscription(s) flagged")


def test_a_run_killed_midway_does_not_block_the_workbook(book, first_run):
    first_run.kill()
    first_run.wait(timeout=30)
    buttons.extract(book)
    assert book.app.alerts[-1][1].startswith("4 subscription(s) flagged")


def test_a_run_on_another_workbook_does_not_block_this_one(book, tmp_path):
    for _ in running(str(tmp_path / "Other.xlsm"), "Commit"):
        buttons.extract(book)
    assert book.app.alerts[-1][1].startswith("4 subscription(s) flagged")


def test_a_temp_folder_that_cannot_hold_the_guard_is_named_and_nothing_runs(book, tmp_path,
                                                                             monkeypatch):
    gone = tmp_path / "no such temp folder"
    monkeypatch.setattr(tempfile, "tempdir", str(gone))
    before = snapshot(book)
    buttons.extract(book)
    (_, message), = book.app.alerts
    assert message.startswith(f"Extract refused. Nothing was changed.\n\n{gone}")
    assert "cannot create the file that keeps two runs on one workbook apart" in message
    assert snapshot(book) == before
