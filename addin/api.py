"""The one door: the command line, the Excel buttons and the worksheet functions call this."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from addin.commit import CommitOutcome, CommitRequest
from addin.commit import commit as _commit
from addin.commit.protocol import CommitIncomplete as CommitIncomplete  # a commit not finished
from addin.commit.protocol import recover
from addin.commit.reverse import ReverseOutcome, ReverseRequest
from addin.commit.reverse import reverse as _reverse
from addin.commit.stamps import reversal_block
from addin.config import Config as Config
from addin.config import load_config
from addin.domain import insights
from addin.domain.actions import ActionTotal
from addin.domain.checks import state_of
from addin.domain.history import customer_histories
from addin.domain.model import CustomerHistory, Ledger, Selection, Subscription
from addin.domain.problems import Problem, ReliquatError, Where
from addin.domain.transit import Reconciliation
from addin.domain.transit import reconcile as reconcile_lines
from addin.extract import AuditTrail as AuditTrail  # raised by refuse_overwriting
from addin.extract import (
    ExtractOutcome,
    ExtractRequest,
    refuse_overwriting_review,
    rules_for,
)
from addin.extract import extract as _extract
from addin.extract import prepare as _prepare
from addin.locations import Location
from addin.progress import Stages as Stages
from addin.register.history import (
    cleared,
    rebills_due,
    record_cleared,
    residuals_since,
)
from addin.register.location import register_for
from addin.register.lock import commit_lock
from addin.register.store import Register
from addin.register.witness import check, rebuild
from addin.sources.cached import load_ledger
from addin.sources.transit import read_movements
from addin.workbook.openpyxl_file import FileReview
from addin.workbook.port import ReviewWorkbook, Stamps

Tell = Callable[[str], None]  # hears what a command finished or undid first, one message each


def with_language(config: Config, language: str) -> Config:
    return replace(config, language=language)


def settings(config_file: Path | None, language: str = "") -> Config:
    """The settings of a config file (the defaults without one), in ``language`` if given."""
    config = load_config(config_file)
    return with_language(config, language) if language else config


def extract(source: str | Path | Location, out: Path, *, config: Config | None = None,
            threshold: Decimal | None = None, as_of: dt.date | None = None,
            stages: Stages | None = None, user: str = "", now: dt.datetime | None = None,
            force: bool = False, tell: Tell | None = None) -> ExtractOutcome:
    """Extract to a review workbook file (.xlsm with the ribbon, or .xlsx)."""
    request = ExtractRequest(
        source=_location(source), out=Path(out), config=config or Config(),
        threshold=threshold, as_of=as_of, user=user, now=now, force=force)
    recovered = _recover_first(request.config, tell)
    return replace(_extract(request, stages), recovered=recovered)


def prepare_extract(source: str | Path | Location, workbook: Path, *,
                    config: Config | None = None, threshold: Decimal | None = None,
                    as_of: dt.date | None = None, out_dir: str = "",
                    stages: Stages | None = None, tell: Tell | None = None) -> ExtractOutcome:
    """Everything an extraction computes, writing nothing: Excel writes it into the live
    ``workbook``. A relative ``source`` is taken from the workbook's folder; ``out_dir`` is
    the export folder as Control shows it, kept there."""
    request = ExtractRequest(source=_location(source, base=Path(workbook).resolve().parent),
                             out=Path(workbook), config=config or Config(),
                             threshold=threshold, as_of=as_of, out_dir=out_dir)
    recovered = _recover_first(request.config, tell)
    return replace(_prepare(request, stages or Stages()), recovered=recovered)


def refuse_overwriting(workbook: ReviewWorkbook) -> None:
    """Refused when the workbook holds a Journal (never overwritten) or a reviewer's
    decisions not committed (Excel asks first). Sheets that are not a review yet (the
    template) are written over."""
    from addin.workbook.review.reading import parse_review

    try:
        review = parse_review(workbook.read_sheets(), workbook.name)
    except ReliquatError:
        return
    refuse_overwriting_review(review, workbook.name, force=False)


def commit(workbook: Path | ReviewWorkbook, out_dir: Path | None = None, *,
           config: Config | None = None,
           accept_proposals: bool = False, confirm_partial: bool = False,
           offline: bool = False, source: str | Path | Location | None = None,
           dry_run: bool = False, stages: Stages | None = None, user: str = "",
           now: dt.datetime | None = None, posting_date: dt.date | None = None,
           tell: Tell | None = None) -> CommitOutcome:
    """Commit a review workbook: a file (a path) or one open in Excel (a live workbook)."""
    request = CommitRequest(
        out_dir=Path(out_dir) if out_dir is not None else None, config=config or Config(),
        accept_proposals=accept_proposals, confirm_partial=confirm_partial, offline=offline,
        source=_location(source) if source else None, user=user, now=now,
        dry_run=dry_run, posting_date=posting_date)
    port = FileReview(Path(workbook)) if isinstance(workbook, str | Path) else workbook
    recovered = _recover_first(request.config, tell)
    return replace(_commit(port, request, stages), recovered=recovered)


# -- what the worksheet functions ask of a ledger (read once per version of the source) --

def open_balance(source: str | Path | Location, subscription_id: str,
                 currency: str = "CHF") -> Decimal:
    """The subscription's whole open balance in a currency: every open item, due or not."""
    return insights.open_balance(_ledger(source), subscription_id, currency)


