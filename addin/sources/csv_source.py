"""CSV exports as ERPs write them: ';' or ',', UTF-8 with or without BOM (else Windows-1252)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from addin.domain.problems import Problem, SourceError, Where
from addin.sources.table import RawTable


def read_csv_table(path: Path) -> RawTable:
    text = _decode(path)
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    if first.count(delimiter) == 0:
        raise SourceError([Problem(Where(str(path), 1),
                                   "no ';' or ',' in the header line: not a CSV export")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise SourceError([Problem(Where(str(path)), "the file is empty")]) from None
    rows: list[list[str]] = []
    lines: list[int] = []
    previous = reader.line_num
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(previous + 1)
            previous = reader.line_num
    except csv.Error as exc:
        raise SourceError([Problem(Where(str(path), reader.line_num), str(exc))]) from exc
    back_to_back = not lines or lines[-1] == len(lines) + 1
    return RawTable(str(path), tuple(header), rows,
                    line_numbers=None if back_to_back else lines)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
