"""A review workbook file checked as a package, so that damage is refused naming the file.

calamine reads the sheets it is asked for and nothing else: it never looks at the VBA project,
the ribbon or the content types, and reads a part whose directory entry lies about its sizes.
The commit then copies those parts into the stamped workbook and its audit copy. So before the
cells are read, ``check_structure`` refuses a file that is no zip package, whose content types
or relationships do not hold together, or whose extension does not match its main part; and
``check_parts`` reads every part through (CRC and size), which takes about a tenth of what
calamine takes, and runs beside it; on the way it notes which parts hold an error cell.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from addin.domain.problems import Problem, Where, WorkbookError
from addin.workbook.ooxml.package import (
    MACRO_ENABLED_MAIN,
    WORKBOOK_MAIN,
    rels_name,
    resolve_target,
)

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
_CONTENT_TYPES = "[Content_Types].xml"
_ROOT_RELS = "_rels/.rels"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN_TYPES = {".xlsm": MACRO_ENABLED_MAIN, ".xlsx": WORKBOOK_MAIN}
_CHUNK = 1 << 20

# What zipfile raises on a damaged package: a bad directory or header (BadZipFile, a name that
# is not UTF-8: ValueError, a seek before the start: OSError), damaged compressed data
# (zlib.error, EOFError), a compression method or encryption it cannot read
# (NotImplementedError, RuntimeError).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError,
              NotImplementedError, RuntimeError)


@dataclass(frozen=True)
class Package:
    path: Path
    sheets: dict[str, str]  # part -> sheet title, to name the sheet a damaged part holds

    def refuse(self, message: str) -> WorkbookError:
        return WorkbookError([Problem(Where(str(self.path)), message)])

    def describe(self, part: str) -> str:
        title = self.sheets.get(part)
        return f"sheet {title!r} ({part})" if title else part


def check_structure(path: Path) -> Package:
    """The package's outline: a zip, its content types, relationships and main part."""
    package = Package(path, {})
    try:
        with path.open("rb") as handle:
            head = handle.read(len(OLE_SIGNATURE))
    except OSError as exc:
        raise package.refuse(f"cannot read the workbook: {exc}") from exc
    if not head:
        raise package.refuse("the file is empty: not a workbook")
    if head == OLE_SIGNATURE:
        raise package.refuse("an Excel 97-2003 workbook (.xls) or another OLE compound file, "
                             "not an .xlsx or .xlsm package: open it in Excel and save it "
                             "as .xlsm")
    if not head.startswith(ZIP_SIGNATURE):
        raise package.refuse("not an Excel workbook (.xlsx or .xlsm): the file is no zip "
                             "package")
    try:
        with zipfile.ZipFile(path) as archive:
            return _outline(package, archive)
    except ZIP_ERRORS as exc:
        raise package.refuse(f"the workbook's zip package is damaged (cut short, or changed "
                             f"on its way?): {exc}") from exc


def _outline(package: Package, archive: zipfile.ZipFile) -> Package:
    names = set(archive.NameToInfo)
    for required in (_CONTENT_TYPES, _ROOT_RELS):
        if required not in names:
            raise package.refuse(f"part missing from the package: {required}")
    main = next(iter(_targets(package, archive, "", "officeDocument")), None)
    if main is None:
        raise package.refuse(f"{_ROOT_RELS} names no workbook part (officeDocument)")
    if main not in names:
        raise package.refuse(f"part missing from the package: {main}")
    main_type = _content_type(package, archive, main)
    expected = _MAIN_TYPES.get(package.path.suffix.lower())
    if main_type not in _MAIN_TYPES.values():
        raise package.refuse(f"{main} is {main_type or 'of no declared type'}, not a workbook")
    if expected is not None and main_type != expected:
        kind = ".xlsm (macro-enabled)" if main_type == MACRO_ENABLED_MAIN else ".xlsx"
        raise package.refuse(f"the package is an {kind} workbook but the file is named "
                             f"{package.path.suffix}: Excel will not open it under that name")
    relationships = _relationships(package, archive, main)
    for target in relationships.values():
        if target not in names:
            raise package.refuse(f"part missing from the package: {target} (the workbook's "
                                 f"relationships point to it)")
    workbook = _xml(package, archive, main)
    sheets = {relationships[s.get(_REL_ID, "")]: s.get("name", "")
              for s in workbook.iter(f"{_MAIN_NS}sheet") if s.get(_REL_ID) in relationships}
    return Package(package.path, sheets)


