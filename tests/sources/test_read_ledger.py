"""Every source format reads the same ledger; every bad input names file, line and column."""

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from addin.config import Config, load_config
from addin.domain.problems import SourceError
from addin.sources import read_ledger
from tests.builders import small_utility, write_csv_ledger

ITEMS_HEADER = ("item_id;customer_id;customer_name;subscription_id;document_no;document_date;"
                "due_date;original_amount;open_amount;currency;dunning_block;dispute")
SUBS = "subscription_id;customer_id;status;end_date;next_bill_date;label\n" \
       "S1;C1;active;;15.12.2026;Électricité\nS2;C2;terminated;31.03.2026;;Eau\n"


def csv_ledger(folder: Path, *item_lines: str, subs: str = SUBS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_items.csv").write_text(
        "\ufeff" + ITEMS_HEADER + "\n" + "\n".join(item_lines) + "\n", encoding="utf-8")
    (folder / "subscriptions.csv").write_text(subs, encoding="utf-8")
    return folder


GOOD = "I1;C1;Müller Hans;S1;F1;01.09.2026;01.10.2026;1'100.50;0.50;CHF;0;0"


def problems(source, config=None) -> list[str]:
    with pytest.raises(SourceError) as error:
        read_ledger(source, config or Config())
    return [str(p) for p in error.value.problems]


def test_a_swiss_csv_export_is_read_exactly(tmp_path):
    ledger = read_ledger(csv_ledger(tmp_path, GOOD), Config())
    [item] = ledger.items
    assert (item.item_id, item.original_amount, item.open_amount, item.due_date) == (
        "I1", Decimal("1100.50"), Decimal("0.50"), dt.date(2026, 10, 1))
    assert ledger.subscriptions["S1"].next_bill_date == dt.date(2026, 12, 15)
    assert ledger.subscriptions["S2"].end_date == dt.date(2026, 3, 31)


def test_csv_xlsx_and_sqlite_sources_give_the_same_ledger(tmp_path):
    items, subs = small_utility()
    folder = write_csv_ledger(tmp_path / "csv", items, subs)
    from_csv = read_ledger(folder, Config())

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in ("open_items", "subscriptions"):
        sheet = book.create_sheet(name)
        text = (folder / f"{name}.csv").read_text(encoding="utf-8-sig")
        for line in __import__("csv").reader(text.splitlines(), delimiter=";"):
            sheet.append(line)
            for cell in sheet[sheet.max_row]:
                cell.data_type = "s"  # "=Dupont" is a name, not a formula
    book.save(tmp_path / "erp.xlsx")
    from_xlsx = read_ledger(tmp_path / "erp.xlsx", Config())

    db = tmp_path / "erp.sqlite"
    with sqlite3.connect(db) as conn:
        for name in ("open_items", "subscriptions"):
            text = (folder / f"{name}.csv").read_text(encoding="utf-8-sig")
            rows = list(__import__("csv").reader(text.splitlines(), delimiter=";"))
            conn.execute(f"CREATE TABLE {name} ({', '.join(c + ' TEXT' for c in rows[0])})")
            conn.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(rows[0]))})",
                             rows[1:])
    from_sqlite = read_ledger(f"sqlite:///{db}", Config())

    assert from_csv.items == from_xlsx.items == from_sqlite.items
    assert from_csv.subscriptions == from_xlsx.subscriptions == from_sqlite.subscriptions


def test_an_erps_own_headers_are_mapped_by_the_config(tmp_path):
    folder = tmp_path / "erp"
    folder.mkdir()
    (folder / "open_items.csv").write_text(
        "No poste,No client,Nom,No abonnement,No document,Date document,Échéance,Montant,"
        "Montant ouvert,Monnaie\nP1,C1,Boillat,S1,F1,2026-09-01,2026-10-01,50.00,0.20,CHF\n",
        encoding="utf-8")
    (folder / "subscriptions.csv").write_text(SUBS, encoding="utf-8")
    config_path = tmp_path / "erp.toml"
    config_path.write_text(
        '[columns.open_items]\nitem_id = "No poste"\ncustomer_id = "No client"\n'
        'customer_name = "Nom"\nsubscription_id = "No abonnement"\n'
        'document_no = "No document"\ndocument_date = "Date document"\n'
        'due_date = "Échéance"\noriginal_amount = "Montant"\nopen_amount = "Montant ouvert"\n'
        'currency = "Monnaie"\n', encoding="utf-8")
    [item] = read_ledger(folder, load_config(config_path)).items
    assert (item.item_id, item.open_amount) == ("P1", Decimal("0.20"))


def test_a_missing_column_is_named_with_the_header_the_config_expects(tmp_path):
    folder = csv_ledger(tmp_path, GOOD)
    text = (folder / "open_items.csv").read_text(encoding="utf-8-sig")
    (folder / "open_items.csv").write_text(text.replace("due_date", "due"), encoding="utf-8")
    assert problems(folder) == [f"{folder / 'open_items.csv'}, line 1: missing column 'due_date'"]


