"""A workbook sheet as the columns the CSV exports give (see columnar), without its rows.

calamine reads the sheet into its own memory; its rows are then taken a block at a time and
turned into columns, so the Python list of the whole sheet is never held. Texts (ids, names,
labels) become Arrow strings, as a CSV's cells do: an id that is a number in the sheet becomes
the text the exact reader makes of it (``parse_text``), and an id as written (a text) is
checked in Arrow like a CSV's. Every other column (dates, amounts, flags, codes, statuses)
keeps its cells as calamine gave them, each distinct cell once, so that the exact reader's
functions parse them as they parse the whole sheet: a float 0.1 is read as it is read there.

The sheet is read once, for both reads of the CSV path. A sheet that may hold an Excel error
value, or that calamine cannot read, goes to the exact reader, which names the cell.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa

from addin.config import Config
from addin.domain.problems import Where
from addin.sources.columnar import SELECTION, TextTable, arrow_codes, arrow_strings
from addin.sources.columns import Boolean, booleans_apart
from addin.sources.table import RawColumns, clean_header, drop_blank_rows, locate_columns, no_line
from addin.sources.values import parse_text
from addin.sources.xlsx_source import open_sheet
from addin.workbook.ooxml.errors import may_hold_errors

# Columns ``build`` reads as texts (stripped); the others it parses, on their typed cells.
TEXTS = frozenset({"item_id", "customer_id", "customer_name", "subscription_id",
                   "document_no", "vat_code", "label"})
BLOCK_ROWS = 32_768  # rows taken from calamine at a time: a few MB of Python objects


class SheetExport:
    """One entity's sheet; ``sheet=None`` is the workbook's first sheet."""

    def __init__(self, path: Path, sheet: str | None, entity: str, config: Config) -> None:
        self.path, self.sheet, self.entity, self.config = path, sheet, entity, config
        self._parts: dict[bool, TextTable] | None = None
        self._read = False

    def read(self, selection: bool) -> TextTable | None:
        """Each part is handed over once, and then let go here."""
        if not self._read:
            self._parts, self._read = read_sheet_parts(self.path, self.sheet, self.entity,
                                                       self.config), True
        return None if self._parts is None else self._parts.pop(selection, None)

    def unchanged(self) -> bool:
        return True  # both parts come from one read


def read_sheet_parts(path: Path, sheet: str | None, entity: str, config: Config
                     ) -> dict[bool, TextTable] | None:
    """The sheet's located columns, split as the CSV path reads them: the selection's (True)
    and the others (False). A missing sheet or column raises the exact reader's SourceError;
    None when the exact reader must look at the cells."""
    with open_sheet(path, sheet) as (book, name):
        if may_hold_errors(path, name):
            return None
        try:
            rows = book.get_sheet_by_name(name).iter_rows()
        except Exception:  # calamine's own errors, on a damaged sheet: the exact reader's
            return None
        return _parts(rows, f"{path} [{name}]", entity, config)


def _parts(rows: Iterator[Sequence[object]], label: str, entity: str, config: Config
           ) -> dict[bool, TextTable] | None:
    header = next((row for row in rows if any(v not in ("", None) for v in row)), None)
    if header is None:
        return None  # the exact reader says the sheet is empty
    positions = locate_columns(header, entity, config, Where(label))
    headers = {c: clean_header(header[p]) for c, p in positions.items()}
    columns = {c: _TextColumn() if c in TEXTS else _TypedColumn() for c in positions}
    for block in _blocks(rows, list(positions.values())):
        raw = drop_blank_rows(RawColumns(label, headers, dict(zip(columns, block, strict=True)),
                                         no_line))
        for canonical, cells in raw.cells.items():
            columns[canonical].add(cells)
    selection = SELECTION[entity]
    return {part: _table(label, headers, {c: column for c, column in columns.items()
                                          if (c in selection) == part})
            for part in (True, False)}


def _blocks(rows: Iterator[Sequence[object]], positions: list[int]
            ) -> Iterator[list[tuple[object, ...]]]:
    """The wanted cells of the rows after the header, a block of columns at a time."""
    pick = operator.itemgetter(*positions)
    while block := [pick(row) for row in islice(rows, BLOCK_ROWS)]:
        yield list(zip(*block, strict=True))


class _TextColumn:
    """Texts as Arrow strings: a text cell as written, any other as the exact reader shows
    it (a whole number without its '.0')."""

    def __init__(self) -> None:
        self.chunks: list[pa.Array] = []

    def add(self, cells: Sequence[object]) -> None:
        texts = cells if set(map(type, cells)) <= {str} else [
            cell if type(cell) is str else parse_text(cell) for cell in cells]
        self.chunks.append(arrow_strings(texts))  # type: ignore[arg-type]

    def arrow(self) -> pa.ChunkedArray:
        return pa.chunked_array(self.chunks, type=pa.string())


class _TypedColumn:
    """Each row's index into the distinct cells, which keep calamine's types. Cells that are
    equal share an index (1 and 1.0), as they share a parse in the exact reader; a boolean
    does not share one with the number it equals (see ``columns.Boolean``)."""

    def __init__(self) -> None:
        self.index: defaultdict[object, int] = defaultdict()
        self.index.default_factory = self.index.__len__  # a new cell gets the next index
        self.chunks: list[np.ndarray] = []

    def add(self, cells: Sequence[object]) -> None:
        self.chunks.append(np.fromiter(map(self.index.__getitem__, booleans_apart(cells)),
                                       np.int32, len(cells)))

    def arrow(self) -> pa.Array:
        codes = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int32)
        return arrow_codes(codes)

    def distinct(self) -> list[object]:
        return [key.value if isinstance(key, Boolean) else key for key in self.index]


def _table(label: str, headers: dict[str, str],
           columns: dict[str, _TextColumn | _TypedColumn]) -> TextTable:
    table = pa.table({c: column.arrow() for c, column in columns.items()})
    typed = {c: column.distinct() for c, column in columns.items()
             if isinstance(column, _TypedColumn)}
    return TextTable(label, headers, table, typed)
