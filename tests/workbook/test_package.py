"""The .xlsm package: content types and relationships Excel needs, a reproducible zip, what
survives openpyxl's keep_vba round trip, and what LibreOffice loads from it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import textwrap
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from addin.workbook.ooxml.package import (
    MACRO_ENABLED_MAIN,
    RIBBON_2010_REL,
    RIBBON_REL,
    VBA_PROJECT_REL,
    VBA_PROJECT_TYPE,
    WORKBOOK_MAIN,
    describe_package,
)
from addin.workbook.ooxml.writer import write_package
from addin.workbook.review.render import template_content
from addin.workbook.vba.project import SHEET_CODE_NAMES, WORKBOOK_CODE_NAME, build_vba_project

ROOT = Path(__file__).resolve().parents[2]
RIBBON_XML = (ROOT / "addin" / "ribbon" / "customUI.xml").read_bytes()
RIBBON_2010_NS = b"http://schemas.microsoft.com/office/2009/07/customui"


@pytest.fixture(scope="module")
def vba() -> bytes:
    return build_vba_project(
        ROOT / "addin" / "vba", WORKBOOK_CODE_NAME, [*SHEET_CODE_NAMES.values()]
    )


@pytest.fixture
def xlsx(tmp_path: Path) -> Path:
    """The template's six sheets with their code names, without macros."""
    path = tmp_path / "review.xlsx"
    write_package(template_content(rows=10), path)
    return path


@pytest.fixture
def xlsm(xlsx: Path, vba: bytes) -> Path:
    out = xlsx.with_suffix(".xlsm")
    write_package(template_content(rows=10), out, vba_project=vba, ribbon_xml=RIBBON_XML)
    return out


