"""Every form of the same small ledger reads into the same records."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from addin.config import Config, load_config
from addin.domain.model import Ledger
from addin.sources import read_ledger
from tests.sources.small_ledger import (
    EXPECTED_ITEMS,
    EXPECTED_SUBS,
    ITEM_HEADER,
    ITEMS,
    SUB_HEADER,
    SUBS,
    typed,
    write_csv,
    write_sheets,
    write_sqlite,
    write_xlsx,
)


def records(ledger: Ledger) -> tuple:
    return ledger.items, ledger.subscriptions


EXPECTED = (EXPECTED_ITEMS, EXPECTED_SUBS)


def config_file(folder: Path, toml: str) -> Config:
    path = folder / "reliquat.toml"
    path.write_text(toml, encoding="utf-8")
    return load_config(path)


def test_a_swiss_csv_export_with_bom_semicolons_and_dotted_dates_is_read_exactly(tmp_path):
    assert records(read_ledger(write_csv(tmp_path), Config())) == EXPECTED


def test_a_csv_export_with_commas_iso_dates_and_no_bom_gives_the_same_ledger(tmp_path):
    folder = write_csv(tmp_path, delimiter=",", iso=True, bom=False)
    assert records(read_ledger(folder, Config())) == EXPECTED


def test_a_workbook_with_typed_cells_gives_the_same_ledger(tmp_path):
    assert records(read_ledger(write_xlsx(tmp_path / "erp.xlsx"), Config())) == EXPECTED


def test_a_folder_of_workbooks_is_read_from_their_first_sheets(tmp_path):
    write_sheets(tmp_path / "open_items.xlsx",
                 [("Export", ITEM_HEADER, ITEMS), ("Notes", SUB_HEADER, ())])
    write_sheets(tmp_path / "subscriptions.xlsx",
                 [("Abos", SUB_HEADER, SUBS), ("Notes", ITEM_HEADER, ())])
    assert records(read_ledger(tmp_path, Config())) == EXPECTED


def test_a_sqlite_url_and_a_sqlite_file_path_give_the_same_ledger(tmp_path):
    db = write_sqlite(tmp_path / "erp.db")
    assert records(read_ledger(f"sqlite:///{db}", Config())) == EXPECTED
    assert records(read_ledger(db, Config())) == EXPECTED


def test_a_select_per_entity_reads_an_erps_own_schema(tmp_path):
    db = write_sqlite(tmp_path / "pc.sqlite", item_table="debtor_items", sub_table="contracts",
                      item_header=tuple(f"x_{c}" for c in ITEM_HEADER),
                      sub_header=tuple(f"y_{c}" for c in SUB_HEADER))
    items = ", ".join(f"x_{c} AS {c}" for c in ITEM_HEADER)
    subs = ", ".join(f"y_{c} AS {c}" for c in SUB_HEADER)
    config = config_file(tmp_path, f'[sql]\nopen_items = "SELECT {items} FROM debtor_items"\n'
                                   f'subscriptions = """-- contracts\nSELECT {subs}\n'
                                   f'FROM contracts WHERE y_status <> \'x;y\';"""\n')
    assert records(read_ledger(f"sqlite:///{db}", config)) == EXPECTED


FRENCH_ITEMS = ("No poste", "No client", "Nom", "No abonnement", "No document",
                "Date document", "Échéance", "Montant", "Montant ouvert", "Monnaie",
                "Blocage rappel", "Litige")
FRENCH_MAPPING = "[columns.open_items]\n" + "".join(
    f'{c} = "{h}"\n' for c, h in zip(ITEM_HEADER, FRENCH_ITEMS, strict=True))


def test_named_tables_with_an_erps_own_headers_are_mapped_by_the_config(tmp_path):
    db = write_sqlite(tmp_path / "erp.sqlite", item_table="Postes ouverts",
                      sub_table="abonnements", item_header=FRENCH_ITEMS)
    config = config_file(tmp_path, '[tables]\nopen_items = "Postes ouverts"\n'
                                   'subscriptions = "abonnements"\n' + FRENCH_MAPPING)
    assert records(read_ledger(f"sqlite:///{db}", config)) == EXPECTED