def alternatives(source: str | Path | Location, customer_id: str, as_of: dt.date
                 ) -> tuple[str, ...]:
    """The customer's subscriptions active on ``as_of``, the one billed soonest first."""
    return insights.alternatives(_ledger(source), customer_id, as_of)


def threshold_catch(source: str | Path | Location, threshold: Decimal, as_of: dt.date
                    ) -> tuple[int, Decimal]:
    """How many subscriptions, and how much money, a threshold would flag."""
    return insights.threshold_catch(_ledger(source), rules_for(Config(), threshold, as_of))


def catch_table(source: str | Path | Location, thresholds: Sequence[Decimal], as_of: dt.date
                ) -> list[tuple[Decimal, int, Decimal]]:
    """``threshold_catch`` for each threshold: (threshold, subscriptions, amount)."""
    ledger = _ledger(source)
    return [(t, *insights.threshold_catch(ledger, rules_for(Config(), t, as_of)))
            for t in thresholds]


def _ledger(source: str | Path | Location) -> Ledger:
    return load_ledger(_location(source))


def _location(source: str | Path | Location, base: Path | None = None) -> Location:
    """Where a source enters: redacted once, here."""
    return source if isinstance(source, Location) else Location.of(source, base)


def proposal_summary(selection: Selection) -> tuple[ActionTotal, ...]:
    """Per proposed action and currency: subscriptions, items, amount."""
    from addin.workbook.review.render import proposals_by_action

    return proposals_by_action(selection.residuals)


def reverse(batch_id: str, out_dir: Path | None = None, *, config: Config | None = None,
            reason: str = "", posting_date: dt.date | None = None, user: str = "",
            now: dt.datetime | None = None, tell: Tell | None = None) -> ReverseOutcome:
    """Reverse a committed batch (before the billing system has invoiced its rebills)."""
    request = ReverseRequest(batch_id, Path(out_dir) if out_dir else None, config or Config(),
                             reason, user, now, posting_date)
    recovered = _recover_first(request.config, tell)
    return replace(_reverse(request), recovered=recovered)


def reversal_stamps(outcome: ReverseOutcome, language: str) -> Stamps:
    """The reversal's line for the Journal of the workbook it was asked from."""
    return Stamps(journal_rows=reversal_block(outcome, language))


@dataclass(frozen=True)
class ReconcileOutcome:
    reconciliation: Reconciliation
    as_of: dt.date
    alert_days: int
    statuses: dict[str, str]  # subscription -> its status in the source now ("" unknown)
    source_note: str  # why the statuses are unknown, else ""


def reconcile(transit: Path, *, config: Config | None = None, as_of: dt.date | None = None,
              source: str | Path | Location | None = None,
              now: dt.datetime | None = None, tell: Tell | None = None) -> ReconcileOutcome:
    """The transit account's movements against the committed rebill lines (see
    domain/transit.py); the lines seen cleared are remembered in the register."""
    config = config or Config()
    movements = read_movements(Path(transit), config)
    with _settled(config, tell) as (register, _):
        if register.identity() is None:
            raise ReliquatError([Problem(Where(register.shown), "register: there is none "
                                         "here, so nothing was committed to reconcile")])
        dues = rebills_due(register)
        found = reconcile_lines(dues, movements, cleared(register))
        record_cleared(register, found.cleared, now or dt.datetime.now().replace(microsecond=0))
        latest = register.entries()[-1].source if register.entries() else ""
    statuses, note = _statuses(found, source or latest, config)
    return ReconcileOutcome(found, as_of or dt.date.today(), config.rules.transit_alert_days,
                            statuses, note)