def read(path: Path, part: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(part)


def relationships(path: Path, rels_part: str) -> list[tuple[str, str]]:
    from xml.etree import ElementTree as ET

    return [(r.get("Type", ""), r.get("Target", "")) for r in ET.fromstring(read(path, rels_part))]


# --- the package ---------------------------------------------------------------------------


def test_macro_enabled_package_has_the_parts_types_and_relationships(
    xlsm: Path, xlsx: Path, vba: bytes
) -> None:
    info = describe_package(xlsm)
    assert info.main_part == "xl/workbook.xml"
    assert info.main_content_type == MACRO_ENABLED_MAIN
    assert info.vba_project_part == "xl/vbaProject.bin" and info.has_vba_project
    assert info.content_types["xl/vbaProject.bin"] == VBA_PROJECT_TYPE
    assert (info.ribbon_part, info.ribbon_relationship) == ("customUI/customUI.xml", True)
    assert info.is_macro_enabled and info.problems() == []

    assert read(xlsm, "xl/vbaProject.bin") == vba
    assert read(xlsm, "customUI/customUI.xml") == RIBBON_XML
    workbook_rels = relationships(xlsm, "xl/_rels/workbook.xml.rels")
    assert [r for r in workbook_rels if r[0] == VBA_PROJECT_REL] == [
        (VBA_PROJECT_REL, "vbaProject.bin")
    ]
    assert (RIBBON_REL, "customUI/customUI.xml") in relationships(xlsm, "_rels/.rels")
    types = read(xlsm, "[Content_Types].xml").decode()
    assert f'PartName="/xl/workbook.xml" ContentType="{MACRO_ENABLED_MAIN}"' in types
    assert f'PartName="/xl/vbaProject.bin" ContentType="{VBA_PROJECT_TYPE}"' in types
    assert "ns0:" not in types

    edited = {"[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels",
              "xl/workbook.xml"}
    with zipfile.ZipFile(xlsx) as before:
        for name in set(before.namelist()) - edited:
            assert read(xlsm, name) == before.read(name), name


def test_a_plain_xlsx_is_described_as_not_macro_enabled(xlsx: Path) -> None:
    info = describe_package(xlsx)
    assert info.main_content_type == WORKBOOK_MAIN
    assert not info.has_vba_project and not info.is_macro_enabled
    assert info.ribbon_part is None
    assert len(info.problems()) == 3 and len(info.problems(ribbon=False)) == 2


def test_same_inputs_give_the_same_bytes(vba: bytes, tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsm", tmp_path / "b.xlsm"
    write_package(template_content(), first, vba_project=vba, ribbon_xml=RIBBON_XML)
    time.sleep(1.1)  # a timestamp taken from the clock would now differ
    write_package(template_content(), second, vba_project=vba, ribbon_xml=RIBBON_XML)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist()[0] == "[Content_Types].xml"
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_without_a_ribbon(vba: bytes, tmp_path: Path) -> None:
    out = tmp_path / "plain.xlsm"
    write_package(template_content(), out, vba_project=vba)
    info = describe_package(out)
    assert info.is_macro_enabled and info.ribbon_part is None
    assert info.problems(ribbon=False) == []


@pytest.mark.parametrize(
    ("ribbon", "message"),
    [
        (RIBBON_XML.replace(b"2006/01/customui", b"2009/07/customui"), "customUI element"),
        (b"<customUI", "well-formed"),
    ],
)
def test_refused_ribbons(vba: bytes, tmp_path: Path, ribbon: bytes, message: str):
    with pytest.raises(ValueError, match=message):
        write_package(template_content(), tmp_path / "out.xlsm", vba_project=vba,
                      ribbon_xml=ribbon)
    assert not (tmp_path / "out.xlsm").exists()


# --- openpyxl's round trip ------------------------------------------------------------------


def test_openpyxl_keep_vba_round_trip_keeps_vba_ribbon_and_code_names(
    xlsm: Path, vba: bytes, tmp_path: Path
) -> None:
    again = tmp_path / "again.xlsm"
    book = openpyxl.load_workbook(xlsm, keep_vba=True)
    book["Control"]["B2"] = "edited"
    book.save(again)

    info = describe_package(again)
    assert info.is_macro_enabled and info.problems() == []
    assert read(again, "xl/vbaProject.bin") == vba
    assert read(again, "customUI/customUI.xml") == RIBBON_XML
    # openpyxl drops our Override and declares every .bin a VBA project instead.
    assert b'Extension="bin" ContentType="application/vnd.ms-office.vbaProject"' in read(
        again, "[Content_Types].xml"
    )
    reread = openpyxl.load_workbook(again)
    assert reread.code_name == WORKBOOK_CODE_NAME
    assert {ws.title: ws.sheet_properties.codeName for ws in reread} == SHEET_CODE_NAMES


def test_openpyxl_without_keep_vba_writes_an_xlsx_under_the_xlsm_name(
    xlsm: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.xlsm"
    openpyxl.load_workbook(xlsm).save(wrong)
    assert describe_package(wrong).problems() == [
        f"xl/workbook.xml is {WORKBOOK_MAIN}, not macro-enabled",
        "no VBA project (xl/vbaProject.bin with its relationship and type)",
        "no ribbon part (customUI/customUI.xml)",
    ]


def test_openpyxl_loses_the_relationship_of_a_2010_ribbon(vba: bytes, tmp_path: Path) -> None:
    """Why the ribbon is the 2006 customUI/customUI.xml (TRAPS.md, confirmed here)."""
    plain, ribbon14 = tmp_path / "plain.xlsm", tmp_path / "ribbon14.xlsm"
    write_package(template_content(), plain, vba_project=vba)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(ribbon14, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "_rels/.rels":
                rel = f'<Relationship Id="rId99" Type="{RIBBON_2010_REL}" '
                rel += 'Target="customUI/customUI14.xml"/></Relationships>'
                data = data.replace(b"</Relationships>", rel.encode())
            target.writestr(name, data)
        target.writestr(
            "customUI/customUI14.xml",
            RIBBON_XML.replace(
                b"http://schemas.microsoft.com/office/2006/01/customui", RIBBON_2010_NS
            ),
        )
    assert describe_package(ribbon14).ribbon_relationship

    again = tmp_path / "again.xlsm"
    openpyxl.load_workbook(ribbon14, keep_vba=True).save(again)
    info = describe_package(again)
    assert (info.ribbon_part, info.ribbon_relationship) == ("customUI/customUI14.xml", False)


# --- LibreOffice ---------------------------------------------------------------------------

_UNO_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import uno
    from com.sun.star.beans import PropertyValue
    from com.sun.star.connection import NoConnectException

    port, paths = sys.argv[1], sys.argv[2:]
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    url = "uno:socket,host=127.0.0.1,port=%s;urp;StarOffice.ComponentContext" % port
    for _ in range(240):
        try:
            ctx = resolver.resolve(url)
            break
        except NoConnectException:
            time.sleep(0.25)
    else:
        sys.exit("soffice did not answer on port " + port)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    hidden = (PropertyValue(Name="Hidden", Value=True),
              PropertyValue(Name="MacroExecutionMode", Value=0))
    result = {}
    for path in paths:
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, hidden)
        libraries, basic = doc.BasicLibraries, {}
        for name in libraries.ElementNames:
            libraries.loadLibrary(name)
            library = libraries.getByName(name)
            basic[name] = {m: library.getByName(m) for m in library.ElementNames}
        sheets = [doc.Sheets.getByIndex(i) for i in range(doc.Sheets.Count)]
        result[path] = {"basic": basic, "code_names": {s.Name: s.CodeName for s in sheets}}
        doc.close(True)
    print(json.dumps(result))
    try:
        desktop.terminate()
    except Exception:  # the bridge goes down with soffice
        pass
    """
)


def libreoffice_inspect(tmp_path: Path, *paths: Path) -> dict[str, dict]:
    """Open each file in a headless soffice of its own (own profile, free port, stopped by
    its process group) and return its Basic libraries and sheet code names."""
    if shutil.which("soffice") is None or not Path("/usr/bin/python3").exists():
        pytest.skip("needs soffice and Debian's python3 with python3-uno")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    script = tmp_path / "inspect_uno.py"
    script.write_text(_UNO_SCRIPT)
    soffice = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            f"--accept=socket,host=127.0.0.1,port={port};urp;",
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # soffice is a script that starts soffice.bin: stop the group
    )
    try:
        done = subprocess.run(
            ["/usr/bin/python3", str(script), port, *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "PYTHONPATH": ""},
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    finally:
        # Signal the group before reaping its leader, so that its id cannot have been reused.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(soffice.pid, signal.SIGTERM)
        try:
            soffice.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(soffice.pid, signal.SIGKILL)
            soffice.wait(timeout=30)


@pytest.mark.libreoffice
def test_libreoffice_loads_our_vba_modules(xlsm: Path, xlsx: Path, tmp_path: Path) -> None:
    """LibreOffice silently loads no VBA from a badly compressed project: it lists every
    module here, with the source text (it drops the Attribute lines and adds two of its own)."""
    again = tmp_path / "again.xlsm"
    openpyxl.load_workbook(xlsm, keep_vba=True).save(again)
    banner = tmp_path / "modules" / "Banner.bas"
    banner.parent.mkdir()
    lines = [f"Public Const C{n} As Long = {n}" for n in range(120)]
    lines += ["'" + "=" * 120, "Sub Indented()", " " * 200 + "Stop", "End Sub"]
    banner.write_bytes("".join(line + "\r\n" for line in lines).encode("cp1252"))
    long_runs = tmp_path / "long_runs.xlsm"
    modules = [ROOT / "addin" / "vba" / "Ribbon.bas", banner]
    vba = build_vba_project(modules, WORKBOOK_CODE_NAME, [*SHEET_CODE_NAMES.values()])
    write_package(template_content(), long_runs, vba_project=vba, ribbon_xml=RIBBON_XML)

    seen = libreoffice_inspect(tmp_path, xlsm, again, long_runs)
    ribbon = (ROOT / "addin" / "vba" / "Ribbon.bas").read_bytes().decode("cp1252")
    expected = {"Ribbon": ribbon.rstrip("\r\n").split("\r\n")[1:], "Banner": lines}
    for path in (xlsm, again, long_runs):
        found = seen[str(path)]
        library = found["basic"]["VBAProject"]
        names = {"Ribbon", WORKBOOK_CODE_NAME, *SHEET_CODE_NAMES.values()}
        assert set(library) == (names | {"Banner"} if path == long_runs else names)
        for name in set(expected) & set(library):
            loaded = library[name].rstrip("\n").split("\n")
            assert loaded[:2] == ["Rem Attribute VBA_ModuleType=VBAModule", "Option VBASupport 1"]
            assert loaded[2:] == expected[name], name
        assert "VBA_ModuleType=VBADocumentModule" in library["shControl"]
        assert found["code_names"] == SHEET_CODE_NAMES
