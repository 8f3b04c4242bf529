"""One function per ribbon button. The VBA runs, through the xlwings add-in:

    RunPython "import addin.excel.buttons as b; b.extract()"

Each reads the Control sheet, runs the same code as the command line, writes the sheets in
bulk with screen updating and calculation off, shows progress in the status bar and
reports any problem in a message box. On failure the workbook stays as it was.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from addin import api
from addin.domain.problems import CommitRefused, ReliquatError, StaleRows
from addin.excel.edge import excel_amount, excel_day, excel_text
from addin.excel.live import LiveWorkbook
from addin.excel.run_guard import AlreadyRunning, one_run

HELP_TEXT = (
    "Reliquat clears the small residual amounts customers leave open.\n\n"
    "1. On the Control sheet, enter the source, the threshold and the as-of date.\n"
    "2. Extract: the flagged subscriptions appear on the Residuals sheet.\n"
    "3. Review each row: Action, Target subscription, Accept = Yes.\n"
    "4. Validate: the commit checks, written in the Check column.\n"
    "5. Commit: the posting and rebill files are written to the export folder, and this\n"
    "   workbook is saved as the audit trail of the batch."
)


def _caller() -> Any:
    import xlwings as xw

    return xw.Book.caller()


def extract(book: Any = None) -> None:
    _run(book or _caller(), "Extract", _extract)


def validate(book: Any = None) -> None:
    _run(book or _caller(), "Validate", _validate)


def commit(book: Any = None) -> None:
    _run(book or _caller(), "Commit", _commit)


def reverse(book: Any = None) -> None:
    _run(book or _caller(), "Reverse", _reverse)


def help(book: Any = None) -> None:
    (book or _caller()).app.alert(HELP_TEXT, title="Reliquat")


Run = Callable[[LiveWorkbook, api.Stages, api.Tell], str]


def _run(book: Any, title: str, action: Run) -> None:
    live = LiveWorkbook(book)
    try:
        with one_run(live.name, title):
            _run_alone(live, title, action)
    except AlreadyRunning as exc:  # the other run owns the status bar and the settings
        book.app.alert(exc.describe(), title=f"Reliquat – {title}")
    except ReliquatError as exc:  # the guard's file cannot be made in the temp folder
        book.app.alert(f"{title} refused. Nothing was changed.\n\n{exc.describe()}",
                       title=f"Reliquat – {title}")


def _run_alone(live: LiveWorkbook, title: str, action: Run) -> None:
    app = live.book.app

    def report(label: str) -> None:
        app.status_bar = f"Reliquat: {label}…"

    recovered: list[str] = []  # what the command finished or undid first, said first
    try:
        with live.quiet():
            message = action(live, api.Stages(report), recovered.append)
    except api.CommitIncomplete as exc:
        app.status_bar = False
        app.alert(f"{_recovered(recovered)}{title} not finished.\n\n"
                  f"{exc.describe(limit=15)}", title=f"Reliquat – {title}")
        return
    except ReliquatError as exc:
        app.status_bar = False
        app.alert(f"{_recovered(recovered)}{title} refused. Nothing was changed.\n\n"
                  f"{exc.describe(limit=15)}", title=f"Reliquat – {title}")
        return
    except Exception as exc:  # shown to the accountant, not lost in a traceback window
        traceback.print_exc()
        app.status_bar = False
        app.alert(f"{title} failed. Nothing was changed.\n\n{type(exc).__name__}: {exc}",
                  title=f"Reliquat – {title}")
        return
    app.status_bar = False
    app.alert(_recovered(recovered) + message, title=f"Reliquat – {title}")


def _folder(live: LiveWorkbook) -> Path:
    """Relative paths on the Control sheet are taken from the workbook's folder, not from
    the folder Python happens to run in."""
    return Path(live.name).resolve().parent


def _settings(live: LiveWorkbook) -> tuple[api.Config, dict[str, object]]:
    inputs = live.control_inputs()
    config_path = excel_text(inputs.get("config"))
    return api.settings(_folder(live) / config_path if config_path else None,
                        excel_text(inputs.get("language"))), inputs


def _extract(live: LiveWorkbook, stages: api.Stages, tell: api.Tell) -> str:
    config, inputs = _settings(live)
    source = excel_text(inputs.get("source"))
    if not source:
        raise ReliquatError("enter the source on the Control sheet (a folder, an .xlsx or a "
                            "database URL)")
    threshold = inputs.get("threshold")
    as_of = inputs.get("as_of")
    _confirm_overwrite(live)
    outcome = api.prepare_extract(
        source, Path(live.name), config=config,
        threshold=excel_amount(threshold) if threshold not in (None, "") else None,
        as_of=excel_day(as_of), out_dir=excel_text(inputs.get("out_dir")), stages=stages,
        tell=tell)
    with stages.stage("write", "writing the sheets"):
        live.write_content(outcome.content)
    flagged = len(outcome.selection.residuals)
    return (
        f"{flagged} subscription(s) flagged, {len(outcome.selection.exclusions)} small "
        f"item(s) excluded with a reason. Review the Residuals sheet.")


def _confirm_overwrite(live: LiveWorkbook) -> None:
    """A Journal is never overwritten; a reviewer's decisions only after a Yes."""
    try:
        api.refuse_overwriting(live)
    except api.AuditTrail:
        raise
    except ReliquatError as refused:
        answer = live.book.app.alert(f"{refused.describe()}\n\nOverwrite them?",
                                     title="Reliquat – Extract", buttons="yes_no")
        if answer != "yes":
            raise


