"""The one door: the command line, the Excel buttons and the worksheet functions call this."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from addin import insights
from addin.commit import CommitOutcome, CommitRequest
from addin.commit import commit as _commit
from addin.commit.protocol import recover
from addin.config import Config
from addin.domain.model import Action, Ledger, Selection
from addin.domain.money import ZERO
from addin.domain.problems import Problem
from addin.extract import ExtractOutcome, ExtractRequest
from addin.extract import extract as _extract
from addin.extract import prepare as _prepare
from addin.locations import Location
from addin.progress import Stages
from addin.register.location import register_for
from addin.register.lock import commit_lock
from addin.register.store import Register
from addin.register.witness import check, rebuild
from addin.workbook.openpyxl_file import FileReview
from addin.workbook.port import ReviewWorkbook


def with_language(config: Config, language: str) -> Config:
    return replace(config, language=language)


def extract(source: str | Path | Location, out: Path, *, config: Config | None = None,
            threshold: Decimal | None = None, as_of: dt.date | None = None,
            stages: Stages | None = None, user: str = "", now: dt.datetime | None = None,
            force: bool = False) -> ExtractOutcome:
    """Extract to a review workbook file (.xlsm with the ribbon, or .xlsx)."""
    request = ExtractRequest(
        source=_location(source), out=Path(out), config=config or Config(),
        threshold=threshold, as_of=as_of, user=user, now=now, force=force)
    return _extract(request, stages)


def prepare_extract(request: ExtractRequest, stages: Stages | None = None) -> ExtractOutcome:
    """Everything an extraction computes, writing nothing: Excel writes it into the live book."""
    return _prepare(request, stages or Stages())


def commit(workbook: Path | ReviewWorkbook, out_dir: Path | None = None, *,
           config: Config | None = None,
           accept_proposals: bool = False, confirm_partial: bool = False,
           offline: bool = False, source: str | Path | Location | None = None,
           dry_run: bool = False, stages: Stages | None = None, user: str = "",
           now: dt.datetime | None = None) -> CommitOutcome:
    """Commit a review workbook: a file (a path) or one open in Excel (a live workbook)."""
    request = CommitRequest(
        out_dir=Path(out_dir) if out_dir is not None else None, config=config or Config(),
        accept_proposals=accept_proposals, confirm_partial=confirm_partial, offline=offline,
        source=_location(source) if source else None, user=user, now=now,
        dry_run=dry_run)
    port = FileReview(Path(workbook)) if isinstance(workbook, str | Path) else workbook
    return _commit(port, request, stages)


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
    return insights.threshold_catch(_ledger(source), threshold, as_of)


def catch_table(source: str | Path | Location, thresholds: Sequence[Decimal], as_of: dt.date
                ) -> list[tuple[Decimal, int, Decimal]]:
    """``threshold_catch`` for each threshold: (threshold, subscriptions, amount)."""
    return insights.catch_table(_ledger(source), list(thresholds), as_of)


def _ledger(source: str | Path | Location) -> Ledger:
    return insights.load_ledger(_location(source))


def _location(source: str | Path | Location) -> Location:
    """Where a source enters: redacted once, here."""
    return source if isinstance(source, Location) else Location.of(source)


@dataclass(frozen=True)
class ProposalRow:
    action: str
    currency: str
    subscriptions: int
    items: int
    amount: Decimal


def proposal_summary(selection: Selection) -> list[ProposalRow]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    amounts: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for residual in selection.residuals:
        key = (residual.proposed_action.value, residual.currency)
        counts[key][0] += 1
        counts[key][1] += len(residual.items)
        amounts[key] += residual.balance
    order = [a.value for a in Action]
    return [
        ProposalRow(action, currency, counts[(action, currency)][0],
                    counts[(action, currency)][1], amounts[(action, currency)])
        for action, currency in sorted(counts, key=lambda k: (order.index(k[0]), k[1]))
    ]


def write_template(out: Path, *, language: str = "en") -> Path:
    """The workbook an accountant opens in Excel: empty sheets, dropdowns, VBA and ribbon."""
    from addin.extract import write_atomically
    from addin.workbook.render import template_content

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


def recover_register(config: Config | None = None) -> list[str]:
    """Finish or undo what a killed commit left in the register; one message each. Every
    command does this first by itself; the command line and Excel call it to say so first."""
    with _register(config) as register:
        return recover(register)


@dataclass(frozen=True)
class RegisterReport:
    register: str
    register_id: str
    lines: tuple[str, ...]  # what was found or done, and what was finished first
    problems: tuple[Problem, ...] = ()


def register_init(config: Config | None = None) -> RegisterReport:
    """Create the register named by the config (or the user's default) if it is not there."""
    with _register(config) as register:
        existed = register.identity() is not None
        with commit_lock(register):
            identity = register.create()
        what = "already there" if existed else "created"
        return RegisterReport(register.shown, identity.register_id,
                              (f"register {identity.register_id} {what} at {register.shown}",))


def register_check(out_dirs: list[Path], config: Config | None = None) -> RegisterReport:
    """Compare the register with the batch records of export folders."""
    with _register(config) as register:
        recovered = recover(register)
        lines, problems = check(register, [Path(d).resolve() for d in out_dirs])
        identity = register.identity()
        return RegisterReport(register.shown, identity.register_id if identity else "",
                              (*recovered, *lines), tuple(problems))


def register_rebuild(out_dirs: list[Path], config: Config | None = None) -> RegisterReport:
    """Record in the register every batch of the folders' records that it is missing."""
    with _register(config) as register:
        recovered = recover(register)
        with commit_lock(register):
            lines = rebuild(register, [Path(d).resolve() for d in out_dirs])
        identity = register.identity()
        assert identity is not None
        return RegisterReport(register.shown, identity.register_id,
                              (*recovered, *(lines or ["nothing to add: the register knows "
                                                       "every batch of these folders"])))
