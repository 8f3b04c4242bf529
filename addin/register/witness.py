"""The export folder as a second witness of what was committed.

Every batch record (``batch_<id>.json``) lists the items of its batch. Before a commit, the
records already in the export folder are read: an item in any of them is refused even if the
register does not know it (a lost register, another register), and a record the register does
not know is reported. ``check`` compares a register with export folders; ``rebuild`` records
in a register every batch it is missing from the folders' records.

A record of an earlier Reliquat has no item list: its posting file gives the items instead.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from addin.domain.batch import Decision
from addin.domain.problems import Problem, ReliquatError, Where
from addin.domain.texts import text
from addin.exports.batch_record import sha256_of
from addin.register.store import ClaimedItem, Entry, Register

_RECORD = re.compile(r"^batch_(?P<batch>B[\w-]+)\.json$")
_TARGET = re.compile(r" -> (?P<target>\S+)$")


@dataclass(frozen=True)
class RecordedBatch:
    """A batch as its record in an export folder shows it."""

    batch_id: str
    file: Path
    register_id: str
    committed_at: str
    committed_by: str
    source: str
    workbook: str
    offline: bool
    items: tuple[ClaimedItem, ...]
    files: dict[str, str]  # name -> sha256
    reverses: str = ""
    encoding: str = "utf-8"  # of its export files


def read_records(folder: Path) -> tuple[list[RecordedBatch], list[Problem]]:
    """Every batch record in ``folder`` (none when it does not exist), and the records that
    cannot be read."""
    if not folder.is_dir():
        return [], []
    records: list[RecordedBatch] = []
    problems: list[Problem] = []
    for path in sorted(folder.iterdir()):
        if not _RECORD.match(path.name):
            continue
        try:
            records.append(_read(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(Problem(Where(str(path)), f"cannot read this batch record "
                                                      f"({type(exc).__name__}: {exc}): its "
                                                      f"items cannot be checked"))
    return records, problems


def _read(path: Path) -> RecordedBatch:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    batch_id = str(data["batch_id"])
    if "items" in data:
        columns = data["item_columns"]
        items = tuple(ClaimedItem(**dict(zip(columns, row, strict=True)))
                      for row in data["items"])
    else:
        items = _items_from_postings(path.with_name(f"postings_{batch_id}.csv"),
                                     str(data.get("accounts", {}).get("receivable", "")))
    register = data.get("register") or {}
    return RecordedBatch(
        batch_id=batch_id, file=path, register_id=str(register.get("id", "")),
        committed_at=str(data.get("committed_at", "")),
        committed_by=str(data.get("committed_by", "")), source=str(data.get("source", "")),
        workbook=str(data.get("workbook", "")), offline=bool(data.get("offline", False)),
        items=items, files={n: str(f.get("sha256", "")) for n, f in
                            (data.get("files") or {}).items()},
        reverses=str(data.get("reverses") or ""),
        encoding=str((data.get("export") or {}).get("encoding") or "utf-8"))


def _items_from_postings(path: Path, receivable: str) -> tuple[ClaimedItem, ...]:
    """An earlier record without its items: one posting line per item says which."""
    text = path.read_text(encoding="utf-8-sig")
    header = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t", "|"), key=header.count)
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    items = []
    for row in rows:
        amount = row["amount"] if row["credit_account"] == receivable else f"-{row['amount']}"
        target = _TARGET.search(row.get("text", ""))
        items.append(ClaimedItem(
            _verbatim(row["item_id"]), _verbatim(row["subscription_id"]),
            _verbatim(row["customer_id"]), row["currency"], amount, row["action"],
            _verbatim(target["target"]) if target else None))
    return tuple(items)


def _verbatim(text: str) -> str:
    """Earlier exports put a quote before an id that looked like a formula."""
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@") else text


def exported_items(records: Iterable[RecordedBatch]) -> dict[str, RecordedBatch]:
    """Item -> the record that exported it, leaving out reversed batches."""
    records = list(records)
    reversed_ = {r.reverses for r in records if r.reverses}
    return {item.item_id: r for r in records if r.batch_id not in reversed_
            for item in r.items if not r.reverses}


def witness_problems(folder: Path, register: Register, decisions: Sequence[Decision]
                     ) -> list[Problem]:
    """What the export folder says against this commit."""
    records, problems = read_records(folder)
    if not records:
        return problems
    known = {e.batch_id for e in register.entries()}
    for record in records:
        if record.batch_id not in known:
            problems.append(Problem(Where(str(record.file)),
                f"batch {record.batch_id} is in the export folder but not in the register "
                f"{register.shown}; see 'reliquat register check --out-dir {folder}' (and "
                f"'reliquat register rebuild' if the register was lost)"))
    exported = exported_items(records)
    for decision in decisions:
        for item in decision.items:
            found = exported.get(item.item_id)
            if found is not None:
                problems.append(Problem(decision.where, text(
                    "item_exported", "item {item} was already exported in batch {batch} "
                    "({file} in the export folder)", item=item.item_id, batch=found.batch_id,
                    file=found.file.name)))
    return problems


def check(register: Register, folders: Sequence[Path]) -> tuple[list[str], list[Problem]]:
    """Compare the register with the folders' records: what agrees, and every disagreement."""
    entries = {e.batch_id: e for e in register.entries()}
    lines = [f"register {register.shown}: {len(entries)} batch(es)" if register.identity()
             else f"no register at {register.shown}"]
    problems: list[Problem] = []
    seen: set[str] = set()
    for folder in folders:
        records, unreadable = read_records(folder)
        problems += unreadable
        lines.append(f"{folder}: {len(records)} batch record(s)")
        for record in records:
            seen.add(record.batch_id)
            problems += _disagreements(register, entries.get(record.batch_id), record)
    for entry in entries.values():
        if entry.state != "done":
            problems.append(Problem(Where(register.shown),
                                    f"batch {entry.batch_id} is unfinished ({entry.state}) in "
                                    f"{entry.out_dir}"))
        elif entry.batch_id not in seen and Path(entry.out_dir) in {f.resolve()
                                                                   for f in folders}:
            problems.append(Problem(Where(entry.out_dir), f"batch {entry.batch_id} is in the "
                                                          f"register but its record is missing"))
    return lines, problems


