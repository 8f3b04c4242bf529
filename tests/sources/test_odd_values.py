"""One odd value in a row the extract does not fetch: the extract refuses the ledger, or
accepts it, as ``validate`` does, in the same words.

The row is I9 of subscription S3 (customer 0042), 9.50 CHF: no rule fetches it, so only the
checks of the rows left in the database see it (``sql_checks``). Each value is one an ERP
or an import has been seen to hold, or one SQL reads otherwise than the rules.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from addin.config import Config
from addin.domain.problems import SourceError
from addin.locations import Location
from addin.sources import read_for_rules, read_ledger
from tests.sources.small_ledger import ITEM_HEADER, SUB_HEADER, write_sqlite
from tests.sources.test_entities import RULES
from tests.sources.test_pushdown import load_ledger, write_text_tables

UNFETCHED = {"item_id": "I9", "customer_id": "0042", "customer_name": "n",
             "subscription_id": "S3", "document_no": "F9", "document_date": "2026-09-01",
             "due_date": "2026-10-01", "original_amount": "9.50", "open_amount": "9.50",
             "currency": "CHF", "dunning_block": 0, "dispute": 0}
ODD: dict[str, list[object]] = {
    "item_id": ["I9\u00a0", "\tI9", "-I9", "@I9", "", "  ", None],
    "customer_id": ["0042\u00a0", " 0042", "42", "=42"],
    "subscription_id": ["S3\u00a0", "S3\t", "S9", ""],
    "due_date": ["2026-10-1", "2026-10-01T00:00", "2026-10-01 00:00:00", "1.10.2026",
                 "2026-13-01", "2026-02-30", " 2026-10-01", "20261001", "2026/10/01", None],
    "open_amount": ["9.5", ".5", "+9.50", " 9.50", "1e1", "9,50", "9'500.00", "inf", "nan",
                    "9.500", "9.5.0", "9-", 9.505, 10 ** 17, "", None],
    "currency": ["chf", "CHF ", "CH", "ÇHF", "C1F", "", None],
    "dunning_block": ["", "1", "true", "oui", 0.5, 2, -1, "x", None],
}
CASES = [(column, value) for column, values in ODD.items() for value in values]
IDS = [f"{column}={value!r}" for column, value in CASES]


def outcome(read: Callable[[], object]) -> str:
    try:
        read()
    except SourceError as refused:
        return "refused: " + "; ".join(str(problem) for problem in refused.problems)
    return "accepted"


def assert_extract_answers_as_validate(source: Path | str) -> None:
    validate = outcome(lambda: read_ledger(source, Config()))
    extract = outcome(lambda: read_for_rules(Location.of(source), Config(), RULES, ()))
    assert extract == validate


def with_odd_value(column: str, value: object) -> dict[str, object]:
    return {**UNFETCHED, column: value}


@pytest.mark.parametrize(("column", "value"), CASES, ids=IDS)
def test_sqlite(tmp_path: Path, column: str, value: object) -> None:
    db = write_sqlite(tmp_path / "erp.sqlite")
    row = with_odd_value(column, value)
    with sqlite3.connect(db) as connection:
        connection.execute(f"INSERT INTO open_items ({', '.join(row)}) "
                           f"VALUES ({', '.join('?' * len(row))})", list(row.values()))
    connection.close()
    assert_extract_answers_as_validate(db)


@pytest.mark.database
@pytest.mark.parametrize("kind", ["typed", "text"])
@pytest.mark.parametrize(("column", "value"), CASES, ids=IDS)
def test_server(server_url: str, kind: str, column: str, value: object) -> None:
    """MariaDB's case-insensitive collations aside: 's3' is S3 to such a server and another
    subscription to the rules (see the README's Guarantees)."""
    if kind == "typed":
        load_ledger(server_url, ITEM_HEADER, SUB_HEADER)
    else:
        write_text_tables(server_url)
    row = with_odd_value(column, value)
    if kind == "text":
        row = {k: None if v is None else str(v) for k, v in row.items()}
    engine = create_engine(server_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"INSERT INTO open_items ({', '.join(row)}) "
                                    f"VALUES ({', '.join(':' + k for k in row)})"), row)
    except SQLAlchemyError:
        pytest.skip("the column's type does not hold it")
    finally:
        engine.dispose()
    assert_extract_answers_as_validate(server_url)
