"""Settings: a TOML file (``--config``) overridden by command-line options.

Every section is optional; the defaults below are what an extraction uses without a file.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from addin.domain.batch import Accounts, Billing, Ledgering
from addin.domain.model import OpenItem, Subscription
from addin.domain.money import AmountError, to_money
from addin.domain.problems import ConfigError, Problem, Where
from addin.locations import Location

# A source's columns are the records' fields; those with a default may be absent.
OPEN_ITEM_COLUMNS = tuple(f for f in OpenItem._fields if f not in OpenItem._field_defaults)
OPEN_ITEM_OPTIONAL = tuple(OpenItem._field_defaults)
SUBSCRIPTION_COLUMNS = tuple(f for f in Subscription._fields
                             if f not in Subscription._field_defaults)
SUBSCRIPTION_OPTIONAL = tuple(Subscription._field_defaults)
ENTITIES = ("open_items", "subscriptions")
LANGUAGES = ("en", "fr", "de")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252")  # of the posting and rebill files


@dataclass(frozen=True)
class RuleSettings:
    threshold: Decimal = Decimal("5.00")
    min_overdue_days: int = 30
    write_off_limit: Decimal = Decimal("1.00")
    include_credits: bool = True
    repeat_limit: int = 0
    transit_alert_days: int = 60


@dataclass(frozen=True)
class Config:
    """All settings of one run. ``columns[entity][canonical]`` is the header in the source."""

    rules: RuleSettings = field(default_factory=RuleSettings)
    accounts: Accounts = field(default_factory=Accounts)
    billing: Billing = field(default_factory=Billing)
    vat_rates: dict[str, Decimal] = field(default_factory=dict)  # VAT code -> percent
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    sql: dict[str, str] = field(default_factory=dict)
    delimiter: str = ";"
    encoding: str = "utf-8"
    register: Location | None = None  # None: the user's default register
    language: str = "en"
    path: Path | None = None
    rebill_text: str = ""  # [billing] text as given; else the language's default

    @property
    def ledgering(self) -> Ledgering:
        """How batches are posted; the invoice text in the workbook's language, unless
        [billing] text names one."""
        text = self.rebill_text or REBILL_TEXTS.get(self.language, REBILL_TEXTS["en"])
        return Ledgering(self.accounts, replace(self.billing, text=text), self.vat_rates)

    def header_for(self, entity: str, canonical: str) -> str:
        return self.columns.get(entity, {}).get(canonical, canonical)

    def with_rules(self, **changes: Any) -> Config:
        wanted = {k: v for k, v in changes.items() if v is not None}
        return replace(self, rules=replace(self.rules, **wanted))


def load_config(path: Path | str | None) -> Config:
    """Read a TOML config; every problem is reported at once, naming the file and key."""
    if path is None:
        return Config()
    path = Path(path)
    if not path.is_file():
        raise ConfigError([Problem(Where(str(path)), "config file not found")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Problem(Where(str(path)), f"not valid TOML: {exc}")]) from exc
    return _from_dict(data, path)


class _Reader:
    """One config file's values, each problem noted with its key, all reported at once."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self.data, self.path, self.file = data, path, str(path)
        self.problems: list[Problem] = []

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.problems.append(Problem(Where(self.file, record=f"[{name}]"),
                                         "must be a table ([name])"))
            return {}
        return value

    def value(self, section: str, key: str, parse: Callable[[Any], T], default: T) -> T:
        raw = self.section(section).get(key)
        if raw is None:
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            self.note(f"[{section}] {key}", str(exc))
            return default

    def settings(self, section: str, table: Mapping[str, Callable[[Any], Any]],
                 defaults: object) -> dict[str, Any]:
        """Every key of ``table`` in ``section``; a key the table does not know is named."""
        for key in self.section(section).keys() - table.keys():
            self.note(f"[{section}] {key}", "unknown setting")
        return {key: self.value(section, key, parse, getattr(defaults, key))
                for key, parse in table.items()}

    def note(self, record: str, message: str) -> None:
        self.problems.append(Problem(Where(self.file, record=record), message))


