"""The selection done inside the database sees the same ledger a file gives."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from addin.config import Config, load_config
from addin.domain.model import Rules
from addin.domain.problems import SourceError
from addin.locations import Location
from addin.sources import read_for_commit, read_for_rules, read_ledger
from tests.sources.small_ledger import (
    EXPECTED_ITEMS,
    EXPECTED_SUBS,
    ITEM_HEADER,
    ITEMS,
    SUB_HEADER,
    SUBS,
    typed,
)

RULES = Rules(threshold=Decimal("5.00"), as_of=dt.date(2027, 1, 31))
BARE_ITEMS = ITEM_HEADER[:10]  # without dunning_block and dispute
BARE_SUBS = SUB_HEADER[:5]  # without label
# Absent means not blocked, not in dispute, no label: so a CSV without them reads.
UNFLAGGED_ITEMS = tuple(i._replace(dunning_block=False, dispute=False) for i in EXPECTED_ITEMS)
UNLABELLED_SUBS = {k: s._replace(label="") for k, s in EXPECTED_SUBS.items()}

SQL_TYPES = {"original_amount": "NUMERIC(12, 2)", "open_amount": "NUMERIC(12, 2)",
             "document_date": "DATE", "due_date": "DATE", "end_date": "DATE",
             "next_bill_date": "DATE", "dunning_block": "SMALLINT", "dispute": "SMALLINT"}


def forms(items: tuple[str, ...], subs: tuple[str, ...]) -> dict[str, str]:
    """The config of each way to name the entities: tables, views, a SELECT each."""
    return {
        "table": "",
        "view": '[tables]\nopen_items = "v_items"\nsubscriptions = "v_subs"\n',
        "sql": (f'[sql]\nopen_items = "SELECT {", ".join(items)} FROM open_items"\n'
                f'subscriptions = "SELECT {", ".join(subs)} FROM subscriptions"\n'),
    }


FORMS = forms(BARE_ITEMS, BARE_SUBS)


def load_ledger(url: str, items: tuple[str, ...] = BARE_ITEMS,
                subs: tuple[str, ...] = BARE_SUBS) -> None:
    """The small ledger in tables of the given columns, and views over them."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for table, view, header, rows in (("open_items", "v_items", items, ITEMS),
                                          ("subscriptions", "v_subs", subs, SUBS)):
            columns = ", ".join(f"{c} {SQL_TYPES.get(c, 'VARCHAR(80)')}" for c in header)
            connection.execute(text(f"CREATE TABLE {table} ({columns})"))
            connection.execute(
                text(f"INSERT INTO {table} VALUES ({', '.join(':' + c for c in header)})"),
                [{c: typed(c, cell) for c, cell in zip(header, row, strict=False)}
                 for row in rows])
            connection.execute(text(f"CREATE VIEW {view} AS SELECT * FROM {table}"))
    engine.dispose()


def config(folder: Path, toml: str) -> Config:
    path = folder / "reliquat.toml"
    path.write_text(toml, encoding="utf-8")
    return load_config(path)


def read_both_ways(source: str, settings: Config) -> tuple:
    """What extract and commit read (the pushdown), and the whole ledger where they agree."""
    location = Location.of(source)
    ledger, _, count = read_for_rules(location, settings, RULES, committed=())
    again = read_for_commit(location, settings, ["S1"], [i.item_id for i in ledger.items])
    whole = read_ledger(source, settings)
    assert (whole.items, whole.subscriptions) == (ledger.items, ledger.subscriptions)
    return count, ledger.items, ledger.subscriptions, again.items, again.subscriptions


@pytest.mark.database
def test_a_select_per_entity_is_read_through_the_pushdown_on_a_server(server_url, tmp_path):
    load_ledger(server_url, ITEM_HEADER, SUB_HEADER)
    settings = config(tmp_path, forms(ITEM_HEADER, SUB_HEADER)["sql"])
    assert read_both_ways(server_url, settings) == (
        3, EXPECTED_ITEMS, EXPECTED_SUBS, EXPECTED_ITEMS, EXPECTED_SUBS)


@pytest.mark.parametrize("form", FORMS)
def test_optional_columns_absent_from_a_sqlite_source_count_as_blank(tmp_path, form):
    db = tmp_path / "erp.sqlite"
    load_ledger(f"sqlite:///{db}")
    assert read_both_ways(str(db), config(tmp_path, FORMS[form])) == (
        3, UNFLAGGED_ITEMS, UNLABELLED_SUBS, UNFLAGGED_ITEMS, UNLABELLED_SUBS)


@pytest.mark.database
@pytest.mark.parametrize("form", FORMS)
def test_optional_columns_absent_from_a_server_source_count_as_blank(server_url, tmp_path,
                                                                     form):
    load_ledger(server_url)
    assert read_both_ways(server_url, config(tmp_path, FORMS[form])) == (
        3, UNFLAGGED_ITEMS, UNLABELLED_SUBS, UNFLAGGED_ITEMS, UNLABELLED_SUBS)


