"""workbook_template.xlsm, read with tools that are not ours: zipfile for the package, olevba
for the VBA project, importlib for the Python commands the VBA runs."""

import importlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from oletools.olevba import VBA_Parser

from addin import api
from addin.workbook.ooxml.package import MACRO_ENABLED_MAIN, describe_package

ROOT = Path(__file__).resolve().parents[2]
CUSTOMUI = "{http://schemas.microsoft.com/office/2006/01/customui}"


def vba_modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


def test_the_committed_template_is_a_macro_enabled_workbook_with_its_ribbon():
    info = describe_package(ROOT / "workbook_template.xlsm")
    assert info.main_content_type == MACRO_ENABLED_MAIN
    assert info.vba_project_part == "xl/vbaProject.bin"
    assert (info.ribbon_part, info.ribbon_relationship) == ("customUI/customUI.xml", True)


def test_every_ribbon_button_calls_a_vba_sub_taking_the_ribbon_control():
    template = ROOT / "workbook_template.xlsm"
    with zipfile.ZipFile(template) as package:
        ribbon = ElementTree.fromstring(package.read("customUI/customUI.xml"))
    actions = [b.get("onAction") for b in ribbon.iter(f"{CUSTOMUI}button")]
    assert actions == ["OnExtract", "OnValidate", "OnCommit", "OnReverse", "OnHelp"]
    code = "\n".join(vba_modules(template).values())
    for action in actions:
        assert re.search(rf"Public Sub {action}\(control As IRibbonControl\)", code), action


def test_every_python_command_the_vba_runs_resolves_to_a_callable():
    code = "\n".join(vba_modules(ROOT / "workbook_template.xlsm").values())
    commands = re.findall(r'"(import [\w.]+ as \w+; \w+\.\w+\(\))"', code)
    assert len(commands) == 5
    for command in commands:
        module, _alias, function = re.fullmatch(
            r"import ([\w.]+) as (\w+); \2\.(\w+)\(\)", command).groups()
        assert callable(getattr(importlib.import_module(module), function)), command


def test_the_template_is_rebuilt_from_sources_with_the_same_parts(tmp_path):
    first, second = tmp_path / "a.xlsm", tmp_path / "b.xlsm"
    api.write_template(first)
    api.write_template(second)

    def parts(path):
        with zipfile.ZipFile(path) as package:
            return {n: package.read(n) for n in package.namelist() if n != "docProps/core.xml"}

    assert parts(first) == parts(second) == parts(ROOT / "workbook_template.xlsm")


def test_the_command_line_rebuilds_it(tmp_path):
    out = tmp_path / "t.xlsm"
    result = subprocess.run([sys.executable, "-m", "addin", "template", "--out", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert set(vba_modules(out)) == {"ThisWorkbook", "shControl", "shResiduals", "shItems",
                                     "shExcluded", "shRepeat", "shJournal", "shLists", "Ribbon"}


def test_the_ribbon_and_vba_survive_extract_and_commit(tmp_path):
    from tests.builders import AS_OF, small_utility, write_csv_ledger

    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    review = tmp_path / "review.xlsm"
    api.extract(source, review, as_of=AS_OF)
    batch = api.commit(review, tmp_path / "out", accept_proposals=True).batch.batch_id
    for path in (review, tmp_path / "out" / f"batch_{batch}.xlsm"):
        info = describe_package(path)
        assert info.main_content_type == MACRO_ENABLED_MAIN, path
        assert info.ribbon_relationship, path
        assert "Ribbon" in vba_modules(path), path
