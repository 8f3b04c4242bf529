"""xlwings's own worksheet-function machinery, run on Linux.

Excel calls a worksheet function through the VBA that Import Functions writes: it hands the
arguments to ``xlwings.udfs.call_udf``, which turns each one into a Python value with
``xlwings.conversion.read`` (the converter named by the parameter's annotation), calls the
function, and turns its result back with ``xlwings.conversion.write``. Those modules, and the
Windows engine they use to clean values (``xlwings._xlwindows``), import pywin32 and ctypes'
Windows DLLs; here those are stubbed, so that xlwings's real code runs on the arguments as
Excel passes them: texts, floats for numbers, ``pywintypes`` datetimes for date cells,
2-D tuples for ranges, and a COM code for an argument left out.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace
from typing import Any
from unittest import mock

import pytest

WINDOWS_MODULES = (
    "pythoncom", "pywintypes", "win32api", "win32con", "win32event", "win32gui",
    "win32process", "win32timezone", "win32com", "win32com.client", "win32com.server",
    "win32com.server.dispatcher", "win32com.server.policy", "win32com.server.util",
)
MISSING = -2147352572  # what COM hands over for an optional argument left out


class TimeType(dt.datetime):
    """pywintypes' datetime (a subclass of datetime): what a date cell arrives as."""


def com_workbook(full_name: str) -> SimpleNamespace:
    """The workbook the VBA passes as ``ThisWorkbook``, with one sheet (the COM names that
    xlwings reads: FullName, Name, Worksheets, Application)."""
    book = SimpleNamespace(FullName=full_name, Name=full_name.replace("\\", "/").split("/")[-1],
                           Application=SimpleNamespace(Hwnd=1))
    book.Worksheets = [SimpleNamespace(Name="Residuals", Parent=book)]
    return book


class ComRange:
    """A range argument as pywin32 hands it over: a COM object on a sheet whose Value is a
    2-D tuple (a single cell's Value is the value itself)."""

    RANGE_IID = "{00020846-0000-0000-C000-000000000046}"

    def __init__(self, rows: list[list[object]], book: SimpleNamespace | None = None) -> None:
        self.Value: object = tuple(tuple(r) for r in rows) if len(rows) * len(rows[0]) > 1 \
            else rows[0][0]
        self.Worksheet = (book or com_workbook("C:/Reliquat/Review.xlsm")).Worksheets[0]
        self.Row, self.Column = 2, 1
        self.Rows, self.Columns = SimpleNamespace(Count=len(rows)), \
            SimpleNamespace(Count=len(rows[0]))
        type_attr = SimpleNamespace(iid=self.RANGE_IID)
        type_info = SimpleNamespace(GetTypeAttr=lambda: type_attr)
        self._oleobj_ = SimpleNamespace(GetTypeInfo=lambda: type_info)


def _windows_stubs() -> dict[str, ModuleType]:
    stubs: dict[str, Any] = {name: mock.MagicMock(name=name) for name in WINDOWS_MODULES}
    stubs["pywintypes"].TimeType = TimeType
    stubs["pywintypes"].IID = lambda text: text
    stubs["pywintypes"].com_error = type("com_error", (Exception,), {})
    stubs["pywintypes"].error = type("error", (Exception,), {})
    stubs["pythoncom"].__file__ = "pythoncom311.dll"
    stubs["win32com.client"].Dispatch = lambda obj: obj  # the workbook as Excel passed it
    return stubs


@dataclass
class ExcelCalls:
    """Calls worksheet functions the way Excel does: ``call_udf(module, name, args,
    this_workbook, caller)``."""

    udfs: ModuleType
    module_name: str
    workbook: str  # the calling workbook's full name

    def __call__(self, name: str, *args: object, workbook: str = "") -> object:
        this_workbook = com_workbook(workbook or self.workbook)
        return self.udfs.call_udf(self.module_name, name, args, this_workbook, None)

    def declared(self, name: str) -> dict[str, Any]:
        """What xlwings recorded about a function (``__xlfunc__``)."""
        module = sys.modules[self.module_name]
        return getattr(module, name).__xlfunc__  # type: ignore[no-any-return]


def excel_calls(monkeypatch: pytest.MonkeyPatch, module_name: str, workbook: str
                ) -> Iterator[ExcelCalls]:
    """The module's functions registered by xlwings's Windows decorators (``xlwings.udfs``),
    callable as Excel calls them; everything is put back afterwards."""
    import xlwings
    import xlwings.main

    for name, stub in _windows_stubs().items():
        monkeypatch.setitem(sys.modules, name, stub)
    for name in ("windll", "oledll", "PyDLL"):
        monkeypatch.setattr(ctypes, name, mock.MagicMock(name=name), raising=False)
    imported = ("xlwings._win32patch", "xlwings._xlwindows", "xlwings.udfs",
                "xlwings.com_server")
    try:
        from xlwings import _xlwindows, udfs

        engines = xlwings.main.Engines()
        for engine in xlwings.engines:
            engines.add(engine)
        engines.add(xlwings.main.Engine(impl=_xlwindows.engine))
        monkeypatch.setattr(xlwings, "engines", engines)
        # what ``import xlwings`` binds on Windows: the decorators that record converters
        monkeypatch.setattr(xlwings, "func", udfs.xlfunc)
        monkeypatch.setattr(xlwings, "arg", udfs.xlarg)
        monkeypatch.setattr(xlwings, "ret", udfs.xlret)
        spec = importlib.util.find_spec(module_name)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        monkeypatch.setitem(sys.modules, module_name, module)
        yield ExcelCalls(udfs, module_name, workbook)
    finally:
        for name in imported:
            sys.modules.pop(name, None)
            if hasattr(xlwings, name.rsplit(".", 1)[1]):
                delattr(xlwings, name.rsplit(".", 1)[1])
