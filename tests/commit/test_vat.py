"""The VAT share of a write-off, from the source's VAT code to the posting file (Swiss VAT: a
receivable written off reduces the consideration); rebills stay VAT-neutral."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from addin import api
from addin.config import load_config
from addin.domain.problems import SourceError
from addin.workbook.ooxml.calamine import read_sheets
from tests.builders import AS_OF, active, item, terminated, write_csv_ledger

VAT = """[vat.rates]
N = "8.1"
R = "2.6"
Z = "0"

[accounts]
vat = "2201"
"""


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.fixture
def setup(tmp_path: Path):
    items = [
        item("I1", "S1", "0.54", customer="C1", vat="N"),     # terminated: write-off
        item("I2", "S1", "0.39", customer="C1", vat="R"),
        item("I3", "S2", "-0.80", customer="C2", vat="N"),    # a credit written off
        item("I4", "S3", "0.90", customer="C3", vat="N"),     # active: rebill, no VAT line
        item("I5", "S4", "0.70", customer="C4", vat="Z"),     # 0 %: no VAT line
    ]
    subscriptions = [terminated("S1", "C1"), terminated("S2", "C2"), active("S3", "C3"),
                     terminated("S4", "C4")]
    source = write_csv_ledger(tmp_path / "erp", items, subscriptions)
    config_file = tmp_path / "vat.toml"
    config_file.write_text(VAT, encoding="utf-8")
    return source, load_config(config_file)


def test_a_write_off_posts_its_vat_share_and_a_rebill_none(setup, tmp_path):
    source, config = setup
    review = tmp_path / "review.xlsx"
    extracted = api.extract(source, review, as_of=AS_OF, config=config)
    shares = {r.subscription.subscription_id: r.vat_share for r in extracted.selection.residuals}
    # 0.54 x 8.1/108.1 = 0.0405 -> 0.04; 0.39 x 2.6/102.6 = 0.0099 -> 0.01; -0.80 -> -0.06
    assert shares == {"S1": Decimal("0.05"), "S2": Decimal("-0.06"), "S3": Decimal("0.07"),
                      "S4": Decimal("0.00")}
    outcome = api.commit(review, tmp_path / "out", accept_proposals=True, config=config,
                         now=dt.datetime(2026, 11, 30, 9))
    batch = outcome.batch.batch_id
    lines = [(r["item_id"], r["debit_account"], r["credit_account"], r["amount"],
              r["vat_code"]) for r in rows_of(tmp_path / "out" / f"postings_{batch}.csv")]
    assert lines == [
        ("I1", "6950", "1100", "0.50", "N"), ("I1", "2201", "1100", "0.04", "N"),
        ("I2", "6950", "1100", "0.38", "R"), ("I2", "2201", "1100", "0.01", "R"),
        ("I3", "1100", "6950", "0.74", "N"), ("I3", "1100", "2201", "0.06", "N"),
        ("I4", "1099", "1100", "0.90", "N"),
        ("I5", "6950", "1100", "0.70", "Z"),
    ]
    assert outcome.vat == {"CHF": Decimal("-0.01")}  # 0.04 + 0.01 - 0.06
    journal = read_sheets(review)["Journal"]
    assert [r[3:9] for r in journal[1:] if r[3] == "vat"] == [
        ["vat", "WRITE_OFF", "", "", -0.01, "CHF"]]


def test_a_vat_code_without_a_rate_is_refused_naming_its_line(setup, tmp_path):
    source, _ = setup
    config_file = tmp_path / "short.toml"
    config_file.write_text('[vat.rates]\nN = "8.1"\n', encoding="utf-8")
    with pytest.raises(SourceError) as refused:
        api.extract(source, tmp_path / "review.xlsx", as_of=AS_OF,
                    config=load_config(config_file))
    assert str(refused.value.problems[0]) == (
        f"{source / 'open_items.csv'}, line 3, column 'vat_code': VAT code 'R' has no rate in "
        f"[vat.rates] (N)")


def test_without_vat_rates_the_codes_are_kept_but_nothing_is_split(setup, tmp_path):
    source, _ = setup
    review = tmp_path / "review.xlsx"
    api.extract(source, review, as_of=AS_OF)
    batch = api.commit(review, tmp_path / "out", accept_proposals=True).batch.batch_id
    lines = rows_of(tmp_path / "out" / f"postings_{batch}.csv")
    assert len(lines) == 5 and {r["debit_account"] for r in lines} <= {"6950", "1099", "1100"}
