"""The package around the sheets: which part is what, and the zip written back with the
untouched parts copied still compressed."""

from __future__ import annotations

import io
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import deque
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from addin.workbook.ooxml.package import rels_name, resolve_target

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_MAIN = f"{{{MAIN_NS}}}"
_CONTENT_TYPES = "[Content_Types].xml"
_ZIP32_LIMIT = 0xFFFFFFFF



class CannotPatch(Exception):
    """The package holds something this patch does not handle safely: save with openpyxl."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def xml_int(text: bytes | str, what: str) -> int:
    """A number read from the package's XML; one that is no number is beyond the patch."""
    try:
        return int(text)
    except ValueError as exc:
        raise CannotPatch(f"{what} is not a number: {text!r}") from exc



# --- the workbook's structure ------------------------------------------------------------------


@dataclass(frozen=True)
class Book:
    main: str
    sheets: dict[str, str]  # title -> part
    shared_strings: str | None
    styles: str | None
    calc_chain: str | None

    @property
    def relationships_part(self) -> str:
        return rels_name(self.main)


@dataclass(frozen=True)
class _Relationship:
    kind: str  # last segment of the type: "worksheet", "styles", ...
    id: str
    target: str  # part name


def read_book(archive: zipfile.ZipFile) -> Book:
    main = _first_target(_relationships(archive, ""), "officeDocument")
    if main is None:
        raise CannotPatch("the package has no officeDocument relationship")
    relationships = _relationships(archive, main)
    by_id = {r.id: r.target for r in relationships}
    sheets: dict[str, str] = {}
    for sheet in _xml(archive, main).iter(f"{_MAIN}sheet"):
        name = sheet.get("name")
        rel_id = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        if name is None or rel_id not in by_id:
            raise CannotPatch(f"sheet {name!r} of {main} has no part")
        sheets[name] = by_id[rel_id]
    return Book(main, sheets, _first_target(relationships, "sharedStrings"),
                 _first_target(relationships, "styles"), _first_target(relationships, "calcChain"))


def _relationships(archive: zipfile.ZipFile, source: str) -> list[_Relationship]:
    name = rels_name(source)
    if name not in archive.NameToInfo:
        return []
    base = source.rpartition("/")[0]
    found = []
    for rel in _xml(archive, name):
        if rel.get("TargetMode") == "External":
            continue
        found.append(_Relationship(rel.get("Type", "").rpartition("/")[2], rel.get("Id", ""),
                                   resolve_target(base, rel.get("Target", ""))))
    return found


def _first_target(relationships: list[_Relationship], kind: str) -> str | None:
    return next((r.target for r in relationships if r.kind == kind), None)


def _xml(archive: zipfile.ZipFile, part: str) -> ET.Element:
    try:
        return ET.fromstring(archive.read(part))
    except (KeyError, ET.ParseError) as exc:
        raise CannotPatch(f"cannot read {part}: {exc}") from exc


def member(archive: zipfile.ZipFile, part: str) -> zipfile.ZipInfo:
    try:
        return archive.getinfo(part)
    except KeyError as exc:
        raise CannotPatch(f"{part} is missing from the package") from exc


# --- calcChain ---------------------------------------------------------------------------------


def without_calc_chain(archive: zipfile.ZipFile, book: Book) -> dict[str, NewPart]:
    """Content types and workbook relationships with no calcChain: Excel rebuilds it, and a
    stale one makes it repair the file."""
    assert book.calc_chain is not None
    name = re.escape(book.calc_chain.encode("utf-8"))
    override = re.compile(rb'<Override\b[^>]*?\bPartName="/' + name + rb'"[^>]*/>', re.I)
    relationship = re.compile(rb'<Relationship\b[^>]*?\bType="[^"]*/calcChain"[^>]*/>')
    parts = {}
    types = archive.read(member(archive, _CONTENT_TYPES))
    new_types = override.sub(b"", types)
    if new_types != types:
        parts[_CONTENT_TYPES] = new_part(new_types, member(archive, _CONTENT_TYPES))
    elif f"/{book.calc_chain}".encode() in types:
        raise CannotPatch("cannot remove the calcChain content type")
    rels_info = member(archive, book.relationships_part)
    rels = archive.read(rels_info)
    new_rels = relationship.sub(b"", rels)
    if new_rels == rels:
        raise CannotPatch("cannot remove the calcChain relationship")
    parts[book.relationships_part] = new_part(new_rels, rels_info)
    return parts


# --- the zip package ---------------------------------------------------------------------------


@dataclass
class NewPart:
    method: int
    blocks: list[bytes]
    crc: int
    size: int

    @property
    def compressed_size(self) -> int:
        return sum(len(b) for b in self.blocks)


_FINAL_BLOCK = b"\x03\x00"  # an empty last deflate block: ends a run of sync-flushed segments
_MAX_QUEUED = 4  # segments waiting for a compressor, each one chunk of uncompressed XML


def _deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