def _disagreements(register: Register, entry: Entry | None, record: RecordedBatch
                   ) -> list[Problem]:
    where = Where(str(record.file))
    if entry is None:
        return [Problem(where, f"batch {record.batch_id} is not in the register "
                               f"({len(record.items)} item(s)); 'reliquat register rebuild' "
                               f"records it")]
    problems = []
    theirs = {i.item_id for i in record.items}
    ours = {i.item_id for i in register.items_of(record.batch_id)}
    if theirs != ours and not entry.reversed_by and not entry.reverses:
        problems.append(Problem(where, f"batch {record.batch_id}: the record lists "
                                       f"{len(theirs)} item(s), the register {len(ours)}"))
    folder = record.file.parent
    for name, sha in record.files.items():
        path = folder / name
        if path.exists() and sha and sha256_of(path) != sha:
            problems.append(Problem(Where(str(path)), "changed since it was exported "
                                                      "(its sha256 differs from the record)"))
    return problems


def rebuild(register: Register, folders: Sequence[Path]) -> list[str]:
    """Record every batch of the folders that the register is missing; all or nothing."""
    records: dict[str, RecordedBatch] = {}
    problems: list[Problem] = []
    for folder in folders:
        found, unreadable = read_records(folder)
        problems += unreadable
        for record in found:
            records.setdefault(record.batch_id, record)
    if problems:
        raise ReliquatError(problems)
    register.create()
    known = {e.batch_id for e in register.entries()}
    missing = [r for r in sorted(records.values(), key=lambda r: r.committed_at)
               if r.batch_id not in known]
    clashes = _clashes(register, missing, records)
    if clashes:
        raise ReliquatError(clashes)
    for record in missing:
        register.claim(_entry(record), [] if record.reverses else list(record.items))
        if record.reverses:
            register.mark_reversed(record.reverses, record.batch_id)
    return [f"batch {r.batch_id}: " + (f"the reversal of {r.reverses}" if r.reverses else
                                       f"{len(r.items)} item(s)") + f" recorded from {r.file}"
            for r in missing]


def _clashes(register: Register, missing: Sequence[RecordedBatch],
             records: dict[str, RecordedBatch]) -> list[Problem]:
    """Items two batches would hold at once, replaying the records in order: a reversal
    frees the items of the batch it reverses."""
    live = register.committed([i.item_id for r in missing for i in r.items])
    clashes = []
    for record in missing:
        if record.reverses:
            freed = records.get(record.reverses)
            for item in freed.items if freed else ():
                live.pop(item.item_id, None)
            continue
        for item in record.items:
            holder = live.setdefault(item.item_id, record.batch_id)
            if holder != record.batch_id:
                clashes.append(Problem(Where(str(record.file)),
                    f"item {item.item_id} is in batch {record.batch_id} here and in batch "
                    f"{holder} already"))
    return clashes


def _entry(record: RecordedBatch) -> Entry:
    return Entry(batch_id=record.batch_id, state="done", started_at=record.committed_at,
                 committed_by=record.committed_by, host="", workbook=record.workbook,
                 source=record.source, offline=record.offline,
                 items=0 if record.reverses else len(record.items),
                 out_dir=str(record.file.parent), plan={},
                 note=f"rebuilt from {record.file}", reverses=record.reverses or None)