def _reverse(live: LiveWorkbook, stages: api.Stages, tell: api.Tell) -> str:
    """Reverse the batch whose Journal block is selected, after a Yes; the reversal's own
    block goes to the Journal."""
    config, _ = _settings(live)
    batch_id = live.selected_batch()
    if not batch_id:
        raise ReliquatError("select a cell of the batch's block on the Journal sheet, then "
                            "click Reverse")
    answer = live.book.app.alert(
        f"Reverse batch {batch_id}?\n\nA new batch undoes it: its postings swapped, its "
        f"rebill lines negated, and its items open to Reliquat again. Reverse only what the "
        f"billing system has not invoiced yet.", title="Reliquat – Reverse", buttons="yes_no")
    if answer != "yes":
        return f"Batch {batch_id} was not reversed."
    with stages.stage("export", "writing the reversal"):
        outcome = api.reverse(batch_id, config=config,
                              reason=f"reversed in Excel from {Path(live.name).name}",
                              tell=tell)
    note = live.install_stamps(api.reversal_stamps(outcome, live.language))
    new = outcome.batch.batch_id
    return (f"Batch {new} reverses batch {batch_id}: {len(outcome.batch.postings)} posting "
            f"line(s) swapped. Files in {outcome.out_dir}." + (f"\n\n{note}" if note else ""))


def _recovered(messages: list[str]) -> str:
    if not messages:
        return ""
    return "An interrupted commit was dealt with first:\n" + "\n".join(
        f"- {m}" for m in messages) + "\n\n"


def _validate(live: LiveWorkbook, stages: api.Stages, tell: api.Tell) -> str:
    config, _ = _settings(live)
    try:
        outcome = api.commit(live, config=config, dry_run=True, stages=stages, tell=tell)
    except CommitRefused as refused:
        live.write_checks(refused.problems)
        raise
    live.write_checks([p for _, problems in outcome.checks.stale for p in problems]
                      + outcome.checks.warnings,
                      ok_lines=[d.where.line for d in outcome.checks.accepted])
    return f"{len(outcome.checks.accepted)} row(s) ready to commit."


def _commit(live: LiveWorkbook, stages: api.Stages, tell: api.Tell) -> str:
    config, _ = _settings(live)
    try:
        outcome = api.commit(live, config=config, stages=stages, tell=tell)
    except StaleRows as stale:
        answer = live.book.app.alert(f"{stale.describe(limit=10)}\n\nCommit the other rows?",
                                     title="Reliquat – Commit", buttons="yes_no")
        if answer != "yes":
            raise
        outcome = api.commit(live, config=config, confirm_partial=True, stages=stages,
                             tell=tell)
    assert outcome.batch is not None
    note = f"\n\n{outcome.note}" if outcome.note else ""
    return (
        f"Batch {outcome.batch.batch_id}: {len(outcome.batch.decisions)} row(s), "
        f"{len(outcome.batch.item_ids)} item(s).\nFiles in {outcome.out_dir}.{note}")


