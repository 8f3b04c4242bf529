"""A CSV ledger as checked columns, without a record per row.

Arrow splits the file on every core and keeps each cell as text. Each column is then checked
the way ``build`` checks it, but once per distinct value and with ``build``'s own functions;
identifiers are checked in Arrow (not empty, nothing to strip, nothing a spreadsheet would run,
no duplicate). What comes out is the numbers the selection needs: whole cents, due days,
blocks, currencies, and each item's subscription.

Each file is read twice: first the columns the selection needs, then the others (names,
document numbers, dates, labels), checked on every row and kept only for the rows that become
records. Arrow holds about as much again as the columns it converts while it splits a file;
split in two, the 1 M-row export's peak fell from 420-460 MB to 355-370 MB (240 MB since
Arrow allocates from the C library, see ``file_selection``), and the second split, run in a
thread while the first read's columns are checked, costs no time of its own.

Whenever this reader is not sure that the exact reader would find nothing wrong (a line Arrow
cannot split, a bad cell, a duplicate, a value to strip), it returns None: the exact reader then
runs and names the file, line and column in its own words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from addin.config import Config
from addin.domain.model import Status
from addin.domain.money import ZERO
from addin.sources.columns import Issues, parsed
from addin.sources.csv_source import as_utf8, open_csv
from addin.sources.table import RawColumns, clean_header, no_line
from addin.sources.values import (
    parse_amount,
    parse_currency,
    parse_date,
    parse_flag,
    parse_status,
    parse_text,
)

T = TypeVar("T")

# What str.strip() strips (every character whose isspace() is true), as an RE2 class.
PYTHON_SPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
                "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_SPACE_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in PYTHON_SPACE)
# An id the exact reader would strip, or refuse as a formula ('=', '+', '@', a control).
_ID_NEEDS_CARE = f"^[{_SPACE_CLASS}=+@\\x00-\\x1f\\x7f]|[{_SPACE_CLASS}]$"
_BAD_FIRST = np.zeros(256, dtype=bool)
_BAD_FIRST[[*range(0x21), 0x7f, ord("="), ord("+"), ord("@")]] = True
_BAD_LAST = np.zeros(256, dtype=bool)
_BAD_LAST[[*range(0x09, 0x0e), *range(0x1c, 0x21)]] = True
# The ids each row has its own of; every other column (customers, subscriptions, dates,
# amounts, codes, names) repeats its values and is kept as a dictionary of them: a third less
# memory for a ledger, and the distinct values, which are what is checked, come with it.
_OWN = {"open_items": {"item_id", "document_no"}, "subscriptions": {"subscription_id"}}
# What the selection is computed on: the first read.
SELECTION = {"open_items": ("item_id", "customer_id", "subscription_id", "due_date",
                            "open_amount", "currency", "dunning_block", "dispute"),
             "subscriptions": ("subscription_id", "customer_id")}
# The columns of the second read that ``build`` parses, with its default and whether required.
_PARSED_LATER: dict[str, tuple[Callable[[object], object], object, bool]] = {
    "document_date": (parse_date, None, True), "original_amount": (parse_amount, ZERO, True),
    "status": (parse_status, Status.TERMINATED, True), "end_date": (parse_date, None, False),
    "next_bill_date": (parse_date, None, False)}
_TEXT = pa.string()
_REPEATED = pa.dictionary(pa.int32(), pa.string())
_INT64_ROOM = 2 ** 63 - 1


@dataclass(frozen=True)
class TextTable:
    """One entity's cells under canonical names, with its file's headers.

    A CSV's cells are all text. A workbook's are typed (float, date, bool, text): a column
    named in ``typed`` holds each row's index into its distinct cells as the reader gave them,
    so they are parsed as the exact reader parses them; its other columns are text.
    """

    label: str
    headers: dict[str, str]
    table: pa.Table
    typed: Mapping[str, Sequence[object]] = field(default_factory=dict)

    def take(self, rows: np.ndarray) -> TextTable:
        """The given rows, in ascending order. Kept by a mask, block by block: a take would
        first lay the blocks end to end, their dictionaries unified (80 MB on a 1 M export)."""
        assert not len(rows) or bool(np.all(rows[1:] > rows[:-1])), "rows out of order"
        keep = np.zeros(self.table.num_rows, dtype=bool)
        keep[rows] = True
        return TextTable(self.label, self.headers, self.table.filter(arrow_mask(keep)),
                         self.typed)

    def dictionary(self, name: str) -> tuple[np.ndarray, Sequence[object]]:
        """Each row's index into the column's distinct cells, and those cells."""
        if name in self.typed:
            return numpy_of(self.table.column(name)), self.typed[name]
        return _dictionary(self.table.column(name))

    def cells(self, name: str) -> list[object]:
        """The column's cells, row by row."""
        if name in self.typed:
            distinct = self.typed[name]
            return [distinct[code] for code in numpy_of(self.table.column(name)).tolist()]
        column = self.table.column(name)
        if pa.types.is_dictionary(column.type):  # to_pylist would turn the whole dictionary
            column = column.cast(column.type.value_type)  # into Python objects first: 10×
        return column.to_pylist()


