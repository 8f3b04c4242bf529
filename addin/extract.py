"""Extract: read the source, apply the rules, write the review workbook (all or nothing)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from addin import __version__
from addin.config import Config
from addin.domain.model import Rules, Selection
from addin.domain.problems import Problem, ReliquatError, Where
from addin.domain.rules import select
from addin.locations import redact
from addin.memory import paused_gc
from addin.progress import Stages
from addin.register import Register
from addin.sources import read_for_rules
from addin.workbook.content import WorkbookContent
from addin.workbook.render import ExtractInfo, render
from addin.workbook.xlsm import write_review_file

DEFAULT_REGISTER = "reliquat-register.sqlite"


@dataclass(frozen=True)
class ExtractRequest:
    source: str
    out: Path
    config: Config = field(default_factory=Config)
    threshold: Decimal | None = None
    as_of: dt.date | None = None
    register: Path | None = None
    user: str = ""
    now: dt.datetime | None = None


@dataclass(frozen=True)
class ExtractOutcome:
    selection: Selection
    content: WorkbookContent
    out: Path
    register: Path
    extraction_id: str
    seconds: dict[str, float]
    items_fetched: int = 0  # rows that left the source (a database selects for itself)


def rules_for(config: Config, threshold: Decimal | None, as_of: dt.date | None) -> Rules:
    settings = config.rules
    return Rules(
        threshold=threshold if threshold is not None else settings.threshold,
        as_of=as_of or dt.date.today(),
        min_overdue_days=settings.min_overdue_days,
        write_off_limit=settings.write_off_limit,
        include_credits=settings.include_credits,
    )


def register_path(explicit: Path | None, config: Config, beside: Path) -> Path:
    """--register, else [register] path, else a register beside the review workbook."""
    chosen = explicit or config.register or beside.parent / DEFAULT_REGISTER
    return chosen.resolve()


@paused_gc()
def prepare(request: ExtractRequest, stages: Stages) -> ExtractOutcome:
    """Everything up to the workbook content, writing nothing: shared by the file and Excel."""
    rules = rules_for(request.config, request.threshold, request.as_of)
    if rules.threshold < 0:
        raise ReliquatError([Problem(Where(column="threshold"), "must not be negative")])
    register = register_path(request.register, request.config, request.out)
    with stages.stage("fetch", "Reading the source"):
        committed = Register(register).committed()
        ledger, balances, items_in_source = read_for_rules(request.source, request.config,
                                                           rules, committed)
    with stages.stage("rules", "Applying the rules"):
        selection = replace(select(ledger, rules, committed, balances),
                            items_read=items_in_source)
    now = request.now or dt.datetime.now().replace(microsecond=0)
    extraction_id = f"X{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    info = ExtractInfo(
        source=redact(str(request.source)),
        config=str(request.config.path or ""),
        extraction_id=extraction_id,
        extracted_at=now,
        extracted_by=request.user or _user(),
        language=request.config.language,
        register=str(register),
        version=__version__,
    )
    with stages.stage("render", "Laying out the review"):
        content = render(selection, info)
    return ExtractOutcome(selection, content, request.out, register, extraction_id,
                          stages.seconds, len(ledger.items))


@paused_gc()
def extract(request: ExtractRequest, stages: Stages | None = None) -> ExtractOutcome:
    stages = stages or Stages()
    _refuse_overwriting_audit_trail(request.out)
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
        Path(name).unlink(missing_ok=True)
        raise


def _refuse_overwriting_audit_trail(out: Path) -> None:
    if out.suffix.lower() not in (".xlsx", ".xlsm"):
        raise ReliquatError([Problem(Where(str(out)),
                                     "the review workbook must be .xlsm or .xlsx")])
    if not out.exists():
        return
    from addin.workbook.calamine_reader import read_review

    try:
        review = read_review(out)
    except ReliquatError:
        return  # not one of ours: a plain overwrite is what the user asked for
    if review.journal_length:
        raise ReliquatError([Problem(Where(str(out)),
            "this workbook holds committed batches (its Journal is the audit trail); "
            "extract to a new file")])


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
