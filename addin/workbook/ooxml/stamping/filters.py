"""The Journal's filter grown over the rows a commit appends: the sheet's <autoFilter> and the
workbook's hidden _xlnm._FilterDatabase name of that sheet, which Excel keeps alike."""

from __future__ import annotations

import re

_AUTO_FILTER = re.compile(rb'<autoFilter ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')
_FILTER_DATABASE = re.compile(
    rb'<definedName\b[^>]*?\bname="_xlnm\._FilterDatabase"[^>]*>([^<]*)</definedName>')
_LOCAL_SHEET = re.compile(rb'\blocalSheetId="(\d+)"')
_RANGE = re.compile(rb"^(.*!)\$?[A-Z]{1,3}\$?\d+:\$?[A-Z]{1,3}\$?\d+$", re.S)


def grown_filter(after_rows: bytes, last_row: int) -> tuple[bytes, bytes | None]:
    """``after_rows`` (the sheet XML after its rows) with its filter reaching ``last_row``, and
    the filter's new range (None when there is no filter, or it already reaches there)."""
    match = _AUTO_FILTER.search(after_rows)
    if match is None or int(match[4]) >= last_row:
        return after_rows, None
    grown = b"%s%s:%s%d" % (match[1], match[2], match[3], last_row)
    return after_rows[:match.start(1)] + grown + after_rows[match.end(4):], grown


def with_filter_database(workbook: bytes, sheet_index: int, filter_range: bytes) -> bytes:
    """workbook.xml with the hidden filter name of sheet ``sheet_index`` set to
    ``filter_range`` (A1:J9, written absolute), when it has one of the usual form."""
    for name in _FILTER_DATABASE.finditer(workbook):
        local = _LOCAL_SHEET.search(name[0])
        if local is None or int(local[1]) != sheet_index:
            continue
        reference = _RANGE.match(name[1])
        if reference is None:
            return workbook
        first, last = filter_range.split(b":")
        absolute = b"%s%s:%s" % (reference[1], _absolute(first), _absolute(last))
        return workbook[:name.start(1)] + absolute + workbook[name.end(1):]
    return workbook


def _absolute(cell: bytes) -> bytes:
    """A1 -> $A$1"""
    letters = cell.rstrip(b"0123456789")
    return b"$%s$%s" % (letters, cell[len(letters):])
