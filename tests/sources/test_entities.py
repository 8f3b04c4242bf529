"""A database is read one way: validate (the whole read), extract and commit (the pushdown)
find the same columns, say the same problems in the same words, and name a bad value by the
table and the column as the ERP calls them."""

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from addin.config import Config, load_config
from addin.domain.model import Rules
from addin.domain.problems import SourceError
from addin.locations import Location
from addin.sources import read_for_commit, read_for_rules, read_ledger
from addin.sources.entities import describe
from tests.sources.small_ledger import EXPECTED_ITEMS, ITEM_HEADER, SUB_HEADER, write_sqlite
from tests.sources.test_pushdown import load_ledger

RULES = Rules(threshold=Decimal("5.00"), as_of=dt.date(2027, 1, 31))
ERP_HEADER = ("POSTEN", "KUNDE", "NAME", "ABO", "BELEG", "BELEGDATUM", "FAELLIG", "BETRAG",
              "OFFEN", "WAEHRUNG", "MAHNSPERRE", "STREIT")
ERP_CONFIG = ('[tables]\nopen_items = "OP"\n[columns.open_items]\n'
              + "".join(f'{c} = "{e}"\n' for c, e in zip(ITEM_HEADER, ERP_HEADER, strict=True)))


def settings(folder: Path, toml: str) -> Config:
    path = folder / "reliquat.toml"
    path.write_text(toml, encoding="utf-8")
    return load_config(path)


def run_sql(db: Path, *statements: str) -> None:
    with sqlite3.connect(db) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


def erp_database(folder: Path) -> Path:
    return write_sqlite(folder / "erp.sqlite", item_table="OP", item_header=ERP_HEADER)


def problems_of_each_command(source: Path | str, config: Config) -> dict[str, list[str]]:
    """What validate, extract and commit each refuse the source with."""
    location = Location.of(source)
    reads = {
        "validate": lambda: read_ledger(location, config),
        "extract": lambda: read_for_rules(location, config, RULES, committed=()),
        "commit": lambda: read_for_commit(location, config, ["S1"], ["I9"]),
    }
    found = {}
    for command, read in reads.items():
        with pytest.raises(SourceError) as refused:
            read()
        found[command] = [str(p) for p in refused.value.problems]
    return found


def load_with(url: str, *statements: str) -> None:
    """The small ledger on a server, typed, changed by ``statements``."""
    load_ledger(url, ITEM_HEADER, SUB_HEADER)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def test_the_erp_names_are_read_by_every_command(tmp_path):
    db, config = erp_database(tmp_path), settings(tmp_path, ERP_CONFIG)
    ledger, _, count = read_for_rules(Location.of(db), config, RULES, committed=())
    assert (count, ledger.items) == (3, EXPECTED_ITEMS)
    assert read_for_commit(Location.of(db), config, ["S1"], []).items == EXPECTED_ITEMS[:1]
    assert read_ledger(db, config).items == EXPECTED_ITEMS


def test_a_bad_value_is_named_by_the_erp_table_and_column_in_every_command(tmp_path):
    """An eligible small item of S1 with a text in a NUMERIC column and no such date: the
    pushdown used to fail on the text (SQLAlchemy converting the column it had reflected)."""
    db, config = erp_database(tmp_path), settings(tmp_path, ERP_CONFIG)
    run_sql(db, "INSERT INTO OP VALUES ('I9', 'C1', 'n', 'S1', 'F9', '2026-02-30', "
                "'2026-10-01', 'abc', 0.50, 'CHF', 0, 0)")
    expected = ["OP, column 'BELEGDATUM', item I9: no such date: '2026-02-30'",
                "OP, column 'BETRAG', item I9: not an amount: 'abc'"]
    assert problems_of_each_command(db, config) == {
        "validate": expected, "extract": expected, "commit": expected}


@pytest.mark.parametrize(("toml", "expected"), [
    ('[tables]\nopen_items = "nowhere"\n', "{db}: missing table or view 'nowhere'"),
    ('[sql]\nopen_items = "SELECT item_id FROM open_items"\n',
     "[sql] open_items: missing column 'customer_id'"),
    ('[sql]\nopen_items = "SELECT * FROM nowhere"\n',
     "[sql] open_items: the query fails: no such table: nowhere"),
    ('[sql]\nopen_items = "DELETE FROM open_items"\n',
     "[sql] open_items: must be one SELECT statement (or WITH … SELECT): a source only reads"),
])
def test_a_source_the_config_does_not_fit_is_refused_in_the_same_words_by_every_command(
        tmp_path, toml, expected):
    db = write_sqlite(tmp_path / "erp.sqlite")
    found = problems_of_each_command(db, settings(tmp_path, toml))
    first = expected.format(db=db)
    assert {command: said[0] for command, said in found.items()} == {
        "validate": first, "extract": first, "commit": first}


