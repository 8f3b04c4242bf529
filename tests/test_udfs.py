"""The worksheet functions, called as Excel would call them: floats and datetimes in."""

import datetime as dt

import pytest

from tests.builders import small_utility, write_csv_ledger
from udfs import reliquat_functions as f

AS_OF = dt.datetime(2026, 11, 30)


@pytest.fixture
def source(tmp_path):
    return str(write_csv_ledger(tmp_path / "erp", *small_utility()))


def test_open_balance_counts_every_open_item_due_or_not(source):
    assert f.RELIQUAT_OPEN_BALANCE(source, "S1") == pytest.approx(250.80)
    assert f.RELIQUAT_OPEN_BALANCE(source, "S9") == 0.0


def test_alternatives_spill_the_customers_active_subscriptions(source):
    assert f.RELIQUAT_ALTERNATIVES(source, "C2", AS_OF) == [["S3"]]
    assert f.RELIQUAT_ALTERNATIVES(source, "C3", AS_OF) == [["(none)"]]


def test_catch_shows_what_a_threshold_would_flag(source):
    assert f.RELIQUAT_CATCH(source, 5.0, AS_OF) == [[4.0, pytest.approx(8.39)]]
    assert f.RELIQUAT_CATCH(source, 1.0, AS_OF) == [[2.0, pytest.approx(1.20)]]


def test_catch_table_compares_several_thresholds(source):
    rows = f.RELIQUAT_CATCH_TABLE(source, [0.5, 1.0, 5.0], "30.11.2026")
    assert [(r[0], r[1]) for r in rows] == [(0.5, 1.0), (1.0, 2.0), (5.0, 4.0)]


def test_the_module_is_named_for_xlwings_udf_modules():
    import importlib

    module = importlib.import_module("udfs.reliquat_functions")
    names = [n for n in dir(module) if n.startswith("RELIQUAT_")]
    assert names == ["RELIQUAT_ALTERNATIVES", "RELIQUAT_CATCH", "RELIQUAT_CATCH_TABLE",
                     "RELIQUAT_OPEN_BALANCE"]
