"""The measurements, each run in its own process by benchmarks/run.py."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from addin.progress import Stages

AS_OF = dt.date(2026, 11, 30)
THRESHOLD = Decimal("5.00")


def peak_mb() -> float:
    """Peak resident set of this process since the last reset (VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        pass  # not Linux, or not allowed: the peak is then the process's overall peak


class MeasuredStages(Stages):
    """Stages that also keep each stage's peak memory."""

    def __init__(self) -> None:
        super().__init__()
        self.memory: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, label: str) -> Iterator[None]:
        reset_peak()
        with super().stage(name, label):
            yield
        self.memory[name] = max(self.memory.get(name, 0.0), peak_mb())


def _figures(stages: MeasuredStages, wall: float, **extra: object) -> dict:
    return {"wall": round(wall, 3),
            "peak_mb": round(max(stages.memory.values(), default=peak_mb()), 1),
            "stages": {k: {"s": round(v, 3), "mb": round(stages.memory.get(k, 0.0), 1)}
                       for k, v in stages.seconds.items()},
            **extra}


def prepare_source(kind: str, size: int, work: Path) -> Path:
    """Generate (once) the ledger of a case: SQLite, its CSV or xlsx export, or a dirty
    ledger."""
    from addin.demo.ledger import generate_ledger, write_csv_folder

    work.mkdir(parents=True, exist_ok=True)
    if kind == "dirty":
        path = work / f"dirty-{size}.sqlite"
        if not path.exists():
            generate_ledger(path, items=max(size * 5, 500_000), flagged_subscriptions=size,
                            as_of=AS_OF)
        return path
    path = work / f"ledger-{size}.sqlite"
    if not path.exists():
        generate_ledger(path, items=size, as_of=AS_OF)
    if kind == "csv":
        folder = work / f"csv-{size}"
        if not (folder / "open_items.csv").exists():
            write_csv_folder(path, folder)
        return folder
    if kind == "xlsx":
        folder = work / f"xlsx-{size}"
        if not (folder / "subscriptions.xlsx").exists():  # written last
            _write_xlsx_folder(path, folder)
        return folder
    return path


_XLSX_DATES = {"document_date", "due_date", "end_date", "next_bill_date"}
_XLSX_NUMBERS = {"original_amount", "open_amount", "dunning_block", "dispute"}


def _write_xlsx_folder(ledger: Path, folder: Path) -> None:
    """Both tables as workbooks an ERP's Excel export gives: dates and amounts as typed
    cells, ids and names as texts (XlsxWriter, constant memory)."""
    import sqlite3

    import xlsxwriter

    folder.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(ledger) as connection:
        for table in ("open_items", "subscriptions"):
            cursor = connection.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            book = xlsxwriter.Workbook(str(folder / f"{table}.xlsx"), {"constant_memory": True})
            sheet = book.add_worksheet(table)
            day = book.add_format({"num_format": "dd.mm.yyyy"})
            sheet.write_row(0, 0, names)
            for r, row in enumerate(cursor, start=1):
                for c, (name, value) in enumerate(zip(names, row, strict=True)):
                    if value in (None, ""):
                        continue
                    if name in _XLSX_DATES:
                        sheet.write_datetime(r, c, dt.datetime.fromisoformat(str(value)), day)
                    elif name in _XLSX_NUMBERS:
                        sheet.write_number(r, c, float(value))
                    else:
                        sheet.write_string(r, c, str(value))
            book.close()
    connection.close()


def _installation(work: Path):  # type: ignore[no-untyped-def]
    """The settings of a run: its own register in its work folder."""
    from dataclasses import replace

    from addin.config import Config
    from addin.locations import Location

    return replace(Config(), register=Location.of(work / "register.sqlite"))


def prepare_run(work: Path) -> None:
    """A run's folder emptied and its register created (as in use: the review carries the
    register's check values), in a process of its own: the measured one then starts with
    nothing of Reliquat imported, as a command does."""
    from addin import api

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    api.register_init(_installation(work))


