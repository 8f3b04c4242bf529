"""Keys reach MariaDB as IN lists cut at LARGE_CHUNK: every key found whatever the number of
lists, each compared by the column's own collation (case, accents, trailing spaces), quotes,
backslashes and emoji sent as they are. (MariaDB already turns an IN list of 1000 values or
more into a materialized table of keys, in_predicate_conversion_threshold: passing them as
one JSON_TABLE text was measured and did not pay on the benchmark.)"""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Table,
    column,
    create_engine,
    select,
    text,
)

from addin.sources import sql_keys
from addin.sources.sql_keys import key_chunks, member_of

pytestmark = pytest.mark.database

ODD_KEYS = ["plain", "O'Brien", 'say "hi"', "back\\slash", "\\u00e9", "Zürich", "ÉTÉ", "😀",
            "a😀b", "trailing ", "  lead", "tab\there", '"quoted"', "[1]", "{}", "null",
            "x" * 300, "ZÜRICH", "plain ", "Plain", "pad"]


def found(conn: Connection, key: ColumnElement, keys: list[str]) -> set[object]:
    """The values of ``key`` matching ``keys``, as the pushdown asks, chunk by chunk."""
    rows: set[object] = set()
    for chunk in key_chunks(conn, keys):
        rows.update(r[0] for r in conn.execute(select(key).where(member_of(conn, key, chunk))))
    return rows


def table_of(conn: Connection, name: str, collation: str, rows: list[str]) -> Table:
    conn.exec_driver_sql(f"CREATE TABLE {name} (id VARCHAR(400) COLLATE {collation}, "
                         f"INDEX {name}_id (id))")
    table = Table(name, MetaData(), autoload_with=conn)
    conn.execute(table.insert(), [{"id": r} for r in rows])
    return table


@pytest.fixture
def conn(mariadb_url):
    engine = create_engine(mariadb_url)
    with engine.begin() as connection:
        yield connection
    engine.dispose()


def test_more_keys_than_one_in_list_are_all_found(conn):
    keys = [f"S{n:06d}" for n in range(25_000)]
    table = table_of(conn, "many", "utf8mb4_general_ci", [*keys, "other"])
    assert len(list(key_chunks(conn, keys))) > 1
    assert found(conn, table.c.id, keys) == set(keys)


@pytest.mark.parametrize("collation", ["utf8mb4_general_ci", "utf8mb4_unicode_ci",
                                       "utf8mb4_bin", "utf8mb4_general_nopad_ci"])
def test_odd_keys_are_found_by_the_column_collation(conn, collation):
    rows = [*ODD_KEYS[:-1], "zurich", "PLAIN", "pad   ", "other"]
    table = table_of(conn, "odd", collation, rows)
    by_keys = found(conn, table.c.id, ODD_KEYS)
    assert set(ODD_KEYS[:-1]) <= by_keys and "other" not in by_keys
    # the column's own rules: case, accents, trailing spaces (PAD SPACE but for _nopad_)
    assert ("PLAIN" in by_keys) == ("zurich" in by_keys) == collation.endswith("_ci")
    assert ("pad   " in by_keys) == ("nopad" not in collation)


def test_the_column_of_a_sql_entity_is_compared_by_its_server_collation(conn):
    table_of(conn, "viewed", "utf8mb4_unicode_ci", [*ODD_KEYS, "zurich"])
    entity = text("SELECT id FROM viewed").columns(column("id")).subquery("v")
    assert found(conn, entity.c.id, ["plain", "Zurich", "😀"]) == {
        "plain", "plain ", "Plain", "Zürich", "ZÜRICH", "zurich", "😀"}


def test_a_column_that_is_not_text_is_compared_as_numbers(conn):
    numbers = Table("numbers", MetaData(), Column("id", Integer, index=True))
    numbers.create(conn)
    conn.execute(numbers.insert(), [{"id": n} for n in range(12_000)])
    keys = [str(n) for n in range(0, 24_000, 2)]
    assert found(conn, numbers.c.id, keys) == set(range(0, 12_000, 2))


def test_the_lists_are_cut_where_the_server_takes_them(conn, monkeypatch):
    monkeypatch.setattr(sql_keys, "LARGE_CHUNK", 7)
    table = table_of(conn, "cut", "utf8mb4_general_ci", ODD_KEYS)
    assert [len(c) for c in key_chunks(conn, ODD_KEYS)] == [7, 7, 7]
    assert found(conn, table.c.id, ODD_KEYS) == set(ODD_KEYS)
