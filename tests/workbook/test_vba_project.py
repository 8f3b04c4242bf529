"""The VBA project: oletools reads back every module byte for byte, the ribbon's callbacks
exist, the build is reproducible, and the records agree with ms-ovba's where it is right."""

from __future__ import annotations

import ast
import io
import os
import random
import re
import struct
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from addin.workbook.review import layout
from addin.workbook.vba.project import (
    SHEET_CODE_NAMES,
    WORKBOOK_CODE_NAME,
    VbaModule,
    build_vba_project,
    compound_file,
    compress,
    dir_stream,
    document_module,
    project_stream,
    projectwm_stream,
    read_bas_module,
)

ROOT = Path(__file__).resolve().parents[2]
VBA_DIR = ROOT / "addin" / "vba"
RIBBON_BAS = VBA_DIR / "Ribbon.bas"
CUSTOM_UI = ROOT / "addin" / "ribbon" / "customUI.xml"
BUTTONS = ROOT / "addin" / "excel" / "buttons.py"
SHEETS = list(SHEET_CODE_NAMES.values())


def banner_module() -> bytes:
    """Long runs where a copy token's maximum length is short (late in a 4096-byte chunk):
    what ms-ovba-compression 1.0.1 turns into garbage."""
    lines = ['Attribute VB_Name = "Banner"', "Option Explicit", ""]
    for n in range(40):
        lines += [f"Public Function Value{n}() As Long", f"    Value{n} = {n * 7}", "End Function"]
    lines += ["", "'" + "=" * 120, "' Banner", "'" + "=" * 120]
    lines += [
        " " * 200 + "Debug.Print Value1()",
        "Public Sub Indented()",
        " " * 200 + "Stop",
        "End Sub",
    ]
    return "".join(line + "\r\n" for line in lines).encode("cp1252")


@pytest.fixture
def banner_bas(tmp_path: Path) -> Path:
    path = tmp_path / "modules" / "Banner.bas"
    path.parent.mkdir()
    path.write_bytes(banner_module())
    return path


@pytest.fixture
def project(banner_bas: Path) -> bytes:
    return build_vba_project([RIBBON_BAS, banner_bas], WORKBOOK_CODE_NAME, SHEETS)


def expected_sources(banner: bytes) -> dict[str, bytes]:
    sources = {name: document_module_for(name).source for name in [WORKBOOK_CODE_NAME, *SHEETS]}
    return sources | {"Ribbon": RIBBON_BAS.read_bytes(), "Banner": banner}


def document_module_for(name: str) -> VbaModule:
    """The module Excel keeps for the workbook or a sheet, as it writes it."""
    workbook, sheet = "00020819", "00020820"
    guid = "{%s-0000-0000-C000-000000000046}" % (workbook if name == WORKBOOK_CODE_NAME else sheet)
    return document_module(name, guid)


def open_ole(data: bytes) -> olefile.OleFileIO:
    return olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)


# --- what Excel and oletools read ---------------------------------------------------------


def test_olevba_finds_every_module_with_its_exact_source(project: bytes) -> None:
    parser = VBA_Parser("vbaProject.bin", data=project)
    found = {Path(name).stem: code for _, _, name, code in parser.extract_macros()}
    expected = expected_sources(banner_module())
    assert found == {name: source.decode("cp1252") for name, source in expected.items()}


def test_every_module_stream_decompresses_byte_exact(project: bytes, banner_bas: Path) -> None:
    ole = open_ole(project)
    for name, source in expected_sources(banner_module()).items():
        assert bytes(decompress_stream(ole.openstream(f"VBA/{name}").read())) == source, name
    modules = [document_module_for(name) for name in [WORKBOOK_CODE_NAME, *SHEETS]]
    modules += [read_bas_module(RIBBON_BAS), read_bas_module(banner_bas)]
    assert bytes(decompress_stream(ole.openstream("VBA/dir").read())) == dir_stream(modules)