class PartWriter:
    """A part compressed as it is written, with the method of the original. Deflated parts are
    made of segments compressed on their own and ending on a byte boundary (as pigz does), so a
    pool of threads can compress them side by side."""

    def __init__(self, method: int, compressors: Executor | None = None) -> None:
        if method not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
            raise CannotPatch(f"compression method {method} of a touched part")
        self.method, self.compressors = method, compressors
        self.crc = self.size = 0
        self.segments: list[bytes | Future[bytes]] = []
        self.queued: deque[Future[bytes]] = deque()

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        if self.method == zipfile.ZIP_STORED:
            self.segments.append(data)
        elif self.compressors is None:
            self.segments.append(_deflated(data))
        else:
            if len(self.queued) >= _MAX_QUEUED:
                self.queued.popleft().result()
            future = self.compressors.submit(_deflated, data)
            self.queued.append(future)
            self.segments.append(future)

    def close(self) -> NewPart:
        blocks = [s if isinstance(s, bytes) else s.result() for s in self.segments]
        if self.method == zipfile.ZIP_DEFLATED:
            blocks.append(_FINAL_BLOCK)
        return NewPart(self.method, blocks, self.crc, self.size)


def new_part(data: bytes, original: zipfile.ZipInfo) -> NewPart:
    writer = PartWriter(original.compress_type)
    writer.write(data)
    return writer.close()


_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")
_UTF8_NAME = 0x800


def write_package(source: Path, archive: zipfile.ZipFile, replaced: dict[str, NewPart],
                   dropped: set[str], target: Path) -> None:
    """The parts in their original order: replaced ones as given, the others copied still
    compressed, with their CRC and dates. Extra fields (extended timestamps, zip64 sizes) are
    left out: a package whose sizes do not fit in 32 bits is left to openpyxl."""
    directory: list[bytes] = []
    with source.open("rb") as original, target.open("wb") as out:
        for info in archive.infolist():
            if info.filename in dropped:
                continue
            part = replaced.get(info.filename) or _copied(original, info)
            offset = out.tell()
            _check_zip32(offset, part)
            name, flags = _encoded_name(info)
            out.write(_local_header(info, part, name, flags))
            for block in part.blocks:
                out.write(block)
            directory.append(_central_header(info, part, name, flags, offset))
        start = out.tell()
        records = b"".join(directory)
        if len(directory) > 0xFFFF or start + len(records) > _ZIP32_LIMIT:
            raise CannotPatch("the package needs zip64")
        out.write(records)
        out.write(_END_RECORD.pack(0x06054B50, 0, 0, len(directory), len(directory),
                                   len(records), start, len(archive.comment)))
        out.write(archive.comment)


def _copied(original: BinaryIO, info: zipfile.ZipInfo) -> NewPart:
    if info.flag_bits & 0x1:
        raise CannotPatch(f"{info.filename} is encrypted")
    original.seek(info.header_offset)
    raw_header = original.read(_LOCAL_HEADER.size)
    if len(raw_header) < _LOCAL_HEADER.size:
        raise zipfile.BadZipFile(f"the file ends inside the local header of {info.filename}")
    header = _LOCAL_HEADER.unpack(raw_header)
    if header[0] != 0x04034B50:
        raise CannotPatch(f"bad local header for {info.filename}")
    original.seek(header[9] + header[10], io.SEEK_CUR)
    data = original.read(info.compress_size)
    if len(data) < info.compress_size:
        raise zipfile.BadZipFile(f"the file ends inside {info.filename}")
    return NewPart(info.compress_type, [data], info.CRC, info.file_size)


def _check_zip32(offset: int, part: NewPart) -> None:
    if max(offset, part.size, part.compressed_size) > _ZIP32_LIMIT:
        raise CannotPatch("the package needs zip64")


def _encoded_name(info: zipfile.ZipInfo) -> tuple[bytes, int]:
    if not info.flag_bits & _UTF8_NAME:
        try:
            return info.orig_filename.encode("cp437"), 0
        except UnicodeEncodeError:
            pass
    return info.orig_filename.encode("utf-8"), _UTF8_NAME


def _versions(part: NewPart, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(made by, needed to extract); no zip64 here, so no version 4.5."""
    needed = {zipfile.ZIP_STORED: 10, zipfile.ZIP_DEFLATED: 20}.get(part.method,
                                                                    info.extract_version)
    return (info.create_system << 8) | info.create_version, needed


def _dos_date_time(info: zipfile.ZipInfo) -> tuple[int, int]:
    year, month, day, hour, minute, second = info.date_time
    year = max(year, 1980)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _local_header(info: zipfile.ZipInfo, part: NewPart, name: bytes, flags: int) -> bytes:
    time, date = _dos_date_time(info)
    return _LOCAL_HEADER.pack(0x04034B50, _versions(part, info)[1], flags, part.method, time,
                              date, part.crc, part.compressed_size, part.size, len(name),
                              0) + name


def _central_header(info: zipfile.ZipInfo, part: NewPart, name: bytes, flags: int,
                    offset: int) -> bytes:
    time, date = _dos_date_time(info)
    made_by, needed = _versions(part, info)
    return _CENTRAL_HEADER.pack(0x02014B50, made_by, needed, flags, part.method, time, date,
                                part.crc, part.compressed_size, part.size, len(name), 0,
                                len(info.comment), 0, info.internal_attr, info.external_attr,
                                offset) + name + info.comment
