"""What each verb does, and the summary it prints: the thin layer over the facade."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from addin import api
from addin.commit import CommitOutcome
from addin.config import load_config, parse_day, parse_threshold
from addin.domain.actions import ActionTotal
from addin.extract import ExtractOutcome
from addin.progress import Stages


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    return VERBS[args.verb](args, out, err)


@contextmanager
def progress(err: Console) -> Iterator[Stages]:
    """A spinner per stage with its elapsed time, on stderr so stdout keeps the summary."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=False, disable=not err.is_terminal) as bar:
        current: list[TaskID] = []

        def report(label: str) -> None:
            if current:
                bar.update(current[-1], completed=1, total=1)
            current.append(bar.add_task(label, total=None))

        yield Stages(report)
        if current:
            bar.update(current[-1], completed=1, total=1)


def _extract(args: argparse.Namespace, out: Console, err: Console) -> int:
    config = load_config(args.config)
    config = config.with_rules(
        min_overdue_days=args.min_overdue_days,
        write_off_limit=parse_threshold(args.write_off_limit, "write-off-limit")
        if args.write_off_limit else None,
    )
    if args.language:
        config = api.with_language(config, args.language)
    threshold = parse_threshold(args.threshold) if args.threshold is not None else None
    as_of = parse_day(args.as_of) if args.as_of else None
    with progress(err) as stages:
        outcome = api.extract(args.source, args.out, config=config, threshold=threshold,
                              as_of=as_of, stages=stages, force=args.force,
                              tell=recovered(err))
    print_extract_summary(outcome, out)
    return 0


def _commit(args: argparse.Namespace, out: Console, err: Console) -> int:
    config = load_config(args.config)
    dry_run = args.verb == "validate"
    with progress(err) as stages:
        outcome = api.commit(
            args.workbook, args.out_dir, config=config,
            accept_proposals=args.accept_proposals,
            confirm_partial=getattr(args, "confirm_partial", False), offline=args.offline,
            source=args.source, dry_run=dry_run, stages=stages,
            posting_date=parse_day(args.posting_date, "posting-date")
            if getattr(args, "posting_date", None) else None, tell=recovered(err))
    print_commit_summary(outcome, out, dry_run)
    if outcome.interrupted and outcome.batch is not None:
        err.print(f"Interrupted after batch {outcome.batch.batch_id} became visible: it was "
                  f"finished first, then stopped.")
        return 128 + outcome.interrupted[0]
    return 0


def _reverse(args: argparse.Namespace, out: Console, err: Console) -> int:
    outcome = api.reverse(args.batch_id, args.out_dir, config=load_config(args.config),
                          reason=args.reason,
                          posting_date=parse_day(args.posting_date, "posting-date")
                          if args.posting_date else None, tell=recovered(err))
    batch = outcome.batch
    out.print(f"Batch {batch.batch_id} reverses batch {outcome.reverses} (posting date "
              f"{batch.posting_date:%d.%m.%Y}): {count(len(batch.postings))} posting line(s), "
              f"{count(len(batch.rebills))} rebill line(s) negated. Its items are open to "
              f"Reliquat again.")
    out.print(f"Files written to {outcome.out_dir}:", markup=False)
    for path in outcome.files:
        out.print(f"  {Path(path).name}", markup=False)
    return 0


def _reconcile(args: argparse.Namespace, out: Console, err: Console) -> int:
    from addin.domain.transit import age
    from addin.exports.reconciliation import as_json, write_report

    outcome = api.reconcile(args.transit, config=load_config(args.config),
                            as_of=parse_day(args.as_of) if args.as_of else None,
                            source=args.source, tell=recovered(err))
    found, as_of = outcome.reconciliation, outcome.as_of
    if args.json:
        sys.stdout.write(as_json(found, as_of, outcome.alert_days, outcome.statuses) + "\n")
    else:
        table = Table(title=f"Rebill lines not invoiced yet, as of {as_of:%d.%m.%Y}",
                      title_justify="left")
        for header in ("Batch", "Subscription", "Amount", "Currency", "Days", "Now"):
            table.add_column(header, justify="right" if header in ("Amount", "Days")
                             else "left")
        for due in found.open:
            days = age(due, as_of)
            mark = " !" if days > outcome.alert_days else ""
            table.add_row(due.batch_id, due.subscription_id, f"{due.amount:.2f}",
                          due.currency, f"{days}{mark}",
                          outcome.statuses.get(due.subscription_id, ""))
        out.print(table)
        out.print(f"Cleared: {count(len(found.cleared))}; open: {count(len(found.open))} "
                  f"(! over {outcome.alert_days} days); movements matching nothing: "
                  f"{count(len(found.unmatched))}")
        for currency in sorted(set(found.expected_balance) | set(found.file_balance)):
            out.print(f"Transit {currency}: committed and not cleared "
                      f"{found.expected_balance.get(currency, 0):.2f}; the file shows "
                      f"{found.file_balance.get(currency, 0):.2f}")
        if outcome.source_note:
            out.print(f"Note: {outcome.source_note}", markup=False)
    if args.out:
        write_report(args.out, found, as_of, outcome.alert_days, outcome.statuses)
        if not args.json:
            out.print(f"Report: {args.out}", markup=False)
    return 0


