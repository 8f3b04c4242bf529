"""Stamp a review workbook by patching its package instead of loading it.

openpyxl loads every cell of the workbook to change a few: on 100 000 rows that takes a minute
and gigabytes. Here each touched sheet's XML streams through in chunks of whole rows: rows that
get no stamp are copied as byte slices, a stamped row gets its cells replaced (keeping their
style) or inserted in column order, missing rows are inserted in order, and Journal rows go after
the last filled one. Every other part of the package (VBA project, ribbon, relationships, the
other sheets) is copied byte for byte, still compressed.

What this cannot patch safely raises ``CannotPatch``: the caller then saves with openpyxl. A part
that cannot be read (cut short, its data or CRC damaged) raises a ``WorkbookError``: openpyxl
could not read it either.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from addin.domain.problems import Problem, Where, WorkbookError
from addin.workbook.ooxml.check import ZIP_ERRORS
from addin.workbook.ooxml.stamping.filters import with_filter_database
from addin.workbook.ooxml.stamping.package import (
    Book,
    CannotPatch,
    member,
    new_part,
    read_book,
    without_calc_chain,
    write_package,
)
from addin.workbook.ooxml.stamping.sheets import SharedStrings, patch_sheets, sheet_requests
from addin.workbook.ooxml.stamping.styles import Styles
from addin.workbook.port import Stamps

__all__ = ["CannotPatch", "write_stamped"]


def write_stamped(source: Path, target: Path, stamps: Stamps) -> None:
    """Write ``target``: the package of ``source`` with ``stamps`` written in. On an error
    ``target`` may be left half written: the caller owns it."""
    try:
        archive = zipfile.ZipFile(source)
    except ZIP_ERRORS as exc:
        raise CannotPatch(f"not a zip package: {exc}") from exc
    try:
        with archive:
            if any(info.header_offset < 0 for info in archive.infolist()):
                raise zipfile.BadZipFile("the central directory points before the file")
            _write_stamped(source, archive, target, stamps)
    except _DAMAGED_PART as exc:
        raise WorkbookError([Problem(Where(str(source)),
                                     f"the workbook's zip package is damaged: {exc}")]) from exc


def _with_filters(workbook: bytes, book: Book, filters: dict[str, bytes]) -> bytes:
    """workbook.xml with each grown filter's hidden name following it."""
    titles = list(book.sheets)
    for title, filter_range in filters.items():
        workbook = with_filter_database(workbook, titles.index(title), filter_range)
    return workbook


# What zipfile raises while reading a part: its header, compressed data or CRC is damaged, or its
# compression method is unknown.
_DAMAGED_PART = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


def _write_stamped(source: Path, archive: zipfile.ZipFile, target: Path, stamps: Stamps
                   ) -> None:
    book = read_book(archive)
    styles = Styles(source, book.styles)
    strings = SharedStrings(source, book.shared_strings)
    requests = sheet_requests(book, stamps)
    patched = patch_sheets(source, requests, styles, strings)
    replaced = {request.part: patched[request.title].part for request in requests}
    filters = {title: sheet.filter_range for title, sheet in patched.items()
               if sheet.filter_range is not None}
    if filters:
        replaced[book.main] = new_part(_with_filters(archive.read(book.main), book, filters),
                                       member(archive, book.main))
    if styles.changed:
        assert book.styles is not None
        replaced[book.styles] = new_part(styles.patched(), member(archive, book.styles))
    dropped: set[str] = set()
    if book.calc_chain is not None:
        dropped.add(book.calc_chain)
        replaced.update(without_calc_chain(archive, book))
    write_package(source, archive, replaced, dropped, target)