@pytest.mark.parametrize(("line", "column", "message"), [
    ("I2;C1;X;S1;F1;01.09.2026;01.10.2026;100.50;12,50;CHF;0;0", "open_amount",
     "not an amount: '12,50'"),
    ("I2;C1;X;S1;F1;01.09.2026;01.10.2026;100.50;abc;CHF;0;0", "open_amount",
     "not an amount: 'abc'"),
    ("I2;C1;X;S1;F1;01.09.2026;01.10.2026;100.505;0.50;CHF;0;0", "original_amount",
     "more than two decimals: '100.505'"),
    ("I2;C1;X;S1;F1;01.09.2026;31.02.2026;100.50;0.50;CHF;0;0", "due_date",
     "no such date: '31.02.2026'"),
    ("I2;C1;X;S1;;01.09.2026;01.10.2026;100.50;0.50;CHF;0;0", "document_no", "empty"),
    ("I2;C1;X;S1;F1;01.09.2026;01.10.2026;100.50;0.50;CHF;2;0", "dunning_block",
     "not a flag (expected 0 or 1): '2'"),
    ("I2;C1;X;S9;F1;01.09.2026;01.10.2026;100.50;0.50;CHF;0;0", "subscription_id",
     "unknown subscription 'S9'"),
    ("I2;C2;X;S1;F1;01.09.2026;01.10.2026;100.50;0.50;CHF;0;0", "customer_id",
     "customer 'C2' but subscription 'S1' belongs to 'C1'"),
])
def test_each_bad_cell_is_named_by_file_line_and_column(tmp_path, line, column, message):
    folder = csv_ledger(tmp_path, GOOD, line)
    assert problems(folder) == [f"{folder / 'open_items.csv'}, line 3, column '{column}': "
                                f"{message}"]


def test_a_duplicate_item_names_both_lines(tmp_path):
    folder = csv_ledger(tmp_path, GOOD, GOOD)
    assert problems(folder) == [f"{folder / 'open_items.csv'}, line 3, column 'item_id': "
                                f"duplicate item 'I1' (first at line 2)"]


def test_an_unknown_status_and_a_duplicate_subscription_are_named(tmp_path):
    subs = SUBS + "S1;C1;active;;;\nS3;C3;paused;;;\n"
    folder = csv_ledger(tmp_path, GOOD, subs=subs)
    path = folder / "subscriptions.csv"
    assert problems(folder) == [
        f"{path}, line 4, column 'subscription_id': duplicate subscription 'S1' (first at line 2)",
        f"{path}, line 5, column 'status': unknown status 'paused' (expected active or terminated)",
    ]


def test_all_problems_are_reported_at_once(tmp_path):
    folder = csv_ledger(tmp_path, GOOD.replace(";0.50;", ";x;"),
                        GOOD.replace("I1", "I2").replace("01.10.2026", "1.13.2026"))
    assert len(problems(folder)) == 2


def test_a_missing_source_and_a_missing_file_are_named(tmp_path):
    assert problems(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: source not found"]
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "open_items.csv").write_text(ITEMS_HEADER + "\n", encoding="utf-8")
    assert problems(tmp_path / "half") == [
        f"{tmp_path / 'half' / 'subscriptions.csv'}: missing file: subscriptions.csv "
        f"(or subscriptions.xlsx)"]


def test_a_missing_table_in_a_database_is_named(tmp_path):
    db = tmp_path / "empty.sqlite"
    sqlite3.connect(db).close()
    [message] = problems(f"sqlite:///{db}")
    assert "missing table or view" in message and "open_items" in message


def test_a_select_per_entity_reads_an_erps_own_schema(tmp_path):
    db = tmp_path / "proconcept.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript("""
            CREATE TABLE debtor_items (doc_id TEXT, cust TEXT, cust_name TEXT, contract TEXT,
                doc_no TEXT, doc_date TEXT, due TEXT, amount NUMERIC, open NUMERIC, cur TEXT);
            INSERT INTO debtor_items VALUES ('D1','C1','Gerber','S1','F1','2026-09-01',
                '2026-10-01', 80.50, 0.50, 'CHF');
            CREATE TABLE contracts (id TEXT, cust TEXT, state TEXT, ends TEXT, next_bill TEXT);
            INSERT INTO contracts VALUES ('S1','C1','active',NULL,'2026-12-15');
        """)
    config_path = tmp_path / "pc.toml"
    config_path.write_text(
        '[sql]\nopen_items = """SELECT doc_id AS item_id, cust AS customer_id, '
        'cust_name AS customer_name, contract AS subscription_id, doc_no AS document_no, '
        'doc_date AS document_date, due AS due_date, amount AS original_amount, '
        'open AS open_amount, cur AS currency FROM debtor_items"""\n'
        'subscriptions = """SELECT id AS subscription_id, cust AS customer_id, '
        'state AS status, ends AS end_date, next_bill AS next_bill_date FROM contracts"""\n',
        encoding="utf-8")
    ledger = read_ledger(f"sqlite:///{db}", load_config(config_path))
    assert [(i.item_id, i.open_amount) for i in ledger.items] == [("D1", Decimal("0.50"))]