T = TypeVar("T")


def _amount(raw: Any) -> Decimal:
    value = to_money(str(raw))  # an AmountError is a ValueError
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _whole(raw: Any) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise ValueError("must be a whole number >= 0")
    return raw


def _flag(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise ValueError("must be true or false")
    return raw


def _one_of(options: Sequence[str], said: str) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if raw not in options:
            raise ValueError(said)
        return str(raw)
    return parse


_RULES = {"threshold": _amount, "min_overdue_days": _whole, "write_off_limit": _amount,
          "include_credits": _flag, "repeat_limit": _whole, "transit_alert_days": _whole}
_EXPORT = {"delimiter": _one_of((";", ",", "\t", "|"), "must be ; , | or a tab"),
           "encoding": _one_of(ENCODINGS, f"must be {', '.join(ENCODINGS[:-1])} or "
                                          f"{ENCODINGS[-1]}")}
_WORKBOOK = {"language": _one_of(LANGUAGES, f"must be one of {', '.join(LANGUAGES)}")}


@dataclass(frozen=True)
class _Defaults:
    delimiter: str = ";"
    encoding: str = "utf-8"
    language: str = "en"


def _from_dict(data: dict[str, Any], path: Path) -> Config:
    reader = _Reader(data, path)
    rules = RuleSettings(**reader.settings("rules", _RULES, RuleSettings()))
    accounts = Accounts(**_strings(reader.section("accounts"), Accounts(), "accounts",
                                   reader.file, reader.problems))
    billing = _billing(reader.section("billing"), reader.file, reader.problems)
    vat_rates = _vat_rates(reader.section("vat"), reader.file, reader.problems)
    columns = _columns(reader.section("columns"), reader)
    tables = _entity_strings(reader.section("tables"), "tables", reader.file, reader.problems)
    sql = _entity_strings(reader.section("sql"), "sql", reader.file, reader.problems)
    export = reader.settings("export", _EXPORT, _Defaults())
    workbook = reader.settings("workbook", _WORKBOOK, _Defaults())
    register = _register(reader.section("register"), path, reader.problems)
    if reader.problems:
        raise ConfigError(reader.problems)
    return Config(rules=rules, accounts=accounts, billing=billing, vat_rates=vat_rates,
                  columns=columns, tables=tables, sql=sql, register=register, path=path,
                  rebill_text=str(reader.section("billing").get("text") or ""),
                  **export, **workbook)


def _columns(data: dict[str, Any], reader: _Reader) -> dict[str, dict[str, str]]:
    """[columns.entity] canonical = "header in the source"."""
    columns: dict[str, dict[str, str]] = {}
    for entity, mapping in data.items():
        allowed = _allowed_columns(entity)
        if allowed is None:
            reader.note(f"[columns.{entity}]", "unknown entity")
            continue
        for canonical, header in mapping.items():
            if canonical not in allowed:
                reader.note(f"[columns.{entity}] {canonical}", "unknown column")
            elif not isinstance(header, str) or not header.strip():
                reader.note(f"[columns.{entity}] {canonical}", "must be a text")
        columns[entity] = {k: str(v) for k, v in mapping.items()}
    return columns


def _register(data: dict[str, Any], path: Path, problems: list[Problem]) -> Location | None:
    """``path`` (a file, relative to the config file) or ``url`` (a database), not both."""
    where = Where(str(path), record="[register]")
    unknown = set(data) - {"path", "url"}
    if unknown:
        problems.append(Problem(where, f"unknown setting {', '.join(sorted(unknown))} "
                                       f"(path or url)"))
    given = {k: v for k, v in data.items() if k in ("path", "url")}
    if len(given) > 1:
        problems.append(Problem(where, "give path or url, not both"))
        return None
    if not given:
        return None
    key, value = next(iter(given.items()))
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(where._replace(record=f"[register] {key}"), "must be a text"))
        return None
    if key == "url":
        if "://" not in value:
            problems.append(Problem(where._replace(record="[register] url"),
                                    "not a database URL (postgresql+psycopg://user@host/db)"))
            return None
        return Location.of(value)
    return Location.of(value, base=path.parent)


