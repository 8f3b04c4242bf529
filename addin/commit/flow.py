"""Commit: accepted rows become a posting file, a rebill file, a batch record, a stamped
workbook and its audit copy, recorded once in the register. All of it, or none.

The workbook gives the decisions; the facts come from the source re-read (see facts); the
register must be the one the extraction used; the export folder's records are a second
witness; the files are written by the protocol that survives any interruption.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from addin.commit import facts as commit_facts
from addin.commit.decisions import Reading, read_decisions
from addin.commit.interrupts import interruptible
from addin.commit.protocol import publish
from addin.commit.stamps import commit_stamps
from addin.commit.writing import BatchWriting, claimed_items
from addin.config import Config
from addin.domain.batch import Batch, build_batch
from addin.domain.checks import CheckResult, CommitFacts, check_decisions
from addin.domain.problems import CommitRefused, Problem, ReliquatError, StaleRows, Where
from addin.locations import Location
from addin.memory import paused_gc
from addin.progress import Stages
from addin.register.location import register_for
from addin.register.lock import current_user
from addin.register.store import Identity, Register
from addin.register.witness import witness_problems
from addin.workbook.port import ReviewWorkbook
from addin.workbook.review.reading import Review, parse_review


@dataclass(frozen=True)
class CommitRequest:
    out_dir: Path | None = None  # default: Control's export folder, else exports/ beside
    config: Config = field(default_factory=Config)
    accept_proposals: bool = False
    confirm_partial: bool = False
    offline: bool = False
    source: Location | None = None  # overrides the source recorded in the workbook
    user: str = ""
    now: dt.datetime | None = None
    dry_run: bool = False
    posting_date: dt.date | None = None  # default: the day of the commit


@dataclass(frozen=True)
class CommitOutcome:
    batch: Batch | None
    checks: CheckResult
    files: tuple[Path, ...]
    source: str
    offline: bool
    seconds: dict[str, float]
    register: str = ""
    out_dir: Path | None = None
    recovered: tuple[str, ...] = ()  # what was finished or undone first (api)
    note: str = ""  # why the workbook was not stamped (the batch is committed)
    interrupted: tuple[int, ...] = ()  # signals held after the point of no return
    preview: Batch | None = None  # what a validation would commit
    vat: dict[str, Decimal] = field(default_factory=dict)  # VAT corrected, per currency


@paused_gc()
def commit(workbook: ReviewWorkbook, request: CommitRequest,
           stages: Stages | None = None) -> CommitOutcome:
    stages = stages or Stages()
    register = register_for(request.config)
    try:
        return _commit(workbook, request, stages, register)
    finally:
        register.close()


def _commit(workbook: ReviewWorkbook, request: CommitRequest, stages: Stages,
            register: Register) -> CommitOutcome:
    with stages.stage("read", "Reading the review workbook"):
        review = parse_review(workbook.read_sheets(), workbook.name)
        identity = matching_register(review, register, workbook.name)
        keyed = identity if review.text("register_id") else None
        reading = read_decisions(review, workbook.name, request.accept_proposals,
                                 keyed.secret if keyed else None)
    source = request.source or Location.of(review.text("source"))
    request = replace(request, out_dir=export_folder(request.out_dir, review, workbook),
                      config=replace(request.config, language=review.language))
    assert request.out_dir is not None
    now = request.now or dt.datetime.now().replace(microsecond=0)
    with stages.stage("check", "Checking the accepted rows"):
        rules = commit_facts.recorded_rules(review, workbook.name, keyed)
        if request.offline:
            found = commit_facts.offline(reading, review, register, keyed, workbook.name)
        else:
            _need_source(review, workbook.name)
            found = commit_facts.online(reading, rules, source, request.config, register)
        checks = check_decisions(found.decisions, CommitFacts(
            now.date(), found.subscriptions, found.committed, rules.write_off_limit,
            found.currencies), found.stale)
        checks.refusals[:0] = found.refusals
        checks.refusals.extend(witness_problems(request.out_dir, register, checks.accepted))
        _refuse_on_problems(reading, checks, request, review, workbook.name)
        batch_id = f"B{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4].upper()}"
        batch = build_batch(tuple(checks.accepted), batch_id,
                            request.posting_date or now.date(), request.config.ledgering)
        vat = batch.vat_totals(request.config.accounts.vat)
    if request.dry_run:
        return CommitOutcome(None, checks, (), source.shown, request.offline, stages.seconds,
                             register.shown, request.out_dir, preview=batch, vat=vat)
    writing = BatchWriting(workbook, request.config, register, request.out_dir, source, now,
                           request.user or current_user(), request.offline, rules)
    with stages.stage("export", "Writing the batch"), interruptible() as interrupts:
        published = publish(
            register, writing.entry(batch), claimed_items(batch),
            writing.outputs(batch, checks), workbook,
            commit_stamps(review, reading, checks, batch, at=now, user=writing.user,
                          files=writing.names(batch), offline=request.offline, vat=vat),
            writing.audit_name(batch), interrupts)
    return CommitOutcome(batch, checks, published.files, source.shown, request.offline,
                         stages.seconds, register.shown, request.out_dir,
                         note=published.note, interrupted=tuple(interrupts.held), vat=vat)


def export_folder(given: Path | None, review: Review, workbook: ReviewWorkbook) -> Path:
    """The folder given, else the Control sheet's (relative to the workbook), else
    ``exports`` beside the workbook: the same for the command line and Excel."""
    beside = Path(workbook.name).resolve().parent
    if given is not None:
        return given.resolve()
    recorded = review.text("out_dir")
    return (beside / recorded).resolve() if recorded else beside / "exports"


def matching_register(review: Review, register: Register, file: str) -> Identity | None:
    """The register must be the one the extraction used: refused otherwise, naming both.
    A workbook extracted before any register existed may be committed where its extraction
    looked for one (the first commit there creates it)."""
    recorded_id, recorded_at = review.text("register_id"), review.text("register")
    identity = register.identity()
    if recorded_id:
        if identity is None:
            raise CommitRefused([Problem(Where(file),
                f"this workbook was extracted with register {recorded_id} ({recorded_at}); "
                f"there is no register at {register.shown}: check [register] in the config")])
        if identity.register_id != recorded_id:
            raise CommitRefused([Problem(Where(file),
                f"this workbook was extracted with register {recorded_id} ({recorded_at}), "
                f"not with register {identity.register_id} ({register.shown}): commit it with "
                f"the config of its extraction, or extract again")])
        return identity
    if recorded_at != register.shown:
        raise CommitRefused([Problem(Where(file),
            f"this workbook was extracted when no register existed at "
            f"{recorded_at or '(none recorded)'}; this commit uses the register at "
            f"{register.shown}: commit it with the config of its extraction, or extract again")])
    return identity


def _shown(problem: Problem, review: Review) -> Problem:
    """A problem on a Residuals column, named as the reviewer sees it (fr, de)."""
    column = problem.where.column
    if not column or "!" in column:
        return problem
    return Problem(problem.where._replace(column=review.in_language(column)), problem.message)


def _need_source(review: Review, file: str) -> None:
    if not review.text("source"):
        raise ReliquatError([Problem(Where(file, column=f"{review.titles['control']}!source"),
            "the workbook names no source to check the items against; give --source, "
            "or --offline to commit without checking")])


def _refuse_on_problems(reading: Reading, checks: CheckResult, request: CommitRequest,
                        review: Review, file: str) -> None:
    problems = [_shown(p, review) for p in reading.problems + checks.refusals]
    if problems:
        raise CommitRefused(problems)
    if checks.stale and not checks.accepted:
        raise CommitRefused([*checks.stale_problems, Problem(Where(file),
            f"nothing to commit: every accepted row ({len(checks.stale)}) changed in the "
            f"source since extraction; extract again")])
    if checks.stale and not request.confirm_partial:
        raise StaleRows([*checks.stale_problems, Problem(Where(),
            f"{len(checks.stale)} row(s) changed in the source since extraction; commit the "
            f"other {len(checks.accepted)} with --confirm-partial, or extract again")])
    if not checks.accepted:
        if reading.already_committed:
            batches = sorted({batch for _, batch in reading.already_committed})
            raise CommitRefused([Problem(Where(file),
                f"nothing to commit: the {len(reading.already_committed)} accepted row(s) were "
                f"already committed in batch {', '.join(batches)}")])
        raise CommitRefused([Problem(Where(file),
            "nothing to commit: no row has Accept = Yes (or use --accept-proposals)")])


__all__ = ["CommitOutcome", "CommitRequest", "commit", "matching_register"]
