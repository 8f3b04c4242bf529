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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from addin.workbook.review import layout
from addin.workbook.vba.compound_file import compound_file
from addin.workbook.vba.compression import compress

#: Sheet name -> VBA code name, as the writer sets ``ws.sheet_properties.codeName``.
SHEET_CODE_NAMES: dict[str, str] = {sheet.en: sheet.code_name for sheet in layout.SHEETS}
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
