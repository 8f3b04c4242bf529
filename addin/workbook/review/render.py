"""Turn a selection into the review workbook's content."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from addin.domain.actions import ActionTotal, policy, totals_by_action
from addin.domain.model import Residual, Selection
from addin.domain.money import ZERO
from addin.domain.seals import ItemFacts, RowFacts, item_seal, row_seal, rules_seal
from addin.domain.texts import text
from addin.workbook.review import layout
from addin.workbook.review.content import (
    CellAt,
    ListValidation,
    SheetContent,
    Value,
    WorkbookContent,
)
from addin.workbook.review.language import say


@dataclass(frozen=True, slots=True)
class ExtractInfo:
    """Where the selection came from and who made it: shown on the Control sheet."""

    source: str
    config: str
    extraction_id: str
    extracted_at: dt.datetime
    extracted_by: str
    language: str = "en"
    register: str = ""
    out_dir: str = ""
    version: str = ""
    register_id: str = ""  # empty when no register existed yet: nothing keys the check values
    secret: bytes = field(default=b"", repr=False)
    transit_alert: str = ""  # rebill lines left open in transit, after a reconciliation


def row_facts(residual: Residual) -> RowFacts:
    sub = residual.subscription
    items = sorted(residual.items, key=lambda i: i.item_id)
    return RowFacts(sub.subscription_id, residual.currency, residual.customer_id,
                    sub.status.value,
                    tuple(ItemFacts(i.item_id, i.document_no, i.due_date, i.open_amount,
                                    i.vat_code) for i in items))


def render(selection: Selection, info: ExtractInfo) -> WorkbookContent:
    lang = info.language
    alternatives_rows, offsets = _alternatives(selection)
    accept_words = layout.ACCEPT_VALUES[lang]
    content = WorkbookContent(
        sheets=[
            control_sheet(lang, control_rows(selection, info)),
            _residuals(selection, offsets, info),
            SheetContent(layout.ITEMS, lang, _items(selection, info)),
            SheetContent(layout.EXCLUDED, lang, _excluded(selection, lang)),
            SheetContent(layout.REPEAT, lang, _repeat(selection)),
            SheetContent(layout.JOURNAL, lang, []),
            SheetContent(
                layout.LISTS,
                lang,
                _lists_rows(list(layout.ACTIONS), list(accept_words), alternatives_rows),
                with_header=False,
            ),
        ],
        names=list_names(lang, len(alternatives_rows) - 1),
        language=lang,
        cut_count_at=_control_cell("texts_cut"),
    )
    return content


def _control_cell(key: str) -> CellAt:
    keys = [row[0] for row in layout.CONTROL_ROWS]
    return CellAt(layout.CONTROL.key, keys.index(key), layout.CONTROL.index("value"))


def list_names(language: str, alternative_count: int) -> dict[str, str]:
    title = layout.LISTS.title(language)
    last = alternative_count + 1
    return {
        layout.NAME_ACTIONS: f"'{title}'!$A$1:$A${len(layout.ACTIONS)}",
        layout.NAME_ACCEPT: f"'{title}'!$B$1:$B$2",
        layout.NAME_ALTERNATIVES: f"'{title}'!$C$1:$C${last}",
    }


def residual_validations() -> tuple[ListValidation, ...]:
    """Action, Target and Accept dropdowns; Target offers exactly the row's customer's list."""
    sheet = layout.RESIDUALS
    start = _letter(sheet.index("alt_start"))
    count = _letter(sheet.index("alt_count"))
    return (
        ListValidation("action", layout.NAME_ACTIONS, allow_blank=False),
        ListValidation(
            "target", f"OFFSET({layout.NAME_ALTERNATIVES},${start}2,0,MAX(1,${count}2),1)"
        ),
        ListValidation("accept", layout.NAME_ACCEPT),
    )


def control_rows(selection: Selection | None, info: ExtractInfo | None,
                 inputs: dict[str, Value] | None = None) -> list[list[Value]]:
    """The Control sheet: label, value, key. Without a selection it is the empty template's."""
    lang = info.language if info else (inputs or {}).get("language", "en")
    values: dict[str, Value] = dict(inputs or {})
    if selection is not None and info is not None:
        rules = selection.rules
        values.update(
            source=info.source,
            threshold=rules.threshold,
            as_of=rules.as_of,
            config=info.config,
            language=lang,
            out_dir=info.out_dir,
            register=info.register,
            register_id=info.register_id,
            basis=text("basis", "per subscription and currency: sum of eligible items "
                       "(overdue ≥ {days} days, not blocked, not in dispute, not committed "
                       "before)", days=rules.min_overdue_days),
            min_overdue_days=rules.min_overdue_days,
            write_off_limit=rules.write_off_limit,
            include_credits=text("yes", "yes") if rules.include_credits else text("no", "no"),
            extraction_id=info.extraction_id,
            extracted_at=info.extracted_at,
            extracted_by=info.extracted_by,
            items_read=selection.items_read,
            rows_flagged=len(selection.residuals),
            items_flagged=sum(len(r.items) for r in selection.residuals),
            items_excluded=len(selection.exclusions),
            totals=proposal_totals(selection.residuals),
            vat_total=write_off_vat(selection.residuals),
            transit_alert=info.transit_alert or None,
            tool_version=info.version,
            seal=rules_seal(info.secret, info.extraction_id, info.register_id, info.source,
                            rules) if info.secret else None,
        )
    index = {"en": 1, "fr": 2, "de": 3}[str(lang)]
    return [[row[index], say(values.get(row[0]), str(lang)), row[0]]
            for row in layout.CONTROL_ROWS]


