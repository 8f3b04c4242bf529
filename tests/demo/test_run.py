import sqlite3

from addin.demo import run_demo
from addin.demo.ledger import generate_ledger


def test_the_demo_ledger_is_deterministic_and_has_every_case(tmp_path):
    first = generate_ledger(tmp_path / "a.sqlite", customers=600)
    generate_ledger(tmp_path / "b.sqlite", customers=600)
    dump = lambda p: list(sqlite3.connect(p).iterdump())  # noqa: E731
    assert dump(tmp_path / "a.sqlite") == dump(tmp_path / "b.sqlite")
    for kind in ("residual", "residual_at_threshold", "residual_above_threshold", "credit",
                 "net_zero", "residual_recent", "unpaid", "current"):
        assert first.counts.get(kind, 0) > 0, kind
    assert first.moved_out > 0


def test_the_demo_extracts_accepts_and_commits(tmp_path):
    extracted, committed = run_demo(tmp_path, customers=800)
    actions = {r.proposed_action.value for r in extracted.selection.residuals}
    assert actions == {"REBILL", "TRANSFER", "WRITE_OFF", "KEEP"}
    kept = sum(1 for r in extracted.selection.residuals if r.proposed_action.value == "KEEP")
    assert len(committed.batch.decisions) == len(extracted.selection.residuals) - kept
    assert all(p.exists() for p in committed.files)
    reasons = {e.reason.split(" (")[0] for e in extracted.selection.exclusions}
    assert {"dunning block", "not overdue enough"} <= reasons