def test_the_banner_module_breaks_ms_ovba_compression_but_not_ours() -> None:
    from ms_ovba_compression.ms_ovba import MsOvba

    source = banner_module()
    assert bytes(decompress_stream(compress(source))) == source
    try:
        buggy = bytes(decompress_stream(MsOvba().compress(source)))
    except ValueError:
        buggy = b""
    assert buggy != source


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([b" ", b"=", b"'", b"\r\n", b"ab", b"Dim x", b"\xe9"]),
            st.integers(1, 400),
        ),
        max_size=60,
    )
)
def test_compression_round_trips_runs_of_any_length(runs: list[tuple[bytes, int]]) -> None:
    data = b"".join(piece * count for piece, count in runs)
    assert bytes(decompress_stream(compress(data))) == data


def test_incompressible_data_uses_raw_chunks_or_is_refused() -> None:
    noise = random.Random(7).randbytes(2 * 4096)
    assert bytes(decompress_stream(compress(noise))) == noise  # two raw chunks
    with pytest.raises(ValueError, match="incompressible final chunk"):
        compress(noise[:4000])  # a raw chunk would come back padded to 4096 bytes


def test_compression_is_ms_ovba_compression_where_its_bug_does_not_bite() -> None:
    from ms_ovba_compression.ms_ovba import MsOvba

    for module in [document_module_for(WORKBOOK_CODE_NAME), *map(document_module_for, SHEETS)]:
        assert compress(module.source) == MsOvba().compress(module.source)


# --- the ribbon's callbacks ---------------------------------------------------------------


def test_every_ribbon_callback_is_a_sub_taking_the_ribbon_control(project: bytes) -> None:
    parser = VBA_Parser("vbaProject.bin", data=project)
    code = {Path(name).stem: code for _, _, name, code in parser.extract_macros()}["Ribbon"]
    subs = set(re.findall(r"^Public Sub (\w+)\(control As IRibbonControl\)\r$", code, re.M))
    callbacks = {
        value
        for element in ET.parse(CUSTOM_UI).iter()
        for attribute, value in element.attrib.items()
        if attribute.startswith(("on", "get"))
    }
    assert callbacks == {"OnExtract", "OnValidate", "OnCommit", "OnReverse", "OnHelp"}
    assert callbacks <= subs


def test_each_callback_runs_one_python_entry_point_that_exists() -> None:
    code = RIBBON_BAS.read_bytes().decode("cp1252")
    calls = re.findall(
        r'Application\.Run "xlwings\.xlam!RunPython", "import addin\.excel\.buttons as b; '
        r'b\.(\w+)\(\)"',
        code,
    )
    assert calls == ["extract", "validate", "commit", "reverse", "help"]
    buttons = {
        f.name for f in ast.parse(BUTTONS.read_text()).body if isinstance(f, ast.FunctionDef)
    }
    assert set(calls) <= buttons
    assert "xlwings addin install" in code
    assert "Declare" not in code and "References" not in code


def test_ribbon_bas_is_stored_as_the_vba_editor_exports_it() -> None:
    raw = RIBBON_BAS.read_bytes()
    raw.decode("cp1252")
    assert raw.startswith(b'Attribute VB_Name = "Ribbon"\r\n') and raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) < 120


# --- project structure --------------------------------------------------------------------


def test_document_modules_match_the_code_names_the_writer_sets() -> None:
    assert {sheet.en: sheet.code_name for sheet in layout.SHEETS} == SHEET_CODE_NAMES
    data = build_vba_project(VBA_DIR, WORKBOOK_CODE_NAME, SHEETS)
    project = open_ole(data).openstream("PROJECT").read().decode("cp1252").split("\r\n")
    documents = [line for line in project if line.startswith("Document=")]
    assert documents == [f"Document={name}/&H00000000" for name in [WORKBOOK_CODE_NAME, *SHEETS]]
    assert "Module=Ribbon" in project
    assert not any(line.startswith("Class=") for line in project)
    sheet = open_ole(data).openstream("VBA/shControl").read()
    assert bytes(decompress_stream(sheet)).decode("cp1252").split("\r\n") == [
        'Attribute VB_Name = "shControl"',
        'Attribute VB_Base = "0{00020820-0000-0000-C000-000000000046}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = True",
        "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = True",
        "",
    ]


