"""Reverse a committed batch: a new batch whose postings swap debit and credit line for line
and whose rebill lines are negated, committed like any other (the same protocol, register and
export-folder checks). Once it is visible, the original's items are open to Reliquat again.

Reverse only what the billing system has not invoiced yet; after that, a credit note in the
billing system is the way.
"""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from addin.commit.interrupts import interruptible
from addin.commit.protocol import OutputFile, plan_for, publish
from addin.config import Config
from addin.domain.batch import Batch, reversal
from addin.domain.problems import CommitRefused, Problem, Where
from addin.exports.batch_record import RecordContext, sha256_of, write_batch_record
from addin.exports.csv_files import read_postings, read_rebills, write_postings, write_rebills
from addin.register.location import register_for
from addin.register.lock import current_user
from addin.register.schema import DONE, PENDING
from addin.register.store import Entry, Register
from addin.register.witness import read_records, witness_problems


@dataclass(frozen=True)
class ReverseRequest:
    batch_id: str
    out_dir: Path | None = None  # default: the original's export folder
    config: Config = field(default_factory=Config)
    reason: str = ""
    user: str = ""
    now: dt.datetime | None = None
    posting_date: dt.date | None = None


@dataclass(frozen=True)
class ReverseOutcome:
    batch: Batch
    reverses: str
    files: tuple[Path, ...]
    out_dir: Path
    recovered: tuple[str, ...] = ()  # what was finished or undone first (api)
    at: dt.datetime | None = None
    user: str = ""


def reverse(request: ReverseRequest) -> ReverseOutcome:
    register = register_for(request.config)
    try:
        original = _reversible(register, request.batch_id)
        postings, rebills = _original_lines(original)
        out_dir = (request.out_dir or Path(original.out_dir)).resolve()
        refusals = [p for p in witness_problems(out_dir, register, [])]
        if refusals:
            raise CommitRefused(refusals)
        now = request.now or dt.datetime.now().replace(microsecond=0)
        batch = reversal(original.batch_id, postings, rebills,
                         f"B{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4].upper()}",
                         request.posting_date or now.date())
        with interruptible() as interrupts:
            published = publish(register, _entry(batch, original, request, out_dir, now), [],
                                _outputs(batch, original, request, register, now), None, None,
                                "", interrupts)
        return ReverseOutcome(batch, original.batch_id, published.files, out_dir,
                              at=now, user=request.user or current_user())
    finally:
        register.close()


def _reversible(register: Register, batch_id: str) -> Entry:
    """The batch, when it may be reversed: committed, not reversed, not itself a reversal."""
    entry = register.entry(batch_id)
    where = Where(register.shown)
    if entry is None:
        raise CommitRefused([Problem(where, f"there is no batch {batch_id} in the register")])
    if entry.reversed_by:
        raise CommitRefused([Problem(where, f"batch {batch_id} was reversed already, by "
                                            f"batch {entry.reversed_by}")])
    if entry.reverses:
        raise CommitRefused([Problem(where, f"batch {batch_id} is itself the reversal of batch "
                                            f"{entry.reverses}: commit that one's items again "
                                            f"instead")])
    if entry.state != DONE:
        raise CommitRefused([Problem(where, f"batch {batch_id} is not finished ({entry.state})")])
    return entry


def _original_lines(entry: Entry) -> tuple[tuple, tuple]:  # type: ignore[type-arg]
    """The original's own export files, as its batch record vouches for them."""
    folder = Path(entry.out_dir)
    records = {r.batch_id: r for r in read_records(folder)[0]}
    record = records.get(entry.batch_id)
    if record is None:
        raise CommitRefused([Problem(Where(str(folder)),
            f"the batch record of {entry.batch_id} is not in its export folder")])
    files = {kind: folder / f"{kind}_{entry.batch_id}.csv" for kind in ("postings", "rebill")}
    for path in files.values():
        expected = record.files.get(path.name)
        if not path.exists():
            raise CommitRefused([Problem(Where(str(path)), "missing: the reversal repeats its "
                                                           "lines")])
        if expected and sha256_of(path) != expected:
            raise CommitRefused([Problem(Where(str(path)), "changed since it was exported (its "
                                                           "sha256 differs from the record)")])
    return (tuple(read_postings(files["postings"], record.encoding)),
            tuple(read_rebills(files["rebill"], record.encoding)))


def _outputs(batch: Batch, original: Entry, request: ReverseRequest, register: Register,
             now: dt.datetime) -> list[OutputFile]:
    delimiter, encoding = request.config.delimiter, request.config.encoding
    names = [f"postings_{batch.batch_id}.csv", f"rebill_{batch.batch_id}.csv"]
    identity = register.identity()
    context = RecordContext(source=original.source, workbook="",
                            user=request.user or current_user(), at=now, offline=False,
                            register_id=identity.register_id if identity else "",
                            register=register.shown, reverses=original.batch_id,
                            reason=request.reason)

    def record(path: Path, written: dict[str, Path]) -> None:
        write_batch_record(path, batch, files={n: written[n] for n in names}, context=context,
                           stale=[], config=request.config)

    return [
        OutputFile(names[0], lambda path, _: write_postings(path, batch.postings, delimiter,
                                                            encoding, names[0])),
        OutputFile(names[1], lambda path, _: write_rebills(path, batch.rebills, delimiter,
                                                           encoding, names[1])),
        OutputFile(f"batch_{batch.batch_id}.json", record),  # type: ignore[arg-type]
    ]


def _entry(batch: Batch, original: Entry, request: ReverseRequest, out_dir: Path,
           now: dt.datetime) -> Entry:
    return Entry(batch_id=batch.batch_id, state=PENDING, started_at=now.isoformat(),
                 committed_by=request.user or current_user(), host=socket.gethostname(),
                 workbook="",
                 source=original.source, offline=False, items=0, out_dir=str(out_dir),
                 plan=plan_for(out_dir, None, batch.batch_id, []),
                 note=f"reverses {original.batch_id}" + (f": {request.reason}"
                                                         if request.reason else ""),
                 posting_date=batch.posting_date.isoformat(), reverses=original.batch_id)
