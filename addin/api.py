"""The one door: the command line, the Excel buttons and the worksheet functions call this."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from addin.commit import CommitOutcome, CommitRequest
from addin.commit import commit as _commit
from addin.config import Config
from addin.domain.model import Action, Selection
from addin.domain.money import ZERO
from addin.extract import ExtractOutcome, ExtractRequest
from addin.extract import extract as _extract
from addin.extract import prepare as _prepare
from addin.locations import absolute_source
from addin.progress import Stages
from addin.workbook.openpyxl_file import FileReview
from addin.workbook.port import ReviewWorkbook


def with_language(config: Config, language: str) -> Config:
    return replace(config, language=language)


def extract(source: str | Path, out: Path, *, config: Config | None = None,
            threshold: Decimal | None = None, as_of: dt.date | None = None,
            register: Path | None = None, stages: Stages | None = None,
            user: str = "", now: dt.datetime | None = None) -> ExtractOutcome:
    """Extract to a review workbook file (.xlsm with the ribbon, or .xlsx)."""
    request = ExtractRequest(
        source=absolute_source(str(source)), out=Path(out), config=config or Config(),
        threshold=threshold, as_of=as_of, register=register, user=user, now=now)
    return _extract(request, stages)


def prepare_extract(request: ExtractRequest, stages: Stages | None = None) -> ExtractOutcome:
    """Everything an extraction computes, writing nothing: Excel writes it into the live book
    (``request.out`` is the live workbook's path, beside which the register is looked for)."""
    return _prepare(replace(request, source=absolute_source(request.source)),
                    stages or Stages())


def commit(workbook: Path | ReviewWorkbook, out_dir: Path, *, config: Config | None = None,
           register: Path | None = None, accept_proposals: bool = False,
           confirm_partial: bool = False, offline: bool = False, source: str | None = None,
           dry_run: bool = False, stages: Stages | None = None, user: str = "",
           now: dt.datetime | None = None) -> CommitOutcome:
    """Commit a review workbook: a file (a path) or one open in Excel (a live workbook)."""
    request = CommitRequest(
        out_dir=Path(out_dir), config=config or Config(), register=register,
        accept_proposals=accept_proposals, confirm_partial=confirm_partial, offline=offline,
        source=absolute_source(source) if source else None, user=user, now=now,
        dry_run=dry_run)
    port = FileReview(Path(workbook)) if isinstance(workbook, str | Path) else workbook
    return _commit(port, request, stages)


@dataclass(frozen=True)
class ProposalRow:
    action: str
    currency: str
    subscriptions: int
    items: int
    amount: Decimal


def proposal_summary(selection: Selection) -> list[ProposalRow]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    amounts: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for residual in selection.residuals:
        key = (residual.proposed_action.value, residual.currency)
        counts[key][0] += 1
        counts[key][1] += len(residual.items)
        amounts[key] += residual.balance
    order = [a.value for a in Action]
    return [
        ProposalRow(action, currency, counts[(action, currency)][0],
                    counts[(action, currency)][1], amounts[(action, currency)])
        for action, currency in sorted(counts, key=lambda k: (order.index(k[0]), k[1]))
    ]


def write_template(out: Path, *, language: str = "en") -> Path:
    """The workbook an accountant opens in Excel: empty sheets, dropdowns, VBA and ribbon."""
    from addin.extract import write_atomically
    from addin.workbook.render import template_content

    out = Path(out)
    write_atomically(template_content(language), out)
    return out


def demo(folder: Path, *, customers: int = 4000, stages: Stages | None = None
         ) -> tuple[ExtractOutcome, CommitOutcome]:
    from addin.demo import run_demo

    return run_demo(folder, customers=customers, stages=stages)