def measure_extract(source: str, work: Path) -> dict:
    start = time.perf_counter()  # imports count, as they do for the naive pipeline
    from addin import api

    stages = MeasuredStages()
    outcome = api.extract(source, work / "review.xlsm", threshold=THRESHOLD, as_of=AS_OF,
                          config=_installation(work), stages=stages)
    wall = time.perf_counter() - start
    return _figures(stages, wall, rows=len(outcome.selection.residuals),
                    items_fetched=outcome.items_fetched,
                    items_in_source=outcome.selection.items_read)


def measure_commit(work: Path) -> dict:
    start = time.perf_counter()
    from addin import api

    stages = MeasuredStages()
    outcome = api.commit(work / "review.xlsm", work / "out", accept_proposals=True,
                         config=_installation(work), stages=stages)
    wall = time.perf_counter() - start
    assert outcome.batch is not None
    return _figures(stages, wall, rows=len(outcome.batch.decisions))


def measure_naive(source: str, work: Path) -> dict:
    """What a competent analyst writes first: everything into pandas, to_excel out."""
    start = time.perf_counter()
    import pandas as pd
    from sqlalchemy import create_engine

    stages = MeasuredStages()
    engine = create_engine(f"sqlite:///{source}")
    with stages.stage("fetch", "read_sql"):
        items = pd.read_sql("SELECT * FROM open_items", engine)
        subs = pd.read_sql("SELECT * FROM subscriptions", engine)
    with stages.stage("rules", "pandas"):
        items["cents"] = (pd.to_numeric(items["open_amount"]) * 100).round().astype("int64")
        due = pd.to_datetime(items["due_date"])
        eligible = items[(items["cents"] != 0) & (due <= pd.Timestamp(AS_OF)
                         - pd.Timedelta(days=30)) & (items["dunning_block"].astype(int) == 0)
                         & (items["dispute"].astype(int) == 0)]
        sums = eligible.groupby(["subscription_id", "currency"])["cents"].sum().reset_index()
        flagged = sums[(sums["cents"] != 0) & (sums["cents"].abs() <= int(THRESHOLD * 100))]
        residuals = flagged.merge(subs, on="subscription_id", how="left")
        behind = eligible.merge(flagged[["subscription_id", "currency"]],
                                on=["subscription_id", "currency"])
    with (stages.stage("write", "to_excel"),
          pd.ExcelWriter(work / "naive.xlsx", engine="openpyxl") as writer):
        residuals.to_excel(writer, sheet_name="Residuals", index=False)
        behind.to_excel(writer, sheet_name="Items", index=False)
    engine.dispose()
    return _figures(stages, time.perf_counter() - start, rows=len(residuals))


def measure_naive_csv(source: str, work: Path) -> dict:
    """The same naive pipeline on the CSV export: pandas.read_csv of both files (every column
    as text, as ids keep their zeros), dates and amounts converted by pandas, the same rules."""
    start = time.perf_counter()
    import pandas as pd

    stages = MeasuredStages()
    folder = Path(source)
    with stages.stage("fetch", "read_csv"):
        items = pd.read_csv(folder / "open_items.csv", sep=";", dtype=str,
                            keep_default_na=False, encoding="utf-8-sig")
        subs = pd.read_csv(folder / "subscriptions.csv", sep=";", dtype=str,
                           keep_default_na=False, encoding="utf-8-sig")
    with stages.stage("rules", "pandas"):
        amounts = pd.to_numeric(items["open_amount"].str.replace("'", "", regex=False))
        items["cents"] = (amounts * 100).round().astype("int64")
        due = pd.to_datetime(items["due_date"], format="%d.%m.%Y")
        eligible = items[(items["cents"] != 0) & (due <= pd.Timestamp(AS_OF)
                         - pd.Timedelta(days=30)) & (items["dunning_block"] == "0")
                         & (items["dispute"] == "0")]
        sums = eligible.groupby(["subscription_id", "currency"])["cents"].sum().reset_index()
        flagged = sums[(sums["cents"] != 0) & (sums["cents"].abs() <= int(THRESHOLD * 100))]
        residuals = flagged.merge(subs, on="subscription_id", how="left")
        behind = eligible.merge(flagged[["subscription_id", "currency"]],
                                on=["subscription_id", "currency"])
    with (stages.stage("write", "to_excel"),
          pd.ExcelWriter(work / "naive.xlsx", engine="openpyxl") as writer):
        residuals.to_excel(writer, sheet_name="Residuals", index=False)
        behind.to_excel(writer, sheet_name="Items", index=False)
    return _figures(stages, time.perf_counter() - start, rows=len(residuals))


