"""Cell-level parsing shared by every source: dates, flags, texts, amounts, statuses."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal

from addin.domain.model import Status
from addin.domain.money import AmountError, to_money

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


def parse_amount(value: object) -> Decimal:
    """An amount in cents from any reader: text, Decimal or int exactly; a float as Excel shows it.

    A float is read through 15 significant digits, what Excel displays, so 0.1 + 0.2 counts as
    0.30 while a cell holding 100.505 is refused like the text '100.505'.
    """
    if isinstance(value, str):
        return to_money(value)
    if isinstance(value, float):
        shown = f"{value:.15g}"
        if "e" in shown and math.isfinite(value):  # 1e+15, 1e-05: written out
            shown = format(Decimal(shown), "f")
        return to_money(shown)
    if isinstance(value, Decimal):
        return to_money(format(value, "f"))  # a NUMERIC(12, 4) 0.5050 is refused, not rounded
    if isinstance(value, int) and not isinstance(value, bool):
        return to_money(value)
    raise AmountError(f"not an amount: {value!r}")


_STATUS_WORDS = {
    "active": Status.ACTIVE, "actif": Status.ACTIVE, "aktiv": Status.ACTIVE,
    "terminated": Status.TERMINATED, "résilié": Status.TERMINATED,
    "résiliée": Status.TERMINATED, "resilie": Status.TERMINATED,
    "gekündigt": Status.TERMINATED, "gekuendigt": Status.TERMINATED,
}


def parse_status(value: object) -> Status:
    """active | terminated in English, French or German, whatever the case or accent encoding."""
    text = unicodedata.normalize("NFC", parse_text(value)).casefold()
    try:
        return _STATUS_WORDS[text]
    except KeyError:
        raise ValueError(f"unknown status {parse_text(value)!r} "
                         f"(expected active or terminated)") from None


def parse_currency(value: object) -> str:
    """An ISO 4217 code such as CHF or EUR, in capitals."""
    text = parse_text(value).upper()
    if len(text) != 3 or not text.isascii() or not text.isalpha():
        raise ValueError(f"not a currency code (expected three letters such as CHF): {text!r}")
    return text