def control_sheet(language: str, rows: list[list[Value]]) -> SheetContent:
    """Control, where only the inputs are the accountant's to fill (yellow)."""
    keys = [row[0] for row in layout.CONTROL_ROWS]
    inputs = frozenset(keys.index(key) for key in layout.CONTROL_INPUTS)
    return SheetContent(layout.CONTROL, language, rows, input_rows=inputs)


def proposal_totals(residuals: tuple[Residual, ...]) -> str:
    parts = [f"{t.action.value} {t.subscriptions} × {t.currency} {t.amount:.2f}"
             for t in proposals_by_action(residuals)]
    return "; ".join(parts) or text("nothing_flagged", "nothing flagged")


def proposals_by_action(residuals: tuple[Residual, ...]) -> tuple[ActionTotal, ...]:
    return totals_by_action((r.proposed_action, r.currency, len(r.items), r.balance)
                            for r in residuals)


def write_off_vat(residuals: tuple[Residual, ...]) -> str:
    """The VAT share of the rows proposed for write-off, per currency."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in residuals:
        if policy(r.proposed_action).splits_vat and r.vat_share:
            totals[r.currency] += r.vat_share
    return "; ".join(f"{cur} {amount:.2f}" for cur, amount in sorted(totals.items())) \
        or text("none", "none")


def _alternatives(selection: Selection) -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Flatten each flagged customer's active subscriptions into one column: offset and count.

    The column starts with a blank: a customer with no active subscription points there
    (OFFSET cannot give an empty range), so the dropdown offers nothing, not a neighbour's.
    """
    rows: list[str] = [""]
    offsets: dict[str, tuple[int, int]] = {}
    for customer in sorted(selection.alternatives):
        subs = selection.alternatives[customer]
        offsets[customer] = (len(rows), len(subs))
        rows.extend(subs)
    return rows, offsets


def _residuals(selection: Selection, offsets: dict[str, tuple[int, int]], info: ExtractInfo
               ) -> SheetContent:
    rows: list[list[Value]] = []
    for r in selection.residuals:
        start, count = offsets.get(r.customer_id, (0, 0))
        sub = r.subscription
        seal = row_seal(info.secret, info.extraction_id, row_facts(r),
                        selection.alternatives.get(r.customer_id, ())) if info.secret else None
        rows.append([
            sub.subscription_id, r.customer_id, r.customer_name, sub.label, sub.status.value,
            r.currency, r.balance, len(r.items), r.customer_whole_balance,
            r.customer_overdue_balance, r.proposed_action.value, r.proposed_target,
            say(r.reason, info.language),
            r.proposed_action.value, r.proposed_target, None, None, None, None, start, count,
            seal, r.earlier_batches, r.vat_share,
        ])
    return SheetContent(layout.RESIDUALS, info.language, rows, residual_validations())


def _items(selection: Selection, info: ExtractInfo) -> list[list[Value]]:
    as_of = selection.rules.as_of
    rows: list[list[Value]] = []
    for r in selection.residuals:
        for i in r.items:
            seal = item_seal(info.secret, info.extraction_id, i.subscription_id, i.currency,
                             i.customer_id,
                             ItemFacts(i.item_id, i.document_no, i.due_date, i.open_amount,
                                       i.vat_code)) if info.secret else None
            rows.append([
                i.subscription_id, i.currency, i.item_id, i.document_no, i.document_date,
                i.due_date, (as_of - i.due_date).days, i.original_amount, i.open_amount,
                i.customer_id, i.customer_name, None, seal, i.vat_code or None,
            ])
    return rows


def _excluded(selection: Selection, language: str) -> list[list[Value]]:
    return [
        [e.item.item_id, e.item.customer_id, e.item.customer_name, e.item.subscription_id,
         e.item.document_no, e.item.due_date, e.item.open_amount, e.item.currency,
         say(e.reason, language)]
        for e in selection.exclusions
    ]


def _repeat(selection: Selection) -> list[list[Value]]:
    """The customers of the selection seen in earlier batches (the register's 12 months)."""
    names = {r.customer_id: r.customer_name for r in selection.residuals}
    return [[h.customer_id, names.get(h.customer_id, ""), h.currency, h.batches, h.items,
             h.total, h.last_batch, h.first_batch] for h in selection.repeaters]


def _lists_rows(actions: list[str], accept: list[str], alternatives: list[str]
                ) -> list[list[Value]]:
    height = max(len(actions), len(accept), len(alternatives), 1)
    return [
        [
            actions[i] if i < len(actions) else None,
            accept[i] if i < len(accept) else None,
            (alternatives[i] or None) if i < len(alternatives) else None,
        ]
        for i in range(height)
    ]


def _letter(index: int) -> str:
    return layout.column_letter(index)


def template_content(language: str = "en", inputs: dict[str, Value] | None = None,
                     rows: int = 100_000) -> WorkbookContent:
    """The empty workbook the accountant starts from: Control inputs, headers, dropdowns.

    The dropdowns cover ``rows`` rows ahead, since Excel's writer fills the sheets later.
    """
    accept_words = layout.ACCEPT_VALUES[language]
    residuals = SheetContent(layout.RESIDUALS, language, [], residual_validations())
    residuals.reserved_rows = rows
    return WorkbookContent(
        sheets=[
            control_sheet(language,
                          control_rows(None, None, {"language": language, **(inputs or {})})),
            residuals,
            SheetContent(layout.ITEMS, language, []),
            SheetContent(layout.EXCLUDED, language, []),
            SheetContent(layout.REPEAT, language, []),
            SheetContent(layout.JOURNAL, language, []),
            SheetContent(layout.LISTS, language,
                         _lists_rows(list(layout.ACTIONS), list(accept_words), []),
                         with_header=False),
        ],
        names=list_names(language, 0),
        language=language,
    )
