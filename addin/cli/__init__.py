"""The command line: ``reliquat extract | commit | validate | demo``; the same code as Excel."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from addin import __version__
from addin.domain.problems import ReliquatError

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

DESCRIPTION = "Clear the small residual amounts customers leave open on their invoices."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reliquat", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"reliquat {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    ex = verbs.add_parser("extract", help="read the open items, flag the subscriptions at or "
                                          "below the threshold, write the review workbook",
                          description="Read the source, apply the rules, write the review "
                                      "workbook (nothing is written on error).")
    ex.add_argument("--source", required=True,
                    help="a folder with open_items.csv and subscriptions.csv (or .xlsx), an "
                         ".xlsx with sheets open_items and subscriptions, an SQLite file, or "
                         "a SQLAlchemy URL")
    ex.add_argument("--out", required=True, type=Path,
                    help="the review workbook to write (.xlsm with the Reliquat ribbon, or .xlsx)")
    _common(ex)
    ex.add_argument("--threshold", help="flag a subscription when 0 < |balance| <= this "
                                        "(default from [rules] threshold, else 5.00)")
    ex.add_argument("--as-of", help="the day overdue days are counted to: 2026-11-30 or "
                                    "30.11.2026 (default today)")
    ex.add_argument("--min-overdue-days", type=int,
                    help="an item counts once as-of minus due date reaches this (default 30)")
    ex.add_argument("--write-off-limit",
                    help="terminated, no active alternative: write off up to this (default 1.00)")
    ex.add_argument("--language", choices=("en", "fr", "de"),
                    help="language of the workbook's sheets and headers")
    ex.add_argument("--force", action="store_true",
                    help="overwrite a workbook that holds a reviewer's decisions not committed "
                         "(a workbook with a Journal is never overwritten)")

    for name, helptext in (("validate", "check the accepted rows, write nothing"),
                           ("commit", "export the accepted rows as one batch")):
        cm = verbs.add_parser(name, help=helptext, description=helptext.capitalize() + ".")
        cm.add_argument("workbook", type=Path, help="the review workbook")
        cm.add_argument("--out-dir", type=Path,
                        help="folder for postings_<batch>.csv, rebill_<batch>.csv, "
                             "batch_<batch>.json and the audit copy of the workbook (default: "
                             "the export folder on the Control sheet, else 'exports' beside "
                             "the workbook); its batch records are checked too")
        _common(cm)
        cm.add_argument("--accept-proposals", action="store_true",
                        help="take every row whose proposal is not KEEP, unless Accept is No")
        cm.add_argument("--source", help="check the items against this source instead of "
                                         "the one recorded in the workbook")
        cm.add_argument("--offline", action="store_true",
                        help="do not re-read the source (recorded in the batch and the Journal)")
        if name == "commit":
            cm.add_argument("--confirm-partial", action="store_true",
                            help="commit the other rows when some changed in the source")
            cm.add_argument("--posting-date",
                            help="the date of the postings: 30.11.2026 or 2026-11-30 (default: "
                                 "the day of the commit), e.g. to close November in December")

    rv = verbs.add_parser(
        "reverse", help="reverse a committed batch (before its rebills are invoiced)",
        description="Commit a new batch that reverses BATCH_ID: its postings with debit and "
                    "credit swapped, its rebill lines negated. The original's items become "
                    "open to Reliquat again. Reverse only what the billing system has not "
                    "invoiced yet; after that, issue a credit note there.")
    rv.add_argument("batch_id", metavar="BATCH_ID", help="the batch to reverse (B2026...)")
    rv.add_argument("--out-dir", type=Path,
                    help="where the reversal's files go (default: the original's folder)")
    rv.add_argument("--reason", default="", help="why, for the batch record")
    rv.add_argument("--posting-date", help="the reversal's posting date (default: today)")
    _common(rv)

    rc = verbs.add_parser(
        "reconcile", help="the transit account against the committed rebill lines",
        description="Match the transit account's movements (the ERP's export) with the rebill "
                    "lines of the register: a line is cleared by a movement of the opposite "
                    "amount whose reference names its subscription or batch. Lists the lines "
                    "still open with their age, the movements that match nothing, and the "
                    "balances.")
    rc.add_argument("--transit", type=Path, required=True,
                    help="the transit account's movements: .csv or .xlsx with posting_date, "
                         "amount (+ debit), document_no, reference (and currency)")
    rc.add_argument("--as-of", help="the day ages are counted to (default today)")
    rc.add_argument("--source", help="where to look up the subscriptions' status now "
                                     "(default: the source of the latest batch)")
    rc.add_argument("--out", type=Path, help="write the report as an .xlsx")
    rc.add_argument("--json", action="store_true", help="print the report as JSON")
    _common(rc)

    rp = verbs.add_parser(
        "repeat", help="customers whose residuals were committed batch after batch",
        description="From the register alone: every customer with residuals committed in "
                    "the last months (reversed batches left out), the most batches first.")
    rp.add_argument("--months", type=int, default=12, help="how far back (default 12)")
    rp.add_argument("--out", type=Path, help="write the list as an .xlsx")
    _common(rp)

    _register_verbs(verbs)

    template = verbs.add_parser(
        "template", help="rebuild workbook_template.xlsm from the sources",
        description="Write the empty workbook an accountant starts from in Excel: the sheets, "
                    "the dropdowns, the VBA project (addin/vba) and the ribbon (addin/ribbon).")
    template.add_argument("--out", type=Path, default=Path("workbook_template.xlsm"),
                          help="where to write it (default ./workbook_template.xlsm)")
    template.add_argument("--language", choices=("en", "fr", "de"), default="en")

    demo = verbs.add_parser("demo", help="run the whole path on a demo ledger",
                            description="Generate a demo ledger (once), extract at 5.00, "
                                        "accept the proposals and commit.")
    demo.add_argument("--dir", type=Path, default=Path("demo-output"),
                      help="working folder (default ./demo-output)")
    demo.add_argument("--customers", type=int, default=4000, help="size of the demo ledger")
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path,
                        help="TOML settings (see reliquat.example.toml); its [register] names "
                             "the register of committed items (default: one per user)")


def _register_verbs(verbs: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    reg = verbs.add_parser(
        "register", help="the register of committed items: init, check, rebuild",
        description="The register remembers every committed item, so that none is exported "
                    "twice. It is named by [register] in the config (a file, or a database "
                    "URL a team shares); without one, each user has one in their data folder.")
    actions = reg.add_subparsers(dest="action", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="create the register (the first commit does too)")
    _common(init)
    for name, helptext in (
            ("check", "compare the register with the batch records of export folders"),
            ("rebuild", "record the batches of export folders that the register is missing "
                        "(a lost register is rebuilt from them)")):
        action = actions.add_parser(name, help=helptext, description=helptext.capitalize() + ".")
        action.add_argument("--out-dir", type=Path, action="append", required=True,
                            help="an export folder (give it once per folder)")
        _common(action)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from addin.api import CommitIncomplete
    from addin.cli.commands import run
    from addin.commit.interrupts import Terminated

    try:
        return run(args, out, err)
    except CommitIncomplete as exc:
        err.print(f"[bold red]reliquat {args.verb}: not finished[/]")
        for line in exc.describe(limit=50).splitlines():
            err.print(f"  {line}", markup=False)
        return 1
    except ReliquatError as exc:
        err.print(f"[bold red]reliquat {args.verb}: refused[/]")
        for line in exc.describe(limit=50).splitlines():
            err.print(f"  {line}", markup=False)
        err.print("Nothing was written.")
        return 1
    except KeyboardInterrupt:
        err.print("Interrupted: nothing was written.")
        return 130
    except Terminated:
        err.print("Stopped: nothing was written.")
        return 143


if __name__ == "__main__":
    sys.exit(main())