class Export(Protocol):
    """One entity's file as the columnar reader reads it: a CSV export, or a sheet."""

    def read(self, selection: bool) -> TextTable | None:
        """The columns the selection needs, or all the others; None when the exact reader
        must say what is in the file."""

    def unchanged(self) -> bool:
        """Whether the file is still the one first read."""


def raw_rows(*parts: TextTable) -> RawColumns:
    """The same rows of one file, read in parts, as the exact reader would hand them to
    ``build``."""
    cells = {name: part.cells(name) for part in parts for name in part.table.column_names}
    texts = not any(part.typed for part in parts)
    return RawColumns(parts[0].label, parts[0].headers, cells, no_line, texts=texts)


@dataclass(frozen=True)
class SubscriptionColumns:
    text: TextTable
    ids: pa.ChunkedArray
    customer: np.ndarray  # index into ``customers``
    customers: pa.Array


@dataclass(frozen=True)
class ItemColumns:
    text: TextTable
    ids: pa.ChunkedArray
    subscription: np.ndarray  # row of the item's subscription
    cents: np.ndarray  # open amount, int64
    due: np.ndarray  # due date as an ordinal
    blocked: np.ndarray  # dunning block or dispute
    currency: np.ndarray  # index into ``currencies``
    currencies: list[str]


# pa.array() imports pandas (a third of a second) to ask whether it was given a Series;
# arrays built from their buffers do not.
def arrow_mask(keep: np.ndarray) -> pa.Array:
    """A NumPy boolean array as an Arrow one."""
    bits = np.packbits(keep, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(keep), [None, pa.py_buffer(bits)])


def arrow_codes(codes: np.ndarray) -> pa.Array:
    """Indices into a list of distinct cells, as Arrow int32."""
    return _arrow_integers(codes, np.int32, pa.int32())


def _arrow_integers(numbers: np.ndarray, dtype: type, arrow_type: pa.DataType) -> pa.Array:
    values: np.ndarray = np.ascontiguousarray(numbers, dtype=dtype)
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])