def _repeat(args: argparse.Namespace, out: Console, err: Console) -> int:
    found = api.repeat_short_payers(args.months, config=load_config(args.config),
                                    tell=recovered(err))
    table = Table(title=f"Residuals committed in the last {args.months} months, per customer",
                  title_justify="left")
    headers = ("Customer", "Currency", "Batches", "Items", "Total", "Last batch",
               "First batch")
    for header in headers:
        table.add_column(header, justify="right" if header in ("Batches", "Items", "Total")
                         else "left")
    for h in found:
        table.add_row(h.customer_id, h.currency, count(h.batches), count(h.items),
                      f"{h.total:.2f}", h.last_batch, h.first_batch)
    out.print(table)
    if args.out:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "Repeat"
        sheet.append(list(headers))
        for h in found:
            sheet.append([h.customer_id, h.currency, h.batches, h.items, h.total,
                          h.last_batch, h.first_batch])
        book.save(args.out)
        out.print(f"Written: {args.out}", markup=False)
    return 0


def _register(args: argparse.Namespace, out: Console, err: Console) -> int:
    config = load_config(args.config)
    if args.action == "init":
        report = api.register_init(config, tell=recovered(err))
    elif args.action == "check":
        report = api.register_check(args.out_dir, config, tell=recovered(err))
    else:
        report = api.register_rebuild(args.out_dir, config, tell=recovered(err))
    for line in report.lines:
        out.print(line, markup=False)
    for problem in report.problems:
        err.print(f"  {problem}", markup=False)
    if report.problems:
        err.print(f"[bold red]{len(report.problems)} problem(s)[/]")
        return 1
    if args.action == "check":
        out.print("The register and the export folders agree.")
    return 0


def recovered(err: Console) -> Callable[[str], None]:
    """What an earlier, interrupted commit left, and what was done about it, before anything."""
    def tell(message: str) -> None:
        err.print(f"[bold yellow]Interrupted commit:[/] {message}")

    return tell


def _template(args: argparse.Namespace, out: Console, err: Console) -> int:
    path = api.write_template(args.out, language=args.language)
    out.print(f"Template written: {path}")
    return 0


def _demo(args: argparse.Namespace, out: Console, err: Console) -> int:
    with progress(err) as stages:
        extracted, committed = api.demo(args.dir, customers=args.customers, stages=stages)
    print_extract_summary(extracted, out)
    print_commit_summary(committed, out, dry_run=False)
    return 0


Verb = Callable[[argparse.Namespace, Console, Console], int]
VERBS: dict[str, Verb] = {
    "extract": _extract, "validate": _commit, "commit": _commit, "reverse": _reverse,
    "reconcile": _reconcile, "repeat": _repeat, "register": _register, "template": _template,
    "demo": _demo,
}


def count(number: int) -> str:
    """A count as Swiss readers write it: 30'435."""
    return f"{number:,}".replace(",", "'")


def totals_table(title: str, totals: Iterable[ActionTotal], first: str = "Action") -> Table:
    table = Table(title=title, title_justify="left")
    for header in (first, "Currency", "Subscriptions", "Items", "Amount"):
        table.add_column(header, justify="left" if header in (first, "Currency") else "right")
    for total in totals:
        table.add_row(total.action.value, total.currency, count(total.subscriptions),
                      count(total.items), f"{total.amount:.2f}")
    return table


def print_extract_summary(outcome: ExtractOutcome, out: Console) -> None:
    selection = outcome.selection
    rules = selection.rules
    out.print(totals_table(f"Flagged at {rules.threshold} as of {rules.as_of:%d.%m.%Y}",
                           api.proposal_summary(selection), "Proposal"))
    out.print(f"Items in the source: {count(selection.items_read)}; rows fetched: "
              f"{count(outcome.items_fetched)}; small items excluded with a reason: "
              f"{count(len(selection.exclusions))}")
    if selection.repeaters:
        out.print(f"Customers seen in earlier batches (sheet Repeat): "
                  f"{count(len({h.customer_id for h in selection.repeaters}))}")
    out.print(f"Review workbook: {outcome.out}")
    if outcome.register_id:
        out.print(f"Register: {outcome.register} ({outcome.register_id})")
    else:
        out.print(f"Register: none yet at {outcome.register} (the first commit creates it)")


def print_commit_summary(outcome: CommitOutcome, out: Console, dry_run: bool) -> None:
    checks = outcome.checks
    batch = outcome.batch or outcome.preview
    assert batch is not None
    title = "Would commit" if dry_run else f"Batch {batch.batch_id}"
    out.print(totals_table(f"{title} (posting date {batch.posting_date:%d.%m.%Y})",
                           batch.totals()))
    for currency, amount in sorted(outcome.vat.items()):
        out.print(f"VAT share of the write-offs: {currency} {amount:.2f}")
    for warning in checks.warnings:
        out.print(f"  {warning}", markup=False)
    if dry_run:
        out.print(f"Validation passed: {count(len(checks.accepted))} row(s) ready to commit"
                  + (f", {count(len(checks.stale))} changed in the source"
                     if checks.stale else "") + ". Nothing was written.")
        for problem in checks.stale_problems:
            out.print(f"  {problem}", markup=False)
        return
    if outcome.offline:
        out.print("Offline commit: the items were not checked against the source.")
    for decision, problems in checks.stale:
        out.print(f"Not committed (line {decision.where.line}, {decision.subscription_id}): "
                  + "; ".join(p.message for p in problems), markup=False)
    out.print(f"Files written to {outcome.out_dir}:", markup=False)
    for path in outcome.files:
        out.print(f"  {Path(path).name}", markup=False)
    if outcome.note:
        out.print(f"Note: {outcome.note}", markup=False)
