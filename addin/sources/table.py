"""A source table as read, before any meaning: a header, rows of raw cells, where they came from.

CSV, xlsx and SQL readers all produce one of these; ``build`` turns it into domain records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from addin.config import Config
from addin.domain.problems import Problem, SourceError, Where


@dataclass(frozen=True, slots=True)
class RawTable:
    """``first_line`` is the file line of rows[0] (header = line 1 in a file); None for SQL."""

    label: str  # the file path, or the table / query it came from
    header: tuple[str, ...]
    rows: Sequence[Sequence[object]]
    first_line: int | None = 2
    line_numbers: Sequence[int] | None = None  # when a quoted field spans lines

    def line(self, index: int) -> int | None:
        if self.line_numbers is not None:
            return self.line_numbers[index]
        return None if self.first_line is None else self.first_line + index


def locate_columns(table: RawTable, entity: str, required: tuple[str, ...],
                   optional: tuple[str, ...], config: Config) -> dict[str, int]:
    """Canonical column -> position, by the header the config expects; all misses at once."""
    cleaned = [h.strip().lstrip("\ufeff") for h in table.header]
    exact = {h: i for i, h in enumerate(cleaned)}
    folded: dict[str, list[int]] = {}
    for i, h in enumerate(cleaned):
        folded.setdefault(h.casefold(), []).append(i)
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    for canonical in required + optional:
        header = config.header_for(entity, canonical)
        if header in exact:
            positions[canonical] = exact[header]
        elif len(folded.get(header.casefold(), [])) == 1:
            positions[canonical] = folded[header.casefold()][0]
        elif canonical in required:
            mapped = "" if header == canonical else f" (mapped to {header!r} in the config)"
            problems.append(Problem(Where(table.label, 1 if table.first_line else None),
                                    f"missing column {canonical!r}{mapped}"))
    if problems:
        raise SourceError(problems)
    return positions
