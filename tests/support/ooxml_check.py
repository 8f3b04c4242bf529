"""Is a workbook one Excel opens without repairing it? Asked of ooxml-check's validate.py
(../shared/tools/ooxml-check beside the project, or $OOXML_CHECK): the ECMA-376 and RibbonX
schemas and Excel's own strictness rules. It runs on the project's interpreter, which has
lxml, olefile and oletools from the dev dependencies."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = Path(os.environ.get("OOXML_CHECK", ROOT.parent / "shared" / "tools" / "ooxml-check")
                 ) / "validate.py"

_FILE = re.compile(r"^=== (.+)$", re.M)
_ERRORS = re.compile(r"^-- (\d+) error\(s\)$", re.M)


def available() -> bool:
    return VALIDATOR.is_file()


def errors(paths: list[Path]) -> dict[str, list[str]]:
    """Each file the validator finds an ERROR in (Excel would repair or refuse it), by name,
    with the validator's lines on it."""
    result = subprocess.run([sys.executable, str(VALIDATOR), "--no-readers", *map(str, paths)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode not in (0, 1):
        raise AssertionError(f"validate.py failed:\n{result.stdout}\n{result.stderr}")
    reports = _FILE.split(result.stdout)[1:]
    found = {Path(name): report for name, report in zip(reports[::2], reports[1::2],
                                                         strict=True)}
    if set(found) != set(paths):
        raise AssertionError(f"validate.py did not report on every file:\n{result.stdout}")
    return {path.name: _error_lines(report) for path, report in found.items()
            if _error_count(report)}


def _error_lines(report: str) -> list[str]:
    lines = [line.strip() for line in report.splitlines()]
    return [line for line in lines if "[ERROR]" in line or ": INVALID" in line
            or line.startswith("- ")] or [report]


def _error_count(report: str) -> int:
    match = _ERRORS.search(report)
    if match is None:
        raise AssertionError(f"no error count in the report:\n{report}")
    return int(match[1])
