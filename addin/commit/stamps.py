"""What a commit writes back into the review workbook: stamps, check notes, a Journal block."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from addin.commit.decisions import Reading
from addin.commit.reverse import ReverseOutcome
from addin.domain.actions import actions_where
from addin.domain.batch import Batch
from addin.domain.checks import CheckResult
from addin.domain.texts import text
from addin.workbook.port import Stamps
from addin.workbook.review.content import Value
from addin.workbook.review.language import say
from addin.workbook.review.reading import Review


def commit_stamps(review: Review, reading: Reading, checks: CheckResult, batch: Batch, *,
                  at: dt.datetime, user: str, files: list[str], offline: bool,
                  vat: dict[str, Decimal]) -> Stamps:
    stamps = Stamps()
    language = review.language
    committed = say(text("stamped", "committed {at}", at=f"{at:%d.%m.%Y %H:%M}"), language)
    item_lines = reading.item_lines
    for decision in batch.decisions:
        line = decision.where.line
        assert line is not None
        stamps.residuals[(line, "batch")] = batch.batch_id
        stamps.residuals[(line, "check")] = committed
        for item in decision.items:
            stamps.items[(item_lines[item.item_id], "batch")] = batch.batch_id
    for decision, problems in checks.stale:
        line = decision.where.line
        assert line is not None
        stamps.residuals[(line, "check")] = say(text(
            "not_committed", "not committed: {reasons}", reasons=[p.message for p in problems]),
            language)
    stamps.journal_rows = [[say(value, language) for value in row] for row in journal_block(
        batch, checks, at=at, user=user, files=files, offline=offline,
        source=review.text("source"), vat=vat)]
    return stamps


def journal_block(batch: Batch, checks: CheckResult, *, at: dt.datetime, user: str,
                  files: list[str], offline: bool, source: str,
                  vat: dict[str, Decimal]) -> list[list[Value]]:
    """One block per commit: a batch line, a line per action and currency, the VAT corrected
    per currency, refused rows."""
    head = [batch.batch_id, at, user]
    mode = text("journal_offline", "offline: items not checked against the source") \
        if offline else text("journal_online", "source: {source}", source=source)
    rows: list[list[Value]] = [
        [*head, text("journal_batch", "batch"), None, len(batch.decisions),
         len(batch.item_ids), None, None,
         text("journal_source", "{mode}; posting date {day}; files: {files}", mode=mode,
              day=f"{batch.posting_date:%d.%m.%Y}", files=", ".join(files))],
    ]
    for total in batch.totals():
        rows.append([*head, text("journal_action", "action"), total.action.value,
                     total.subscriptions, total.items, total.amount, total.currency, None])
    for currency, amount in sorted(vat.items()):
        rows.append([*head, text("journal_vat", "vat"), _vat_splitting(), None, None,
                     amount, currency, text("journal_vat_detail", "VAT share of the "
                                                                  "write-offs, to the VAT "
                                                                  "account")])
    for decision, problems in checks.stale:
        rows.append([*head, text("journal_refused", "refused"), decision.action.value, 1,
                     len(decision.items), decision.balance, decision.currency,
                     f"{decision.subscription_id}: " + "; ".join(p.message for p in problems)])
    return rows


def _vat_splitting() -> str:
    """The actions whose VAT share goes to the VAT account, for the Journal's VAT line."""
    return ", ".join(actions_where(lambda p: p.splits_vat))


def reversal_block(outcome: ReverseOutcome, language: str) -> list[list[Value]]:
    """The Journal's line for a reversal: which batch it undoes, and where its files are."""
    batch = outcome.batch
    row: list[Value] = [
        batch.batch_id, outcome.at, outcome.user, text("journal_reversal", "reversal"), None,
        None, len(batch.postings), None, None,
        text("journal_reverses", "reverses {batch}; posting date {day}; files: {files}",
             batch=outcome.reverses, day=f"{batch.posting_date:%d.%m.%Y}",
             files=", ".join(path.name for path in outcome.files))]
    return [[say(value, language) for value in row]]
