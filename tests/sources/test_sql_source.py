"""A database source only reads: a SQLite file is opened read-only, a URL is shown without its
password, names from the config are quoted rather than pasted."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from addin.config import load_config
from addin.domain.problems import SourceError
from addin.locations import Location
from addin.sources import read_ledger
from addin.sources.sql_source import connect
from tests.sources.small_ledger import EXPECTED_ITEMS, write_sqlite


def test_a_sqlite_file_is_opened_read_only(tmp_path):
    engine = connect(Location.of(write_sqlite(tmp_path / "erp.sqlite")))
    with engine.connect() as connection, pytest.raises(OperationalError, match="readonly"):
        connection.execute(text("DELETE FROM open_items"))
    engine.dispose()


def test_a_schema_qualified_table_is_read(tmp_path):
    db = write_sqlite(tmp_path / "erp.sqlite", item_table="open items; DROP TABLE x")
    config = tmp_path / "erp.toml"
    config.write_text('[tables]\nopen_items = "main.open items; DROP TABLE x"\n',
                      encoding="utf-8")
    assert read_ledger(db, load_config(config)).items == EXPECTED_ITEMS


def test_an_unusable_url_is_named_without_its_password():
    with pytest.raises(SourceError) as error:
        read_ledger("nosuchdb+driver://anna:S3cret@db.local/erp", load_config(None))
    [problem] = error.value.problems
    assert str(problem.where) == "nosuchdb+driver://anna:***@db.local/erp"
    assert "S3cret" not in str(problem)
