"""Write a ``WorkbookContent`` as an .xlsx package, or as an .xlsm with a VBA project and a
ribbon, in one pass: each sheet is streamed into the zip as its rows are formatted."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

from addin.workbook.ooxml import package
from addin.workbook.ooxml.sheet_xml import CutTexts, escape_attribute, filter_range, sheet_chunks
from addin.workbook.ooxml.styles import styles_xml
from addin.workbook.review.content import CellAt, SheetContent, WorkbookContent

# Deflate level 1: the sheets are large and repetitive; the file is ~15 % bigger than at
# level 6 and written about three times faster.
COMPRESS_LEVEL = 1
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # same sources, same bytes: the template is rebuilt in git
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_STYLES_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"


def write_package(content: WorkbookContent, path: Path, *, vba_project: bytes | None = None,
                  ribbon_xml: bytes | None = None) -> None:
    if ribbon_xml is not None:
        package.check_ribbon(ribbon_xml)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
                         ) as archive:
        parts = _small_parts(content, vba_project is not None, ribbon_xml is not None)
        for name, text in parts.items():
            _add(archive, name, text.encode("utf-8"))
        _write_sheets(archive, content)
        if vba_project is not None:
            _add(archive, "xl/vbaProject.bin", vba_project)
        if ribbon_xml is not None:
            _add(archive, package.RIBBON_PART, ribbon_xml)


def _write_sheets(archive: zipfile.ZipFile, content: WorkbookContent) -> None:
    """Each sheet streamed into its part; the sheet that says how many texts were cut to fit
    a cell comes last, once they are counted (the order of parts in a package is free)."""
    at = content.cut_count_at
    numbered = list(enumerate(content.sheets, start=1))
    numbered.sort(key=lambda pair: at is not None and pair[1].sheet.key == at.sheet)
    cut = CutTexts()
    for index, sheet in numbered:
        if at is not None and sheet.sheet.key == at.sheet:
            sheet = _with_value(sheet, at, cut.count)
        with archive.open(_info(f"xl/worksheets/sheet{index}.xml"), "w") as stream:
            for chunk in sheet_chunks(sheet, selected=index == 1, cut=cut):
                stream.write(chunk.encode("utf-8"))


def _with_value(sheet: SheetContent, at: CellAt, value: int) -> SheetContent:
    rows = list(sheet.rows)
    rows[at.row] = [*rows[at.row][:at.column], value, *rows[at.row][at.column + 1:]]
    return replace(sheet, rows=rows)


def _small_parts(content: WorkbookContent, vba: bool, ribbon: bool) -> dict[str, str]:
    return {
        "[Content_Types].xml": _content_types(len(content.sheets), vba),
        "_rels/.rels": _relationships(
            [(package.OFFICE_DOCUMENT_REL, "xl/workbook.xml")]
            + ([(package.RIBBON_REL, package.RIBBON_PART)] if ribbon else [])),
        "xl/workbook.xml": _workbook(content, vba),
        "xl/_rels/workbook.xml.rels": _relationships(
            [(f"{_DOC_REL}/worksheet", f"worksheets/sheet{i}.xml")
             for i in range(1, len(content.sheets) + 1)]
            + [(f"{_DOC_REL}/styles", "styles.xml")]
            + ([(package.VBA_PROJECT_REL, "vbaProject.bin")] if vba else [])),
        "xl/styles.xml": styles_xml(),
    }


def _content_types(sheet_count: int, vba: bool) -> str:
    main = package.MACRO_ENABLED_MAIN if vba else package.WORKBOOK_MAIN
    overrides = [("/xl/workbook.xml", main), ("/xl/styles.xml", _STYLES_TYPE)]
    overrides += [(f"/xl/worksheets/sheet{i}.xml", _SHEET_TYPE)
                  for i in range(1, sheet_count + 1)]
    if vba:
        overrides.append(("/xl/vbaProject.bin", package.VBA_PROJECT_TYPE))
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{part}" ContentType="{kind}"/>'
                  for part, kind in overrides)
        + "</Types>"
    )


def _relationships(targets: list[tuple[str, str]]) -> str:
    items = "".join(f'<Relationship Id="rId{i}" Type="{kind}" Target="{target}"/>'
                    for i, (kind, target) in enumerate(targets, start=1))
    return f'{_XML}<Relationships xmlns="{_PKG_REL}">{items}</Relationships>'


def _workbook(content: WorkbookContent, vba: bool) -> str:
    sheets = "".join(_sheet_entry(i, s) for i, s in enumerate(content.sheets, start=1))
    code_name = ' codeName="ThisWorkbook"' if vba else ""
    return (
        f'{_XML}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_DOC_REL}">'
        f'<workbookPr{code_name}/><bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{sheets}</sheets>{_defined_names(content)}"
        '<calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>'
    )


def _sheet_entry(number: int, sheet: SheetContent) -> str:
    state = "" if sheet.sheet.visible else ' state="hidden"'
    return (f'<sheet name="{escape_attribute(sheet.title)}" sheetId="{number}"{state} '
            f'r:id="rId{number}"/>')


def _defined_names(content: WorkbookContent) -> str:
    names = [
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
        f"{_quoted(sheet)}!{_absolute(filter_range(sheet))}</definedName>"
        for index, sheet in enumerate(content.sheets)
        if sheet.with_header and sheet.sheet.filtered
    ]
    names += [f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">'
              f"{_quoted(sheet)}!$1:$1</definedName>"
              for index, sheet in enumerate(content.sheets) if sheet.with_header]
    names += [f'<definedName name="{name}">{escape_attribute(reference)}</definedName>'
              for name, reference in sorted(content.names.items())]
    return f"<definedNames>{''.join(names)}</definedNames>" if names else ""


def _quoted(sheet: SheetContent) -> str:
    return "'" + escape_attribute(sheet.title).replace("'", "''") + "'"


def _absolute(cells: str) -> str:
    """A1:U20 -> $A$1:$U$20"""
    return ":".join("$" + "".join(c if c.isalpha() else "" for c in ref) + "$"
                    + "".join(c for c in ref if c.isdigit()) for ref in cells.split(":"))


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = COMPRESS_LEVEL  # type: ignore[attr-defined]  # no public way in 3.11
    return info


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    archive.writestr(_info(name), data)
