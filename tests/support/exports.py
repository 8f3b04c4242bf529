"""What a user checks after any sequence of commands: each item in exactly one posting file."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path


def exported_items(*folders: Path) -> Counter[str]:
    """Every item id of the posting files in these folders, with how often it was exported."""
    found: Counter[str] = Counter()
    for folder in folders:
        for path in sorted(folder.glob("postings_*.csv")) if folder.is_dir() else []:
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle, delimiter=";"))
            found.update(row["item_id"] for row in rows)
    return found


def leftovers(*folders: Path) -> list[str]:
    """Private files a commit writes before revealing them: none may stay behind."""
    return sorted(str(p) for folder in folders if folder.is_dir() for p in folder.iterdir()
                  if p.name.startswith("."))