def arrow_strings(texts: Sequence[str]) -> pa.Array:
    """Short texts (ids, names), as Arrow strings."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    data = "".join(texts).encode("utf-8")
    if len(data) != lengths.sum():  # not all ASCII: each text's length in bytes differs
        encoded = [text.encode("utf-8") for text in texts]
        lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    offsets = np.zeros(len(texts) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(texts),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def numpy_of(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A column of integers or booleans without nulls, as one NumPy array."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [_chunk_numpy(chunk) for chunk in chunks]
    if not parts:
        return np.zeros(0, dtype=column.type.to_pandas_dtype())
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _chunk_numpy(chunk: pa.Array) -> np.ndarray:
    assert chunk.null_count == 0
    values = chunk.buffers()[1]
    if pa.types.is_boolean(chunk.type):
        bits = np.unpackbits(np.frombuffer(values, np.uint8), bitorder="little")
        return bits[chunk.offset:chunk.offset + len(chunk)].astype(bool)
    dtype = np.dtype(chunk.type.to_pandas_dtype())
    return np.frombuffer(values, dtype)[chunk.offset:chunk.offset + len(chunk)]


@dataclass(frozen=True)
class CsvExport:
    """A CSV export as Arrow reads it: from ``source``, the file itself or its UTF-8 copy."""

    path: Path
    source: Path
    entity: str
    header: list[str]
    positions: dict[str, int]
    delimiter: str
    careful: bool  # a line end may sit in quotes
    stamp: tuple[int, int] | None  # the file's size and time of change, as first read

    def unchanged(self) -> bool:
        """Whether the file is still the one first read (its second read picks rows by
        their place in the first)."""
        return self.stamp is not None and _stamp(self.path) == self.stamp

    def read(self, selection: bool) -> TextTable | None:
        return read_text_table(self, selection)


def _stamp(path: Path) -> tuple[int, int] | None:
    """None when the file cannot be looked at: the exact reader then says why."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns


def prepare(path: Path, entity: str, config: Config, spare: Path) -> CsvExport | None:
    """The export's header matched and its encoding checked (a SourceError otherwise); None
    when the UTF-8 copy cannot be written.

    A UTF-8 file as on disk is read by Arrow from the disk: its bytes are let go here, so the
    export is not held twice while Arrow splits it. Any other (Windows-1252, UTF-16, old Mac
    line ends) is written in UTF-8 into the folder ``spare``: it is read twice, and holding
    it in memory between the reads raised the peak by 50 MB on the 1 M-row export; turning
    it into UTF-8 again takes longer than splitting it."""
    stamp = _stamp(path)
    file = open_csv(path, entity, config)
    data = as_utf8(file)
    source = path
    if not (file.verbatim and data is file.data):
        source = spare / f"{entity}.csv"
        try:
            source.write_bytes(data)
        except OSError:
            return None
    return CsvExport(path, source, entity, file.header, file.positions, file.delimiter,
                     _quoted_line_end(data), stamp)


def read_text_table(export: CsvExport, selection: bool) -> TextTable | None:
    """The located columns the selection needs (or all the others) as text; None when Arrow
    cannot split the file as the exact reader would (a wrong field count, a quote it reads
    otherwise) or cannot read it any more: the exact reader then says why, in its words."""
    names = [f"f{position}" for position in range(len(export.header))]
    wanted = {names[p]: canonical for canonical, p in export.positions.items()
              if (canonical in SELECTION[export.entity]) == selection}
    own = _OWN[export.entity]
    try:
        table = pa_csv.read_csv(
            export.source,
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=export.delimiter,
                                              newlines_in_values=export.careful),
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(wanted),
                column_types={name: _TEXT if wanted[name] in own else _REPEATED
                              for name in wanted},
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, OSError):  # an OSError: the file gone or locked since prepared
        return None
    pa.default_memory_pool().release_unused()  # what the split's threads held and freed
    table = table.rename_columns([wanted[name] for name in table.column_names])
    headers = {c: clean_header(export.header[p]) for c, p in export.positions.items()}
    return TextTable(str(export.path), headers, table)


def _quoted_line_end(data: bytes) -> bool:
    """Whether a line end may sit inside quotes: Arrow then splits the file more carefully
    (a third slower). Quotes pair up in order, a doubled quote included; an unpaired one
    counts as yes."""
    start = data.find(b'"')
    while start != -1:
        end = data.find(b'"', start + 1)
        if end == -1 or data.find(b"\n", start, end) != -1 or data.find(b"\r", start, end) != -1:
            return True
        start = data.find(b'"', end + 1)
    return False


def subscription_columns(text: TextTable) -> SubscriptionColumns | None:
    """The subscriptions' owners, once their ids are as the exact reader wants them."""
    table = text.table
    ids = table.column("subscription_id")
    customer, customers = _dictionary_array(table.column("customer_id"))
    if not (_clean_ids(ids) and _unique(ids) and _clean_ids(customers)):
        return None
    return SubscriptionColumns(text, ids, customer, customers)


