"""``reliquat demo``: the whole path on a generated ledger of a municipal utility."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from addin.commit import CommitOutcome, CommitRequest, commit
from addin.config import Config
from addin.demo.ledger import generate_ledger
from addin.extract import ExtractOutcome, ExtractRequest, extract
from addin.locations import Location
from addin.progress import Stages
from addin.register.location import register_for
from addin.workbook.openpyxl_file import FileReview

DEMO_AS_OF = dt.date(2026, 11, 30)


def run_demo(folder: Path, *, customers: int = 4000, stages: Stages | None = None
             ) -> tuple[ExtractOutcome, CommitOutcome]:
    """Generate the ledger once; each run starts a fresh review, register and exports (the
    demo keeps its own register in its folder, apart from the user's real one)."""
    stages = stages or Stages()
    folder = folder.resolve()
    ledger = folder / f"ledger-{customers}.sqlite"
    if not ledger.exists():
        with stages.stage("generate", "Generating the demo ledger"):
            folder.mkdir(parents=True, exist_ok=True)
            generate_ledger(ledger, customers=customers, as_of=DEMO_AS_OF)
    run = folder / "run"
    shutil.rmtree(run, ignore_errors=True)
    review = run / "review.xlsm"
    config = replace(Config(), register=Location.of(run / "register.sqlite"))
    register_for(config).create()  # as in use: the review carries the register's check values
    extracted = extract(ExtractRequest(
        source=Location.of(f"sqlite:///{ledger}"), out=review, config=config,
        threshold=Decimal("5.00"), as_of=DEMO_AS_OF,
    ), stages)
    committed = commit(FileReview(review), CommitRequest(
        out_dir=run / "exports", config=config, accept_proposals=True,
    ), stages)
    return extracted, committed
