"""Check values are kept in workbooks extracted months before their commit: the same facts
must give the same value from one version of Reliquat to the next."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from addin.domain.model import Rules
from addin.domain.seals import ItemFacts, RowFacts, item_seal, row_seal, rules_seal

SECRET = b"k" * 32
ITEM = ItemFacts("I1", "D1", dt.date(2026, 10, 1), Decimal("0.50"), "V8")


def test_an_item_row_and_rules_keep_the_check_values_of_earlier_versions():
    # hmac.digest(SECRET, the fields joined by U+001F, "sha256"), its first 32 hex digits
    row = RowFacts("S1", "CHF", "C1", "active", (ITEM,))
    rules = Rules(threshold=Decimal("5.00"), as_of=dt.date(2026, 11, 30))
    assert item_seal(SECRET, "E1", "S1", "CHF", "C1", ITEM) == \
        "b0fd123ed95f51671373d3e12e721516"
    assert row_seal(SECRET, "E1", row, ("S2",)) == "27e5207f05d312bcce131fa3a672b7b2"
    assert rules_seal(SECRET, "E1", "R1", "erp.sqlite", rules) == \
        "ec6b0eb12807cec3a3ae538304e80c76"


def test_another_key_gives_another_value():
    assert item_seal(b"j" * 32, "E1", "S1", "CHF", "C1", ITEM) != \
        item_seal(SECRET, "E1", "S1", "CHF", "C1", ITEM)
