"""One entity's columns as a source holds them, found by header, before any meaning.

Every reader (CSV, workbook, database) finds the columns it needs with ``locate_columns`` and
hands over a ``RawColumns``; ``build`` turns that into domain records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from addin.config import (
    OPEN_ITEM_COLUMNS,
    OPEN_ITEM_OPTIONAL,
    SUBSCRIPTION_COLUMNS,
    SUBSCRIPTION_OPTIONAL,
    TRANSIT_COLUMNS,
    TRANSIT_OPTIONAL,
    Config,
)
from addin.domain.problems import Problem, SourceError, Where
from addin.sources.values import parse_text

ENTITIES = ("open_items", "subscriptions")
REQUIRED = {"open_items": OPEN_ITEM_COLUMNS, "subscriptions": SUBSCRIPTION_COLUMNS,
            "transit": TRANSIT_COLUMNS}
OPTIONAL = {"open_items": OPEN_ITEM_OPTIONAL, "subscriptions": SUBSCRIPTION_OPTIONAL,
            "transit": TRANSIT_OPTIONAL}

LineOf = Callable[[int], "int | None"]


@dataclass(frozen=True, slots=True)
class RawColumns:
    """The cells of one entity, one list per canonical column, rows in source order.

    Attributes:
      label: the file path (``path [sheet]`` in a workbook), the table, or ``[sql] entity``.
      headers: canonical column -> its header as the source shows it. Optional columns the
        source lacks are absent from ``headers`` and ``cells``.
      line_of: row index -> 1-based line in the file (header = line 1); None for a database.
      texts: every cell is a ``str`` (CSV), so text columns only need stripping.
    """

    label: str
    headers: dict[str, str]
    cells: Mapping[str, Sequence[object]]
    line_of: LineOf
    texts: bool = False

    @property
    def size(self) -> int:
        return len(next(iter(self.cells.values()), ()))


def no_line(_: int) -> None:
    return None


def clean_header(header: object) -> str:
    """A header as compared: without a BOM or surrounding spaces (a number as Excel shows it)."""
    return parse_text(header).replace("\ufeff", "").strip()


def locate_columns(header: Sequence[object], entity: str, config: Config,
                   where: Where) -> dict[str, int]:
    """Canonical column -> position of its header. Exact match first; a case-insensitive one
    only when a single header fits. Every miss is reported at once."""
    shown = [clean_header(h) for h in header]
    exact: dict[str, list[int]] = {}
    folded: dict[str, list[int]] = {}
    for position, name in enumerate(shown):
        exact.setdefault(name, []).append(position)
        folded.setdefault(name.casefold(), []).append(position)
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    for canonical in REQUIRED[entity] + OPTIONAL[entity]:
        wanted = config.header_for(entity, canonical).strip()
        hits = exact.get(wanted) or folded.get(wanted.casefold(), [])
        if len(hits) == 1:
            positions[canonical] = hits[0]
        elif hits:
            found = " and ".join(repr(shown[p]) for p in hits)
            problems.append(Problem(where, f"column {wanted!r} is there {len(hits)} times "
                                           f"({found}): which one is meant?"))
        elif canonical in REQUIRED[entity]:
            problems.append(Problem(where, _missing(entity, canonical, wanted)))
    if problems:
        raise SourceError(problems)
    return positions


def _missing(entity: str, canonical: str, wanted: str) -> str:
    if wanted == canonical:
        return f"missing column {wanted!r}"
    return f"missing column {wanted!r} (the header of {canonical} set in [columns.{entity}])"


def raw_columns(label: str, header: Sequence[object], positions: dict[str, int],
                cells: Mapping[str, Sequence[object]], line_of: LineOf,
                texts: bool = False) -> RawColumns:
    """A ``RawColumns`` with the headers as shown, blank rows left out."""
    headers = {c: clean_header(header[p]) for c, p in positions.items()}
    return drop_blank_rows(RawColumns(label, headers, cells, line_of, texts))


def drop_blank_rows(raw: RawColumns) -> RawColumns:
    """Leave out rows whose every wanted cell is blank (an empty line, a row of ';;;;').

    A row with anything in a wanted cell stays, so a totals line is reported, not skipped; so
    does a row whose first wanted cell holds only spaces (reported as empty).
    """
    columns = list(raw.cells.values())
    if not columns:
        return raw
    first = columns[0]
    if "" not in first and None not in first:  # a scan in C; rows are looked at only if so
        return raw
    candidates = [i for i, v in enumerate(first) if v == "" or v is None]
    blank = {i for i in candidates if all(_blank(column[i]) for column in columns)}
    if not blank:
        return raw
    kept = [i for i in range(raw.size) if i not in blank]
    cells = {c: [column[i] for i in kept] for c, column in raw.cells.items()}
    line_of = raw.line_of
    return replace(raw, cells=cells, line_of=lambda index: line_of(kept[index]))


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
