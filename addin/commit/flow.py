"""Commit: accepted rows become a posting file, a rebill file, a batch record, a stamped
workbook and its audit copy, recorded once in the register. All of it, or none.

The workbook gives the decisions; the facts come from the source re-read (see facts); the
register must be the one the extraction used; the export folder's records are a second
witness; the files are written by the protocol that survives any interruption.
"""

from __future__ import annotations

import datetime as dt
import getpass
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from addin.commit import facts as commit_facts
from addin.commit.decisions import Reading, read_decisions
from addin.commit.interrupts import interruptible
from addin.commit.protocol import (
    STAMPED_WORKBOOK,
    OutputFile,
    plan_for,
    publish,
    recover,
)
from addin.commit.stamps import commit_stamps
from addin.config import Config
from addin.domain.batch import Batch, build_batch
from addin.domain.checks import CheckResult, CommitFacts, check_decisions
from addin.domain.problems import CommitRefused, Problem, ReliquatError, StaleRows, Where
from addin.exports.batch_record import RecordContext, write_batch_record
from addin.exports.csv_files import write_postings, write_rebills
from addin.locations import Location
from addin.memory import paused_gc
from addin.progress import Stages
from addin.register.location import register_for
from addin.register.schema import PENDING
from addin.register.store import ClaimedItem, Entry, Identity, Register
from addin.register.witness import witness_problems
from addin.workbook.port import ReviewWorkbook
from addin.workbook.review import Review, parse_review


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
    recovered: tuple[str, ...] = ()  # what the commit finished or undid first
    note: str = ""  # why the workbook was not stamped (the batch is committed)
    interrupted: tuple[int, ...] = ()  # signals held after the point of no return


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
    recovered = tuple(recover(register))
    with stages.stage("read", "Reading the review workbook"):
        review = parse_review(workbook.read_sheets(), workbook.name)
        identity = matching_register(review, register, workbook.name)
        keyed = identity if review.text("register_id") else None
        reading = read_decisions(review, workbook.name, request.accept_proposals,
                                 keyed.secret if keyed else None)
    source = request.source or Location.of(review.text("source"))
    request = replace(request, out_dir=export_folder(request.out_dir, review, workbook))
    assert request.out_dir is not None
    now = request.now or dt.datetime.now().replace(microsecond=0)
    with stages.stage("check", "Checking the accepted rows"):
        rules = commit_facts.recorded_rules(review, workbook.name, keyed)
        if request.offline:
            found = commit_facts.offline(reading, review, register, keyed, workbook.name)
        else:
            _need_source(review, workbook.name)
            found = commit_facts.online(reading, rules, source, request.config, register)
        checks = check_decisions(found.decisions, CommitFacts(now.date(), found.subscriptions,
                                                              found.committed), found.stale)
        checks.refusals[:0] = found.refusals
        checks.refusals.extend(witness_problems(request.out_dir, register, checks.accepted))
        _refuse_on_problems(reading, checks, request, workbook.name)
    outcome = CommitOutcome(None, checks, (), source.shown, request.offline, stages.seconds,
                            register.shown, request.out_dir, recovered)
    if request.dry_run:
        return outcome
    batch_id = f"B{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4].upper()}"
    batch = build_batch(tuple(checks.accepted), batch_id, now.date(),
                        request.config.accounts, request.config.billing)
    with stages.stage("export", "Writing the batch"), interruptible() as interrupts:
        published = publish(
            register, _entry(batch, request, workbook, source, now),
            _claimed(batch), _outputs(batch, workbook, request, checks, register, source, now),
            workbook, commit_stamps(review, reading, checks, batch, at=now, user=_user(request),
                                    files=_names(batch, workbook), offline=request.offline),
            _audit_name(batch, workbook), interrupts)
    return CommitOutcome(batch, checks, published.files, source.shown, request.offline,
                         stages.seconds, register.shown, request.out_dir, recovered,
                         published.note, tuple(interrupts.held))


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


def _need_source(review: Review, file: str) -> None:
    if not review.text("source"):
        raise ReliquatError([Problem(Where(file, column=f"{review.titles['control']}!source"),
            "the workbook names no source to check the items against; give --source, "
            "or --offline to commit without checking")])


def _refuse_on_problems(reading: Reading, checks: CheckResult, request: CommitRequest,
                        file: str) -> None:
    problems = reading.problems + checks.refusals
    if problems:
        raise CommitRefused(problems)
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


def _names(batch: Batch, workbook: ReviewWorkbook) -> list[str]:
    return [f"postings_{batch.batch_id}.csv", f"rebill_{batch.batch_id}.csv",
            f"batch_{batch.batch_id}.json", _audit_name(batch, workbook)]


def _audit_name(batch: Batch, workbook: ReviewWorkbook) -> str:
    return f"batch_{batch.batch_id}{workbook.suffix}"


def _outputs(batch: Batch, workbook: ReviewWorkbook, request: CommitRequest,
             checks: CheckResult, register: Register, source: Location, now: dt.datetime
             ) -> list[OutputFile]:
    postings, rebill, record, audit = _names(batch, workbook)
    delimiter, encoding = request.config.delimiter, request.config.encoding
    outputs = [
        OutputFile(postings, lambda path, _: write_postings(path, batch.postings, delimiter,
                                                            encoding, postings)),
        OutputFile(rebill, lambda path, _: write_rebills(path, batch.rebills, delimiter,
                                                         encoding, rebill)),
    ]
    if workbook.stamped_path(batch.batch_id) is not None:
        outputs.append(OutputFile(audit, lambda path, written: _copy(written[STAMPED_WORKBOOK],
                                                                     path)))

    def write_record(path: Path, written: Mapping[str, Path]) -> None:
        identity = register.identity()  # there by now: the first commit created it
        context = RecordContext(source=source.shown, workbook=workbook.name,
                                user=_user(request), at=now, offline=request.offline,
                                register_id=identity.register_id if identity else "",
                                register=register.shown)
        files = {name: written[name] for name in (postings, rebill, audit) if name in written}
        write_batch_record(path, batch, files=files, context=context, stale=checks.stale,
                           config=request.config)

    outputs.append(OutputFile(record, write_record))
    return outputs


def _copy(source: Path, target: Path) -> None:
    import shutil

    shutil.copyfile(source, target)


def _entry(batch: Batch, request: CommitRequest, workbook: ReviewWorkbook, source: Location,
           now: dt.datetime) -> Entry:
    assert request.out_dir is not None
    late = [] if workbook.stamped_path(batch.batch_id) else [_audit_name(batch, workbook)]
    return Entry(batch_id=batch.batch_id, state=PENDING, started_at=now.isoformat(),
                 committed_by=_user(request), host=socket.gethostname(),
                 workbook=workbook.name, source=source.shown, offline=request.offline,
                 items=len(batch.item_ids), out_dir=str(request.out_dir.resolve()),
                 plan=plan_for(request.out_dir.resolve(), workbook, batch.batch_id, late))


def _claimed(batch: Batch) -> list[ClaimedItem]:
    return [ClaimedItem(item.item_id, d.subscription_id, d.customer_id, d.currency,
                        f"{item.amount:.2f}", d.action.value, d.target)
            for d in batch.decisions for item in d.items]


def _user(request: CommitRequest) -> str:
    if request.user:
        return request.user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


__all__ = ["CommitOutcome", "CommitRequest", "commit", "matching_register"]
