"""Cell-level parsing shared by every source: dates, flags, texts."""

from __future__ import annotations

import datetime as dt
import re

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?$")
_SWISS = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def parse_date(value: object) -> dt.date:
    """ISO (2026-02-28) or Swiss (28.02.2026) text, or a date/datetime from a reader."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise ValueError(f"not a date (has a time): {value!r}")
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _SWISS.match(text)
        if not match:
            raise ValueError(f"not a date (expected dd.mm.yyyy or yyyy-mm-dd): {text!r}")
        day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"no such date: {text!r}") from exc


_TRUE = {"1", "true", "yes", "y", "x", "oui", "ja", "vrai", "wahr"}
_FALSE = {"", "0", "false", "no", "n", "non", "nein", "faux", "falsch"}


def parse_flag(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"not a flag (expected 0 or 1): {value!r}")
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a flag (expected 0 or 1): {value!r}")


def parse_text(value: object) -> str:
    """A code or a name; a float from a spreadsheet reader that is whole loses its '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