REBILL_TEXTS = {"en": "Balance of previous invoices", "fr": "Solde de factures précédentes",
                "de": "Restbetrag früherer Rechnungen"}


def _billing(data: dict[str, Any], file: str, problems: list[Problem]) -> Billing:
    given = _strings(data, Billing(), "billing", file, problems)
    try:
        given.get("posting_text", Billing().posting_text).format(action="REBILL",
                                                                 document="F1")
    except (KeyError, IndexError, ValueError) as exc:
        problems.append(Problem(Where(file, record="[billing] posting_text"),
                                f"may name only {{action}} and {{document}}: {exc}"))
        given.pop("posting_text")
    return Billing(**given)


def _vat_rates(data: dict[str, Any], file: str, problems: list[Problem]) -> dict[str, Decimal]:
    """[vat.rates]: a VAT code -> its rate in percent, as a text ("8.1")."""
    unknown = set(data) - {"rates"}
    if unknown:
        problems.append(Problem(Where(file, record="[vat]"),
                                f"unknown setting {', '.join(sorted(unknown))} (rates)"))
    rates = data.get("rates", {})
    if not isinstance(rates, dict):
        problems.append(Problem(Where(file, record="[vat.rates]"), "must be a table"))
        return {}
    found: dict[str, Decimal] = {}
    for code, text in rates.items():
        try:
            rate = Decimal(str(text).strip())
        except ArithmeticError:
            rate = Decimal(-1)
        if isinstance(text, bool) or not rate.is_finite() or not 0 <= rate < 100:
            problems.append(Problem(Where(file, record=f"[vat.rates] {code}"),
                                    f"not a rate in percent (0 to 99.9, e.g. \"8.1\"): {text!r}"))
            continue
        found[str(code)] = rate
    return found


TRANSIT_COLUMNS = ("posting_date", "amount", "document_no", "reference")
TRANSIT_OPTIONAL = ("currency",)


def _allowed_columns(entity: str) -> tuple[str, ...] | None:
    if entity == "open_items":
        return OPEN_ITEM_COLUMNS + OPEN_ITEM_OPTIONAL
    if entity == "subscriptions":
        return SUBSCRIPTION_COLUMNS + SUBSCRIPTION_OPTIONAL
    if entity == "transit":
        return TRANSIT_COLUMNS + TRANSIT_OPTIONAL
    return None


def _strings(
    data: dict[str, Any], defaults: object, name: str, file: str, problems: list[Problem]
) -> dict[str, str]:
    known = set(defaults.__dataclass_fields__)  # type: ignore[attr-defined]
    result: dict[str, str] = {}
    for key, value in data.items():
        if key not in known:
            problems.append(Problem(Where(file, record=f"[{name}] {key}"), "unknown setting"))
        elif not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
            problems.append(Problem(Where(file, record=f"[{name}] {key}"), "must be a text"))
        else:
            result[key] = str(value)
    return result


def _entity_strings(
    data: dict[str, Any], name: str, file: str, problems: list[Problem]
) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in data.items():
        if key not in ENTITIES:
            problems.append(Problem(Where(file, record=f"[{name}] {key}"), "unknown entity"))
        elif not isinstance(value, str) or not value.strip():
            problems.append(Problem(Where(file, record=f"[{name}] {key}"), "must be a text"))
        else:
            result[key] = value
    return result


def parse_threshold(text: str, what: str = "threshold") -> Decimal:
    """A command-line amount: cents, not negative."""
    try:
        value = to_money(text)
    except AmountError as exc:
        raise ConfigError([Problem(Where(record=f"--{what}"), str(exc))]) from exc
    if value < 0:
        raise ConfigError([Problem(Where(record=f"--{what}"), f"must not be negative: {text}")])
    return value


def parse_day(text: str, what: str = "as-of") -> dt.date:
    """A date as 2026-11-24 or 24.11.2026."""
    from addin.sources.values import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise ConfigError([Problem(Where(record=f"--{what}"), str(exc))]) from exc
