"""Build the VBA project (``xl/vbaProject.bin``) of the review workbook, without Office.

The file is an OLE compound file holding the streams of [MS-OVBA]: ``PROJECT``, ``PROJECTwm``,
``VBA/_VBA_PROJECT`` (version 0xFFFF, no performance cache, so Office compiles from the source
text), ``VBA/dir`` and one compressed source stream per module.

Everything is written here rather than with ms-ovba 0.0.1: that package compresses long runs
wrongly (its copy-token maximum length is ``0xFFFF << bit_count + 3``), draws random bytes for
the PROJECT stream, reads the sources in the locale's encoding, appends to ``.new`` files beside
them and writes its outputs, and its OLE writer's temporary files, into the current folder.
Only the standard library is needed, so building the workbook does not pull a dev dependency
into the runtime. Nothing here proves Excel accepts the result; oletools and LibreOffice read it.
"""

from __future__ import annotations

import os
import re
import struct
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

#: Sheet name -> VBA code name, as the writer sets ``ws.sheet_properties.codeName``.
SHEET_CODE_NAMES: dict[str, str] = {
    "Control": "shControl",
    "Residuals": "shResiduals",
    "Items": "shItems",
    "Excluded": "shExcluded",
    "Journal": "shJournal",
    "Lists": "shLists",
}
WORKBOOK_CODE_NAME = "ThisWorkbook"

ModuleKind = Literal["procedural", "document"]
ModuleSources = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]

CODE_PAGE = "cp1252"
_CODE_PAGE_ID = 1252
_LCID_EN_US = 0x0409
_SYSKIND_WIN64 = 3
_PROJECT_NAME = "VBAProject"
# Any GUID will do; a fixed one keeps the output reproducible.
_PROJECT_ID = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "reliquat:vba-project")).upper() + "}"
_WORKBOOK_BASE = "{00020819-0000-0000-C000-000000000046}"
_WORKSHEET_BASE = "{00020820-0000-0000-C000-000000000046}"
_NOT_PROTECTED, _NO_PASSWORD, _VISIBLE = bytes(4), b"\x00", b"\xff"
_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
# stdole, and the Office library that defines IRibbonControl. Excel and VBA are implicit.
_REFERENCES: tuple[tuple[str, str], ...] = (
    (
        "stdole",
        "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0"
        "#C:\\Windows\\System32\\stdole2.tlb#OLE Automation",
    ),
    (
        "Office",
        "*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0"
        "#C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL"
        "#Microsoft Office 16.0 Object Library",
    ),
)
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")
_VB_NAME = re.compile(r'Attribute VB_Name = "([^"]*)"')


@dataclass(frozen=True)
class VbaModule:
    name: str
    kind: ModuleKind
    source: bytes  # cp1252, CRLF line ends, the Attribute lines included: the stream's text


def build_vba_project(
    modules: ModuleSources,
    workbook_code_name: str,
    sheet_code_names: Sequence[str],
) -> bytes:
    """Return a ``vbaProject.bin`` with a document module for the workbook and each sheet
    code name, then the standard modules read from ``.bas`` files (a folder or a list)."""
    project = [
        document_module(workbook_code_name, _WORKBOOK_BASE),
        *(document_module(name, _WORKSHEET_BASE) for name in sheet_code_names),
        *(read_bas_module(path) for path in _bas_paths(modules)),
    ]
    _check_names(project)
    streams = {
        "PROJECT": project_stream(project),
        "PROJECTwm": projectwm_stream(project),
        "VBA/_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0003),
        "VBA/dir": compress(dir_stream(project)),
        **{f"VBA/{module.name}": compress(module.source) for module in project},
    }
    return compound_file(streams)


# --- modules -------------------------------------------------------------------------------


def document_module(name: str, base: str) -> VbaModule:
    attributes = (
        f'VB_Name = "{name}"',
        f'VB_Base = "0{base}"',
        "VB_GlobalNameSpace = False",
        "VB_Creatable = False",
        "VB_PredeclaredId = True",
        "VB_Exposed = True",
        "VB_TemplateDerived = False",
        "VB_Customizable = True",
    )
    text = "".join(f"Attribute {attribute}\r\n" for attribute in attributes)
    return VbaModule(name, "document", text.encode(CODE_PAGE))