def test_a_french_csv_export_is_mapped_by_the_config_and_headers_are_matched_loosely(tmp_path):
    folder = write_csv(tmp_path / "erp")
    items = folder / "open_items.csv"
    _, rest = items.read_text(encoding="utf-8-sig").split("\n", 1)
    # spaces around a header and another case still match when only one header fits
    shown = [f" {h.upper()} " if h == "Montant" else h for h in FRENCH_ITEMS]
    items.write_text(";".join(shown) + "\n" + rest, encoding="utf-8")
    assert records(read_ledger(folder, config_file(tmp_path, FRENCH_MAPPING))) == EXPECTED


def test_optional_columns_may_be_left_out(tmp_path):
    items = tuple(row[:10] for row in ITEMS)
    folder = write_csv(tmp_path, items=items)
    text = (folder / "open_items.csv").read_text(encoding="utf-8-sig")
    (folder / "open_items.csv").write_text(text.replace(";dunning_block;dispute", ""),
                                           encoding="utf-8")
    ledger = read_ledger(folder, Config())
    assert [(i.dunning_block, i.dispute) for i in ledger.items] == [(False, False)] * 3


def test_blank_lines_and_empty_rows_are_skipped(tmp_path):
    folder = write_csv(tmp_path)
    path = folder / "open_items.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[2:2] = ["", ";;;;;;;;;;;", ";;"]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    assert records(read_ledger(folder, Config())) == EXPECTED


def test_an_old_mac_export_with_lines_ending_in_cr_alone_is_read(tmp_path):
    folder = write_csv(tmp_path)
    for name in ("open_items.csv", "subscriptions.csv"):
        path = folder / name
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
    assert records(read_ledger(folder, Config())) == EXPECTED


def test_a_windows_1252_export_is_read_as_such(tmp_path):
    folder = write_csv(tmp_path, bom=False)
    for name in ("open_items.csv", "subscriptions.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_bytes(text.encode("cp1252"))
    assert records(read_ledger(folder, Config())) == EXPECTED


def test_an_excel_unicode_text_export_in_utf16_with_tabs_is_read(tmp_path):
    folder = write_csv(tmp_path, delimiter="\t", bom=False)
    for name in ("open_items.csv", "subscriptions.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        (folder / name).write_bytes(text.encode("utf-16"))
    assert records(read_ledger(folder, Config())) == EXPECTED


def test_reading_a_sqlite_file_changes_nothing_in_it(tmp_path):
    db = write_sqlite(tmp_path / "erp.sqlite")
    before = db.read_bytes()
    read_ledger(db, Config())
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["erp.sqlite"]


@pytest.mark.database
def test_a_database_server_gives_the_same_ledger(server_url):
    engine = create_engine(server_url)
    with engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE open_items (item_id VARCHAR(20), customer_id VARCHAR(20), "
            "customer_name VARCHAR(80), subscription_id VARCHAR(20), document_no VARCHAR(20), "
            "document_date DATE, due_date DATE, original_amount NUMERIC(12, 2), "
            "open_amount NUMERIC(12, 2), currency CHAR(3), dunning_block SMALLINT, "
            "dispute SMALLINT)"))
        connection.execute(text(
            "CREATE TABLE subscriptions (subscription_id VARCHAR(20), customer_id VARCHAR(20), "
            "status VARCHAR(20), end_date DATE, next_bill_date DATE, label VARCHAR(80))"))
        for table, header, rows in (("open_items", ITEM_HEADER, ITEMS),
                                    ("subscriptions", SUB_HEADER, SUBS)):
            connection.execute(
                text(f"INSERT INTO {table} VALUES ({', '.join(':' + c for c in header)})"),
                [{c: typed(c, cell) for c, cell in zip(header, row, strict=True)}
                 for row in rows])
    engine.dispose()
    assert records(read_ledger(server_url, Config())) == EXPECTED


def test_the_sqlite_file_of_a_plain_name_is_recognised_by_its_content(tmp_path):
    db = write_sqlite(tmp_path / "erp.data")
    assert records(read_ledger(db, Config())) == EXPECTED