def test_a_select_under_erp_names_ending_with_a_semicolon_and_a_comment_is_read(tmp_path):
    """The pushdown runs the query inside its own: what may end it alone must not break it."""
    db = write_sqlite(tmp_path / "erp.sqlite")
    renamed = ", ".join(f"{c} AS {e}" for c, e in zip(ITEM_HEADER, ERP_HEADER, strict=True))
    toml = (f"[sql]\nopen_items = '''SELECT {renamed} FROM open_items -- ';' kept\n"
            f"WHERE ';' <> '--';  -- the end'''\n[columns.open_items]\n"
            + "".join(f'{c} = "{e}"\n' for c, e in zip(ITEM_HEADER, ERP_HEADER, strict=True)))
    config = settings(tmp_path, toml)
    ledger, _, count = read_for_rules(Location.of(db), config, RULES, committed=())
    assert (count, ledger.items) == (3, EXPECTED_ITEMS)
    assert read_ledger(db, config).items == EXPECTED_ITEMS


@pytest.mark.parametrize("query", [
    "SELECT 1; DELETE FROM open_items",
    "SELECT 1; -- harmless\n DROP TABLE x",
])
def test_a_second_statement_is_refused_even_behind_a_comment(tmp_path, query):
    db = write_sqlite(tmp_path / "erp.sqlite")
    config = settings(tmp_path, f"[sql]\nopen_items = '''{query}'''\n")
    assert problems_of_each_command(db, config)["extract"][0].endswith(
        "must be one SELECT statement (or WITH … SELECT): a source only reads")


BROKEN = {
    "an item twice": (
        "INSERT INTO OP SELECT * FROM OP WHERE POSTEN = 'I1'",
        "OP, column 'POSTEN', item I1: duplicate item 'I1': more than one row has it"),
    "an item twice, its amounts differing": (
        "INSERT INTO OP SELECT POSTEN, KUNDE, NAME, ABO, BELEG, BELEGDATUM, FAELLIG, BETRAG, "
        "3.00, WAEHRUNG, MAHNSPERRE, STREIT FROM OP WHERE POSTEN = 'I1'",
        "OP, column 'POSTEN', item I1: duplicate item 'I1': more than one row has it"),
    "an item of another customer's subscription": (
        "INSERT INTO OP VALUES ('I9', 'C1', 'n', 'S3', 'F9', '2026-09-01', '2026-10-01', "
        "9.50, 9.50, 'CHF', 0, 0)",
        "OP, column 'KUNDE', item I9: customer 'C1' but subscription 'S3' belongs to '0042'"),
    "an item of no subscription": (
        "INSERT INTO OP VALUES ('I9', 'C1', 'n', 'S7', 'F9', '2026-09-01', '2026-10-01', "
        "9.50, 9.50, 'CHF', 0, 0)",
        "OP, column 'ABO', item I9: unknown subscription 'S7'"),
}


@pytest.mark.parametrize("keyed", [False, True], ids=["subscriptions unkeyed", "keyed"])
@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_ledger_is_refused_by_every_command_though_the_rows_are_not_selected(
        tmp_path, case, keyed):
    """The pushdown fetches a few rows, so the checks of the whole ledger (one row per id,
    each item's subscription its customer's) run in the database first: joined on a key,
    else counted."""
    statement, expected = BROKEN[case]
    db, config = erp_database(tmp_path), settings(tmp_path, ERP_CONFIG)
    key = "CREATE UNIQUE INDEX subscriptions_key ON subscriptions (subscription_id)"
    run_sql(db, statement, *([key] if keyed else []))
    assert problems_of_each_command(db, config) == {
        "validate": [expected], "extract": [expected], "commit": [expected]}