def measure_floor(source: str, work: Path) -> dict:
    """The selection query alone, and its rows written with the fastest xlsx writer at hand:
    XlsxWriter in constant-memory mode and Reliquat's own streaming writer both write the
    same rows; the faster one is the floor."""
    start = time.perf_counter()
    from sqlalchemy import create_engine

    from addin.config import Config
    from addin.extract import rules_for
    from addin.sources.entities import describe
    from addin.sources.pushdown import read_selection_source

    stages = MeasuredStages()
    engine = create_engine(f"sqlite:///{source}")
    rules = rules_for(Config(), THRESHOLD, AS_OF)
    with stages.stage("fetch", "selection query"), engine.connect() as conn:
        items, subs = (describe(conn, entity, Config(), "floor")
                       for entity in ("open_items", "subscriptions"))
        selected = read_selection_source(conn, Config(), items, subs, rules, [], "floor")
    assert selected is not None, "the benchmark's ledger is written as SQL compares it"
    ledger = selected[0]
    engine.dispose()
    fetched = time.perf_counter() - start
    rows = [[item.item_id, item.customer_id, item.customer_name, item.subscription_id,
             item.document_no, item.due_date, item.open_amount, item.currency]
            for item in ledger.items]
    writers = {"xlsxwriter": _floor_xlsxwriter, "reliquat": _floor_streaming}
    seconds = {}
    for name, write in writers.items():
        with stages.stage(f"write-{name}", name):
            began = time.perf_counter()
            write(rows, work / f"floor-{name}.xlsx")
            seconds[name] = time.perf_counter() - began
    fastest = min(seconds, key=seconds.__getitem__)
    return _figures(stages, fetched + seconds[fastest], rows=len(rows), writer=fastest)


def _floor_xlsxwriter(rows: list[list[object]], path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Items")
    date_format = book.add_format({"num_format": "DD.MM.YYYY"})
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, row[:5])
        sheet.write_datetime(number, 5, row[5], date_format)
        sheet.write_number(number, 6, float(row[6]))  # type: ignore[arg-type]
        sheet.write_string(number, 7, row[7])  # type: ignore[arg-type]
    book.close()


def _floor_streaming(rows: list[list[object]], path: Path) -> None:
    from addin.workbook.ooxml.writer import write_package
    from addin.workbook.review import layout
    from addin.workbook.review.content import SheetContent, WorkbookContent

    columns = tuple(layout.Column(key, key, key, key, kind) for key, kind in (
        ("item_id", layout.Kind.TEXT), ("customer_id", layout.Kind.TEXT),
        ("customer_name", layout.Kind.TEXT), ("subscription_id", layout.Kind.TEXT),
        ("document_no", layout.Kind.TEXT), ("due_date", layout.Kind.DATE),
        ("open_amount", layout.Kind.AMOUNT), ("currency", layout.Kind.TEXT)))
    sheet = layout.Sheet("items", "Items", "Items", "Items", columns, "shItems", filtered=False)
    write_package(WorkbookContent([SheetContent(sheet, "en", rows, with_header=False)]), path)


def measure_writer(source: str, work: Path) -> dict:
    """The review of an extraction written by Reliquat's streaming writer alone: what the
    dirty ledger's extract and commit are held against."""
    from addin import api
    from addin.workbook.xlsm import write_review_file

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config = _installation(work)
    api.register_init(config)
    outcome = api.prepare_extract(source, work / "review.xlsm", config=config,
                                  threshold=THRESHOLD, as_of=AS_OF)
    stages = MeasuredStages()
    start = time.perf_counter()
    with stages.stage("write", "streaming writer"):
        write_review_file(outcome.content, work / "writer-only.xlsm")
    return _figures(stages, time.perf_counter() - start,
                    rows=len(outcome.selection.residuals))


