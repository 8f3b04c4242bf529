"""From the review workbook's rows to the decisions the accountant accepted.

Checks that belong to the workbook itself: every item of an accepted row is on the Items
sheet with an unchanged amount (its fingerprint), the rows' balances are their items' sums,
and a row stamped with a batch is not taken again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from addin.domain.batch import Decision, ItemRef
from addin.domain.model import Action
from addin.domain.money import ZERO
from addin.domain.problems import Problem, Where
from addin.workbook.render import fingerprint
from addin.workbook.review import Review, ReviewItem, ReviewRow, is_no, is_yes


@dataclass
class Reading:
    decisions: list[Decision] = field(default_factory=list)
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


def read_decisions(review: Review, file: str, accept_proposals: bool) -> Reading:
    reading = Reading()
    items_by_row: dict[tuple[str, str], list[ReviewItem]] = defaultdict(list)
    for item in review.items:
        items_by_row[(item.subscription_id, item.currency)].append(item)
    extraction_id = review.text("extraction_id")
    sheet = review.titles["residuals"]
    for row in review.rows:
        if row.accept and not (is_yes(row.accept) or is_no(row.accept)):
            reading.problems.append(Problem(Where(file, row.line, f"{sheet}!Accept"),
                                            f"not Yes or No: {row.accept!r}"))
            continue
        if not is_accepted(row, accept_proposals):
            continue
        where = Where(file, row.line, record=f"subscription {row.subscription_id}")
        action = _action(row, where, sheet, reading.problems)
        if action is None:
            continue
        if action is Action.KEEP:
            continue  # kept for dunning: nothing to post
        if row.batch:
            reading.already_committed.append((row.line, row.batch))
            continue
        items = items_by_row.get((row.subscription_id, row.currency), [])
        if not _items_intact(row, items, extraction_id, file, review, reading.problems):
            continue
        reading.rows[row.line] = row
        reading.item_lines.update({i.item_id: i.line for i in items})
        target = row.target or None
        if action is Action.REBILL:
            target = target or row.subscription_id
        reading.decisions.append(Decision(
            where=where,
            subscription_id=row.subscription_id,
            customer_id=row.customer_id,
            currency=row.currency,
            action=action,
            target=target if action in (Action.REBILL, Action.TRANSFER) else None,
            items=tuple(ItemRef(i.item_id, i.document_no, i.open_amount) for i in items),
        ))
    return reading


def _action(row: ReviewRow, where: Where, sheet: str, problems: list[Problem]) -> Action | None:
    text = row.action or row.proposed_action
    try:
        return Action(text)
    except ValueError:
        problems.append(Problem(Where(where.file, where.line, f"{sheet}!Action"),
                                f"not an action: {text!r} (REBILL, TRANSFER, WRITE_OFF, KEEP)"))
        return None


def _items_intact(row: ReviewRow, items: list[ReviewItem], extraction_id: str, file: str,
                  review: Review, problems: list[Problem]) -> bool:
    sheet = review.titles["items"]
    before = len(problems)
    if not items:
        problems.append(Problem(Where(file, row.line, record=f"subscription {row.subscription_id}"),
                                "no items for this row on the Items sheet"))
    for item in items:
        expected = fingerprint(extraction_id, item.subscription_id, item.currency, item.item_id,
                               item.open_amount)
        if item.fingerprint != expected:
            problems.append(Problem(Where(file, item.line, f"{sheet}!Open amount"),
                                    f"item {item.item_id} was changed since extraction "
                                    f"(amount {item.open_amount:.2f}); extract again"))
    total = sum((i.open_amount for i in items), ZERO)
    if items and total != row.balance:
        problems.append(Problem(Where(file, row.line, f"{review.titles['residuals']}!Balance"),
                                f"balance {row.balance:.2f} is not the sum of its items "
                                f"{total:.2f}; extract again"))
    return len(problems) == before