def item_columns(text: TextTable, subs: SubscriptionColumns) -> ItemColumns | None:
    """The numbers the selection needs, once its columns are as the exact reader wants them:
    each item's subscription known and owned by the item's customer."""
    table = text.table
    ids = table.column("item_id")
    sub_codes, sub_ids = _dictionary_array(table.column("subscription_id"))
    customer_codes, customer_ids = _dictionary_array(table.column("customer_id"))
    if not (all(map(_clean_ids, (ids, sub_ids, customer_ids))) and _unique(ids)):
        return None
    sub_row = _positions(sub_ids, subs.ids)  # a subscription unknown: None
    customer = _positions(customer_ids, subs.customers)  # a customer without one: None
    if sub_row is None or customer is None:
        return None
    sub_row = sub_row[sub_codes]
    if not np.array_equal(customer[customer_codes], subs.customer[sub_row]):
        return None  # an item whose subscription is another customer's
    return _numbers(text, ids, sub_row)


def others_checked(text: TextTable, config: Config) -> bool:
    """Whether the columns of the second read are as the exact reader wants them."""
    table = text.table
    if "document_no" in table.column_names and not _clean_ids(table.column("document_no")):
        return False
    return _vat_codes_known(text, config) and all(
        _distinct(text, canonical, parse, default, required) is not None
        for canonical, (parse, default, required) in _PARSED_LATER.items()
        if canonical in table.column_names)


def _numbers(text: TextTable, ids: pa.ChunkedArray, sub_row: np.ndarray) -> ItemColumns | None:
    open_amounts = _distinct(text, "open_amount", parse_amount, ZERO, True)
    due = _distinct(text, "due_date", parse_date, None, True)
    currency = _distinct(text, "currency", parse_currency, "", True)
    flags = [_distinct(text, c, parse_flag, False, False)
             for c in ("dunning_block", "dispute") if c in text.table.column_names]
    if open_amounts is None or due is None or currency is None or None in flags:
        return None
    cents = _cents(open_amounts)
    if cents is None:
        return None
    days = _mapped(due, _ordinal, np.int32)
    blocked = np.zeros(len(sub_row), dtype=bool)
    for flag in flags:
        assert flag is not None
        blocked |= _mapped(flag, bool, np.bool_)
    names = sorted(set(currency[1]))
    currency_code = _mapped(currency, names.index, np.int32)  # type: ignore[arg-type]
    return ItemColumns(text, ids, sub_row, cents, days, blocked, currency_code, names)


def _ordinal(day: dt.date | None) -> int:
    assert day is not None  # a due date is required
    return day.toordinal()


Distinct = tuple[np.ndarray, list[T]]  # per row, the index of its value in the list


def _distinct(text: TextTable, canonical: str, parse: Callable[[object], T], default: T,
              required: bool) -> Distinct[T] | None:
    """Each row's parsed value as an index into the parsed distinct values; None if the exact
    reader would report any of them (it runs ``parsed`` on them, here only once each)."""
    codes, values = text.dictionary(canonical)
    raw = RawColumns(text.label, text.headers, {canonical: values}, no_line,
                     texts=canonical not in text.typed)
    issues = Issues(raw, "value")
    converted = parsed(raw, canonical, parse, issues, default, required=required)
    if issues.found:
        return None
    return codes, converted


def _mapped(distinct: Distinct[T], convert: Callable[[T], object], dtype: type) -> np.ndarray:
    codes, values = distinct
    return np.array([convert(v) for v in values], dtype=dtype)[codes] if values else (
        np.zeros(len(codes), dtype=dtype))


def _cents(amounts: Distinct) -> np.ndarray | None:
    """Each row's amount in whole cents; None when a sum of them could leave int64 (the
    exact reader sums Decimals)."""
    cents = [int(amount.scaleb(2)) for amount in amounts[1]]
    if cents and max(map(abs, cents)) * len(amounts[0]) > _INT64_ROOM:
        return None
    return np.array(cents, dtype=np.int64)[amounts[0]] if cents else np.zeros(
        len(amounts[0]), dtype=np.int64)