def test_a_subscription_twice_is_refused_by_validate_and_extract(tmp_path):
    db, config = erp_database(tmp_path), settings(tmp_path, ERP_CONFIG)
    run_sql(db, "INSERT INTO subscriptions SELECT * FROM subscriptions "
                "WHERE subscription_id = 'S2'")
    expected = ["subscriptions, column 'subscription_id', subscription S2: duplicate "
                "subscription 'S2': more than one row has it"]
    with pytest.raises(SourceError) as refused:
        read_for_rules(Location.of(db), config, RULES, committed=())
    assert [str(p) for p in refused.value.problems] == expected
    with pytest.raises(SourceError) as refused:
        read_ledger(db, config)
    assert [str(p) for p in refused.value.problems] == expected


@pytest.mark.database
@pytest.mark.parametrize(("statement", "expected"), [
    ("INSERT INTO open_items SELECT * FROM open_items WHERE item_id = 'I3'",
     "open_items, column 'item_id', item I3: duplicate item 'I3': more than one row has it"),
    ("INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S3', 'F9', '2026-09-01', '2026-10-01', "
     "9.50, 9.50, 'CHF', 0, 0)",
     "open_items, column 'customer_id', item I9: customer 'C1' but subscription 'S3' "
     "belongs to '0042'"),
], ids=["an item twice", "another customer's subscription"])
def test_a_broken_ledger_on_a_server_is_refused_by_extract(server_url, statement, expected):
    load_with(server_url, statement)
    with pytest.raises(SourceError) as refused:
        read_for_rules(Location.of(server_url), Config(), RULES, committed=())
    assert [str(p) for p in refused.value.problems] == [expected]


def test_only_a_column_the_database_keeps_unique_alone_is_spared_the_search_for_repeats(
        tmp_path):
    db = tmp_path / "erp.sqlite"
    run_sql(db, "CREATE TABLE open_items (item_id TEXT PRIMARY KEY, "
                + ", ".join(f"{c} TEXT" for c in ITEM_HEADER[1:]) + ")",
            "CREATE TABLE subscriptions (" + ", ".join(f"{c} TEXT" for c in SUB_HEADER)
            + ", UNIQUE (subscription_id, customer_id))",
            "CREATE VIEW v_items AS SELECT * FROM open_items")
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        found = {name: describe(connection, entity, Config(tables={entity: name}), "db").unique
                 for entity, name in (("open_items", "open_items"), ("open_items", "v_items"),
                                      ("subscriptions", "subscriptions"))}
    engine.dispose()
    assert found == {"open_items": {"item_id"}, "v_items": set(), "subscriptions": set()}


def test_an_amount_of_three_decimals_left_in_the_database_is_refused_by_extract(tmp_path):
    """S1 is not flagged (0.50 + 9.505), so no query fetches I9; summed in whole cents, its
    third decimal would be rounded away unseen."""
    db = write_sqlite(tmp_path / "erp.sqlite")
    run_sql(db, "INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S1', 'F9', '2026-09-01', "
                "'2026-10-01', 9.505, 9.505, 'CHF', 0, 0)")
    expected = ["open_items, column 'original_amount', item I9: more than two decimals: '9.505'",
                "open_items, column 'open_amount', item I9: more than two decimals: '9.505'"]
    found = problems_of_each_command(db, Config())
    assert (found["validate"], found["extract"]) == (expected, expected)


def test_an_amount_too_large_left_in_a_sqlite_file_is_refused_by_extract(tmp_path):
    """Summed in SQL, it overflows; not fetched, it would not be seen."""
    db = write_sqlite(tmp_path / "erp.sqlite")
    run_sql(db, "INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S1', 'F9', '2026-09-01', "
                "'2026-10-01', 9.50, '123456789012345678.00', 'CHF', 0, 0)")
    found = problems_of_each_command(db, Config())
    assert found["extract"] == found["validate"]
    assert found["validate"][0].startswith("open_items, column 'open_amount', item I9: too large")


@pytest.mark.database
def test_an_amount_of_three_decimals_in_a_server_column_is_refused_by_extract(server_url):
    load_ledger(server_url, ITEM_HEADER, SUB_HEADER)
    engine = create_engine(server_url)
    widen = ("ALTER TABLE open_items ALTER COLUMN open_amount TYPE NUMERIC(12, 3)"
             if server_url.startswith("postgresql") else
             "ALTER TABLE open_items MODIFY open_amount DECIMAL(12, 3)")
    with engine.begin() as connection:
        connection.execute(text("DROP VIEW v_items"))
        connection.execute(text(widen))
        connection.execute(text("INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S1', 'F9', "
                                "'2026-09-01', '2026-10-01', 9.50, 9.505, 'CHF', 0, 0)"))
    engine.dispose()
    with pytest.raises(SourceError) as refused:
        read_for_rules(Location.of(server_url), Config(), RULES, committed=())
    assert [str(p) for p in refused.value.problems] == [
        "open_items, column 'open_amount', item I9: more than two decimals: '9.505'"]


