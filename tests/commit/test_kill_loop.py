"""Commits of a large ledger killed at random moments by SIGKILL, SIGTERM or Ctrl-C, again and
again, each followed by what a person does next (commit again, or extract anew and commit):
in the end every item that should be exported is exported exactly once."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from addin import api
from addin.demo.ledger import generate_ledger
from addin.domain.actions import Action
from tests.builders import with_register
from tests.support.exports import exported_items, leftovers

AS_OF = dt.date(2026, 11, 30)
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
# Several batches, each on what the ones before left.
THRESHOLDS = ("0.50", "1.00", "1.50", "2.00", "2.50", "3.00", "3.50", "4.00", "4.50", "5.00")


def reliquat(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "addin", *arguments],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen[str]) -> tuple[int, str]:
    """How a command ended. A signal that comes while Python is still starting, before the
    command handles signals, ends it as the signal does (-15, or a KeyboardInterrupt)."""
    _, err = process.communicate(timeout=300)
    if process.returncode in (0, 1):
        assert "Traceback" not in err, err
    return process.returncode, err


@pytest.mark.slow
def test_commits_killed_at_random_export_every_item_exactly_once(tmp_path: Path):
    ledger = tmp_path / "ledger.sqlite"
    generate_ledger(ledger, customers=80000, as_of=AS_OF)
    expected = api.extract(ledger, tmp_path / "expected.xlsx", as_of=AS_OF,
                           config=with_register(tmp_path / "elsewhere.sqlite"))
    should = {i.item_id for r in expected.selection.residuals
              if r.proposed_action is not Action.KEEP for i in r.items}
    assert len(should) > 6000
    out = tmp_path / "exports"
    chance = random.Random(20261203)
    kills = 0
    lasts = 2.0  # seconds a commit runs here, learnt from those that end
    thresholds = iter(THRESHOLDS)
    threshold = next(thresholds)
    for step in range(80):
        review = tmp_path / f"review-{step}.xlsx"
        offered = api.extract(ledger, review, as_of=AS_OF, threshold=Decimal(threshold))
        if all(r.proposed_action is Action.KEEP for r in offered.selection.residuals):
            threshold = next(thresholds, "")
            if not threshold:
                break
            continue
        for _ in range(3):  # the same workbook again, until it is committed or refused
            started = time.monotonic()
            commit = reliquat("commit", str(review), "--out-dir", str(out),
                              "--accept-proposals")
            if chance.random() < 0.85:  # most are stopped, somewhere in their expected run
                time.sleep(chance.uniform(0.3, 1.0) * lasts)
                if commit.poll() is None:
                    os.kill(commit.pid, chance.choice(SIGNALS))
                    kills += 1
            code, err = finished(commit)
            assert code in (0, 1, 130, 143, -9, -15, -2) or \
                err.rstrip().endswith("KeyboardInterrupt"), err
            counted = exported_items(out)
            assert max(counted.values(), default=1) == 1, "an item was exported twice"
            if code == 0:
                lasts = time.monotonic() - started
            if code in (0, 1):
                break
    code, err = finished(reliquat("extract", "--source", str(ledger), "--out",
                                  str(tmp_path / "last.xlsx"), "--as-of", "30.11.2026"))
    assert code == 0, err
    code, err = finished(reliquat("commit", str(tmp_path / "last.xlsx"), "--out-dir",
                                  str(out), "--accept-proposals"))
    assert code in (0, 1), err
    counted = exported_items(out)
    assert kills >= 8
    assert max(counted.values()) == 1
    assert set(counted) == should
    assert leftovers(out, tmp_path) == []
