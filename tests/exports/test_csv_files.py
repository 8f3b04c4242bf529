import datetime as dt
from decimal import Decimal

import pytest

from addin.domain.actions import Action
from addin.domain.batch import PostingLine, RebillLine
from addin.exports.csv_files import neutralise, write_postings, write_rebills


@pytest.mark.parametrize(("text", "expected"), [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+41 32", "'+41 32"), ("-5", "'-5"),
    ("@SUM(A1)", "'@SUM(A1)"), ("Müller", "Müller"), ("d'Aubigné", "d'Aubigné"),
])
def test_a_text_a_spreadsheet_would_run_is_neutralised(text, expected):
    assert neutralise(text) == expected


def test_posting_lines_are_written_with_two_decimals_and_swiss_dates(tmp_path):
    line = PostingLine("B1", dt.date(2026, 11, 30), "1099", "1100", Decimal("1234.5"), "CHF",
                       "C1", "S1", "I1", "F;1", Action.REBILL, "Reliquat")
    path = tmp_path / "p.csv"
    write_postings(path, [line])
    assert path.read_bytes().decode("utf-8").splitlines()[1] == (
        "B1;30.11.2026;1099;1100;1234.50;CHF;C1;S1;I1;\"F;1\";REBILL;Reliquat;")


def test_identifiers_are_exported_as_they_are_and_only_free_texts_are_neutralised(tmp_path):
    # the ERP matches -C32 and -F7 as it holds them; a formula is refused when the source is read
    posting = PostingLine("-B1", dt.date(2026, 11, 30), "-1099", "+1100", Decimal("-0.5"),
                          "CHF", "-C32", "-S1", "-I1", "-F7", Action.REBILL, "-5 Reliquat")
    rebill = RebillLine("-B1", "-S1", "-C32", "-R", Decimal("-0.50"), "CHF", "-V0", "-S0",
                        "-F7, -F8", "=Reliquat")
    write_postings(tmp_path / "p.csv", [posting])
    write_rebills(tmp_path / "r.csv", [rebill])
    assert (tmp_path / "p.csv").read_text(encoding="utf-8").splitlines()[1] == (
        "-B1;30.11.2026;-1099;+1100;-0.50;CHF;-C32;-S1;-I1;-F7;REBILL;'-5 Reliquat;")
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").splitlines()[1] == (
        "-B1;-S1;-C32;-R;-0.50;CHF;-V0;-S0;-F7, -F8;'=Reliquat")
