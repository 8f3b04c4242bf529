"""How a batch is written so that it is committed exactly once, whatever stops it.

Once an export file is visible in the export folder the batch is committed: the ERP may
already have taken it. So:

  1. claim    the register records the batch as pending with its items (the primary key
              refuses an item another batch holds) and a plan naming every file it will write
  2. write    every file under a private name in its final folder, flushed to disk
  3. reveal   the files renamed into place, the batch record first: the point of no return
  4. exported the register marks the batch committed
  5. stamp    the review workbook swapped for its stamped copy (Excel: stamped and saved)
  6. done

A failure or an interrupt before 3 undoes 1-2. From 3 on, interrupts wait until 6, and a
failure leaves the batch for the next command to finish. A process killed anywhere (SIGKILL,
power loss) leaves a pending batch that the next command on the register finishes (a file
is visible) or undoes (none is) before anything else, and says which (``recover``, which
the api runs once at the start of every command).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from addin.commit.interrupts import Interrupts
from addin.domain.problems import Problem, ReliquatError, Where
from addin.register.lock import LockBusy, commit_lock
from addin.register.schema import DONE, EXPORTED, PENDING
from addin.register.store import ClaimedItem, Entry, Register
from addin.workbook.openpyxl_file import install_stamped_file
from addin.workbook.port import ReviewWorkbook, Stamps

RECOVERY_WAIT = 10.0  # seconds a command waits for a running commit before going on


def checkpoint(step: str) -> None:
    """A named point of the protocol. Does nothing; fault-injection tests stop a commit here."""


class CommitIncomplete(ReliquatError):
    """Past the point of no return something failed: the batch is committed, not finished."""


Writer = Callable[[Path, Mapping[str, Path]], None]
STAMPED_WORKBOOK = "<stamped workbook>"  # the key of the workbook's stamped copy in ``written``


@dataclass(frozen=True)
class OutputFile:
    """A file of the batch: ``write(path, written)`` writes it at ``path``; ``written`` maps
    the names of the files written before it to their (private) paths."""

    name: str
    write: Writer


@dataclass(frozen=True)
class Plan:
    """What the register keeps of a batch in flight: enough to finish or undo it."""

    out_dir: str
    files: list[str]  # final names in out_dir, in the order they are revealed
    workbook: str
    stamped: str = ""  # the workbook's stamped copy beside it ("" for a workbook in Excel)
    signature: str = ""  # the workbook file as it was read ("" in Excel)
    late: list[str] = field(default_factory=list)  # written after the stamp (Excel's copy)

    def private(self, name: str) -> Path:
        return Path(self.out_dir) / private_name(name)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Plan:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def private_name(name: str) -> str:
    return f".{name}.part"


@dataclass(frozen=True)
class Published:
    files: tuple[Path, ...]
    note: str  # why the workbook was not stamped, else ""


def publish(register: Register, entry: Entry, claimed: list[ClaimedItem],
            outputs: Sequence[OutputFile], workbook: ReviewWorkbook | None,
            stamps: Stamps | None, audit_copy: str, interrupts: Interrupts) -> Published:
    """Steps 1 to 6 for one batch, under the register's commit lock. A batch without a
    workbook (a reversal from the command line) skips step 5."""
    plan = Plan(**{**_plan_fields(entry), "files": [o.name for o in _revealed(outputs)]})
    with commit_lock(register):
        register.create()  # the first commit creates the register; later ones find it
        _make_folder(Path(plan.out_dir))  # a pending batch's folder exists: see _resolve
        try:
            with interrupts.deferred():
                register.claim(_with_plan(entry, plan), claimed)
            checkpoint("claimed")
            written = _write_privately(plan, outputs, workbook, stamps, audit_copy)
            checkpoint("written")
        except BaseException:
            _undo(register, entry.batch_id, plan)  # a refused claim has nothing to undo
            raise
        with interrupts.held_back():
            return _reveal_and_finish(register, entry.batch_id, plan, written, workbook,
                                      stamps, audit_copy)


def _plan_fields(entry: Entry) -> dict[str, Any]:
    return {k: v for k, v in entry.plan.items() if k in Plan.__dataclass_fields__}


def _with_plan(entry: Entry, plan: Plan) -> Entry:
    from dataclasses import replace

    return replace(entry, plan=asdict(plan))


def _revealed(outputs: Sequence[OutputFile]) -> list[OutputFile]:
    """The batch record first: from the first visible file on, the folder itself says which
    items the batch holds."""
    record = [o for o in outputs if o.name.endswith(".json")]
    return record + [o for o in outputs if o not in record]


def _write_privately(plan: Plan, outputs: Sequence[OutputFile],
                     workbook: ReviewWorkbook | None, stamps: Stamps | None, audit_copy: str
                     ) -> dict[str, Path]:
    out_dir = Path(plan.out_dir)
    written: dict[str, Path] = {}
    if plan.stamped:
        assert workbook is not None and stamps is not None
        workbook.write_stamped(stamps, Path(plan.stamped))
        _flush(Path(plan.stamped))
        written[STAMPED_WORKBOOK] = Path(plan.stamped)
    for output in outputs:
        target = plan.private(output.name)
        _refuse_existing(out_dir / output.name)
        _guarded(out_dir / output.name, output.write, target, written)
        _flush(target)
        written[output.name] = target
    _flush_folder(out_dir)
    return written


def _reveal_and_finish(register: Register, batch_id: str, plan: Plan,
                       written: Mapping[str, Path], workbook: ReviewWorkbook | None,
                       stamps: Stamps | None, audit_copy: str) -> Published:
    out_dir = Path(plan.out_dir)
    try:
        for name in plan.files:
            os.replace(written[name], out_dir / name)
            checkpoint(f"revealed {name}")
        _flush_folder(out_dir)
        register.advance(batch_id, EXPORTED)
        checkpoint("exported")
        note = _stamp(plan, workbook, stamps, audit_copy)
        register.advance(batch_id, DONE, note)
        checkpoint("done")
    except (OSError, ReliquatError) as exc:
        raise CommitIncomplete([Problem(Where(str(out_dir)),
            f"batch {batch_id} is committed (its files are in the export folder) but could "
            f"not be finished: {_reason(exc)}. The next Reliquat command finishes it.")]
        ) from exc
    files = [out_dir / name for name in plan.files + plan.late if (out_dir / name).exists()]
    return Published(tuple(files), note)


def _stamp(plan: Plan, workbook: ReviewWorkbook | None, stamps: Stamps | None,
           audit_copy: str) -> str:
    if plan.stamped:
        return install_stamped_file(Path(plan.workbook), Path(plan.stamped), plan.signature)
    if workbook is None or stamps is None:
        return ""
    note = workbook.install_stamps(stamps)
    if not note and audit_copy in plan.late:
        _copy_in(Path(workbook.name), Path(plan.out_dir), audit_copy)
    return note


def _copy_in(source: Path, out_dir: Path, name: str) -> None:
    """A copy made after the batch is committed (Excel's saved workbook), private then in."""
    private = out_dir / private_name(name)
    shutil.copyfile(source, private)
    _flush(private)
    os.replace(private, out_dir / name)
    checkpoint(f"revealed {name}")


def _undo(register: Register, batch_id: str, plan: Plan) -> None:
    """Before the point of no return: remove the private files and free the items. If the
    register cannot be told now, the batch stays pending and the next command undoes it."""
    _remove_privates(plan)
    with suppress(ReliquatError):
        register.release(batch_id)


def _remove_privates(plan: Plan) -> None:
    for path in [plan.private(n) for n in plan.files + plan.late] + (
            [Path(plan.stamped)] if plan.stamped else []):
        with suppress(OSError):
            path.unlink(missing_ok=True)


# -- recovery ------------------------------------------------------------------------------

def recover(register: Register) -> list[str]:
    """Finish or undo every batch a killed commit left, before anything else; one message
    each. A batch whose commit is still running (it holds the lock) is left to it: its items
    stay claimed, so nothing is offered twice meanwhile."""
    if register.identity() is None or not register.entries(PENDING, EXPORTED):
        return []
    try:
        with commit_lock(register, wait=RECOVERY_WAIT):
            return [_resolve(register, entry) for entry in register.entries(PENDING, EXPORTED)]
    except LockBusy:
        return [f"batch {e.batch_id} is being committed by {e.committed_by} on {e.host}: its "
                f"{e.items} item(s) stay reserved until it ends"
                for e in register.entries(PENDING, EXPORTED)]


def _resolve(register: Register, entry: Entry) -> str:
    plan = Plan.of(entry.plan)
    out_dir = Path(plan.out_dir)
    if entry.state == PENDING:
        if not out_dir.is_dir():  # it existed when the batch was claimed: a share not mounted?
            return (f"batch {entry.batch_id} was interrupted; its export folder {out_dir} "
                    f"cannot be reached from here, so it is left pending and its items stay "
                    f"reserved (if the folder is gone for good, create it empty: the next "
                    f"command then undoes the batch)")
        visible = [n for n in plan.files if (out_dir / n).exists()]
        if not visible:
            _remove_privates(plan)
            register.release(entry.batch_id)
            return (f"batch {entry.batch_id} was interrupted before its files were written: "
                    f"undone, its {entry.items} item(s) are open to Reliquat again")
        missing = [n for n in plan.files if n not in visible]
        lost = [n for n in missing if not plan.private(n).exists()]
        if lost:
            return (f"batch {entry.batch_id} cannot be finished: {', '.join(visible)} "
                    f"in {out_dir}, but {', '.join(lost)} is gone; its items stay reserved. "
                    f"Restore the file or ask for help before committing again")
        for name in missing:
            os.replace(plan.private(name), out_dir / name)
        _flush_folder(out_dir)
        register.advance(entry.batch_id, EXPORTED)
    note = _stamp_after_crash(plan)
    register.advance(entry.batch_id, DONE, note)
    for name in plan.late:
        with suppress(OSError):
            plan.private(name).unlink(missing_ok=True)
    stamped = f" ({note or 'its workbook was stamped'})" if plan.workbook else ""
    return (f"batch {entry.batch_id} was interrupted after its files became visible: "
            f"finished{stamped}; its files are in {out_dir}")


def _stamp_after_crash(plan: Plan) -> str:
    if not plan.workbook:
        return ""
    if not plan.stamped:
        return (f"the workbook {plan.workbook} was open in Excel and is not stamped; the "
                f"register holds the batch")
    if not Path(plan.stamped).exists():
        return f"the workbook {plan.workbook} is not stamped (its stamped copy is gone)"
    return install_stamped_file(Path(plan.workbook), Path(plan.stamped), plan.signature)


# -- files ---------------------------------------------------------------------------------

def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReliquatError([Problem(Where(str(folder)),
                                     f"cannot create the export folder: {_reason(exc)}")]
                            ) from exc


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise ReliquatError([Problem(Where(str(target)), "file exists already")])


def _guarded(final: Path, write: Writer, target: Path, written: Mapping[str, Path]) -> None:
    """A write that fails (disk full, no permission) names the file; the half-written private
    file is removed with the others by the undo."""
    try:
        write(target, written)
    except OSError as exc:
        raise ReliquatError([Problem(Where(str(final)), f"cannot write: {_reason(exc)}")]
                            ) from exc


def _flush(path: Path) -> None:
    """On disk, not only in the cache: a power cut after the rename finds the whole file."""
    try:
        with path.open("rb+") as handle:
            os.fsync(handle.fileno())
    except OSError as exc:
        raise ReliquatError([Problem(Where(str(path)), f"cannot write: {_reason(exc)}")]
                            ) from exc


def _flush_folder(folder: Path) -> None:
    if os.name == "nt":
        return  # Windows has no handle on a folder to flush; NTFS journals the rename
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ReliquatError):
        return "; ".join(p.message for p in exc.problems)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def plan_for(out_dir: Path, workbook: ReviewWorkbook | None, batch_id: str, late: list[str]
             ) -> dict[str, Any]:
    """The part of the plan known before the files: where they go, the workbook's copy."""
    if workbook is None:
        return {"out_dir": str(out_dir), "workbook": "", "late": late}
    stamped = workbook.stamped_path(batch_id)
    return {"out_dir": str(out_dir), "workbook": workbook.name,
            "stamped": str(stamped) if stamped else "", "signature": workbook.signature(),
            "late": late}


__all__ = ["STAMPED_WORKBOOK", "CommitIncomplete", "OutputFile", "Published", "checkpoint",
           "plan_for", "publish", "recover"]
