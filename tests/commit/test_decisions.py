"""The source is read for the rows marked accepted before their check values are checked:
every row ``read_decisions`` accepts must be among them, with its target and its items."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from addin.commit.decisions import marked_accepted, read_decisions
from addin.workbook.review.reading import Review, ReviewItem, ReviewRow

SUBSCRIPTIONS = ["S1", "S2", "S3"]
CURRENCIES = ["CHF", "EUR"]

rows = st.builds(
    lambda line, sub, currency, proposed, action, target, accept, batch: ReviewRow(
        line, sub, "C1", "", "active", currency, Decimal("1.00"), proposed, "", action, target,
        accept, "", batch, ""),
    st.integers(2, 50), st.sampled_from(SUBSCRIPTIONS), st.sampled_from(CURRENCIES),
    st.sampled_from(["REBILL", "TRANSFER", "WRITE_OFF", "KEEP"]),
    st.sampled_from(["", "REBILL", "TRANSFER", "WRITE_OFF", "KEEP", "bogus"]),
    st.sampled_from(["", "S2", "T1"]), st.sampled_from(["", "Yes", "No", "maybe"]),
    st.sampled_from(["", "B1"]))
items = st.builds(
    lambda line, sub, currency, item: ReviewItem(line, sub, currency, item, "D", None,
                                                 Decimal("1.00"), "C1", "", "", ""),
    st.integers(2, 50), st.sampled_from(SUBSCRIPTIONS), st.sampled_from(CURRENCIES),
    st.sampled_from(["I1", "I2", "I3", "I4"]))


@given(st.lists(rows, max_size=6), st.lists(items, max_size=8), st.booleans())
def test_every_accepted_row_is_among_the_rows_marked_accepted(review_rows, review_items,
                                                               accept_proposals):
    review = Review({"extraction_id": "E1"}, tuple(review_rows), tuple(review_items), {},
                    "en", {"residuals": "Residuals", "items": "Items"}, 0)
    subscriptions, item_ids = marked_accepted(review, accept_proposals)
    reading = read_decisions(review, "review.xlsx", accept_proposals, None)
    for accepted in reading.accepted:
        assert accepted.extracted.subscription_id in subscriptions
        assert accepted.target is None or accepted.target in subscriptions
        assert {i.item_id for i in accepted.extracted.items} <= set(item_ids)
