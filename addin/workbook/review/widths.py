"""Column widths from a sheet's content: each column as wide as its header needs on two lines
and as its longest value in a sample of its rows, at most its layout width (a longer text
wraps in a column that wraps, else the next cell cuts it). Widths are in characters of the
default font (the width of a digit), as Excel counts them."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from functools import lru_cache

from addin.workbook.review import layout
from addin.workbook.review.content import SheetContent, Value

SAMPLE_ROWS = 1000  # rows looked at per sheet, spread over all of them
_HEADER_LINES = 2  # the header row is two lines high
_BOLD = 0.85  # a bold header letter, on average, against a digit (the unit of widths)
_FILTER_BUTTON = 2.3  # the filter's dropdown button, right of the header's last line
_PADDING = 1.5  # a margin each side of a cell's text, and room for wide capitals
_LETTER = 0.9  # a letter of a wrapped text, on average, against a digit


def column_widths(content: SheetContent) -> list[float]:
    """The width of each column; a column empty in the sample keeps its layout width (it is
    filled later: decisions, stamps, Journal rows)."""
    sheet = content.sheet
    filtered = content.with_header and sheet.filtered
    sample = _sample(content.rows)
    widths = []
    for index, column in enumerate(sheet.columns):
        header = header_width(column.header(content.language), filtered) \
            if content.with_header else 0.0
        shown = max((shown_length(row[index]) for row in sample), default=0)
        if column.hidden or not shown:
            widths.append(max(header, column.width))
        else:
            widths.append(max(header, min(column.width, shown + _PADDING)))
    return widths


def header_width(header: str, filtered: bool) -> float:
    """The narrowest width that shows the header on two lines, words kept whole, the filter
    button beside its last line."""
    words = header.split()
    button = _FILTER_BUTTON if filtered else 0.0
    needs = []
    for characters in range(max(map(len, words), default=0), len(header) + 1):
        lines = wrapped(words, characters)
        if len(lines) <= _HEADER_LINES:
            lengths = [len(line) * _BOLD for line in lines]
            needs.append(max([*lengths[:-1], lengths[-1] + button]))
    return math.ceil(min(needs, default=0.0) + _PADDING)


def wrapped(words: list[str], characters: int) -> list[str]:
    """``words`` wrapped in lines of at most ``characters`` (a longer word on a line of its
    own)."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= characters:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def line_count(text: str, characters: int) -> int:
    """Lines a text takes wrapped in a column ``characters`` wide, as Excel wraps it: at
    spaces, a word wider than the column broken where it reaches the edge."""
    if len(text) <= characters and "\n" not in text:
        return 1
    return _wrapped_line_count(text, characters)


@lru_cache(maxsize=8192)
def _wrapped_line_count(text: str, characters: int) -> int:
    count = 0
    for paragraph in text.splitlines() or [""]:
        used = -1  # characters on the current line, -1 before its first word
        lines = 1
        for word in paragraph.split():
            if used >= 0 and used + 1 + len(word) > characters:
                lines, used = lines + 1, -1
            if used < 0:  # a word wider than a line takes lines of its own
                lines += (len(word) - 1) // characters
                used = len(word)
            else:
                used += 1 + len(word)
        count += lines
    return count


def shown_length(value: Value) -> int:
    """Characters a value shows with its column's number format."""
    if value is None:
        return 0
    if isinstance(value, str):
        return max(map(len, value.splitlines()), default=0)
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    if isinstance(value, dt.datetime):
        return len(layout.DATETIME)
    if isinstance(value, dt.date):
        return len(layout.DATE)
    return len(str(value))


def _sample(rows: list[list[Value]]) -> list[list[Value]]:
    step = max(1, len(rows) // SAMPLE_ROWS)
    return rows[::step]


def line_room(width: float) -> int:
    """Characters a line of a column ``width`` wide holds, its margins left out: a letter is
    on average a little narrower than a digit."""
    return max(1, int((width - _PADDING) / _LETTER))