@pytest.mark.database
@pytest.mark.parametrize(("kind", "due", "expected"), [
    ("text", "2026/10/01", "not a date (expected dd.mm.yyyy or yyyy-mm-dd): '2026/10/01'"),
    ("text", "20261001", "not a date (expected dd.mm.yyyy or yyyy-mm-dd): '20261001'"),
    ("timestamp", "2026-10-01 08:00:00",
     "not a date (has a time): datetime.datetime(2026, 10, 1, 8, 0)"),
], ids=["slashes", "no dashes", "a time of day"])
def test_a_due_date_a_server_reads_but_the_rules_do_not_is_refused_by_extract(
        server_url, kind, due, expected):
    """MariaDB reads 2026/10/01 or 20261001 as a date, and a server compares a time of day
    with a date, without a word; I9 is not fetched (S1, 0.50 + 9.50, is not flagged), so
    only the search for such forms sees it."""
    load_ledger(server_url, ITEM_HEADER, SUB_HEADER)
    postgres = server_url.startswith("postgresql")
    sql_type = {"text": "VARCHAR(80)", "timestamp": "TIMESTAMP" if postgres else "DATETIME"}
    change = (f"ALTER TABLE open_items ALTER COLUMN due_date TYPE {sql_type[kind]}"
              + (" USING due_date::text" if kind == "text" else "")
              if postgres else f"ALTER TABLE open_items MODIFY due_date {sql_type[kind]}")
    engine = create_engine(server_url)
    with engine.begin() as connection:
        connection.execute(text("DROP VIEW v_items"))
        connection.execute(text(change))
        connection.execute(text("INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S1', 'F9', "
                                f"'2026-09-01', '{due}', 9.50, 9.50, 'CHF', 0, 0)"))
    engine.dispose()
    found = problems_of_each_command(server_url, Config())
    assert found["validate"] == [f"open_items, column 'due_date', item I9: {expected}"]
    assert found["extract"] == found["validate"]


@pytest.mark.database
def test_only_a_server_column_typed_as_a_day_or_an_amount_in_cents_is_spared_the_search(
        server_url, tmp_path):
    """A DATE holds a day and a DECIMAL(12, 2) an amount as the rules read them; a TIMESTAMP
    may hold a time of day, a DECIMAL(12, 3) a third decimal, a SQLite column anything."""
    load_ledger(server_url, ITEM_HEADER, SUB_HEADER)
    postgres = server_url.startswith("postgresql")
    engine = create_engine(server_url)
    with engine.begin() as connection:
        connection.execute(text("DROP VIEW v_items"))
        for column, sql_type in (("due_date", "TIMESTAMP" if postgres else "DATETIME"),
                                 ("open_amount", "NUMERIC(12, 3)")):
            connection.execute(text(f"ALTER TABLE open_items ALTER COLUMN {column} TYPE {sql_type}"
                                    if postgres else
                                    f"ALTER TABLE open_items MODIFY {column} {sql_type}"))
        typed = describe(connection, "open_items", Config(), "db").typed
    engine.dispose()
    sqlite_engine = create_engine(f"sqlite:///{write_sqlite(tmp_path / 'erp.sqlite')}")
    with sqlite_engine.connect() as connection:
        typed_in_sqlite = describe(connection, "open_items", Config(), "db").typed
    sqlite_engine.dispose()
    assert (typed, typed_in_sqlite) == ({"document_date", "original_amount"}, set())


@pytest.mark.parametrize("amount", ["9.5.0", "9-", "9+1"])
def test_an_amount_sql_would_cut_short_left_in_a_sqlite_file_is_refused_by_extract(
        tmp_path, amount):
    """SQLite casts 9.5.0 to 9.5 and 9- to 9; the exact reader refuses them. I9 is not
    fetched (S1, 0.50 + 9, is not flagged): only the search for such forms sees it."""
    db = write_sqlite(tmp_path / "erp.sqlite")
    run_sql(db, "INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S1', 'F9', '2026-09-01', "
                f"'2026-10-01', 9.50, '{amount}', 'CHF', 0, 0)")
    found = problems_of_each_command(db, Config())
    assert found["validate"] == [
        f"open_items, column 'open_amount', item I9: not an amount: '{amount}'"]
    assert found["extract"] == found["validate"]


