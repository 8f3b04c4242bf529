"""From the review workbook to the rows the accountant accepted, with what the extraction saw.

From the workbook only the decisions are taken: Accept, Action, Target subscription (and the
Notes, which stay in the workbook). The facts beside them (customer, status, balance, the
items on the Items sheet) are only what the extraction saw: checked here against their check
values when the extraction had a register's key, and against the source at commit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from addin.domain.actions import Action, Target, policy
from addin.domain.money import ZERO
from addin.domain.problems import Problem, Where
from addin.domain.seals import ItemFacts, RowFacts, item_seal, row_seal
from addin.domain.texts import text
from addin.workbook.review.reading import Review, ReviewItem, ReviewRow, is_no, is_yes


class Accepted(NamedTuple):
    """One accepted row: where it is, what to do, and what the extraction saw of it."""

    where: Where
    action: Action
    target: str | None
    extracted: RowFacts


@dataclass
class Reading:
    accepted: list[Accepted] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: dict[int, ReviewRow] = field(default_factory=dict)  # line -> row, for stamping
    item_lines: dict[str, int] = field(default_factory=dict)  # item id -> Items line
    already_committed: list[tuple[int, str]] = field(default_factory=list)  # line, batch


def is_accepted(row: ReviewRow, accept_proposals: bool) -> bool:
    if is_yes(row.accept):
        return True
    if accept_proposals and not is_no(row.accept):
        return (row.action or row.proposed_action) != Action.KEEP.value
    return False


def read_decisions(review: Review, file: str, accept_proposals: bool,
                   secret: bytes | None) -> Reading:
    """The accepted rows. ``secret`` is the register's key when the extraction had one: every
    accepted row and item must then match its check value."""
    reading = Reading()
    items_by_row: dict[tuple[str, str], list[ReviewItem]] = defaultdict(list)
    for item in review.items:
        items_by_row[(item.subscription_id, item.currency)].append(item)
    action_column = review.column("residuals", "action")
    check = _Check(review, file, reading.problems)
    for row in review.rows:
        if row.accept and not (is_yes(row.accept) or is_no(row.accept)):
            reading.problems.append(Problem(Where(file, row.line,
                                                  review.column("residuals", "accept")),
                                            text("not_yes_no", "not Yes or No: {value!r}",
                                                 value=row.accept)))
            continue
        if not is_accepted(row, accept_proposals):
            continue
        where = Where(file, row.line, record=f"subscription {row.subscription_id}")
        action = _action(row, where, action_column, reading.problems)
        if action is None or not policy(action).posts:
            continue  # KEEP: left open for dunning, nothing to post
        if row.batch:
            reading.already_committed.append((row.line, row.batch))
            continue
        items = items_by_row.get((row.subscription_id, row.currency), [])
        extracted = _extracted(row, items)
        intact = check.sealed(row, items, extracted, secret) if secret else \
            check.consistent(row, items)
        if not intact:
            continue
        reading.rows[row.line] = row
        reading.item_lines.update({i.item_id: i.line for i in items})
        reading.accepted.append(Accepted(where, action, _target(action, row), extracted))
    return reading


def _target(action: Action, row: ReviewRow) -> str | None:
    """Whose next invoice the action charges: the row's own subscription, the one the
    reviewer chose, or none."""
    target = policy(action).target
    if target is Target.SELF:
        return row.subscription_id
    if target is Target.OTHER:
        return row.target or None
    return None


def _extracted(row: ReviewRow, items: list[ReviewItem]) -> RowFacts:
    return RowFacts(row.subscription_id, row.currency, row.customer_id, row.status,
                    tuple(ItemFacts(i.item_id, i.document_no, i.due_date, i.open_amount,
                                    i.vat_code) for i in sorted(items, key=lambda i: i.item_id)))


def _action(row: ReviewRow, where: Where, column: str, problems: list[Problem]
            ) -> Action | None:
    value = row.action or row.proposed_action
    try:
        return Action(value)
    except ValueError:
        problems.append(Problem(Where(where.file, where.line, column),
                                text("not_an_action", "not an action: {value!r} ({actions})",
                                     value=value, actions=", ".join(Action))))
        return None


class _Check:
    """Is a row as the extraction wrote it? Problems are noted where they are seen."""

    def __init__(self, review: Review, file: str, problems: list[Problem]) -> None:
        self.review, self.file, self.problems = review, file, problems
        self.extraction_id = review.text("extraction_id")

    def sealed(self, row: ReviewRow, items: list[ReviewItem], extracted: RowFacts,
               secret: bytes) -> bool:
        before = len(self.problems)
        items_sheet = self.review.titles["items"]
        by_id = {f.item_id: f for f in extracted.items}
        for item in items:
            if item.seal != item_seal(secret, self.extraction_id, item.subscription_id,
                                      item.currency, item.customer_id, by_id[item.item_id]):
                self.problems.append(Problem(Where(self.file, item.line, items_sheet), text(
                    "item_edited", "item {item} was changed since extraction (amount "
                    "{amount}); extract again", item=item.item_id,
                    amount=f"{item.open_amount:.2f}")))
        alternatives = self.review.alternatives.get(row.customer_id, ())
        if len(self.problems) == before and row.seal != row_seal(
                secret, self.extraction_id, extracted, alternatives):
            self.problems.append(Problem(
                Where(self.file, row.line, self.review.titles["residuals"],
                      f"subscription {row.subscription_id}"),
                text("row_edited", "this row was changed since extraction (its subscription, "
                     "customer, currency, status, balance, items or target list): was a "
                     "column sorted on its own? Extract again")))
        return len(self.problems) == before

    def consistent(self, row: ReviewRow, items: list[ReviewItem]) -> bool:
        """Without a key (no register at extraction) the source decides; only what cannot be
        right is refused here."""
        if not items:
            self.problems.append(Problem(Where(self.file, row.line,
                                               record=f"subscription {row.subscription_id}"),
                                         text("no_items", "no items for this row on the "
                                                          "Items sheet")))
            return False
        total = sum((i.open_amount for i in items), ZERO)
        if total != row.balance:
            self.problems.append(Problem(
                Where(self.file, row.line, self.review.column("residuals", "balance")),
                text("balance_edited", "balance {balance} is not the sum of its items {total}; "
                     "extract again", balance=f"{row.balance:.2f}", total=f"{total:.2f}")))
            return False
        return True
