"""Stamp a review workbook by patching its package instead of loading it.

openpyxl loads every cell of the workbook to change a few: on 100 000 rows that takes a minute
and gigabytes. Here each touched sheet's XML streams through in chunks of whole rows: rows that
get no stamp are copied as byte slices, a stamped row gets its cells replaced (keeping their
style) or inserted in column order, missing rows are inserted in order, and Journal rows go after
the last filled one. Every other part of the package (VBA project, ribbon, relationships, the
other sheets) is copied byte for byte, still compressed.

What this cannot patch safely raises ``CannotPatch``: the caller then saves with openpyxl.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from addin.workbook.port import Stamps
from addin.workbook.stamping.package import (
    CannotPatch,
    member,
    new_part,
    read_book,
    without_calc_chain,
    write_package,
)
from addin.workbook.stamping.sheets import SharedStrings, patch_sheets, sheet_requests
from addin.workbook.stamping.styles import Styles

__all__ = ["CannotPatch", "write_stamped"]


def write_stamped(source: Path, target: Path, stamps: Stamps) -> None:
    """Write ``target``: the package of ``source`` with ``stamps`` written in. On an error
    ``target`` may be left half written: the caller owns it."""
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise CannotPatch(f"not a zip package: {exc}") from exc
    with archive:
        book = read_book(archive)
        styles = Styles(source, book.styles)
        strings = SharedStrings(source, book.shared_strings)
        replaced = patch_sheets(source, sheet_requests(book, stamps), styles, strings)
        if styles.changed:
            assert book.styles is not None
            replaced[book.styles] = new_part(styles.patched(), member(archive, book.styles))
        dropped: set[str] = set()
        if book.calc_chain is not None:
            dropped.add(book.calc_chain)
            replaced.update(without_calc_chain(archive, book))
        write_package(source, archive, replaced, dropped, target)
