"""Texts a spreadsheet would take for a formula: the one list every writer and reader uses.

Free texts (names, posting texts) are kept as they are and guarded where they are written:
Excel's text prefix ``'`` in a live cell, the same quote in a CSV field. Identifiers go to the
ERP as they are, since it must match them: a source holding one that would run as a formula
is refused instead (``formula_start``).
"""

from __future__ import annotations

# What Excel reads as the start of a formula in a cell that is typed or set; a live cell gets
# Excel's text prefix ' before such a text.
FORMULA_STARTS = ("=", "+", "-", "@")
# A spreadsheet opening a CSV file also runs a field that starts with a tab or a carriage
# return (OWASP, CSV injection).
CSV_FORMULA_STARTS = (*FORMULA_STARTS, "\t", "\r")


def formula_start(identifier: str) -> str | None:
    """The first character of an identifier when a spreadsheet would run it or hide it: '=',
    '+', '@' or a control character. '-' is not one: ERPs have ids such as -C32."""
    first = identifier[:1]
    if first in ("=", "+", "@") or (first and (first < " " or first == "\x7f")):
        return first
    return None
