"""[export] encoding: the posting and rebill files in UTF-8 (default), UTF-8 with a BOM (for
Excel) or Windows-1252 (for older ERP importers); a character cp1252 cannot hold is refused."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from addin import api
from addin.config import load_config
from addin.domain.actions import Action
from addin.domain.batch import PostingLine, RebillLine
from addin.domain.problems import ReliquatError
from addin.exports.csv_files import write_postings, write_rebills
from addin.register.location import default_register
from addin.register.store import Register
from tests.builders import AS_OF, small_utility, write_csv_ledger

NOW = dt.datetime(2026, 11, 30, 9, 15)
TEXT = "Solde des factures précédentes – 5 €"


def rebill(text: str = TEXT, subscription: str = "S1") -> RebillLine:
    return RebillLine("B1", subscription, "C1", "RELIQUAT", Decimal("0.50"), "CHF", "V0",
                      subscription, "F1", text)


@pytest.mark.parametrize(("encoding", "first_bytes", "text_bytes"), [
    ("utf-8", b"batch_id;", TEXT.encode("utf-8")),
    ("utf-8-sig", b"\xef\xbb\xbfbatch_id;", TEXT.encode("utf-8")),
    ("cp1252", b"batch_id;", b"Solde des factures pr\xe9c\xe9dentes \x96 5 \x80"),
])
def test_the_rebill_file_is_written_in_the_encoding_asked_for(tmp_path, encoding, first_bytes,
                                                              text_bytes):
    path = tmp_path / "rebill.csv"
    write_rebills(path, [rebill()], encoding=encoding)
    data = path.read_bytes()
    assert data.startswith(first_bytes) and data.endswith(text_bytes + b"\r\n")


def test_a_character_cp1252_cannot_hold_is_refused_naming_the_file_line_and_column(tmp_path):
    private = tmp_path / ".rebill_B1.csv.new"
    with pytest.raises(ReliquatError) as refused:
        write_rebills(private, [rebill(), rebill("Łódź", "S2")], encoding="cp1252",
                      name="rebill_B1.csv")
    assert str(refused.value) == (
        f"{tmp_path / 'rebill_B1.csv'}, line 3, column 'text': 'Ł' (U+0141) cannot be "
        f"written in cp1252: change [export] encoding to utf-8 or utf-8-sig, or the text")


@pytest.mark.parametrize("row", [4095, 4096, 9000])
def test_the_line_named_is_the_refused_row_s_wherever_it_is_in_a_large_file(tmp_path, row):
    lines = [rebill(subscription=f"S{i}") for i in range(10_000)]
    lines[row] = rebill("Łódź", f"S{row}")
    with pytest.raises(ReliquatError, match=rf"line {row + 2}, column 'text': 'Ł'"):
        write_rebills(tmp_path / "rebill.csv", lines, encoding="cp1252")


def test_a_posting_file_is_refused_the_same_way(tmp_path):
    line = PostingLine("B1", AS_OF, "1099", "1100", Decimal("0.50"), "CHF", "C1", "S1",
                       "I1", "F-ő1", Action.REBILL, "Reliquat")
    with pytest.raises(ReliquatError, match=r"postings\.csv, line 2, column 'document_no': "
                                            r"'ő' \(U\+0151\) cannot be written in cp1252"):
        write_postings(tmp_path / "postings.csv", [line], encoding="cp1252")


def config_file(tmp_path: Path, lines: str) -> Path:
    path = tmp_path / "reliquat.toml"
    path.write_text(lines, encoding="utf-8")
    return path


@pytest.fixture
def review(tmp_path: Path) -> Path:
    ledger = write_csv_ledger(tmp_path / "erp", *small_utility())
    out = tmp_path / "review.xlsx"
    api.register_init()
    api.extract(ledger, out, as_of=AS_OF, now=NOW, user="anna")
    return out


def test_a_commit_writes_both_files_in_the_configured_encoding(tmp_path, review):
    config = load_config(config_file(tmp_path, f'[export]\nencoding = "cp1252"\n'
                                               f'[billing]\ntext = "{TEXT}"\n'))
    outcome = api.commit(review, tmp_path / "out", config=config, accept_proposals=True,
                         now=NOW)
    rebills = next(p for p in outcome.files if p.name.startswith("rebill_"))
    assert "Solde des factures précédentes – 5 €" in rebills.read_bytes().decode("cp1252")
    postings = next(p for p in outcome.files if p.name.startswith("postings_"))
    assert postings.read_bytes().decode("cp1252").startswith("batch_id;")
    record = next(p for p in outcome.files if p.name.endswith(".json"))
    assert json.loads(record.read_text(encoding="utf-8"))["export"] == {
        "delimiter": ";", "encoding": "cp1252"}


def test_a_commit_whose_text_cp1252_cannot_hold_is_refused_and_writes_nothing(tmp_path,
                                                                             review):
    config = load_config(config_file(tmp_path, '[export]\nencoding = "cp1252"\n'
                                               '[billing]\ntext = "Saldo → Rechnung"\n'))
    with pytest.raises(ReliquatError) as refused:
        api.commit(review, tmp_path / "out", config=config, accept_proposals=True, now=NOW)
    message = str(refused.value)
    assert f"{tmp_path / 'out'}/rebill_B20261130-091500-" in message
    assert ".csv, line 2, column 'text': '→' (U+2192) cannot be written in cp1252" in message
    assert list((tmp_path / "out").iterdir()) == []
    register = Register(default_register())
    try:
        assert register.committed() == {}
    finally:
        register.close()
