"""Excel error values (#N/A, #REF!, #SPILL!…) in cells, told apart from empty cells.

Neither reader tells by itself: python-calamine 0.9 hands an error cell over as '' (see
``xlsx_errors`` for how a file's are found); xlwings turns one into None unless asked
(``err_to_str``), and then gives a text, or on Windows the COM code of an error it does not
know. Each becomes a ``CellError``, a text the review refuses with the cell's place instead of
reading it as blank.
"""

from __future__ import annotations


class CellError(str):
    """An Excel error value where a value or a blank was expected; its text is the error's."""

    __slots__ = ()

    @property
    def problem(self) -> str:
        return f"{self} is an Excel error, not a value: correct the cell or clear it"


# Excel's error values with their number (XlCVError); COM hands one over as 0x800A0000 + it.
ERRORS = {
    2000: "#NULL!", 2007: "#DIV/0!", 2015: "#VALUE!", 2023: "#REF!", 2029: "#NAME?",
    2036: "#NUM!", 2042: "#N/A", 2043: "#GETTING_DATA", 2045: "#SPILL!", 2046: "#CONNECT!",
    2047: "#BLOCKED!", 2048: "#UNKNOWN!", 2049: "#FIELD!", 2050: "#CALC!",
}
_TEXTS = frozenset(ERRORS.values())
_COM_BASE = 0x800A0000 - (1 << 32)  # as a signed 32-bit integer, the way pywin32 hands it


def from_live(value: object) -> object:
    """A cell read through xlwings with ``err_to_str=True``: an error's text (or, for an error
    xlwings does not know, its COM code) becomes a ``CellError``; any other value stays."""
    if isinstance(value, str) and value in _TEXTS:
        return CellError(value)
    if type(value) is int and 2000 <= value - _COM_BASE < 2100:  # numbers come as floats
        number = value - _COM_BASE
        return CellError(ERRORS.get(number, f"#ERROR({number})"))
    return value