@pytest.mark.database
def test_columns_that_differ_only_in_case_are_not_guessed_between_on_a_server(postgres_url,
                                                                              tmp_path):
    """As in a file: a header the config names that fits two columns is asked about, not
    taken at random (PostgreSQL keeps quoted names' case; MariaDB cannot hold both)."""
    load_ledger(postgres_url, ITEM_HEADER, SUB_HEADER)
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text('ALTER TABLE subscriptions ADD COLUMN "Status" VARCHAR(20)'))
    engine.dispose()
    settings = config(tmp_path, '[columns.subscriptions]\nstatus = "STATUS"\n')

    with pytest.raises(SourceError) as refused:
        read_for_rules(Location.of(postgres_url), settings, RULES, committed=())

    assert [p.message for p in refused.value.problems] == [
        "column 'STATUS' is there 2 times ('status' and 'Status'): which one is meant?"]


# Rows as a CSV export imported into SQLite as it is (sqlite3's .import): every column text.
AS_WRITTEN = {
    "amounts with a thousands separator": [
        ("I4", "C1", "Müller Hans", "S1", "F4", "01.09.2026", "01.10.2026", "1'000.00",
         "1'000.00", "CHF", "0", "0"),
        ("I5", "C1", "Müller Hans", "S1", "F5", "01.09.2026", "01.10.2026", "-998.00",
         "-998.00", "CHF", "0", "0")],
    "a flag written as a word": [
        ("I4", "C1", "Müller Hans", "S1", "F4", "2026-09-01", "2026-10-01", "6.00", "6.00",
         "CHF", "oui", "0")],
    # As text, 01.02.2027 sorts before 2027-01-31: a server comparing texts would count
    # this item, not due until February, and S1 (0.50 + 6.00) would not be flagged.
    "a due date as a Swiss export writes it": [
        ("I4", "C1", "Müller Hans", "S1", "F4", "01.01.2027", "01.02.2027", "6.00", "6.00",
         "CHF", "0", "0")],
    "an id with a space after it": [
        ("I4", "C1", "Müller Hans", "S1 ", "F4", "2026-09-01", "2026-10-01", "3.00", "3.00",
         "CHF", "0", "0")],
}


def residuals(ledger, balances) -> list[tuple[str, str, Decimal, tuple[str, ...]]]:
    from addin.domain.rules import select

    return [(r.subscription.subscription_id, r.currency, r.balance,
             tuple(i.item_id for i in r.items)) for r in select(ledger, RULES,
                                                                 balances=balances).residuals]


def write_as_written(url: str, case: str) -> None:
    """The small ledger and the case's rows, each cell the text of the export."""
    write_text_tables(url, ITEMS + tuple(AS_WRITTEN[case]))


def write_text_tables(url: str, items: tuple[tuple[str, ...], ...] = ITEMS) -> None:
    """The items and the small ledger's subscriptions with every column text, as an import
    leaves them."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for table, header, rows in (("open_items", ITEM_HEADER, items),
                                    ("subscriptions", SUB_HEADER, SUBS)):
            columns = ", ".join(f"{h} VARCHAR(80)" for h in header)
            connection.execute(text(f"CREATE TABLE {table} ({columns})"))
            connection.execute(
                text(f"INSERT INTO {table} VALUES ({', '.join(':' + h for h in header)})"),
                [dict(zip(header, row, strict=True)) for row in rows])
    engine.dispose()


def assert_selected_as_from_the_whole(source: str) -> None:
    whole = read_ledger(source, Config())
    ledger, balances, count = read_for_rules(Location.of(source), Config(), RULES, committed=())
    assert count == len(whole.items)
    assert residuals(ledger, balances) == residuals(whole, None) != []
    for_commit = read_for_commit(Location.of(source), Config(), ["S1"], [])
    assert [i for i in for_commit.items if i.subscription_id == "S1"] == [
        i for i in whole.items if i.subscription_id == "S1"]


@pytest.mark.parametrize("case", AS_WRITTEN)
def test_values_sql_would_misjudge_as_written_are_selected_as_from_the_whole_ledger(
        tmp_path, case):
    """Summed in SQL, 1'000.00 is 1.00 and S1 (0.50 + 1000.00 - 998.00) would not be
    flagged; a flag 'oui' would be 0, and S1 (0.50 + 6.00) not flagged either; 'S1 ' would
    be another subscription. The file is read whole instead."""
    db = tmp_path / "erp.sqlite"
    write_as_written(f"sqlite:///{db}", case)
    assert_selected_as_from_the_whole(str(db))


@pytest.mark.database
@pytest.mark.parametrize("case", AS_WRITTEN)
def test_text_columns_of_a_server_holding_values_as_written_are_selected_as_from_the_whole(
        server_url, case):
    """PostgreSQL refuses to cast 1'100.50 or to compare 01.10.2026 with a date; MariaDB
    casts them to 1 and to nothing, with a warning: either way the source is read whole."""
    write_as_written(server_url, case)
    assert_selected_as_from_the_whole(server_url)