def read_bas_module(path: str | os.PathLike[str]) -> VbaModule:
    """Read a standard module as the VBA editor exports it; the name is its VB_Name."""
    path = Path(path)
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raise ValueError(f"{path}: starts with a UTF-8 byte order mark; save it as cp1252")
    try:
        text = raw.decode(CODE_PAGE)
    except UnicodeDecodeError as error:
        reason = f"{error.reason} at byte {error.start}"
        raise ValueError(f"{path}: not cp1252 text ({reason})") from None
    lines = re.split(r"\r\n|\r|\n", text)
    if lines[-1] == "":
        lines.pop()
    match = _VB_NAME.fullmatch(lines[0]) if lines else None
    if match is None:
        lines.insert(0, f'Attribute VB_Name = "{path.stem}"')
    name = match.group(1) if match else path.stem
    source = "".join(line + "\r\n" for line in lines)
    return VbaModule(name, "procedural", source.encode(CODE_PAGE))


def _bas_paths(modules: ModuleSources) -> list[Path]:
    if isinstance(modules, str | os.PathLike):
        folder = Path(modules)
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder}: give a folder of .bas files, or a list of them")
        others = sorted(p.name for p in folder.glob("*") if p.suffix.lower() in (".cls", ".frm"))
        if others:
            raise ValueError(f"{folder}: class and form modules are not supported: {others}")
        return sorted(p for p in folder.glob("*") if p.suffix.lower() == ".bas")
    paths = [Path(p) for p in modules]
    for path in paths:
        if path.suffix.lower() != ".bas":
            raise ValueError(f"{path}: only standard modules (.bas) are supported")
    return paths


def _check_names(project: Sequence[VbaModule]) -> None:
    seen: set[str] = set()
    for module in project:
        if not _IDENTIFIER.fullmatch(module.name):
            raise ValueError(f"{module.name!r} is not a VBA module name (letter first, <= 31)")
        if module.name.lower() in seen:
            raise ValueError(f"two modules are named {module.name!r}")
        seen.add(module.name.lower())


# --- PROJECT and PROJECTwm streams (MS-OVBA 2.3.1, 2.3.3) ---------------------------------


def project_stream(project: Sequence[VbaModule]) -> bytes:
    items = [
        f"Document={m.name}/&H00000000" if m.kind == "document" else f"Module={m.name}"
        for m in project
    ]
    lines = [
        f'ID="{_PROJECT_ID}"',
        *items,
        f'Name="{_PROJECT_NAME}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{_encrypt(_NOT_PROTECTED).hex().upper()}"',
        f'DPB="{_encrypt(_NO_PASSWORD).hex().upper()}"',
        f'GC="{_encrypt(_VISIBLE).hex().upper()}"',
        "",
        "[Host Extender Info]",
        _HOST_EXTENDER,
    ]
    return "".join(line + "\r\n" for line in lines).encode(CODE_PAGE)


def _encrypt(data: bytes) -> bytes:
    """MS-OVBA 2.4.3.2 data encryption, with a fixed seed whose ignored length is zero:
    Office draws the seed at random, any value is valid, a fixed one keeps builds identical."""
    seed = 0x71
    assert seed & 6 == 0
    project_key = sum(_PROJECT_ID.encode("ascii")) & 0xFF
    version_enc = seed ^ 2
    project_key_enc = seed ^ project_key
    out = bytearray((seed, version_enc, project_key_enc))
    unencrypted_1, encrypted_1, encrypted_2 = project_key, project_key_enc, version_enc
    for byte in struct.pack("<I", len(data)) + data:
        byte_enc = byte ^ ((unencrypted_1 + encrypted_2) & 0xFF)
        out.append(byte_enc)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    return bytes(out)


def projectwm_stream(project: Sequence[VbaModule]) -> bytes:
    out = bytearray()
    for module in project:
        out += module.name.encode(CODE_PAGE) + b"\x00"
        out += module.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


# --- dir stream (MS-OVBA 2.3.4.2), before compression -------------------------------------


