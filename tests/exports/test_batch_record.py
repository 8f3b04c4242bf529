"""The batch record's layout, pinned: indented JSON with one item per line, whatever the ids."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from addin import __version__
from addin.config import Config
from addin.domain.actions import Action
from addin.domain.batch import Decision, ItemRef, build_batch
from addin.domain.problems import Where
from addin.exports.batch_record import RecordContext, write_batch_record

ODD_IDS = ("ITEMS", 'say "ITEMS"', '"items": "ITEMS"', "Zoé")


def write_record(folder: Path, *ids: str, reverses: str = "") -> Path:
    items = tuple(ItemRef(item_id, f"F{n}", Decimal("0.50")) for n, item_id in enumerate(ids))
    decisions = (Decision(Where("review.xlsx", 2), "S1", "C1", "CHF", Action.REBILL, "S1",
                          items),) if items else ()
    batch = build_batch(decisions, "B1", dt.date(2026, 11, 30), Config().ledgering)
    postings = folder / "postings_B1.csv"
    postings.write_bytes(b"x")
    context = RecordContext(source="erp", workbook="review.xlsx", user="anna",
                            at=dt.datetime(2026, 11, 30, 9), offline=False, register_id="R1",
                            register="register.sqlite", reverses=reverses,
                            reason="wrong month" if reverses else "")
    path = folder / "batch_B1.json"
    write_batch_record(path, batch, files={postings.name: postings}, context=context, stale=[],
                       config=Config())
    return path


def test_ids_that_look_like_json_round_trip(tmp_path: Path):
    record = json.loads(write_record(tmp_path, *ODD_IDS).read_text(encoding="utf-8"))
    assert [row[0] for row in record["items"]] == list(ODD_IDS)


def test_the_record_is_indented_json_with_one_item_per_line(tmp_path: Path):
    text = write_record(tmp_path, *ODD_IDS, reverses="B0").read_text(encoding="utf-8")
    assert text == EXPECTED.replace("VERSION", __version__)


def test_a_record_without_items_writes_an_empty_list(tmp_path: Path):
    text = write_record(tmp_path).read_text(encoding="utf-8")
    assert '  "items": []\n}\n' in text
    assert json.loads(text)["items"] == []


EXPECTED = r'''{
  "batch_id": "B1",
  "committed_at": "2026-11-30T09:00:00",
  "committed_by": "anna",
  "tool_version": "VERSION",
  "register": {
    "id": "R1",
    "location": "register.sqlite"
  },
  "workbook": "review.xlsx",
  "source": "erp",
  "offline": false,
  "posting_date": "2026-11-30",
  "rules": null,
  "accounts": {
    "transit": "1099",
    "receivable": "1100",
    "write_off": "6950",
    "vat": "2201"
  },
  "vat_rates": {},
  "billing": {
    "charge_code": "RELIQUAT",
    "vat_code": "V0"
  },
  "export": {
    "delimiter": ";",
    "encoding": "utf-8"
  },
  "counts": {
    "subscriptions": 1,
    "items": 4,
    "posting_lines": 4,
    "rebill_lines": 1,
    "refused_rows": 0
  },
  "totals": [
    {
      "action": "REBILL",
      "currency": "CHF",
      "subscriptions": 1,
      "items": 4,
      "amount": "2.00"
    }
  ],
  "transit_balance": {
    "CHF": "2.00"
  },
  "vat": {},
  "refused": [],
  "files": {
    "postings_B1.csv": {
      "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
      "bytes": 1
    }
  },
  "item_columns": [
    "item_id",
    "subscription_id",
    "customer_id",
    "currency",
    "amount",
    "action",
    "target"
  ],
  "items": [
    ["ITEMS", "S1", "C1", "CHF", "0.50", "REBILL", "S1"],
    ["say \"ITEMS\"", "S1", "C1", "CHF", "0.50", "REBILL", "S1"],
    ["\"items\": \"ITEMS\"", "S1", "C1", "CHF", "0.50", "REBILL", "S1"],
    ["Zoé", "S1", "C1", "CHF", "0.50", "REBILL", "S1"]
  ],
  "reverses": "B0",
  "reason": "wrong month"
}
'''
