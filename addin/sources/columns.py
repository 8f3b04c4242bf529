"""Whole-column conversion that notes every bad cell with its place.

A ledger repeats a few hundred dates and some thousands of amounts a million times: each
distinct value is parsed once, then the column is mapped through a dict.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from addin.domain.formulas import formula_start
from addin.domain.problems import Problem, Where
from addin.sources.table import RawColumns
from addin.sources.values import parse_text
from addin.workbook.review.cell_errors import CellError

MAX_PROBLEMS = 200
_first = operator.itemgetter(0)
T = TypeVar("T")


class Issues:
    """The problems of one table, kept with their row so they are shown top to bottom."""

    def __init__(self, raw: RawColumns, noun: str) -> None:
        self.raw, self.noun = raw, noun
        self.ids: Sequence[str] = ()  # set once read: names a row where there is no line
        self.found: list[tuple[int, int, str, str]] = []
        self.unlisted = 0
        self._rank = {c: i for i, c in enumerate(raw.headers)}

    def note(self, rows: Sequence[int], canonical: str, message: Callable[[int], str]) -> None:
        """The same kind of problem on ``rows``; past the cap only counted."""
        rank = self._rank.get(canonical, len(self._rank))
        self.found.extend((row, rank, canonical, message(row)) for row in rows[:MAX_PROBLEMS])
        self.unlisted += max(0, len(rows) - MAX_PROBLEMS)

    def where(self, row: int, canonical: str) -> Where:
        line = self.raw.line_of(row)
        key = self.ids[row] if row < len(self.ids) else ""
        record = "" if line is not None else (f"{self.noun} {key}" if key else f"row {row + 1}")
        return Where(self.raw.label, line, self.raw.headers.get(canonical, canonical), record)

    def problems(self) -> list[Problem]:
        self.found.sort(key=lambda found: found[:2])
        return [Problem(self.where(row, canonical), message)
                for row, _, canonical, message in self.found]


def located_problems(*tables: Issues) -> list[Problem]:
    """All tables' problems, capped; what is left out is counted in a last line."""
    problems = [p for issues in tables for p in issues.problems()]
    unlisted = sum(issues.unlisted for issues in tables) + max(0, len(problems) - MAX_PROBLEMS)
    problems = problems[:MAX_PROBLEMS]
    if unlisted:
        problems.append(Problem(Where(), f"and {unlisted} more problems not listed"))
    return problems


def texts(raw: RawColumns, canonical: str, issues: Issues, *,
          required: bool = True) -> list[str]:
    """A text column, stripped; a whole float from a workbook loses its '.0'."""
    values = raw.cells.get(canonical)
    if values is None:
        return [""] * raw.size
    kinds = set() if raw.texts else set(map(type, values))
    if CellError in kinds:
        issues.note([i for i, v in enumerate(values) if isinstance(v, CellError)], canonical,
                    lambda row: values[row].problem)  # type: ignore[attr-defined]
    only_str = kinds <= {str}
    out = list(map(str.strip if only_str else parse_text, values))  # type: ignore[arg-type]
    if required and "" in out:
        issues.note([i for i, v in enumerate(out) if not v], canonical, lambda _: "empty")
    return out


def identifiers(raw: RawColumns, canonical: str, issues: Issues) -> list[str]:
    """A text column of ids. They go to the ERP as they are, so an id a spreadsheet would run
    as a formula is refused here rather than quoted in the export."""
    values = texts(raw, canonical, issues)
    if any(map(formula_start, set(map(_first, filter(None, values))))):  # in C: 20 ns an id
        issues.note([row for row, value in enumerate(values) if formula_start(value)],
                    canonical, lambda row: f"begins with {values[row][0]!r}: an identifier "
                                           f"must not look like a formula")
    return values


def parsed(raw: RawColumns, canonical: str, parse: Callable[[object], T], issues: Issues,
           default: T, *, required: bool = True) -> list[T]:
    """A column through ``parse``, each distinct value once; a bad cell becomes ``default``."""
    values: Sequence[object] | None = raw.cells.get(canonical)
    if values is None:
        return [default] * raw.size
    if not raw.texts:
        values = booleans_apart(values)
    try:
        distinct = set(values)
    except TypeError:  # a database may hand over a list or a dict: shown as text
        values = [v if isinstance(v, Hashable) else repr(v) for v in values]
        distinct = set(values)
    known: dict[object, T] = {}
    bad: dict[object, str] = {}
    for key in distinct:
        value = key.value if isinstance(key, Boolean) else key
        if isinstance(value, CellError):
            bad[key] = value.problem
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                bad[key] = "empty"
            else:
                known[key] = default
            continue
        try:
            known[key] = parse(value)
        except ValueError as exc:  # AmountError is one
            bad[key] = str(exc)
    if bad:
        cells = values
        rows = [i for i, v in enumerate(cells) if v in bad]
        issues.note(rows, canonical, lambda row: bad[cells[row]])
        known.update(dict.fromkeys(bad, default))
    return list(map(known.__getitem__, values))


@dataclass(frozen=True)
class Boolean:
    """A boolean cell as a key of its own: True == 1 and False == 0 in Python, but a TRUE
    cell is no amount and no date, whatever number sits in the column beside it."""

    value: bool


def booleans_apart(cells: Sequence[object]) -> Sequence[object]:
    """The cells, each boolean one as a ``Boolean`` (a workbook's cells are typed one by one;
    a CSV's are all text and a database column has one type)."""
    if bool not in set(map(type, cells)):
        return cells
    return [Boolean(cell) if type(cell) is bool else cell for cell in cells]


def duplicates(keys: Sequence[str]) -> list[tuple[int, int]]:
    """(row, row of its first occurrence) for each repeated non-empty key."""
    if len(set(keys)) == len(keys):
        return []
    first: dict[str, int] = {}
    repeated = []
    for row, key in enumerate(keys):
        seen = first.setdefault(key, row)
        if seen != row and key:
            repeated.append((row, seen))
    return repeated
