"""Settings: a TOML file (``--config``) overridden by command-line options.

Every section is optional; the defaults below are what an extraction uses without a file.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

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


def _from_dict(data: dict[str, Any], path: Path) -> Config:
    problems: list[Problem] = []
    file = str(path)

    def section(name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            problems.append(Problem(Where(file, record=f"[{name}]"), "must be a table ([name])"))
            return {}
        return value

    def amount(sect: str, key: str, default: Decimal) -> Decimal:
        raw = section(sect).get(key)
        if raw is None:
            return default
        try:
            value = to_money(str(raw))
        except AmountError as exc:
            problems.append(Problem(Where(file, record=f"[{sect}] {key}"), str(exc)))
            return default
        if value < 0:
            problems.append(Problem(Where(file, record=f"[{sect}] {key}"), "must not be negative"))
        return value

    def whole(sect: str, key: str, default: int) -> int:
        value = section(sect).get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(Problem(Where(file, record=f"[{sect}] {key}"),
                                    "must be a whole number >= 0"))
            return default
        return value

    rules_data = section("rules")
    defaults = RuleSettings()
    threshold = amount("rules", "threshold", defaults.threshold)
    write_off_limit = amount("rules", "write_off_limit", defaults.write_off_limit)
    min_days = whole("rules", "min_overdue_days", defaults.min_overdue_days)
    credits = rules_data.get("include_credits", defaults.include_credits)
    if not isinstance(credits, bool):
        problems.append(
            Problem(Where(file, record="[rules] include_credits"), "must be true or false"))
        credits = defaults.include_credits
    rules = RuleSettings(
        threshold=threshold,
        min_overdue_days=min_days,
        write_off_limit=write_off_limit,
        include_credits=credits,
        repeat_limit=whole("rules", "repeat_limit", defaults.repeat_limit),
        transit_alert_days=whole("rules", "transit_alert_days", defaults.transit_alert_days),
    )

    accounts = Accounts(**_strings(section("accounts"), Accounts(), "accounts", file, problems))
    billing = _billing(section("billing"), file, problems)
    rebill_text = str(section("billing").get("text") or "")
    vat_rates = _vat_rates(section("vat"), file, problems)

    columns: dict[str, dict[str, str]] = {}
    for entity, mapping in section("columns").items():
        allowed = _allowed_columns(entity)
        if allowed is None:
            problems.append(Problem(Where(file, record=f"[columns.{entity}]"), "unknown entity"))
            continue
        for canonical, header in mapping.items():
            if canonical not in allowed:
                problems.append(
                    Problem(Where(file, record=f"[columns.{entity}] {canonical}"), "unknown column")
                )
            elif not isinstance(header, str) or not header.strip():
                problems.append(
                    Problem(Where(file, record=f"[columns.{entity}] {canonical}"), "must be a text")
                )
        columns[entity] = {k: str(v) for k, v in mapping.items()}

    tables = _entity_strings(section("tables"), "tables", file, problems)
    sql = _entity_strings(section("sql"), "sql", file, problems)

    export = section("export")
    delimiter = export.get("delimiter", ";")
    if delimiter not in (";", ",", "\t", "|"):
        problems.append(Problem(Where(file, record="[export] delimiter"), "must be ; , | or a tab"))
        delimiter = ";"
    encoding = export.get("encoding", "utf-8")
    if encoding not in ENCODINGS:
        problems.append(Problem(Where(file, record="[export] encoding"),
                                f"must be {', '.join(ENCODINGS[:-1])} or {ENCODINGS[-1]}"))
        encoding = "utf-8"

    register = _register(section("register"), path, problems)

    language = section("workbook").get("language", "en")
    if language not in LANGUAGES:
        problems.append(
            Problem(Where(file, record="[workbook] language"),
                    f"must be one of {', '.join(LANGUAGES)}")
        )
        language = "en"

    if problems:
        raise ConfigError(problems)
    return Config(
        rules=rules,
        accounts=accounts,
        billing=billing,
        vat_rates=vat_rates,
        columns=columns,
        tables=tables,
        sql=sql,
        delimiter=delimiter,
        encoding=encoding,
        register=register,
        language=language,
        path=path,
        rebill_text=rebill_text,
    )


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