def _statuses(found: Reconciliation, source: str | Path | Location, config: Config
              ) -> tuple[dict[str, str], str]:
    """Each open line's subscription as the source shows it now: one that ended will never
    be invoiced again."""
    wanted = sorted({d.subscription_id for d in found.open})
    if not wanted or not source:
        return {}, ""
    from addin.sources import read_for_commit

    try:
        ledger = read_for_commit(_location(source), config, wanted, [])
    except ReliquatError as exc:
        return {}, f"the subscriptions' status is unknown: {exc.describe(limit=1)}"
    return {s: _state(ledger.subscriptions.get(s)) for s in wanted}, ""


def _state(subscription: Subscription | None) -> str:
    return "not in the source" if subscription is None else str(state_of(subscription))


def repeat_short_payers(months: int = 12, *, config: Config | None = None,
                        today: dt.date | None = None, tell: Tell | None = None
                        ) -> tuple[CustomerHistory, ...]:
    """Every customer with residuals committed in the last ``months``, from the register alone:
    the most batches first."""
    since = _months_before(today or dt.date.today(), months)
    with _settled(config, tell) as (register, _):
        return tuple(customer_histories(residuals_since(register, since)))


def _months_before(day: dt.date, months: int) -> dt.date:
    month = day.year * 12 + day.month - 1 - months
    year, month = divmod(month, 12)
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month + 1, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)


def write_template(out: Path, *, language: str = "en") -> Path:
    """The workbook an accountant opens in Excel: empty sheets, dropdowns, VBA and ribbon."""
    from addin.extract import write_atomically
    from addin.workbook.review.render import template_content

    out = Path(out)
    write_atomically(template_content(language), out)
    return out


def demo(folder: Path, *, customers: int = 4000, stages: Stages | None = None
         ) -> tuple[ExtractOutcome, CommitOutcome]:
    from addin.demo import run_demo

    return run_demo(folder, customers=customers, stages=stages)


@contextmanager
def _register(config: Config | None) -> Iterator[Register]:
    register = register_for(config or Config())
    try:
        yield register
    finally:
        register.close()


@contextmanager
def _settled(config: Config | None, tell: Tell | None
             ) -> Iterator[tuple[Register, tuple[str, ...]]]:
    """Every command's first step, once: what a killed commit left in the register is
    finished or undone, and ``tell`` hears which before anything else happens."""
    with _register(config) as register:
        recovered = tuple(recover(register))
        if tell is not None:
            for message in recovered:
                tell(message)
        yield register, recovered


def _recover_first(config: Config, tell: Tell | None) -> tuple[str, ...]:
    """``_settled`` for a flow that opens the register itself."""
    with _settled(config, tell) as (_, recovered):
        return recovered


@dataclass(frozen=True)
class RegisterReport:
    register: str
    register_id: str
    lines: tuple[str, ...]  # what was found or done
    problems: tuple[Problem, ...] = ()
    recovered: tuple[str, ...] = ()  # what a killed commit left, finished or undone first


def register_init(config: Config | None = None, *, tell: Tell | None = None
                  ) -> RegisterReport:
    """Create the register named by the config (or the user's default) if it is not there."""
    with _settled(config, tell) as (register, recovered):
        existed = register.identity() is not None
        with commit_lock(register):
            identity = register.create()
        what = "already there" if existed else "created"
        return RegisterReport(register.shown, identity.register_id,
                              (f"register {identity.register_id} {what} at {register.shown}",),
                              recovered=recovered)


def register_check(out_dirs: list[Path], config: Config | None = None, *,
                   tell: Tell | None = None) -> RegisterReport:
    """Compare the register with the batch records of export folders."""
    with _settled(config, tell) as (register, recovered):
        lines, problems = check(register, [Path(d).resolve() for d in out_dirs])
        identity = register.identity()
        return RegisterReport(register.shown, identity.register_id if identity else "",
                              tuple(lines), tuple(problems), recovered)


def register_rebuild(out_dirs: list[Path], config: Config | None = None, *,
                     tell: Tell | None = None) -> RegisterReport:
    """Record in the register every batch of the folders' records that it is missing."""
    with _settled(config, tell) as (register, recovered):
        with commit_lock(register):
            lines = rebuild(register, [Path(d).resolve() for d in out_dirs])
        identity = register.identity()
        assert identity is not None
        return RegisterReport(register.shown, identity.register_id,
                              tuple(lines or ["nothing to add: the register knows every "
                                              "batch of these folders"]),
                              recovered=recovered)