def dir_stream(project: Sequence[VbaModule]) -> bytes:
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", _SYSKIND_WIN64))
    out += _record(0x0002, struct.pack("<I", _LCID_EN_US))
    out += _record(0x0014, struct.pack("<I", _LCID_EN_US))
    out += _record(0x0003, struct.pack("<H", _CODE_PAGE_ID))
    out += _record(0x0004, _PROJECT_NAME.encode(CODE_PAGE))
    out += _text_records(0x0005, 0x0040, "")  # doc string
    out += _text_records(0x0006, 0x003D, "", unicode=False)  # help file, twice in MBCS
    out += _record(0x0007, struct.pack("<I", 0))  # help context
    out += _record(0x0008, struct.pack("<I", 0))  # lib flags
    # PROJECTVERSION's Reserved field (4) sits where a size would, then 4 + 2 bytes follow.
    out += struct.pack("<HIIH", 0x0009, 4, 0x65BE0257, 0x0011)
    out += _text_records(0x000C, 0x003C, "")  # constants
    for name, libid in _REFERENCES:
        out += _text_records(0x0016, 0x003E, name)
        registered = _sized(libid.encode(CODE_PAGE)) + struct.pack("<IH", 0, 0)
        out += _record(0x000D, registered)
    out += _record(0x000F, struct.pack("<H", len(project)))
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # project cookie
    for module in project:
        out += _module_record(module)
    out += struct.pack("<HI", 0x0010, 0)
    return bytes(out)


def _module_record(module: VbaModule) -> bytes:
    out = bytearray()
    out += _record(0x0019, module.name.encode(CODE_PAGE))
    out += _record(0x0047, module.name.encode("utf-16-le"))
    out += _text_records(0x001A, 0x0032, module.name)  # stream name
    out += _text_records(0x001C, 0x0048, "")  # doc string
    out += _record(0x0031, struct.pack("<I", 0))  # source offset: no performance cache
    out += _record(0x001E, struct.pack("<I", 0))  # help context
    out += _record(0x002C, struct.pack("<H", 0xFFFF))  # cookie
    out += struct.pack("<HI", 0x0021 if module.kind == "procedural" else 0x0022, 0)
    out += struct.pack("<HI", 0x002B, 0)
    return bytes(out)


def _record(record_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(data)) + data