@pytest.mark.database
def test_a_due_date_no_calendar_holds_in_a_date_column_is_refused_by_extract(server_url):
    """PostgreSQL's DATE holds infinity, MariaDB's a zero day or month (its default mode
    allows them): the exact reader refuses them, and SQL compares them with the rules' day."""
    postgres = server_url.startswith("postgresql")
    for due in (["infinity", "-infinity"] if postgres else ["0000-00-00", "2026-00-15"]):
        load_ledger(server_url, ITEM_HEADER, SUB_HEADER)
        engine = create_engine(server_url)
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S1', "
                                        f"'F9', '2026-09-01', '{due}', 9.50, 9.50, 'CHF', 0, 0)"))
            found = problems_of_each_command(server_url, Config())
            with engine.begin() as connection:
                for statement in ("DROP VIEW v_items", "DROP VIEW v_subs",
                                  "DROP TABLE open_items", "DROP TABLE subscriptions"):
                    connection.execute(text(statement))
        finally:
            engine.dispose()
        assert found["extract"] == found["validate"], due
        assert due in found["validate"][0]


@pytest.mark.database
def test_an_amount_that_is_no_number_in_a_numeric_column_is_refused_by_extract(postgres_url):
    """PostgreSQL's NUMERIC holds NaN: the exact reader refuses it, and in SQL it failed the
    selection with the server's own words."""
    load_with(postgres_url, "INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S1', 'F9', "
                            "'2026-09-01', '2026-10-01', 9.50, 'NaN', 'CHF', 0, 0)")
    found = problems_of_each_command(postgres_url, Config())
    assert found["validate"] == [
        "open_items, column 'open_amount', item I9: not an amount: 'NaN'"]
    assert found["extract"] == found["validate"]


@pytest.mark.database
def test_a_flag_neither_0_nor_1_in_a_server_column_is_refused_by_extract(server_url):
    """SQL counts a dunning block of 2 as blocked; the exact reader refuses it. I9 is not
    fetched (blocked, and 9.50 is no small item), so only the search for such flags sees it."""
    load_with(server_url, "INSERT INTO open_items VALUES ('I9', 'C1', 'n', 'S1', 'F9', "
                          "'2026-09-01', '2026-10-01', 9.50, 9.50, 'CHF', 2, 0)")
    found = problems_of_each_command(server_url, Config())
    assert found["validate"] == [
        "open_items, column 'dunning_block', item I9: not a flag (expected 0 or 1): 2"]
    assert found["extract"] == found["validate"]


@pytest.mark.database
@pytest.mark.parametrize("currency", ["12X", " CH", "ÄBC"])
def test_a_currency_of_three_characters_but_not_letters_is_refused_by_extract(
        server_url, currency):
    """SQL groups by any three characters; the exact reader wants three letters. I9 is not
    fetched: nothing of customer 0042 is flagged and 9.50 is no small item."""
    load_with(server_url, "INSERT INTO open_items VALUES ('I9', '0042', 'n', 'S3', "
                          f"'F9', '2026-09-01', '2026-10-01', 9.50, 9.50, '{currency}', "
                          "0, 0)")
    found = problems_of_each_command(server_url, Config())
    assert "not a currency code" in found["validate"][0]
    assert found["extract"] == found["validate"]


FORMULA_ROWS = {
    "item_id": "('@I9', '0042', 'n', 'S3', 'F9', '2026-09-01', '2026-10-01', 9.50, 9.50, "
               "'CHF', 0, 0)",
    "customer_id": "('I9', '=42', 'n', 'S9', 'F9', '2026-09-01', '2026-10-01', 9.50, 9.50, "
                   "'CHF', 0, 0)",
}


def _with_formula_like_id(column: str) -> list[str]:
    statements = [f"INSERT INTO open_items VALUES {FORMULA_ROWS[column]}"]
    if column == "customer_id":
        statements.append("INSERT INTO subscriptions VALUES ('S9', '=42', 'active', NULL, "
                          "NULL, 'x')")
    return statements


@pytest.mark.parametrize("column", FORMULA_ROWS)
def test_an_id_a_spreadsheet_would_run_left_in_a_sqlite_file_is_refused_by_extract(
        tmp_path, column):
    """The exact reader refuses an id that begins like a formula; SQL groups by it. I9 is not
    fetched (9.50 is no small item, and nothing of its customer is flagged)."""
    db = write_sqlite(tmp_path / "erp.sqlite")
    run_sql(db, *_with_formula_like_id(column))
    assert_extract_refuses_as_validate(db)


