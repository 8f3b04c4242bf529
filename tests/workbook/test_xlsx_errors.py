"""Error cells are found in a sheet's XML however a writer spells them."""

import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from addin.workbook.ooxml import check
from addin.workbook.ooxml.calamine import read_sheets
from addin.workbook.ooxml.errors import error_cells, readable_copy
from addin.workbook.review.cell_errors import CellError

# A self-closing cell typed as an error, a prefixed one with a formula, a newer error.
SHEET_DATA = (
    b'<sheetData><row r="1"><c r="A1" t="e"/><c r="B1" t="n"><v>3</v></c>'
    b'<x:c r="C1" s="0" t="e"><x:f>NA()</x:f><x:v>#N/A</x:v></x:c></row>'
    b'<row r="2"><c r="B2" t=\'e\'><v>#SPILL!</v></c></row></sheetData>'
)


def with_error_cells(tmp_path: Path) -> Path:
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
    return path


def test_error_cells_are_found_and_a_copy_calamine_reads_is_made(tmp_path):
    path = with_error_cells(tmp_path)
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


@pytest.mark.parametrize("chunk", [3, 4, 5, 7, 1 << 20])
def test_the_parts_check_marks_the_sheet_holding_errors_whatever_the_chunks(tmp_path,
                                                                          monkeypatch, chunk):
    """Only the parts it marks are read again for their error cells: a mark cut by the end
    of a chunk is found all the same."""
    monkeypatch.setattr(check, "_CHUNK", chunk)
    path = with_error_cells(tmp_path)
    assert check.check_parts(check.check_structure(path)) == {"xl/worksheets/sheet1.xml"}
    assert read_sheets(path)["Data"] == [["", 3.0, CellError("#N/A")],
                                         ["", CellError("#SPILL!"), ""]]


def test_a_workbook_without_error_cells_has_no_part_marked(tmp_path):
    plain = tmp_path / "plain.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "t=e"
    book.save(plain)
    assert check.check_parts(check.check_structure(plain)) == frozenset()
