"""At commit, the facts come from the source: what a row is now, and what changed since.

A review row is a subscription in one currency. Its facts now are its items that count under
the rules recorded at extraction (as of the extraction's day), as the source shows them at
commit time. A row whose facts differ from what the extraction saw is stale: it is named with
what changed and left out (or the commit is refused, as the accountant chooses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from addin.domain.model import BatchId, ItemId, OpenItem, Rules, Subscription
from addin.domain.rules import counts, eligible_until, exclusion_reason
from addin.domain.seals import ItemFacts, RowFacts
from addin.domain.texts import Text, text


class Comparison(NamedTuple):
    """``now`` holds the facts to commit; ``changes`` what makes the row stale. Whether an
    item was committed by another batch is the register's to say (a refusal, not a change)."""

    now: RowFacts | None
    changes: list[Text]


def item_facts(item: OpenItem) -> ItemFacts:
    return ItemFacts(item.item_id, item.document_no, item.due_date, item.open_amount,
                     item.vat_code)


def facts_now(extracted: RowFacts, subscription: Subscription | None,
              open_items: Sequence[OpenItem], rules: Rules,
              elsewhere: Mapping[ItemId, OpenItem] | None = None,
              committed: Mapping[ItemId, BatchId] | None = None) -> Comparison:
    """Compare a row as extracted with the source now; ``open_items`` are the subscription's
    open items now, in every currency; ``elsewhere`` the row's items found on other
    subscriptions; ``committed`` the register's items (an item another batch holds is not
    part of the row, as at extraction; one of the row's own is kept, for the commit to
    refuse it naming that batch)."""
    if subscription is None:
        return Comparison(None, [text("subscription_gone", "subscription {subscription} is "
                                      "no longer in the source",
                                      subscription=extracted.subscription_id)])
    cutoff = eligible_until(rules)
    here = [i for i in open_items if i.currency == extracted.currency and i.open_amount != 0]
    own = {i.item_id for i in extracted.items}
    taken = committed or {}
    counting = {i.item_id: i for i in here if counts(i, rules, {}, cutoff)
                and (i.item_id not in taken or i.item_id in own)}
    now = RowFacts(extracted.subscription_id, extracted.currency, subscription.customer_id,
                   subscription.status.value,
                   tuple(item_facts(counting[i]) for i in sorted(counting)))
    changes = _customer_change(extracted, subscription)
    changes += _item_changes(extracted, now, open_items, rules, elsewhere or {})
    return Comparison(now, changes)


def _customer_change(extracted: RowFacts, subscription: Subscription) -> list[Text]:
    if subscription.customer_id == extracted.customer_id:
        return []
    return [text("customer_differs", "subscription {subscription} belongs to customer {now} "
                 "in the source, the row shows {was}", subscription=extracted.subscription_id,
                 now=subscription.customer_id, was=extracted.customer_id)]


def _item_changes(extracted: RowFacts, now: RowFacts, open_items: Sequence[OpenItem],
                  rules: Rules, elsewhere: Mapping[ItemId, OpenItem]) -> list[Text]:
    before = {i.item_id: i for i in extracted.items}
    after = {i.item_id: i for i in now.items}
    here = {i.item_id: i for i in open_items if i.open_amount != 0}
    changes: list[Text] = []
    for item_id, was in before.items():
        is_ = after.get(item_id)
        if is_ is None:
            found = here.get(item_id) or elsewhere.get(item_id)
            changes.append(_gone(item_id, found, extracted, rules))
        elif is_.amount != was.amount:
            changes.append(text("amount_changed", "item {item}: open amount is now {now}, was "
                                "{was} at extraction", item=item_id, now=f"{is_.amount:.2f}",
                                was=f"{was.amount:.2f}"))
        elif is_.document_no != was.document_no:
            changes.append(text("document_changed", "item {item}: document is now {now}, was "
                                "{was} at extraction", item=item_id, now=is_.document_no,
                                was=was.document_no))
        elif is_.vat_code != was.vat_code:
            changes.append(text("vat_changed", "item {item}: VAT code is now {now}, was {was} "
                                "at extraction", item=item_id, now=is_.vat_code or "-",
                                was=was.vat_code or "-"))
    changes += [text("item_new", "item {item} ({amount}) now counts towards this row; "
                     "extract again", item=item_id, amount=f"{item.amount:.2f}")
                for item_id, item in after.items() if item_id not in before]
    return changes


def _gone(item_id: ItemId, found: OpenItem | None, extracted: RowFacts, rules: Rules) -> Text:
    if found is None:
        return text("item_gone", "item {item} is no longer open in the source", item=item_id)
    if found.subscription_id != extracted.subscription_id:
        return text("item_moved", "item {item} is on subscription {now} in the source, not on "
                    "{was}", item=item_id, now=found.subscription_id,
                    was=extracted.subscription_id)
    if found.currency != extracted.currency:
        return text("currency_changed", "item {item} is now in {now}, was {was} at extraction",
                    item=item_id, now=found.currency, was=extracted.currency)
    reason = exclusion_reason(found, rules, {})
    return text("item_out", "item {item} does not count under the extraction's rules: "
                "{reason}", item=item_id, reason=reason)