def _sized(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


def _text_records(record_id: int, second_id: int, text: str, *, unicode: bool = True) -> bytes:
    second = text.encode("utf-16-le") if unicode else text.encode(CODE_PAGE)
    return _record(record_id, text.encode(CODE_PAGE)) + _record(second_id, second)


# --- compression (MS-OVBA 2.4.1) ----------------------------------------------------------

_CHUNK = 4096


def compress(data: bytes) -> bytes:
    """A CompressedContainer: the signature byte, then one chunk per 4096 bytes of data."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), _CHUNK):
        out += _compress_chunk(data[start : start + _CHUNK])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    body = _compress_tokens(chunk)
    if len(body) <= _CHUNK:
        return struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + body
    # A raw chunk decompresses to 4096 bytes whatever its data, so a shorter last chunk
    # would come back padded: refuse rather than corrupt (never seen with source text).
    if len(chunk) < _CHUNK:
        raise ValueError("incompressible final chunk: cannot be stored byte-exact")
    return struct.pack("<H", 0x3000 | (_CHUNK - 1)) + chunk


def _compress_tokens(chunk: bytes) -> bytes:
    out = bytearray()
    positions: dict[bytes, list[int]] = {}
    current = 0
    while current < len(chunk):
        flag_index = len(out)
        out.append(0)
        for bit in range(8):
            if current >= len(chunk):
                break
            offset, length = _longest_match(chunk, current, positions)
            if length:
                out += struct.pack("<H", _copy_token(current, offset, length))
                out[flag_index] |= 1 << bit
            else:
                out.append(chunk[current])
                length = 1
            for position in range(current, current + length):
                positions.setdefault(chunk[position : position + 3], []).append(position)
            current += length
    return bytes(out)


def _copy_token_bits(current: int) -> int:
    """MS-OVBA 2.4.1.3.19.1 CopyToken Help: the offset's bit count at this position."""
    return max((current - 1).bit_length(), 4)


def _longest_match(
    chunk: bytes, current: int, positions: dict[bytes, list[int]]
) -> tuple[int, int]:
    """The nearest longest earlier match of at least 3 bytes, as (offset, length) or (0, 0).

    Candidates come from the positions of the next 3 bytes; a match may run into the bytes
    it copies (offset 1 repeats one byte), as the decompressor copies byte by byte."""
    maximum = (0xFFFF >> _copy_token_bits(current)) + 3  # the spec's MaximumLength
    limit = min(maximum, len(chunk) - current)
    best_offset, best_length = 0, 0
    for candidate in reversed(positions.get(chunk[current : current + 3], [])):
        length = 0
        while length < limit and chunk[candidate + length] == chunk[current + length]:
            length += 1
        if length > best_length:
            best_offset, best_length = current - candidate, length
            if length == limit:
                break
    return (best_offset, best_length) if best_length >= 3 else (0, 0)


def _copy_token(current: int, offset: int, length: int) -> int:
    bits = _copy_token_bits(current)
    return ((offset - 1) << (16 - bits)) | (length - 3)


# --- compound file (MS-CFB version 3), all in memory ---------------------------------------

_SECTOR = 512
_MINI_SECTOR = 64
_MINI_CUTOFF = 4096
_IDS_PER_SECTOR = _SECTOR // 4
_FREE, _END_OF_CHAIN, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


@dataclass
class _Entry:
    name: str
    data: bytes | None = None  # None for a storage
    children: list[_Entry] = field(default_factory=list)
    start: int = _END_OF_CHAIN
    id: int = 0


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """An OLE compound file holding ``streams`` (paths like ``"VBA/dir"``), with zero
    timestamps and class ids, so the same streams always give the same bytes.

    Sectors: the FAT, the directory, the mini FAT, the mini stream (streams under 4096
    bytes, in 64-byte mini sectors), then each larger stream."""
    root = _tree(streams)
    entries = _flatten(root)
    files = [e for e in entries if e.data]
    small = [e for e in files if len(e.data or b"") < _MINI_CUTOFF]
    large = [e for e in files if len(e.data or b"") >= _MINI_CUTOFF]

    mini_stream, mini_fat = bytearray(), []
    for entry in small:
        entry.start = len(mini_stream) // _MINI_SECTOR
        mini_fat += _chain(entry.start, _sectors(len(entry.data or b""), _MINI_SECTOR))
        mini_stream += _pad(entry.data or b"", _MINI_SECTOR)

    directory_size = _sectors(len(entries), _SECTOR // 128) * _SECTOR
    mini_fat_bytes = _ids(mini_fat, _FREE)
    sizes = [directory_size, len(mini_fat_bytes), len(mini_stream)]
    sizes += [len(e.data or b"") for e in large]
    fat_count = _fat_sector_count(sum(_sectors(size, _SECTOR) for size in sizes))
    if fat_count > 109:
        raise ValueError("VBA project too large for a compound file without DIFAT sectors")
    fat, starts = [_FAT_SECTOR] * fat_count, []
    for size in sizes:
        starts.append(len(fat) if size else _END_OF_CHAIN)
        fat += _chain(len(fat), _sectors(size, _SECTOR))
    directory_start, mini_fat_start, root.start, *large_starts = starts
    for entry, start in zip(large, large_starts, strict=True):
        entry.start = start

    parts = [
        _header(fat_count, directory_start, mini_fat_start, len(mini_fat_bytes) // _SECTOR),
        _ids(fat, _FREE),
        _directory(entries, len(mini_stream)),
        mini_fat_bytes,
        bytes(mini_stream),
        *(e.data or b"" for e in large),
    ]
    return b"".join(_pad(part, _SECTOR) for part in parts)


def _tree(streams: Mapping[str, bytes]) -> _Entry:
    root = _Entry("Root Entry")
    for path, data in streams.items():
        *storages, name = path.split("/")
        parent = root
        for storage in storages:
            found = next((c for c in parent.children if c.name == storage), None)
            if found is None:
                found = _Entry(storage)
                parent.children.append(found)
            parent = found
        parent.children.append(_Entry(name, data))
    return root


def _flatten(root: _Entry) -> list[_Entry]:
    entries: list[_Entry] = []
    pending = [root]
    while pending:
        entry = pending.pop(0)
        entry.id = len(entries)
        entries.append(entry)
        pending += entry.children
    return entries


def _directory(entries: Sequence[_Entry], mini_stream_size: int) -> bytes:
    links: dict[int, tuple[int, int, bool]] = {}  # id -> (left, right, red)
    subtrees = {e.id: _sibling_tree(e.children, links) for e in entries if e.data is None}
    out = bytearray()
    for entry in entries:
        left, right, red = links.get(entry.id, (_NO_STREAM, _NO_STREAM, False))
        if entry.id == 0:
            kind, size = 5, mini_stream_size
        elif entry.data is None:
            kind, size = 1, 0
        else:
            kind, size = 2, len(entry.data)
        out += _directory_entry(entry, kind, size, left, right, red, subtrees.get(entry.id))
    # An unused entry is zeros but for its three links, set to "no stream".
    unused = bytes(68) + struct.pack("<III", _NO_STREAM, _NO_STREAM, _NO_STREAM) + bytes(48)
    while len(out) % _SECTOR:
        out += unused
    return bytes(out)


def _sibling_tree(children: Sequence[_Entry], links: dict[int, tuple[int, int, bool]]) -> int:
    """Link a storage's children as a balanced binary search tree in CFB order (shorter
    names first, then case-insensitive) and return its root id. Colouring the deepest level
    red, the rest black, satisfies the red-black rules the format asks for."""
    ordered = sorted(children, key=lambda e: (len(e.name), e.name.upper()))
    deepest = max(len(ordered).bit_length() - 1, 0)

    def link(part: Sequence[_Entry], depth: int) -> int:
        if not part:
            return _NO_STREAM
        middle = len(part) // 2
        node = part[middle]
        left, right = link(part[:middle], depth + 1), link(part[middle + 1 :], depth + 1)
        links[node.id] = (left, right, 0 < depth == deepest)
        return node.id

    return link(ordered, 0)


def _directory_entry(
    entry: _Entry, kind: int, size: int, left: int, right: int, red: bool, child: int | None
) -> bytes:
    name = entry.name.encode("utf-16-le")
    if len(name) > 62:
        raise ValueError(f"compound file names are at most 31 characters: {entry.name!r}")
    start = entry.start if size else (_END_OF_CHAIN if kind != 1 else 0)
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name,
        len(name) + 2,
        kind,
        0 if red else 1,
        left,
        right,
        _NO_STREAM if child is None else child,
        b"\x00" * 16,  # class id
        0,  # state bits
        0,  # created
        0,  # modified
        start,
        size,
    )


def _header(
    fat_count: int, directory_start: int, mini_fat_start: int, mini_fat_count: int
) -> bytes:
    difat = list(range(fat_count)) + [_FREE] * (109 - fat_count)
    return struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\x00" * 16,
        0x003E,  # minor version
        0x0003,  # major version: 512-byte sectors
        0xFFFE,  # byte order
        9,  # sector shift
        6,  # mini sector shift
        b"\x00" * 6,
        0,  # directory sectors (always 0 in version 3)
        fat_count,
        directory_start,
        0,  # transaction signature
        _MINI_CUTOFF,
        mini_fat_start,
        mini_fat_count,
        _END_OF_CHAIN,  # first DIFAT sector: none
        0,
    ) + struct.pack("<109I", *difat)


def _fat_sector_count(content_sectors: int) -> int:
    count = 1
    while count * _IDS_PER_SECTOR < content_sectors + count:
        count += 1
    return count


def _chain(start: int, count: int) -> list[int]:
    return [start + i + 1 for i in range(count - 1)] + ([_END_OF_CHAIN] if count else [])


def _sectors(size: int, sector: int) -> int:
    return -(-size // sector)


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\x00" * (-len(data) % size)


def _ids(ids: Sequence[int], filler: int) -> bytes:
    padded = list(ids) + [filler] * (-len(ids) % _IDS_PER_SECTOR)
    return struct.pack(f"<{len(padded)}I", *padded)