def check_parts(package: Package) -> frozenset[str]:
    """Every part read through: its local header, compressed data, CRC and size. Returns the
    parts that hold an error cell's mark (``holds_error_mark``): only those can hold an Excel
    error value, so only they need to be read again to place one."""
    marked: set[str] = set()
    try:
        with zipfile.ZipFile(package.path) as archive:
            for info in archive.infolist():
                if _check_part(package, archive, info):
                    marked.add(info.filename)
    except ZIP_ERRORS as exc:
        raise package.refuse(f"the workbook's zip package is damaged: {exc}") from exc
    return frozenset(marked)


def holds_error_mark(xml: bytes) -> bool:
    """Whether XML holds a cell of type error (``t="e"``), as every writer seen here puts it."""
    return b't="e"' in xml or b"t='e'" in xml


_MARK_OVERLAP = len(b't="e"') - 1  # a mark cut by a chunk's end is found with the next one


class ErrorMarkScan:
    """Whether a part's chunks, fed in order, hold an error cell's mark, one cut between two
    chunks included: a sheet of a million rows need not be held whole to know."""

    def __init__(self) -> None:
        self.found = False
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if not self.found:
            edge = self._tail + chunk[:_MARK_OVERLAP]
            self.found = holds_error_mark(edge) or holds_error_mark(chunk)
            self._tail = (self._tail + chunk[-_MARK_OVERLAP:])[-_MARK_OVERLAP:]  # short chunks


def _check_part(package: Package, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the part holds an error cell's mark (whatever its name: a sheet's need not end
    in .xml)."""
    size = 0
    marks = ErrorMarkScan()
    try:
        with archive.open(info) as stream:  # checks the local header's name, then the CRC
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > info.file_size:
                    break
                marks.feed(chunk)
    except ZIP_ERRORS as exc:
        raise package.refuse(f"{package.describe(info.filename)} is damaged: {exc}") from exc
    if size != info.file_size:
        raise package.refuse(f"{package.describe(info.filename)} is damaged: it holds "
                             f"{'more' if size > info.file_size else 'fewer'} bytes than its "
                             f"directory entry says ({info.file_size})")
    return marks.found


def _xml(package: Package, archive: zipfile.ZipFile, part: str) -> ET.Element:
    try:
        return ET.fromstring(archive.read(part))
    except KeyError as exc:
        raise package.refuse(f"part missing from the package: {part}") from exc
    except ET.ParseError as exc:
        raise package.refuse(f"{part} is not well-formed XML: {exc}") from exc


def _relationships(package: Package, archive: zipfile.ZipFile, source: str) -> dict[str, str]:
    """Relationship id -> the part it points to, for the package's parts (not external)."""
    name = rels_name(source)
    if name not in archive.NameToInfo:
        return {}
    base = posixpath.dirname(source)
    return {rel.get("Id", ""): resolve_target(base, rel.get("Target", ""))
            for rel in _xml(package, archive, name)
            if rel.get("TargetMode") != "External"}


def _targets(package: Package, archive: zipfile.ZipFile, source: str, kind: str) -> list[str]:
    """The parts ``source`` relates to with a type ending in ``kind`` (transitional or strict
    OOXML)."""
    name = rels_name(source)
    if name not in archive.NameToInfo:
        return []
    base = posixpath.dirname(source)
    return [resolve_target(base, rel.get("Target", ""))
            for rel in _xml(package, archive, name)
            if rel.get("Type", "").rpartition("/")[2] == kind
            and rel.get("TargetMode") != "External"]


def _content_type(package: Package, archive: zipfile.ZipFile, part: str) -> str:
    types = _xml(package, archive, _CONTENT_TYPES)
    for override in types.iter(f"{_CT_NS}Override"):
        if override.get("PartName", "").lstrip("/").lower() == part.lower():
            return override.get("ContentType", "")
    extension = posixpath.splitext(part)[1].lstrip(".").lower()
    for default in types.iter(f"{_CT_NS}Default"):
        if default.get("Extension", "").lower() == extension:
            return default.get("ContentType", "")
    return ""
