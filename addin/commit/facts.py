"""The facts a commit exports: from the source re-read, under the rules of the extraction.

Online (the default), each accepted row is looked up in the source: its subscription's
customer, the items that count under the extraction's rules, their amounts and documents.
What is exported comes from there; a row whose facts changed since the extraction is stale.
Offline, the source is not read: the workbook's facts are taken, and only when their check
values prove them unchanged (which needs the register's key from the extraction).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from addin.commit.decisions import Accepted, Reading
from addin.config import Config
from addin.domain.batch import Decision, ItemRef
from addin.domain.facts import facts_now
from addin.domain.model import BatchId, ItemId, OpenItem, Rules, Status, Subscription
from addin.domain.problems import Problem, ReliquatError, Where, WorkbookError
from addin.domain.seals import RowFacts, rules_seal
from addin.domain.texts import text
from addin.locations import Location
from addin.register.store import Identity, Register
from addin.sources import read_for_commit
from addin.sources.values import parse_amount, parse_date, parse_text
from addin.workbook.review.reading import Review


@dataclass
class Facts:
    decisions: list[Decision] = field(default_factory=list)
    stale: list[tuple[Decision, list[Problem]]] = field(default_factory=list)
    refusals: list[Problem] = field(default_factory=list)
    subscriptions: Mapping[str, Subscription] = field(default_factory=dict)
    committed: Mapping[ItemId, BatchId] = field(default_factory=dict)
    currencies: Mapping[str, frozenset[str]] | None = None  # per subscription, online only


def recorded_rules(review: Review, file: str, identity: Identity | None) -> Rules:
    """The rules of the extraction, from the Control sheet; with a key, proven unchanged."""
    problems: list[Problem] = []

    def value(key: str, parse, default):  # type: ignore[no-untyped-def]
        try:
            return parse(review.control.get(key))
        except (ValueError, TypeError) as exc:
            problems.append(Problem(Where(file, column=f"{review.titles['control']}!{key}"),
                                    f"the extraction's setting cannot be read: {exc}"))
            return default

    rules = Rules(
        threshold=value("threshold", parse_amount, Decimal("0.00")),
        as_of=value("as_of", parse_date, dt.date.min),
        min_overdue_days=value("min_overdue_days", _whole, 0),
        write_off_limit=value("write_off_limit", parse_amount, Decimal("0.00")),
        include_credits=parse_text(review.control.get("include_credits")).lower() != "no",
    )
    if not problems and identity is not None and review.text("seal") != rules_seal(
            identity.secret, review.text("extraction_id"), identity.register_id,
            review.text("source"), rules):
        problems.append(Problem(Where(file, column=review.titles["control"]),
                                "the extraction's settings (source, threshold, as-of date or "
                                "rules) were changed since extraction; extract again"))
    if problems:
        raise WorkbookError(problems)
    return rules


def _whole(value: object) -> int:
    number = float(parse_text(value))
    if not number.is_integer() or number < 0:
        raise ValueError(f"not a whole number of days: {value!r}")
    return int(number)


def online(reading: Reading, rules: Rules, source: Location, config: Config,
           register: Register) -> Facts:
    """Each accepted row as the source shows it now."""
    wanted = {a.extracted.subscription_id for a in reading.accepted}
    wanted |= {a.target for a in reading.accepted if a.target}
    extracted_ids = [i.item_id for a in reading.accepted for i in a.extracted.items]
    try:
        ledger = read_for_commit(source, config, sorted(wanted), extracted_ids)
    except ReliquatError as exc:
        raise ReliquatError([*exc.problems, Problem(Where(),
            "the source could not be read to check the items; commit with --offline "
            "only if you are sure nothing was paid since extraction")]) from exc
    by_subscription: dict[str, list[OpenItem]] = defaultdict(list)
    for item in ledger.items:
        by_subscription[item.subscription_id].append(item)
    wanted_ids = set(extracted_ids)
    by_id = {i.item_id: i for i in ledger.items if i.item_id in wanted_ids}
    committed = register.committed(
        extracted_ids + [i.item_id for s in wanted for i in by_subscription.get(s, ())])
    facts = Facts(subscriptions=ledger.subscriptions, committed=committed,
                  currencies={sub: frozenset(i.currency for i in items)
                              for sub, items in by_subscription.items()})
    for accepted in reading.accepted:
        row = accepted.extracted
        compared = facts_now(row, ledger.subscriptions.get(row.subscription_id),
                             by_subscription.get(row.subscription_id, ()), rules, by_id,
                             committed)
        if compared.changes or compared.now is None:
            facts.stale.append((_decision(accepted, row),
                                [Problem(accepted.where, c) for c in compared.changes]))
            continue
        facts.refusals += _flagged(accepted, compared.now, rules)
        facts.decisions.append(_decision(accepted, compared.now))
    return facts


def _flagged(accepted: Accepted, now: RowFacts, rules: Rules) -> list[Problem]:
    """A row the extraction's rules would not flag cannot have come from the extraction."""
    if Decimal("0") < abs(now.balance) <= rules.threshold:
        return []
    return [Problem(accepted.where, text(
        "not_flagged", "balance {balance} is not flagged under the extraction's threshold "
        "{threshold}: this row did not come from the extraction", balance=f"{now.balance:.2f}",
        threshold=f"{rules.threshold:.2f}"))]


def offline(reading: Reading, review: Review, register: Register,
            identity: Identity | None, file: str) -> Facts:
    """The workbook's facts, proven unchanged by their check values."""
    if identity is None or not review.text("register_id"):
        raise WorkbookError([Problem(Where(file),
            "this workbook was extracted before the register existed, so its facts carry no "
            "check value: commit it against the source (without --offline)")])
    item_ids = [i.item_id for a in reading.accepted for i in a.extracted.items]
    return Facts(decisions=[_decision(a, a.extracted) for a in reading.accepted],
                 subscriptions=_subscriptions_from_review(review),
                 committed=register.committed(item_ids))


def _decision(accepted: Accepted, row: RowFacts) -> Decision:
    return Decision(
        where=accepted.where, subscription_id=row.subscription_id, customer_id=row.customer_id,
        currency=row.currency, action=accepted.action, target=accepted.target,
        items=tuple(ItemRef(i.item_id, i.document_no, i.amount, i.vat_code) for i in row.items))


def _subscriptions_from_review(review: Review) -> dict[str, Subscription]:
    """Offline, the extraction's picture: each row's status and the active ones offered (both
    covered by the rows' check values)."""
    subs: dict[str, Subscription] = {}
    for customer, offered in review.alternatives.items():
        for sub_id in offered:
            subs[sub_id] = Subscription(sub_id, customer, Status.ACTIVE, None, None)
    for row in review.rows:
        if row.subscription_id not in subs:
            status = Status.ACTIVE if row.status == Status.ACTIVE.value else Status.TERMINATED
            subs[row.subscription_id] = Subscription(row.subscription_id, row.customer_id,
                                                     status, None, None)
    return subs
