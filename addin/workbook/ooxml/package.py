"""Describe what an OOXML package holds: its main part, VBA project and ribbon.

Excel refuses a file whose extension does not match its package, and LibreOffice opens either,
so ``describe_package`` is how tests and the commit step check that a file is a proper .xlsm.
"""

from __future__ import annotations

import os
import posixpath
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MACRO_ENABLED_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
WORKBOOK_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
VBA_PROJECT_TYPE = "application/vnd.ms-office.vbaProject"
VBA_PROJECT_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
RIBBON_REL = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
RIBBON_2010_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2006/01/customui"
OFFICE_DOCUMENT_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
RIBBON_PART = "customUI/customUI.xml"

_CONTENT_TYPES = "[Content_Types].xml"
_ROOT_RELS = "_rels/.rels"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_TYPE = "application/xml"
_RIBBON_RELS = (RIBBON_REL, RIBBON_2010_REL)


@dataclass(frozen=True)
class PackageInfo:
    main_part: str
    main_content_type: str
    vba_project_part: str | None  # target of the workbook's vbaProject relationship
    ribbon_part: str | None  # a customUI part present in the package
    ribbon_relationship: bool  # whether a root ribbon relationship points at ribbon_part
    parts: tuple[str, ...]
    content_types: Mapping[str, str]  # part -> content type, defaults resolved

    @property
    def has_vba_project(self) -> bool:
        part = self.vba_project_part
        return part in self.parts and self.content_types.get(part or "") == VBA_PROJECT_TYPE

    @property
    def is_macro_enabled(self) -> bool:
        return self.main_content_type == MACRO_ENABLED_MAIN and self.has_vba_project

    def problems(self, *, ribbon: bool = True) -> list[str]:
        """What keeps this package from being an .xlsm Excel opens, with its ribbon."""
        found = []
        if self.main_content_type != MACRO_ENABLED_MAIN:
            found.append(f"{self.main_part} is {self.main_content_type}, not macro-enabled")
        if not self.has_vba_project:
            found.append("no VBA project (xl/vbaProject.bin with its relationship and type)")
        if ribbon and self.ribbon_part is None:
            found.append("no ribbon part (customUI/customUI.xml)")
        elif ribbon and not self.ribbon_relationship:
            found.append(f"{self.ribbon_part} has no relationship from the package root")
        return found


def describe_package(path: str | os.PathLike[str]) -> PackageInfo:
    with zipfile.ZipFile(path) as archive:
        names = tuple(info.filename for info in archive.infolist() if not info.is_dir())
        parts = {name: archive.read(name) for name in names if name.endswith((".xml", ".rels"))}
    content_types = _resolved_content_types(ET.fromstring(parts[_CONTENT_TYPES]), names)
    main = _main_part(parts)
    vba = _targets(parts, main, (VBA_PROJECT_REL,))
    ribbon_targets = _targets(parts, "", _RIBBON_RELS)
    ribbon_files = [n for n in names if n.lower().startswith("customui/") and n.endswith(".xml")]
    ribbon = next((t for t in ribbon_targets if t in names), None) or next(iter(ribbon_files), None)
    return PackageInfo(
        main_part=main,
        main_content_type=content_types.get(main, ""),
        vba_project_part=vba[0] if vba else None,
        ribbon_part=ribbon,
        ribbon_relationship=ribbon is not None and ribbon in ribbon_targets,
        parts=names,
        content_types=content_types,
    )


def check_ribbon(ribbon_xml: bytes) -> None:
    try:
        root = ET.fromstring(ribbon_xml)
    except ET.ParseError as error:
        raise ValueError(f"the ribbon is not well-formed XML: {error}") from None
    if root.tag != f"{{{CUSTOMUI_NS}}}customUI":
        # openpyxl keeps the relationship of the 2006 customUI/customUI.xml only.
        raise ValueError(f"the ribbon must be a customUI element of {CUSTOMUI_NS}")


# --- reading -------------------------------------------------------------------------------


def _main_part(parts: Mapping[str, bytes]) -> str:
    targets = _targets(parts, "", (OFFICE_DOCUMENT_REL,))
    if not targets:
        raise ValueError("not an OOXML package: no officeDocument relationship")
    return targets[0]


def _targets(parts: Mapping[str, bytes], source: str, types: tuple[str, ...]) -> list[str]:
    """Parts that ``source`` ("" for the package) relates to with one of ``types``."""
    rels_xml = parts.get(rels_name(source))
    if rels_xml is None:
        return []
    base = posixpath.dirname(source)
    return [
        resolve_target(base, rel.get("Target", ""))
        for rel in ET.fromstring(rels_xml)
        if rel.get("Type") in types and rel.get("TargetMode") != "External"
    ]


def resolve_target(base: str, target: str) -> str:
    """The part a relationship of a part in folder ``base`` points to."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(base, target))


def rels_name(part: str) -> str:
    """The relationships part of ``part`` ("" for the package itself)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _resolved_content_types(types: ET.Element, names: Sequence[str]) -> dict[str, str]:
    defaults = {
        d.get("Extension", "").lower(): d.get("ContentType", "")
        for d in types.iter(f"{{{_CT_NS}}}Default")
    }
    overrides = {
        o.get("PartName", "").lstrip("/").lower(): o.get("ContentType", "")
        for o in types.iter(f"{{{_CT_NS}}}Override")
    }
    resolved = {}
    for name in names:
        if name == _CONTENT_TYPES:
            continue
        extension = posixpath.splitext(name)[1].lstrip(".").lower()
        content_type = overrides.get(name.lower(), defaults.get(extension))
        if content_type is not None:
            resolved[name] = content_type
    return resolved
