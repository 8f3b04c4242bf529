"""The records of a CSV file as its bytes show them: the line each begins on and how many
fields it has. pandas pads a row shorter than the header with blanks without a word; this is
where such a row is found, and where a row's file line comes from when a text spans lines.

numpy scans the bytes with quotes counted in pairs; the csv module, slower, takes over when a
quote stands inside an unquoted text (``Gerber 5" Fils``), where pairing quotes would mislead.
Line ends are ``\\n`` or ``\\r\\n`` (the reader turns a lone ``\\r`` into ``\\n`` first).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_BOM = b"\xef\xbb\xbf"
_NEWLINE, _CR, _QUOTE = 10, 13, 34

Positions = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Records:
    """Every record after the header: its first file line (header = 1) and its field count;
    ``blank(i)`` tells whether each field of record i is empty (an empty line, a row of bare
    delimiters), looked at only for the few records that need it."""

    lines: Positions
    fields: Positions
    blank: Callable[[int], bool]

    def line(self, index: int) -> int | None:
        return int(self.lines[index]) if 0 <= index < self.lines.size else None

    def short(self, width: int) -> list[tuple[int, int]]:
        """(line, fields) of each record with fewer fields than ``width``, blank ones aside."""
        return [(int(self.lines[i]), int(self.fields[i]))
                for i in np.flatnonzero(self.fields < width).tolist() if not self.blank(i)]


def scan(data: bytes, encoding: str, delimiter: str) -> Records:
    found = _paired_quotes(data, delimiter)
    return found if found is not None else _csv_module(data, encoding, delimiter)


def _paired_quotes(data: bytes, delimiter: str) -> Records | None:
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines, quotes = _positions(raw, _NEWLINE), _positions(raw, _QUOTE)
    if quotes.size and not _quotes_pair_up(raw, quotes, ord(delimiter),
                                           len(_BOM) if data.startswith(_BOM) else 0):
        return None
    breaks = newlines[np.searchsorted(quotes, newlines) % 2 == 0]  # outside quotes
    starts = np.concatenate(([0], breaks + 1))
    if starts[-1] == len(data):
        starts = starts[:-1]
    separators, quoted = _counts(raw, ord(delimiter), starts, quotes)
    if quotes.size:  # a delimiter between an opening quote and its closing one is text
        record = np.searchsorted(starts, quotes[0::2], side="right") - 1
        separators -= np.bincount(record, weights=quoted[0::2], minlength=starts.size
                                  ).astype(np.int64)
    lines = np.searchsorted(newlines, starts) + 1
    ends = np.append(breaks, len(data))

    def blank(index: int) -> bool:  # latin-1 never fails and keeps the ASCII that matters
        text = data[starts[index + 1]:ends[index + 1]].decode("latin-1")
        return not any(next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), ()))

    return Records(lines[1:], separators[1:] + 1, blank)


# Blocks of a megabyte: the temporaries stay small and warm instead of as large as the file.
_BLOCK = 1 << 20


def _positions(raw: npt.NDArray[np.uint8], byte: int) -> Positions:
    found = [np.flatnonzero(raw[at:at + _BLOCK] == byte) + at
             for at in range(0, raw.size, _BLOCK)]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.intp)


def _counts(raw: npt.NDArray[np.uint8], byte: int, *bounds: Positions
            ) -> list[npt.NDArray[np.int64]]:
    """For each sorted array of positions starting at 0 or not, how many ``byte`` lie from
    each position to the next (the last one: to the end)."""
    counts = [np.zeros(b.size, dtype=np.int64) for b in bounds]
    for at in range(0, raw.size, _BLOCK):
        hits = raw[at:at + _BLOCK] == byte
        for positions, total in zip(bounds, counts, strict=True):
            first = max(int(np.searchsorted(positions, at, side="right")) - 1, 0)
            last = int(np.searchsorted(positions, at + hits.size, side="left"))
            if last <= first:  # no segment starts before the block's end
                continue
            inside = np.maximum(positions[first:last] - at, 0)
            total[first:last] += np.add.reduceat(hits, inside, dtype=np.int32)
    return counts


def _quotes_pair_up(raw: npt.NDArray[np.uint8], quotes: Positions, delimiter: int,
                    first: int) -> bool:
    """True when every quote opens a field, closes one or doubles a quote inside one (as
    ``"a;b";"say ""hi"" "``): then what lies between quote 2k and quote 2k + 1 is quoted."""
    if quotes.size % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]
    before = raw[np.maximum(opens - 1, 0)]
    glued = np.zeros(opens.shape, dtype=bool)  # the second quote of a doubled one
    glued[1:] = closes[:-1] == opens[1:] - 1
    opens_ok = (opens == first) | (before == delimiter) | (before == _NEWLINE) | glued
    after = raw[np.minimum(closes + 1, raw.size - 1)]
    closes_ok = ((closes == raw.size - 1) | (after == delimiter) | (after == _NEWLINE)
                 | (after == _CR) | np.append(glued[1:], False))
    return bool(opens_ok.all() and closes_ok.all())


def _csv_module(data: bytes, encoding: str, delimiter: str) -> Records:
    text = data.decode(encoding, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    lines, fields, blank = [], [], []
    previous = reader.line_num
    for row in reader:
        lines.append(previous + 1)
        fields.append(max(len(row), 1))  # an empty line is one empty field, as for pandas
        blank.append(not any(row))
        previous = reader.line_num
    return Records(np.array(lines, dtype=np.intp), np.array(fields, dtype=np.intp),
                   blank.__getitem__)