# The servers of this machine (as in tests/conftest.py), and the database the benchmark uses.
SERVERS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
           "mariadb": "mysql+pymysql://root@127.0.0.1:3306/{db}"}
BENCH_DATABASE = "reliquat_bench"
_SERVER_TYPES = {"original_amount": "NUMERIC(12, 2)", "open_amount": "NUMERIC(12, 2)",
                 "document_date": "DATE", "due_date": "DATE", "end_date": "DATE",
                 "next_bill_date": "DATE", "dunning_block": "SMALLINT", "dispute": "SMALLINT"}
_INDEXES = (("open_items", "subscription_id"), ("open_items", "customer_id"),
            ("subscriptions", "customer_id"))


def prepare_server(kind: str, size: int, work: Path) -> str:
    """The SQLite ledger of ``size`` items copied (once) into this machine's PostgreSQL or
    MariaDB, with proper types and the SQLite ledger's keys and indexes: the URL to extract
    from."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    sqlite_path = prepare_source("sqlite", size, work)
    _create_database(kind)
    url = SERVERS[kind].format(db=BENCH_DATABASE)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            loaded = conn.execute(text("SELECT count(*) FROM open_items")).scalar_one()
        if loaded == size:
            return url
    except SQLAlchemyError:  # not loaded yet
        pass
    finally:
        engine.dispose()
    _load(sqlite_path, url)
    return url


def _create_database(kind: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(SERVERS[kind].format(db="test"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if kind == "postgresql":
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                                  {"d": BENCH_DATABASE}).first()
            if not exists:
                conn.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
        else:
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS {BENCH_DATABASE}"))
    engine.dispose()


def _load(sqlite_path: Path, url: str) -> None:
    import sqlite3

    from sqlalchemy import create_engine, text

    source = sqlite3.connect(sqlite_path)
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("open_items", "subscriptions"):
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            names = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
            columns = ", ".join(f"{n} {_SERVER_TYPES.get(n, 'VARCHAR(120)')}" for n in names)
            key = ", PRIMARY KEY (subscription_id)" if table == "subscriptions" else ""
            conn.execute(text(f"CREATE TABLE {table} ({columns}{key})"))
            insert = text(f"INSERT INTO {table} VALUES ({', '.join(':' + n for n in names)})")
            cursor = source.execute(f"SELECT * FROM {table}")
            while rows := cursor.fetchmany(50_000):
                conn.execute(insert, [dict(zip(names, map(_typed, names, row), strict=True))
                                      for row in rows])
        for table, column in _INDEXES:
            conn.execute(text(f"CREATE INDEX {table}_{column} ON {table} ({column})"))
    engine.dispose()
    source.close()


def _typed(name: str, value: object) -> object:
    kind = _SERVER_TYPES.get(name)
    if kind is None:
        return value
    if value in (None, ""):
        return None
    if kind == "DATE":
        return dt.date.fromisoformat(str(value))
    return Decimal(str(value)) if kind.startswith("NUMERIC") else int(str(value))


def measure_server_query(url: str, work: Path) -> dict:
    """The selection query alone (per subscription and currency, the eligible items summed
    and kept at or below the threshold), executed by the server and fetched."""
    from sqlalchemy import create_engine

    from addin.config import Config
    from addin.extract import rules_for
    from addin.sources.entities import describe
    from addin.sources.pushdown import selection_sums

    engine = create_engine(url)
    stages = MeasuredStages()
    with engine.connect() as conn:
        items = describe(conn, "open_items", Config(), url).query.subquery("oi")
        query = selection_sums(items, rules_for(Config(), THRESHOLD, AS_OF))
        start = time.perf_counter()
        with stages.stage("query", "selection alone"):
            rows = conn.execute(query).fetchall()
        wall = time.perf_counter() - start
    engine.dispose()
    return _figures(stages, wall, rows=len(rows))