@pytest.mark.database
@pytest.mark.parametrize("column", FORMULA_ROWS)
def test_an_id_a_spreadsheet_would_run_in_a_server_table_is_refused_by_extract(
        server_url, column):
    load_ledger(server_url, ITEM_HEADER, SUB_HEADER)
    engine = create_engine(server_url)
    with engine.begin() as connection:
        for statement in _with_formula_like_id(column):
            connection.execute(text(statement))
    engine.dispose()
    assert_extract_refuses_as_validate(server_url)


def assert_extract_refuses_as_validate(source: Path | str,
                                       problem: str = "an identifier must not look like a "
                                                      "formula") -> None:
    """(The commit of S1 and I9 reads neither '@I9' nor its subscription.)"""
    refused = {}
    for command, read in (("validate", lambda: read_ledger(source, Config())),
                          ("extract", lambda: read_for_rules(Location.of(source), Config(),
                                                             RULES, committed=()))):
        with pytest.raises(SourceError) as raised:
            read()
        refused[command] = [str(p) for p in raised.value.problems]
    assert problem in refused["validate"][0]
    assert refused["extract"] == refused["validate"]


@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_item_id_left_in_a_sqlite_file_is_refused_by_extract(tmp_path, blank):
    """SQL takes '' for an item like any other; the exact reader finds the id empty. The row
    is not fetched (9.50 is no small item, and nothing of customer 0042 is flagged)."""
    db = write_sqlite(tmp_path / "erp.sqlite")
    run_sql(db, "INSERT INTO open_items VALUES ('" + blank + "', '0042', 'n', 'S3', 'F9', "
                "'2026-09-01', '2026-10-01', 9.50, 9.50, 'CHF', 0, 0)")
    assert_extract_refuses_as_validate(db, "empty")


@pytest.mark.database
@pytest.mark.parametrize("blank", ["", "   "])
def test_an_empty_item_id_in_a_server_table_is_refused_by_extract(server_url, blank):
    load_with(server_url, "INSERT INTO open_items VALUES ('" + blank + "', '0042', 'n', "
                          "'S3', 'F9', '2026-09-01', '2026-10-01', 9.50, 9.50, 'CHF', "
                          "0, 0)")
    assert_extract_refuses_as_validate(server_url, "empty")


@pytest.mark.parametrize("spaced", ["S3\u00a0", "S3\t"])
def test_a_subscription_id_the_rules_strip_and_sql_does_not_is_read_as_validate_reads_it(
        tmp_path, spaced):
    """To SQL, 'S3\\u00a0' is an unknown subscription; to the rules it is S3. The extract
    reads the file whole rather than refuse what validate accepts."""
    from addin.domain.rules import select

    db = write_sqlite(tmp_path / "erp.sqlite")
    run_sql(db, "INSERT INTO open_items VALUES ('I9', '0042', 'n', '" + spaced + "', 'F9', "
                "'2026-09-01', '2026-10-01', 0.50, 0.50, 'EUR', 0, 0)")
    whole = read_ledger(db, Config())
    part, balances, count = read_for_rules(Location.of(db), Config(), RULES, committed=())
    assert count == len(whole.items)
    assert select(part, RULES, balances=balances).residuals == select(whole, RULES).residuals


def test_a_day_past_the_months_end_left_in_a_sqlite_file_is_refused_by_extract(tmp_path):
    """SQLite's date() takes 2026-02-30 as it is; the exact reader finds no such date."""
    db = write_sqlite(tmp_path / "erp.sqlite")
    run_sql(db, "INSERT INTO open_items VALUES ('I9', '0042', 'n', 'S3', 'F9', '2026-09-01', "
                "'2026-02-30', 9.50, 9.50, 'CHF', 0, 0)")
    assert_extract_refuses_as_validate(db, "no such date")


@pytest.mark.database
def test_an_open_amount_missing_in_a_server_table_is_refused_by_extract(server_url):
    """SQL sums a NULL as nothing; the exact reader finds the amount empty."""
    load_with(server_url, "INSERT INTO open_items VALUES ('I9', '0042', 'n', 'S3', 'F9', "
                          "'2026-09-01', '2026-10-01', 9.50, NULL, 'CHF', 0, 0)")
    assert_extract_refuses_as_validate(server_url, "empty")
