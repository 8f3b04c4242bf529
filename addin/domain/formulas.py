"""Texts a spreadsheet would take for a formula: the one list every writer uses."""

from __future__ import annotations

# What Excel reads as the start of a formula in a cell that is typed or set; a live cell gets
# Excel's text prefix ' before such a text.
FORMULA_STARTS = ("=", "+", "-", "@")
# A spreadsheet opening a CSV file also runs a field that starts with a tab or a carriage
# return (OWASP, CSV injection).
CSV_FORMULA_STARTS = (*FORMULA_STARTS, "\t", "\r")