def test_vba_project_stream_has_no_performance_cache() -> None:
    data = build_vba_project(VBA_DIR, WORKBOOK_CODE_NAME, SHEETS)
    assert open_ole(data).openstream("VBA/_VBA_PROJECT").read()[:5] == b"\xcc\x61\xff\xff\x00"
    assert len(open_ole(data).openstream("VBA/_VBA_PROJECT").read()) == 7


def test_records_agree_with_ms_ovba(banner_bas: Path) -> None:
    """ms-ovba's record views are right; only its compression, file handling and random
    PROJECT bytes are not. Build the same project with it and compare the raw streams."""
    from ms_ovba.Models.Entities.doc_module import DocModule
    from ms_ovba.Models.Entities.reference import Reference
    from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
    from ms_ovba.Models.Entities.std_module import StdModule
    from ms_ovba.Models.Fields.libid_reference import LibidReference
    from ms_ovba.vbaProject import VbaProject
    from ms_ovba.Views.dirStream import DirStream
    from ms_ovba.Views.project import Project
    from ms_ovba.Views.projectWm import ProjectWm
    from ms_ovba_crypto import MsOvbaCrypto

    ours = [
        document_module_for(WORKBOOK_CODE_NAME),
        *map(document_module_for, SHEETS),
        read_bas_module(RIBBON_BAS),
        read_bas_module(banner_bas),
    ]
    theirs = VbaProject()
    for module in ours:
        theirs.add_module(
            DocModule(module.name) if module.kind == "document" else StdModule(module.name)
        )
    office = r"C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL"
    for name, guid, path, title in (
        (
            "stdole",
            "00020430-0000-0000-C000-000000000046",
            r"C:\Windows\System32\stdole2.tlb",
            "OLE Automation",
        ),
        (
            "Office",
            "2DF8D04C-5BFA-101B-BDE5-00AA0044DE52",
            office,
            "Microsoft Office 16.0 Object Library",
        ),
    ):
        libid = LibidReference(uuid.UUID(guid), "2.0", "0", path, title)
        theirs.add_reference(Reference(ReferenceRegistered(libid), name))
    assert dir_stream(ours) == DirStream(theirs).to_bytes()
    assert projectwm_stream(ours) == ProjectWm(theirs).to_bytes()

    text = project_stream(ours).decode("cp1252").split("\r\n")
    theirs.project_id = text[0][len('ID="') : -1]
    their_text = Project(theirs).to_bytes().decode("cp1252").split("\r\n")
    secret = ("CMG=", "DPB=", "GC=")
    assert [line for line in text if not line.startswith((*secret, "VersionCompatible32="))] == [
        line for line in their_text if not line.startswith(secret)
    ]
    decrypted = {
        line[: line.index("=")]: MsOvbaCrypto.decrypt(bytes.fromhex(line.split('"')[1]))
        for line in text
        if line.startswith(secret)
    }
    assert decrypted == {"CMG": b"\x00\x00\x00\x00", "DPB": b"\x00", "GC": b"\xff"}


# --- reproducible, and no files left behind -----------------------------------------------


def test_building_twice_gives_identical_bytes_and_touches_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "Ribbon.bas").write_bytes(RIBBON_BAS.read_bytes())
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    first = build_vba_project(VBA_DIR, WORKBOOK_CODE_NAME, SHEETS)
    second = build_vba_project([copy / "Ribbon.bas"], WORKBOOK_CODE_NAME, SHEETS)
    assert first == second
    assert Path.cwd() == elsewhere
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in copy.iterdir()) == ["Ribbon.bas"]
    assert sorted(p.name for p in VBA_DIR.iterdir()) == ["Ribbon.bas"]


