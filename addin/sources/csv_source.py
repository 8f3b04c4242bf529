"""CSV exports as ERPs write them: ';' or ',' (told by the header line), UTF-8 with or without a
BOM (or UTF-16 with one), else Windows-1252; lines ending in CR LF, LF or CR alone (old Mac
exports). Every cell is read as text, so ids keep their leading zeros.

pandas' C parser reads a million rows several times faster than the csv module; the csv module
is used only to find line numbers when a quoted field spans lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from addin.config import Config
from addin.domain.problems import Problem, SourceError, Where
from addin.sources.csv_records import Records, scan
from addin.sources.table import RawColumns, locate_columns, raw_columns

if TYPE_CHECKING:
    import pandas as pd

DELIMITERS = (";", ",", "\t")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_BAD_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")
_LONE_CR = re.compile(rb"\r(?!\n)")


@dataclass(frozen=True)
class CsvFile:
    """A CSV export whose header was read and matched: what any reader of its rows needs.

    ``data`` is the file's bytes with UTF-16 turned into UTF-8 and lone CRs into LF
    (``verbatim``: neither was needed); ``encoding`` is what the header line decodes with (the
    rows may still prove it wrong).
    """

    path: Path
    data: bytes
    verbatim: bool
    encoding: str
    delimiter: str
    header: list[str]
    positions: dict[str, int]


def open_csv(path: Path, entity: str, config: Config) -> CsvFile:
    """The file read, its delimiter told, its columns found; a SourceError otherwise."""
    data, verbatim = _read(path)
    encoding = "utf-8"  # pandas' own decoder, faster than the utf-8-sig codec, skips a BOM
    end = data.find(b"\n")
    first_line = data if end == -1 else data[:end]
    try:
        header_text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError:
        encoding = _legacy_encoding(data, path)
        header_text = first_line.decode(encoding)
    delimiter = _delimiter(header_text, path)
    header = next(csv.reader([header_text.rstrip("\r")], delimiter=delimiter))
    positions = locate_columns(header, entity, config, Where(str(path), 1))
    return CsvFile(path, data, verbatim, encoding, delimiter, header, positions)


def as_utf8(file: CsvFile) -> bytes:
    """The whole file in UTF-8, or the exact SourceError of a damaged encoding."""
    encoding = _legacy_encoding(file.data, file.path)
    return file.data if encoding == "utf-8" else file.data.decode(encoding).encode("utf-8")


def read_csv_columns(path: Path, entity: str, config: Config) -> RawColumns:
    file = open_csv(path, entity, config)
    data, encoding, delimiter = file.data, file.encoding, file.delimiter
    header, positions = file.header, file.positions
    try:
        frame, records = _parse(data, encoding, delimiter, path)
    except UnicodeDecodeError:
        encoding = _legacy_encoding(data, path)
        frame, records = _parse(data, encoding, delimiter, path)
    cells = {c: frame.iloc[:, p].tolist() for c, p in positions.items()}
    lines = _Lines(data, encoding, delimiter, len(frame), records)
    return raw_columns(str(path), header, positions, cells, lines, texts=True)


def _read(path: Path) -> tuple[bytes, bool]:
    """The bytes to parse, and whether they are the file's own."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError([Problem(Where(str(path)), f"cannot read the file: "
                                                     f"{exc.strerror or exc}")]) from exc
    verbatim = True
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        data, verbatim = data.decode("utf-16").encode("utf-8"), False
    if b"\r" in data and _LONE_CR.search(data):  # old Mac line ends, which pandas takes
        data, verbatim = _LONE_CR.sub(b"\n", data), False  # for line ends: counted as such
    if _blank(data):
        raise SourceError([Problem(Where(str(path)), "the file is empty")])
    return data, verbatim


def _first_non_utf8(data: bytes, piece: int = 1 << 22) -> int | None:
    """Where the bytes stop being UTF-8, read a piece at a time: a decoded copy of a whole
    export would take twice its size."""
    if data.isascii() or _valid_utf8(data):
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data), piece):
        pending = len(decoder.getstate()[0])  # the start of a character cut by the last piece
        try:
            decoder.decode(view[start:start + piece], final=start + piece >= len(data))
        except UnicodeDecodeError as exc:
            return start - pending + exc.start
    return None


