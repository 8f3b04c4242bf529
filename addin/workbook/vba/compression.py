"""The compression of VBA source streams, as MS-OVBA 2.4.1 defines it.

ms-ovba-compression 1.0.1 computes the copy-token maximum length as ``0xFFFF << bit_count + 3``
where the specification says ``(0xFFFF >> bit_count) + 3``; long repeated runs then
decompress to garbage and LibreOffice silently loads no VBA. This one follows the text.
"""

from __future__ import annotations

import struct

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
