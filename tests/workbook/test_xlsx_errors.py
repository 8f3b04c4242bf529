"""Error cells are found in a sheet's XML however a writer spells them."""

import struct
import zipfile
from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

from addin.workbook.ooxml.errors import error_cells, readable_copy
from addin.workbook.review.cell_errors import CellError

# A self-closing cell typed as an error, a prefixed one with a formula, a newer error.
SHEET_DATA = (
    b'<sheetData><row r="1"><c r="A1" t="e"/><c r="B1" t="n"><v>3</v></c>'
    b'<x:c r="C1" s="0" t="e"><x:f>NA()</x:f><x:v>#N/A</x:v></x:c></row>'
    b'<row r="2"><c r="B2" t=\'e\'><v>#SPILL!</v></c></row></sheetData>'
)


def test_error_cells_are_found_and_a_copy_calamine_reads_is_made(tmp_path):
    plain = tmp_path / "plain.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active["A1"] = 1
    book.save(plain)
    path = tmp_path / "errors.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                start, end = data.index(b"<sheetData"), data.index(b"</sheetData>") + 12
                data = data[:start] + SHEET_DATA + data[end:]
                data = data.replace(b"<worksheet ", b'<worksheet xmlns:x="http://schemas.'
                                                    b'openxmlformats.org/spreadsheetml/2006/'
                                                    b'main" ', 1)
            target.writestr(info, data)
    assert error_cells(path) == {"Data": {(0, 2): CellError("#N/A"),
                                          (1, 1): CellError("#SPILL!")}}
    sheet = CalamineWorkbook.from_object(readable_copy(path)).get_sheet_by_name("Data")
    rows = sheet.to_python(skip_empty_area=False)
    assert rows == [["", 3.0, ""], ["", "", ""]]


def damage(path: Path, member: str) -> None:
    """Flip a few bytes inside one part's compressed data, as a bad disk or transfer does."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    middle = info.header_offset + 30 + name_length + extra_length + info.compress_size // 3
    data[middle:middle + 8] = bytes(b ^ 0xFF for b in data[middle:middle + 8])
    path.write_bytes(bytes(data))