def _valid_utf8(data: bytes) -> bool:
    """Arrow's check (SIMD, six times Python's decoder): it says whether, not where."""
    import numpy as np
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(
            pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _blank(data: bytes) -> bool:
    """Nothing but spaces and line ends after a BOM; the whole file is looked at only when
    its start is blank."""
    bom = b"\xef\xbb\xbf"
    return not data[:4096].removeprefix(bom).strip() and not data.removeprefix(bom).strip()


def _legacy_encoding(data: bytes, path: Path) -> str:
    """Not UTF-8: Windows-1252, as older ERPs write, unless the file is UTF-8 with a damaged
    stretch; then decoding it as 1252 would turn every 'é' into 'Ã©' without a word."""
    bad = _first_non_utf8(data)
    if bad is None:
        return "utf-8"
    where = Where(str(path), data.count(b"\n", 0, bad) + 1)
    if _UTF8_SEQUENCE.search(data):
        raise SourceError([Problem(where, f"byte 0x{data[bad]:02x} is not UTF-8 though the rest "
                                          f"of the file is: save it again as UTF-8")])
    try:
        data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError([Problem(Where(str(path), line),
                                   f"byte 0x{data[exc.start]:02x} is neither UTF-8 nor "
                                   f"Windows-1252: save the file as UTF-8")]) from None
    return "cp1252"


def _delimiter(header_line: str, path: Path) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=counts.__getitem__)  # ';' wins a tie: it comes first
    if counts[best] == 0:
        raise SourceError([Problem(Where(str(path), 1),
                                   "no ';' or ',' in the header line: not a CSV export")])
    return best


def _parse(data: bytes, encoding: str, delimiter: str, path: Path
           ) -> tuple[pd.DataFrame, Records | None]:
    """The rows, or every line whose field count differs from the header's. pandas names the
    longer ones; a shorter one it pads with blanks, so its last column is blank, and only
    then are the bytes scanned (``Records``, also kept to number lines)."""
    import pandas as pd

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(
                io.BytesIO(data), sep=delimiter, encoding=encoding, dtype=object, header=0,
                index_col=False, keep_default_na=False, na_filter=False, engine="c",
                skip_blank_lines=False, on_bad_lines="warn")
        except pd.errors.ParserError as exc:
            raise SourceError([Problem(Where(str(path)), f"not a readable CSV file: {exc}")]
                              ) from exc
    longer = [(int(m[1]) - 2, int(m[3]))
              for w in caught for m in _BAD_LINE.finditer(str(w.message))]
    width = frame.shape[1]
    if not longer and not (len(frame) and (frame.iloc[:, -1] == "").any()):
        return frame, None
    records = scan(data, encoding, delimiter)
    wrong = [(records.line(row), fields) for row, fields in longer] + records.short(width)
    if wrong:
        raise SourceError([Problem(Where(str(path), line), _field_count(fields, width, delimiter))
                           for line, fields in sorted(wrong, key=lambda w: w[0] or 0)])
    return frame, records


def _field_count(fields: int, width: int, delimiter: str) -> str:
    cause = (f"a '{delimiter}' inside a text that is not in quotes" if fields > width else
             "a line cut short, or a line break in a text that is not in quotes")
    return f"{fields} field{'s' * (fields != 1)} where the header has {width} ({cause}?)"


class _Lines:
    """Row index -> file line, worked out only once a problem needs one. Row i is on line i + 2
    unless a quoted field spans lines; then the records are scanned."""

    def __init__(self, data: bytes, encoding: str, delimiter: str, rows: int,
                 records: Records | None) -> None:
        self.data, self.encoding, self.delimiter, self.rows = data, encoding, delimiter, rows
        self.records = records
        self.one_line_each: bool | None = None

    def __call__(self, index: int) -> int | None:
        if self.one_line_each is None:
            data = self.data
            physical = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            self.one_line_each = physical == self.rows + 1
        if self.one_line_each:
            return index + 2
        if self.records is None:
            self.records = scan(self.data, self.encoding, self.delimiter)
        return self.records.line(index)
