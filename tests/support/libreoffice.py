"""The test side of the LibreOffice probe: the suite runs in a venv, the UNO bridge belongs
to Debian's /usr/bin/python3, so each question is asked in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

PROBE = Path(__file__).with_name("lo_probe.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def soffice_available() -> bool:
    if shutil.which("soffice") is None or not Path(SYSTEM_PYTHON).exists():
        return False
    check = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    return check.returncode == 0


def inspect(path: Path, *, cells: tuple[str, ...] | list[str] = (),
            validations: tuple[str, ...] | list[str] = (), names: bool = False,
            basic: bool = False, recalc: bool = True, convert_to: dict | None = None,
            timeout: int = 180) -> dict:
    """What LibreOffice shows: sheets, cell values and formulas, each validation's type,
    formula and the options its dropdown offers, defined names, Basic (VBA) modules."""
    request = {"path": str(path), "cells": list(cells), "validations": list(validations),
               "names": names, "basic": basic, "recalc": recalc, "convert_to": convert_to}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(request, handle)
    try:
        result = subprocess.run([SYSTEM_PYTHON, str(PROBE), handle.name], capture_output=True,
                                text=True, timeout=timeout)
    finally:
        Path(handle.name).unlink(missing_ok=True)
    if result.returncode != 0:
        raise AssertionError(f"LibreOffice probe failed on {path}:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def convert(path: Path, out_path: Path, filter_name: str = "calc_pdf_Export") -> Path:
    inspect(path, convert_to={"filter": filter_name, "out": str(out_path)}, recalc=True)
    return out_path
