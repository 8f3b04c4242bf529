"""Commit: accepted rows become a posting file, a rebill file, a batch record, a stamped
workbook and its audit copy — all of them, or none.

Order: check everything; write the exports to a private folder; insert the batch in the
register inside a transaction; move the exports into place; save the stamped workbook;
only then commit the register transaction. Any failure undoes what was done.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from addin.config import Config
from addin.decisions import Reading, read_decisions
from addin.domain.batch import Batch, Decision, build_batch
from addin.domain.checks import CheckResult, CommitFacts, check_decisions
from addin.domain.model import Status, Subscription
from addin.domain.problems import CommitRefused, Problem, ReliquatError, StaleRows, Where
from addin.exports.batch_record import write_batch_record
from addin.exports.csv_files import write_postings, write_rebills
from addin.extract import register_path
from addin.memory import paused_gc
from addin.progress import Stages
from addin.register import Register
from addin.sources import read_for_commit
from addin.workbook.journal import commit_stamps
from addin.workbook.port import ReviewWorkbook, Saved
from addin.workbook.review import Review, parse_review


@dataclass(frozen=True)
class CommitRequest:
    out_dir: Path
    config: Config = field(default_factory=Config)
    register: Path | None = None
    accept_proposals: bool = False
    confirm_partial: bool = False
    offline: bool = False
    source: str | None = None  # overrides the source recorded in the workbook
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


@paused_gc()
def commit(workbook: ReviewWorkbook, request: CommitRequest,
           stages: Stages | None = None) -> CommitOutcome:
    stages = stages or Stages()
    with stages.stage("read", "Reading the review workbook"):
        review = parse_review(workbook.read_sheets(), workbook.name)
        reading = read_decisions(review, workbook.name, request.accept_proposals)
    source = request.source or review.text("source")
    register = Register(_register(request, review, workbook))
    now = request.now or dt.datetime.now().replace(microsecond=0)
    with stages.stage("check", "Checking the accepted rows"):
        facts = _facts(review, reading, request, source, register, now.date())
        checks = check_decisions(reading.decisions, facts)
        _refuse_on_problems(reading, checks, request)
    if request.dry_run:
        return CommitOutcome(None, checks, (), source, request.offline, stages.seconds)
    batch_id = f"B{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4].upper()}"
    batch = build_batch(tuple(checks.accepted), batch_id, now.date(),
                        request.config.accounts, request.config.billing)
    with stages.stage("export", "Writing the batch"):
        files = _write_all(workbook, review, reading, checks, batch, request, register,
                           source, now)
    return CommitOutcome(batch, checks, files, source, request.offline, stages.seconds)


def _register(request: CommitRequest, review: Review, workbook: ReviewWorkbook) -> Path:
    recorded = review.text("register")
    if request.register is None and request.config.register is None and recorded:
        return Path(recorded)
    return register_path(request.register, request.config, Path(workbook.name))


def _facts(review: Review, reading: Reading, request: CommitRequest, source: str,
           register: Register, today: dt.date) -> CommitFacts:
    item_ids = [i.item_id for d in reading.decisions for i in d.items]
    committed = register.committed(item_ids)
    if request.offline:
        return CommitFacts(today, _subscriptions_from_review(review), committed, None)
    if not source:
        raise ReliquatError([Problem(Where(column="source"),
            "the workbook names no source to check the items against; give --source, "
            "or --offline to commit without checking")])
    targets = [d.target for d in reading.decisions if d.target]
    try:
        ledger = read_for_commit(source, request.config, item_ids,
                                 [d.subscription_id for d in reading.decisions] + targets)
    except ReliquatError as exc:
        raise ReliquatError([*exc.problems, Problem(Where(),
            "the source could not be read to check the items; commit with --offline "
            "only if you are sure nothing was paid since extraction")]) from exc
    wanted = set(item_ids)
    open_amounts = {i.item_id: (i.open_amount, i.currency) for i in ledger.items
                    if i.item_id in wanted}
    return CommitFacts(today, ledger.subscriptions, committed, open_amounts)


def _subscriptions_from_review(review: Review) -> dict[str, Subscription]:
    """Offline, the workbook's own picture: each row's status and the active ones offered."""
    subs: dict[str, Subscription] = {}
    for customer, offered in review.alternatives.items():
        for sub_id in offered:
            subs[sub_id] = Subscription(sub_id, customer, Status.ACTIVE, None, None)
    for row in review.rows:
        if row.subscription_id not in subs:
            status = Status.ACTIVE if row.status == Status.ACTIVE.value else Status.TERMINATED
            subs[row.subscription_id] = Subscription(row.subscription_id, row.customer_id,
                                                     status, None, None)
    return subs


def _refuse_on_problems(reading: Reading, checks: CheckResult, request: CommitRequest) -> None:
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
            raise CommitRefused([Problem(Where(),
                f"nothing to commit: the {len(reading.already_committed)} accepted row(s) were "
                f"already committed in batch {', '.join(batches)}")])
        raise CommitRefused([Problem(Where(),
            "nothing to commit: no row has Accept = Yes (or use --accept-proposals)")])


def _write_all(workbook: ReviewWorkbook, review: Review, reading: Reading,
               checks: CheckResult, batch: Batch, request: CommitRequest, register: Register,
               source: str, now: dt.datetime) -> tuple[Path, ...]:
    out_dir = request.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    names = {
        "postings": f"postings_{batch.batch_id}.csv",
        "rebill": f"rebill_{batch.batch_id}.csv",
        "record": f"batch_{batch.batch_id}.json",
    }
    audit_copy = out_dir / f"batch_{batch.batch_id}{workbook.suffix}"
    private = Path(tempfile.mkdtemp(prefix=".reliquat-", dir=out_dir))
    moved: list[Path] = []
    saved: Saved | None = None
    try:
        delimiter = request.config.delimiter
        write_postings(private / names["postings"], batch.postings, delimiter)
        write_rebills(private / names["rebill"], batch.rebills, delimiter)
        user = request.user or _user()
        write_batch_record(private / names["record"], batch,
                           files=[private / names["postings"], private / names["rebill"]],
                           source=source, workbook=workbook.name, user=user, at=now,
                           offline=request.offline, stale=checks.stale, config=request.config)
        stamps = commit_stamps(review, reading, checks, batch, at=now, user=user,
                               files=[names["postings"], names["rebill"], names["record"],
                                      audit_copy.name], offline=request.offline)
        with register.recording(batch, committed_at=now, committed_by=user,
                                workbook=workbook.name, source=source,
                                offline=request.offline):
            for name in names.values():
                target = out_dir / name
                if target.exists():
                    raise ReliquatError([Problem(Where(str(target)), "file exists already")])
                os.replace(private / name, target)
                moved.append(target)
            saved = workbook.save_stamped(stamps, audit_copy)
    except BaseException:
        if saved is not None:
            saved.undo()
        for path in moved:
            path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(private, ignore_errors=True)
    saved.done()
    return (*moved, audit_copy)


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


__all__ = ["CommitOutcome", "CommitRequest", "Decision", "commit"]
