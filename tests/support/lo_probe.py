"""Ask LibreOffice what it sees in a workbook; run with Debian's /usr/bin/python3 (python3-uno).

    /usr/bin/python3 lo_probe.py REQUEST.json      # prints one JSON answer

Starts its own soffice (own profile folder, free port), opens the file hidden with macros
never executed (their modules still load), recalculates, answers, and stops soffice by its
process group whatever happens.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.table import CellAddress

NEVER_EXECUTE = 0
SCRATCH_COLUMN = 900


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_office(profile, port):
    return subprocess.Popen(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
         "--norestore", "--nologo", "--nodefault",
         f"--accept=socket,host=127.0.0.1,port={port};urp;"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def connect(port, timeout=60):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + timeout
    while True:
        try:
            return resolver.resolve(
                f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.25)


def split_ref(ref):
    sheet, _, cells = ref.rpartition("!")
    return sheet, cells


def cell_values(doc, ref):
    sheet_name, cells = split_ref(ref)
    sheet = doc.Sheets.getByName(sheet_name)
    block = sheet.getCellRangeByName(cells)
    values, formulas = {}, {}
    start = block.RangeAddress
    for r in range(start.StartRow, start.EndRow + 1):
        for c in range(start.StartColumn, start.EndColumn + 1):
            cell = sheet.getCellByPosition(c, r)
            name = f"{sheet_name}!{column_name(c)}{r + 1}"
            kind = cell.Type.value
            if kind == "EMPTY":
                values[name] = None
            elif kind == "VALUE":
                values[name] = cell.getValue()
            else:
                values[name] = cell.getString()
            formulas[name] = cell.getFormula() if kind == "FORMULA" else None
    return values, formulas


def column_name(index):
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def evaluate_at(doc, sheet, source, target, formula):
    """The value ``formula`` (relative to ``source``) takes at ``target``: LibreOffice moves
    its relative references itself when the scratch cell is copied from one to the other."""
    here = sheet.getCellByPosition(SCRATCH_COLUMN, source.Row)
    here.setFormula("=" + formula)
    # the source position's own sheet index is not reliable (LibreOffice 7.4): use the target's
    destination = CellAddress(target.Sheet, SCRATCH_COLUMN, target.Row)
    if target.Row != source.Row:
        sheet.copyRange(destination, here.RangeAddress)
    cell = sheet.getCellByPosition(SCRATCH_COLUMN, target.Row)
    doc.calculateAll()
    result = (cell.getError(), cell.getValue(), cell.getString())
    here.setString("")
    cell.setString("")
    return result


def validation(doc, ref):
    sheet_name, cells = split_ref(ref)
    sheet = doc.Sheets.getByName(sheet_name)
    target_cell = sheet.getCellRangeByName(cells)
    rule = target_cell.Validation
    answer = {"type": rule.Type.value, "formula1": rule.getFormula1(),
              "allow_blank": bool(rule.IgnoreBlankCells), "options": []}
    if answer["type"] != "LIST":
        return answer
    source = rule.getSourcePosition()
    target = target_cell.CellAddress
    formula = answer["formula1"]
    error, count, text = evaluate_at(doc, sheet, source, target, f"ROWS({formula})")
    if error:
        answer["error"] = error
        return answer
    for k in range(1, int(count) + 1):
        entry = f"INDEX({formula};{k})"  # a blank cell would read as 0 in a formula
        _, _, text = evaluate_at(doc, sheet, source, target,
                                 f'IF(ISBLANK({entry});"";{entry})')
        answer["options"].append(text)
    return answer


def basic_modules(doc):
    libraries = doc.BasicLibraries
    found = {}
    for name in libraries.getElementNames():
        libraries.loadLibrary(name)
        library = libraries.getByName(name)
        modules = {m: library.getByName(m) for m in library.getElementNames()}
        if modules:
            found[name] = modules
    return found


def answer(doc, request):
    if request.get("recalc", True):
        doc.calculateAll()
    result = {"sheets": [], "cells": {}, "formulas": {}, "validations": {}, "names": {},
              "basic": {}, "errors": []}
    for i in range(doc.Sheets.getCount()):
        sheet = doc.Sheets.getByIndex(i)
        result["sheets"].append({"name": sheet.Name, "visible": bool(sheet.IsVisible)})
    for ref in request.get("cells", []):
        values, formulas = cell_values(doc, ref)
        result["cells"].update(values)
        result["formulas"].update(formulas)
    for ref in request.get("validations", []):
        result["validations"][ref] = validation(doc, ref)
    if request.get("names"):
        ranges = doc.NamedRanges
        result["names"] = {n: ranges.getByName(n).getContent() for n in ranges.getElementNames()}
    if request.get("basic"):
        result["basic"] = basic_modules(doc)
    convert = request.get("convert_to")
    if convert:
        doc.storeToURL(uno.systemPathToFileUrl(convert["out"]),
                       (prop("FilterName", convert["filter"]),))
    return result


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    profile = tempfile.mkdtemp(prefix="lo-probe-")
    office = start_office(profile, free_port_value := free_port())
    try:
        context = connect(free_port_value)
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context)
        doc = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(os.path.abspath(request["path"])), "_blank", 0,
            (prop("Hidden", True), prop("MacroExecutionMode", NEVER_EXECUTE)))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {request['path']}")
        try:
            print(json.dumps(answer(doc, request)))
        finally:
            doc.close(True)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(office.pid, signal.SIGKILL)
        office.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
