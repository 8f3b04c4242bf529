"""A minimal OLE compound file writer (MS-CFB version 3), all in memory, deterministic."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
