import datetime as dt
from decimal import Decimal

import pytest

from addin.domain.batch import PostingLine
from addin.domain.model import Action
from addin.exports.csv_files import neutralise, write_postings


@pytest.mark.parametrize(("text", "expected"), [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+41 32", "'+41 32"), ("-5", "'-5"),
    ("@SUM(A1)", "'@SUM(A1)"), ("Müller", "Müller"), ("d'Aubigné", "d'Aubigné"),
])
def test_a_text_a_spreadsheet_would_run_is_neutralised(text, expected):
    assert neutralise(text) == expected


def test_posting_lines_are_written_with_two_decimals_and_swiss_dates(tmp_path):
    line = PostingLine("B1", dt.date(2026, 11, 30), "1099", "1100", Decimal("1234.5"), "CHF",
                       "=C1", "S1", "I1", "F;1", Action.REBILL, "Reliquat")
    path = tmp_path / "p.csv"
    write_postings(path, [line])
    assert path.read_bytes().decode("utf-8").splitlines()[1] == (
        "B1;30.11.2026;1099;1100;1234.50;CHF;'=C1;S1;I1;\"F;1\";REBILL;Reliquat")
