"""What a commit writes: the export files, the batch record, the register's entry and the
items it claims; one context instead of a long list of arguments."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from addin.commit.protocol import STAMPED_WORKBOOK, OutputFile, plan_for
from addin.config import Config
from addin.domain.batch import Batch
from addin.domain.checks import CheckResult
from addin.domain.model import Rules
from addin.exports.batch_record import RecordContext, write_batch_record
from addin.exports.csv_files import write_postings, write_rebills
from addin.locations import Location
from addin.register.schema import PENDING
from addin.register.store import ClaimedItem, Entry, Register
from addin.workbook.port import ReviewWorkbook


@dataclass(frozen=True)
class BatchWriting:
    workbook: ReviewWorkbook
    config: Config
    register: Register
    out_dir: Path
    source: Location
    now: dt.datetime
    user: str
    offline: bool
    rules: Rules

    def names(self, batch: Batch) -> list[str]:
        """Postings, rebill, batch record, audit copy of the workbook."""
        return [f"postings_{batch.batch_id}.csv", f"rebill_{batch.batch_id}.csv",
                f"batch_{batch.batch_id}.json", self.audit_name(batch)]

    def audit_name(self, batch: Batch) -> str:
        return f"batch_{batch.batch_id}{self.workbook.suffix}"

    def outputs(self, batch: Batch, checks: CheckResult) -> list[OutputFile]:
        postings, rebill, record, audit = self.names(batch)
        delimiter, encoding = self.config.delimiter, self.config.encoding
        outputs = [
            OutputFile(postings, lambda path, _: write_postings(
                path, batch.postings, delimiter, encoding, postings)),
            OutputFile(rebill, lambda path, _: write_rebills(
                path, batch.rebills, delimiter, encoding, rebill)),
        ]
        if self.workbook.stamped_path(batch.batch_id) is not None:
            outputs.append(OutputFile(audit, _copy_stamped))

        def write_record(path: Path, written: Mapping[str, Path]) -> None:
            files = {n: written[n] for n in (postings, rebill, audit) if n in written}
            write_batch_record(path, batch, files=files, context=self._record_context(),
                               stale=checks.stale, config=self.config)

        outputs.append(OutputFile(record, write_record))
        return outputs

    def _record_context(self) -> RecordContext:
        identity = self.register.identity()  # there by now: the first commit created it
        return RecordContext(source=self.source.shown, workbook=self.workbook.name,
                             user=self.user, at=self.now, offline=self.offline,
                             register_id=identity.register_id if identity else "",
                             register=self.register.shown, rules=self.rules)

    def entry(self, batch: Batch) -> Entry:
        late = [] if self.workbook.stamped_path(batch.batch_id) else [self.audit_name(batch)]
        return Entry(batch_id=batch.batch_id, state=PENDING, started_at=self.now.isoformat(),
                     committed_by=self.user, host=socket.gethostname(),
                     workbook=self.workbook.name, source=self.source.shown,
                     offline=self.offline, items=len(batch.item_ids),
                     out_dir=str(self.out_dir),
                     plan=plan_for(self.out_dir, self.workbook, batch.batch_id, late),
                     posting_date=batch.posting_date.isoformat())


def _copy_stamped(path: Path, written: Mapping[str, Path]) -> None:
    """The audit copy: the stamped workbook, as the workbook itself will be."""
    shutil.copyfile(written[STAMPED_WORKBOOK], path)


def claimed_items(batch: Batch) -> list[ClaimedItem]:
    return [ClaimedItem(item.item_id, d.subscription_id, d.customer_id, d.currency,
                        f"{item.amount:.2f}", d.action.value, d.target)
            for d in batch.decisions for item in d.items]


