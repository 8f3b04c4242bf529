"""The review workbook's fixed style sheet: a header style, and each number format plain or
on the yellow of the cells the accountant edits; texts also wrapped, in columns of long texts."""

from __future__ import annotations

from addin.workbook.review import layout

HEADER_STYLE = 1
_NUMBER_FORMATS = ("General", layout.AMOUNT, layout.DATE, layout.DATETIME, layout.INTEGER)
_FORMAT_IDS = {"General": 0, layout.INTEGER: 1, layout.AMOUNT: 164, layout.DATE: 165,
               layout.DATETIME: 166}
_CUSTOM_FORMATS = (layout.AMOUNT, layout.DATE, layout.DATETIME)
_HEADER_FILL, _EDITABLE_FILL = 2, 3
# cellXfs: 0 default, 1 header, then every (format, editable) pair in this order, then the
# wrapped texts, plain and editable.
_CELL_STYLES = [(f, editable, False) for editable in (False, True) for f in _NUMBER_FORMATS]
_CELL_STYLES += [("General", editable, True) for editable in (False, True)]
_INDEX = {style: i + 2 for i, style in enumerate(_CELL_STYLES)}
_INDEX[("General", False, False)] = 0


def style_index(number_format: str, editable: bool, wrap: bool = False) -> int:
    """A number wraps nowhere: only the General format has a wrapped style."""
    return _INDEX[(number_format, editable, wrap and number_format == "General")]


def styles_xml() -> str:
    formats = "".join(f'<numFmt numFmtId="{_FORMAT_IDS[f]}" formatCode="{f}"/>'
                      for f in _CUSTOM_FORMATS)
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
           f'<xf numFmtId="0" fontId="1" fillId="{_HEADER_FILL}" borderId="0" xfId="0" '
           'applyFont="1" applyFill="1" applyAlignment="1">'
           '<alignment vertical="top" wrapText="1"/></xf>']
    for number_format, editable, wrap in _CELL_STYLES:
        xfs.append(_cell_style(number_format, editable, wrap))
    font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<numFmts count="{len(_CUSTOM_FORMATS)}">{formats}</numFmts>'
        f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
        '<fills count="4"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        f'{_solid_fill("FFDDE4EE")}{_solid_fill("FFFFF4CC")}</fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '<dxfs count="0"/><tableStyles count="0"/></styleSheet>'
    )


def _cell_style(number_format: str, editable: bool, wrap: bool) -> str:
    fill = _EDITABLE_FILL if editable else 0
    apply_fill = ' applyFill="1"' if editable else ""
    head = (f'<xf numFmtId="{_FORMAT_IDS[number_format]}" fontId="0" fillId="{fill}" '
            f'borderId="0" xfId="0" applyNumberFormat="1"{apply_fill}')
    if not wrap:
        return f"{head}/>"
    return f'{head} applyAlignment="1"><alignment wrapText="1"/></xf>'


def _solid_fill(argb: str) -> str:
    return (f'<fill><patternFill patternType="solid"><fgColor rgb="{argb}"/>'
            '<bgColor indexed="64"/></patternFill></fill>')
