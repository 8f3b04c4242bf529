"""Extract: read the source, apply the rules, write the review workbook (all or nothing)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from contextlib import suppress
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from addin import __version__
from addin.config import Config
from addin.domain.history import customer_histories, earlier_batches
from addin.domain.model import Rules, Selection
from addin.domain.money import ZERO
from addin.domain.problems import Problem, ReliquatError, Where
from addin.domain.rules import select
from addin.domain.texts import text
from addin.domain.transit import age
from addin.locations import Location
from addin.memory import paused_gc
from addin.progress import Stages
from addin.register.history import (
    cleared,
    rebills_due,
    reconciled_at,
    residuals_since,
)
from addin.register.location import register_for
from addin.register.lock import current_user
from addin.register.store import Register
from addin.sources import read_for_rules
from addin.workbook.review.content import WorkbookContent
from addin.workbook.review.reading import Review, reviewer_input
from addin.workbook.review.render import ExtractInfo, render
from addin.workbook.xlsm import write_review_file

YEAR = dt.timedelta(days=365)  # how far back a customer's earlier residuals count


@dataclass(frozen=True)
class ExtractRequest:
    source: Location
    out: Path
    config: Config = field(default_factory=Config)
    threshold: Decimal | None = None
    as_of: dt.date | None = None
    user: str = ""
    now: dt.datetime | None = None
    force: bool = False  # overwrite a workbook holding a reviewer's decisions
    out_dir: str = ""  # Control's export folder as written (relative: to the workbook's)


@dataclass(frozen=True)
class ExtractOutcome:
    selection: Selection
    content: WorkbookContent
    out: Path
    register: str  # where the register is (shown form); it may not exist yet
    extraction_id: str
    seconds: dict[str, float]
    items_fetched: int = 0  # rows that left the source (a database selects for itself)
    register_id: str = ""  # empty when there is no register yet
    recovered: tuple[str, ...] = ()  # interrupted batches finished or undone first (api)


def rules_for(config: Config, threshold: Decimal | None, as_of: dt.date | None) -> Rules:
    settings = config.rules
    return Rules(
        threshold=threshold if threshold is not None else settings.threshold,
        as_of=as_of or dt.date.today(),
        min_overdue_days=settings.min_overdue_days,
        write_off_limit=settings.write_off_limit,
        include_credits=settings.include_credits,
        repeat_limit=settings.repeat_limit,
    )


@paused_gc()
def prepare(request: ExtractRequest, stages: Stages) -> ExtractOutcome:
    """Everything up to the workbook content, writing nothing: shared by the file and Excel."""
    rules = rules_for(request.config, request.threshold, request.as_of)
    if rules.threshold < 0:
        raise ReliquatError([Problem(Where(column="threshold"), "must not be negative")])
    register = register_for(request.config)
    try:
        identity = register.identity()
        with stages.stage("fetch", "Reading the source"):
            committed = register.committed()
            history = residuals_since(register, rules.as_of - YEAR)
            transit = _transit_alert(register, rules.as_of,
                                     request.config.rules.transit_alert_days)
            ledger, balances, items_in_source = read_for_rules(request.source, request.config,
                                                               rules, committed)
    finally:
        register.close()
    with stages.stage("rules", "Applying the rules"):
        selection = select(ledger, rules, committed, balances, earlier_batches(history),
                           request.config.vat_rates)
        flagged = {r.customer_id for r in selection.residuals}
        selection = replace(selection, items_read=items_in_source, repeaters=tuple(
            h for h in customer_histories(history) if h.customer_id in flagged))
    now = request.now or dt.datetime.now().replace(microsecond=0)
    extraction_id = f"X{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    info = ExtractInfo(
        source=request.source.shown,
        config=str(request.config.path or ""),
        extraction_id=extraction_id,
        extracted_at=now,
        extracted_by=request.user or current_user(),
        language=request.config.language,
        register=register.shown,
        out_dir=request.out_dir,
        version=__version__,
        register_id=identity.register_id if identity else "",
        secret=identity.secret if identity else b"",
        transit_alert=transit,
    )
    with stages.stage("render", "Laying out the review"):
        content = render(selection, info)
    return ExtractOutcome(selection, content, request.out, register.shown, extraction_id,
                          stages.seconds, len(ledger.items), info.register_id)


def _transit_alert(register: Register, as_of: dt.date, days: int) -> str:
    """The rebill lines the last reconciliation left open for more than ``days``: said on
    Control, so that no residual rests in transit unseen."""
    reconciled = reconciled_at(register)
    if not reconciled:
        return ""
    done = cleared(register)
    late = [d for d in rebills_due(register) if d.key not in done and age(d, as_of) > days]
    day = f"{dt.date.fromisoformat(reconciled[:10]):%d.%m.%Y}"
    if not late:
        return text("transit_none", "none over {days} days (reconciled {day})", days=days,
                    day=day)
    totals = "; ".join(f"{cur} {amount:.2f}" for cur, amount in sorted(
        {c: sum((d.amount for d in late if d.currency == c), ZERO) for c in
         {d.currency for d in late}}.items()))
    return text("transit_late", "{count} rebill line(s) not invoiced after {days} days "
                "({totals}); reconciled {day}: see reliquat reconcile", count=len(late),
                days=days, totals=totals, day=day)


@paused_gc()
def extract(request: ExtractRequest, stages: Stages | None = None) -> ExtractOutcome:
    stages = stages or Stages()
    _refuse_overwriting(request.out, request.force)
    outcome = prepare(request, stages)
    with stages.stage("write", "Writing the review workbook"):
        write_atomically(outcome.content, request.out)
    return outcome


def write_atomically(content: WorkbookContent, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(handle)
    try:
        write_review_file(content, Path(name))
        os.chmod(name, 0o666 & ~_umask())  # mkstemp's 0600 would hide it on a shared folder
        os.replace(name, out)
    except BaseException:
        with suppress(OSError):  # cleaning up: the error that matters is raised
            Path(name).unlink(missing_ok=True)
        raise


def _refuse_overwriting(out: Path, force: bool) -> None:
    if out.suffix.lower() not in (".xlsx", ".xlsm"):
        raise ReliquatError([Problem(Where(str(out)),
                                     "the review workbook must be .xlsm or .xlsx")])
    if not out.exists():
        return
    from addin.workbook.ooxml.calamine import read_review

    try:
        review = read_review(out)
    except ReliquatError as unreadable:
        if force:
            return
        reason = "; ".join(p.message for p in unreadable.problems[:3])
        raise ReliquatError([Problem(Where(str(out)),
            f"cannot tell whether this workbook holds a reviewer's decisions or committed "
            f"batches ({reason}); extract to a new file, or overwrite it with --force")]
        ) from unreadable
    refuse_overwriting_review(review, str(out), force)


class AuditTrail(ReliquatError):
    """The workbook holds committed batches: it is never overwritten, even when asked."""


def refuse_overwriting_review(review: Review, name: str, force: bool) -> None:
    """A Journal is an audit trail: never overwritten. A reviewer's decisions only with
    ``force``."""
    if review.journal_length:
        raise AuditTrail([Problem(Where(name),
            "this workbook holds committed batches (its Journal is the audit trail); "
            "extract to a new file")])
    touched = reviewer_input(review)
    if touched and not force:
        lines = ", ".join(str(line) for line in touched[:10])
        more = f" and {len(touched) - 10} more" if len(touched) > 10 else ""
        raise ReliquatError([Problem(Where(name),
            f"this workbook holds a reviewer's decisions (Residuals lines {lines}{more}) that "
            f"are not committed; extract to a new file, or overwrite them with --force")])


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