def test_no_timestamps_in_the_compound_file() -> None:
    ole = open_ole(build_vba_project(VBA_DIR, WORKBOOK_CODE_NAME, SHEETS))
    for entry in ole.direntries:
        if entry is not None:
            assert (entry.createTime, entry.modifyTime) == (0, 0)


# --- reading .bas files --------------------------------------------------------------------


def test_lf_file_without_vb_name_is_stored_with_crlf_and_its_name(tmp_path: Path) -> None:
    path = tmp_path / "Tools.bas"
    path.write_bytes(b"Option Explicit\n' R\xe9sum\xe9\nSub A()\nEnd Sub")
    module = read_bas_module(path)
    assert module.name == "Tools"
    assert module.source.split(b"\r\n") == [
        b'Attribute VB_Name = "Tools"',
        b"Option Explicit",
        b"' R\xe9sum\xe9",
        b"Sub A()",
        b"End Sub",
        b"",
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"A.cls": b"VERSION 1.0 CLASS\r\n"}, "class and form modules"),
        ({"A.bas": b"\xef\xbb\xbfOption Explicit\r\n"}, "byte order mark"),
        ({"A.bas": b"' \x81\r\n"}, "not cp1252"),
        ({"1A.bas": b"Option Explicit\r\n"}, "not a VBA module name"),
        ({"A.bas": b"", "B.bas": b'Attribute VB_Name = "a"\r\n'}, "two modules"),
        ({"shItems.bas": b""}, "two modules"),
    ],
)
def test_refused_modules(tmp_path: Path, files: dict[str, bytes], message: str) -> None:
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=message):
        build_vba_project(tmp_path, WORKBOOK_CODE_NAME, SHEETS)


# --- the compound file on its own ----------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 7, 12, 33])
def test_compound_file_streams_and_red_black_siblings(count: int) -> None:
    sizes = [0, 1, 63, 64, 4095, 4096, 5000, 70_000]
    streams = {f"S/n{i:02d}" + "x" * (i % 5): bytes([i % 251]) * sizes[i % 8] for i in range(count)}
    streams["Top"] = b"top"
    data = compound_file(streams)
    assert data == compound_file(streams)
    ole = open_ole(data)
    for path, content in streams.items():
        assert ole.openstream(path).read() == content
    check_red_black(data, ole)


def check_red_black(data: bytes, ole: olefile.OleFileIO) -> None:
    """Each storage's children form a binary search tree in CFB order, no red node has a
    red child, and every path down has the same number of black nodes."""
    raw = {}
    for entry in ole.direntries:
        if entry is not None:
            offset = 512 + ole.first_dir_sector * 512 + entry.sid * 128  # directory is contiguous
            color, left, right, child = struct.unpack_from("<BIII", data, offset + 67)
            raw[entry.sid] = (entry.name, color, left, right, child)

    def walk(sid: int, parent_red: bool) -> tuple[list[str], int]:
        if sid == 0xFFFFFFFF:
            return [], 1
        name, color, left, right, _ = raw[sid]
        red = color == 0
        assert not (red and parent_red)
        left_names, left_black = walk(left, red)
        right_names, right_black = walk(right, red)
        assert left_black == right_black
        return [*left_names, name, *right_names], left_black + (0 if red else 1)

    for name, _, _, _, child in raw.values():
        if child != 0xFFFFFFFF:
            names, _ = walk(child, parent_red=False)
            assert names == sorted(names, key=lambda n: (len(n), n.upper())), name
            assert raw[child][1] == 1  # the root of each tree is black


def test_module_paths_may_be_given_as_strings(tmp_path: Path) -> None:
    assert build_vba_project(os.fspath(VBA_DIR), "ThisWorkbook", []) == build_vba_project(
        [os.fspath(RIBBON_BAS)], "ThisWorkbook", []
    )
    with pytest.raises(NotADirectoryError):  # one file is not silently zero modules
        build_vba_project(RIBBON_BAS, "ThisWorkbook", [])
