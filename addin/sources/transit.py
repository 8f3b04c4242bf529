"""The ERP's export of the transit account's movements, for ``reliquat reconcile``: a CSV or an
.xlsx (its first sheet) with posting_date, amount (signed: + debit), document_no, reference
and, optionally, currency (CHF when absent); ``[columns.transit]`` maps other headers. Every
bad cell is named by its file, line and column, as for the open items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from addin.config import Config
from addin.domain.problems import Problem, SourceError, Where
from addin.domain.transit import Movement
from addin.sources.columns import Issues, located_problems, parsed, texts
from addin.sources.table import RawColumns
from addin.sources.values import parse_amount, parse_currency, parse_date

DEFAULT_CURRENCY = "CHF"


def read_movements(path: Path, config: Config) -> list[Movement]:
    raw = _columns(path, config)
    issues = Issues(raw, "movement")
    days = parsed(raw, "posting_date", parse_date, issues, dt.date.min)
    amounts = parsed(raw, "amount", parse_amount, issues, Decimal(0))
    currencies = parsed(raw, "currency", parse_currency, issues, DEFAULT_CURRENCY,
                        required=False) if "currency" in raw.cells else \
        [DEFAULT_CURRENCY] * raw.size
    documents = texts(raw, "document_no", issues, required=False)
    references = texts(raw, "reference", issues, required=False)
    problems = located_problems(issues)
    if problems:
        raise SourceError(problems)
    return [Movement(raw.line_of(row), days[row], amounts[row], currencies[row],
                     documents[row], references[row]) for row in range(raw.size)]


def _columns(path: Path, config: Config) -> RawColumns:
    if not path.is_file():
        raise SourceError([Problem(Where(str(path)), "transit file not found")])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from addin.sources.csv_source import read_csv_columns

        return read_csv_columns(path, "transit", config)
    if suffix in (".xlsx", ".xlsm"):
        from addin.sources.xlsx_source import read_sheet_columns

        return read_sheet_columns(path, None, "transit", config)
    raise SourceError([Problem(Where(str(path)), "the transit file must be .csv or .xlsx")])