def _dictionary(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Each row's index into the column's distinct values, and those values."""
    codes, values = _dictionary_array(column)
    return codes, values.to_pylist()


def _dictionary_array(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    if pa.types.is_dictionary(column.type):  # as read: each block has its own dictionary
        chunks = column.unify_dictionaries().chunks
    else:  # encoded here: Arrow gives every chunk the same one, which is checked
        encoded = pc.dictionary_encode(column)
        chunks = encoded.chunks
        if len({c.dictionary.buffers()[2].address for c in chunks}) > 1:
            chunks = encoded.unify_dictionaries().chunks
    if not chunks:
        return np.zeros(0, dtype=np.int32), arrow_strings([])
    codes = np.concatenate([_chunk_numpy(c.indices) for c in chunks])
    return codes, chunks[0].dictionary


def _positions(values: pa.Array, among: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Where each value is among the others; None when one is not there."""
    found = pc.index_in(values, value_set=among)
    return None if found.null_count else numpy_of(found)


def _clean_ids(column: pa.ChunkedArray | pa.Array) -> bool:
    """No id empty, none to strip, none a spreadsheet would run (see ``identifiers``).

    Looked at on the bytes around each id: a first or last byte outside ASCII may be part of
    a Unicode space, and only then is the column searched character by character."""
    for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
        _, offsets_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, np.int32)[chunk.offset:][:len(chunk) + 1]
        if not len(chunk):
            continue
        data = np.frombuffer(data_buffer, np.uint8) if data_buffer else np.zeros(0, np.uint8)
        starts, ends = offsets[:-1], offsets[1:]
        if np.any(starts == ends):
            return False
        first, last = data[starts], data[ends - 1]
        if _BAD_FIRST[first].any() or _BAD_LAST[last].any():
            return False
        if (first >= 0x80).any() or (last >= 0x80).any():
            return not pc.any(pc.match_substring_regex(column, _ID_NEEDS_CARE)).as_py()
    return True


def _unique(column: pa.ChunkedArray) -> bool:
    """No value twice. Ids of one length (as ERPs number them) are hashed in NumPy: distinct
    hashes prove distinct ids in a fifth of Arrow's time; a shared hash, or ids of several
    lengths, leave the answer to Arrow's exact count."""
    hashes = _same_length_hashes(column)
    if hashes is not None:
        hashes.sort()
        if not np.any(hashes[1:] == hashes[:-1]):
            return True
    return len(pc.unique(column)) == len(column)  # count_distinct takes twice as long


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _same_length_hashes(column: pa.ChunkedArray) -> np.ndarray | None:
    """A 64-bit hash of each text when all have the same length in bytes (the text itself
    up to 8 bytes); None otherwise."""
    if column.type != pa.string() or not len(column) or column.null_count:
        return None
    parts, width = [], None
    for chunk in column.chunks:
        if not len(chunk):
            continue
        _, offsets_buffer, data_buffer = chunk.buffers()
        offsets = np.frombuffer(offsets_buffer, np.int32)[chunk.offset:][:len(chunk) + 1]
        width = int(offsets[1] - offsets[0]) if width is None else width
        if not width or np.any(np.diff(offsets) != width):
            return None
        data = np.frombuffer(data_buffer, np.uint8)[offsets[0]:offsets[-1]]
        words = np.zeros((len(chunk), -(-width // 8) * 8), dtype=np.uint8)
        words[:, :width] = data.reshape(len(chunk), width)
        as_words = words.view(np.uint64)
        hashes = as_words[:, 0].copy()
        for index in range(1, as_words.shape[1]):
            hashes *= _MIX
            hashes ^= as_words[:, index]
        parts.append(hashes)
    return np.concatenate(parts)


def _vat_codes_known(text: TextTable, config: Config) -> bool:
    if not config.vat_rates or "vat_code" not in text.table.column_names:
        return True
    known = set(config.vat_rates) | {""}
    return all(parse_text(code) in known for code in text.dictionary("vat_code")[1])
