"""A French or German review speaks its language: the reasons, the exclusions, Control's
computed values, the Check column, the Journal, and the text on the customer's invoice."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

import pytest

from addin import api
from addin.config import Config, load_config
from addin.domain.problems import ConfigError
from addin.workbook.ooxml.calamine import read_sheets
from addin.workbook.review.language import TEXTS
from tests.builders import AS_OF, small_utility, write_csv_ledger

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 30, 9, 15)


def review_in(language: str, tmp_path: Path) -> tuple[Path, Path]:
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    review = tmp_path / f"review-{language}.xlsx"
    api.extract(source, review, as_of=AS_OF, now=NOW,
                config=replace(Config(), language=language))
    return source, review


def column(rows: list[list], header: str) -> list:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def test_the_reasons_and_control_of_a_french_review_are_french(tmp_path):
    _, review = review_in("fr", tmp_path)
    sheets = read_sheets(review)
    assert column(sheets["Reliquats"], "Motif") == [
        "abonnement actif", "résilié ; abonnement actif facturé le plus tôt",
        "résilié, aucun abonnement actif, ≤ 1.00", "résilié, aucun abonnement actif, > 1.00"]
    assert column(sheets["Exclus"], "Motif") == ["blocage de rappel"]
    control = {row[2]: row[1] for row in sheets["Contrôle"][1:]}
    assert control["basis"].startswith("par abonnement et monnaie : somme des postes retenus")
    assert control["include_credits"] == "oui"


def test_a_german_commit_stamps_and_journals_in_german(tmp_path):
    _, review = review_in("de", tmp_path)
    outcome = api.commit(review, tmp_path / "out", accept_proposals=True, now=NOW)
    sheets = read_sheets(review)
    assert column(sheets["Restbeträge"], "Prüfung")[:3] == ["verbucht am 30.11.2026 09:15"] * 3
    journal = sheets["Journal"]
    assert column(journal, "Zeile") == ["Stapel", "Aktion", "Aktion", "Aktion"]
    assert column(journal, "Detail")[0].startswith("Quelle: ")
    batch = outcome.batch.batch_id
    with (tmp_path / "out" / f"rebill_{batch}.csv").open(encoding="utf-8", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f, delimiter=";")]
    assert texts == ["Restbetrag früherer Rechnungen FI1",
                     "Restbetrag früherer Rechnungen FI3 FI4"]


def test_a_row_left_out_says_why_in_french(tmp_path):
    source, review = review_in("fr", tmp_path)
    items, subscriptions = small_utility()
    write_csv_ledger(source, [i for i in items if i.item_id != "I1"], subscriptions)
    api.commit(review, tmp_path / "out", accept_proposals=True, confirm_partial=True, now=NOW)
    check = column(read_sheets(review)["Reliquats"], "Contrôle")
    assert check[0] == "non comptabilisé : le poste I1 n'est plus ouvert dans la source"


def test_the_texts_of_the_postings_and_the_invoice_come_from_the_config(tmp_path):
    config_file = tmp_path / "texts.toml"
    config_file.write_text('[billing]\ntext = "Ausstand"\n'
                           'posting_text = "RLQ {action}/{document}"\n'
                           '[workbook]\nlanguage = "de"\n', encoding="utf-8")
    config = load_config(config_file)
    assert config.ledgering.billing.text == "Ausstand"
    assert config.ledgering.billing.posting_text == "RLQ {action}/{document}"
    config_file.write_text('[billing]\nposting_text = "Reliquat {item}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[billing\] posting_text: may name only"):
        load_config(config_file)


def test_every_text_the_code_says_has_its_french_and_german():
    said = set()
    for path in (ROOT / "addin").rglob("*.py"):
        said |= set(re.findall(r'\btext\(\s*f?"([a-z_]+)",\s*"', path.read_text(encoding="utf-8")))
    said |= {"status_active", "status_terminated"}  # keys built from the status
    said.discard("status_")
    assert said - set(TEXTS) == set()
