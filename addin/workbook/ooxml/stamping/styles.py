"""styles.xml patched as text: the number formats the stamped cells need, added once."""

from __future__ import annotations

import html
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from addin.workbook.ooxml.stamping.package import CannotPatch, member, xml_int

_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0.00": 4}


_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


# --- styles ------------------------------------------------------------------------------------


@dataclass
class _Xf:
    attributes: list[tuple[bytes, bytes]]  # in their order, values as written
    inner: bytes | None  # None: the element is self-closing

    def same_as(self, other: _Xf) -> bool:
        return dict(self.attributes) == dict(other.attributes) and self.inner == other.inner

    def xml(self) -> bytes:
        attributes = b"".join(b' %s="%s"' % pair for pair in self.attributes)
        if self.inner is None:
            return b"<xf" + attributes + b"/>"
        return b"<xf" + attributes + b">" + self.inner + b"</xf>"


_XF = re.compile(rb"<xf\b([^>]*?)(?:/>|>(.*?)</xf>)", re.S)
_NUM_FMT = re.compile(rb"<numFmt\b([^>]*?)/?>")
_NUM_FMTS = re.compile(rb"<numFmts\b[^>]*?(/?)>")
_CELL_XFS = re.compile(rb"<cellXfs\b[^>]*?(/?)>")
_STYLE_SHEET = re.compile(rb"<([\w.-]+:)?styleSheet\b[^>]*>")
_COUNT = re.compile(rb'\scount="\d+"')
_NUM_FMT_ID = re.compile(rb'numFmtId="(\d+)"')


class Styles:
    """Cell styles with a number format, added to styles.xml as text: an ElementTree round
    trip renames namespace prefixes, and Excel then rejects the mc:Ignorable list."""

    def __init__(self, source: Path, part: str | None) -> None:
        self.source, self.part = source, part
        self.lock = threading.Lock()
        self.text: bytes | None = None
        self.formats: dict[str, int] = {}  # format code -> id, as numFmts declares them
        self.format_count = 0
        self.taken_ids: set[int] = set()
        self.xfs: list[_Xf] = []
        self.new_formats: list[tuple[int, str]] = []
        self.new_xfs: list[_Xf] = []
        self.derived: dict[tuple[int, str, bool], int] = {}

    @property
    def changed(self) -> bool:
        return bool(self.new_xfs)

    def with_format(self, base: int | None, code: str, *, only_over_general: bool) -> int:
        """The style ``base`` with number format ``code`` (only over General if asked)."""
        key = (base or 0, code, only_over_general)
        with self.lock:
            if key not in self.derived:
                self._load()
                self.derived[key] = self._derive(*key)
            return self.derived[key]

    def _load(self) -> None:
        if self.text is not None:
            return
        if self.part is None:
            raise CannotPatch("the package has no styles part")
        with zipfile.ZipFile(self.source) as archive:
            self.text = text = archive.read(member(archive, self.part))
        root = _STYLE_SHEET.search(text)
        if root is None or root[1]:
            raise CannotPatch("styles.xml is namespace-prefixed or has no styleSheet")
        start, end = _children_span(text, _NUM_FMTS, b"numFmts") or (0, 0)
        for num_fmt in _NUM_FMT.finditer(text, start, end):  # not those of the dxfs
            attributes = xml_attributes(num_fmt[1])
            code = html.unescape(attributes.get(b"formatCode", b"").decode("utf-8"))
            self.formats.setdefault(code, xml_int(attributes.get(b"numFmtId", b"0"),
                                                  "a numFmtId of styles.xml"))
            self.format_count += 1
        self.taken_ids = {int(i) for i in _NUM_FMT_ID.findall(text)}
        span = _children_span(text, _CELL_XFS, b"cellXfs")
        if span is None:
            raise CannotPatch("styles.xml has no cellXfs")
        self.xfs = [_Xf(_attribute_list(xf[1]), xf[2]) for xf in _XF.finditer(text, *span)]

    def _derive(self, base: int, code: str, only_over_general: bool) -> int:
        if base >= len(self.xfs):
            raise CannotPatch(f"cell style {base} is not in styles.xml")
        xf = self.xfs[base]
        current = xml_int(dict(xf.attributes).get(b"numFmtId", b"0"),
                          "a numFmtId of styles.xml")
        if only_over_general and not self._is_general(current):
            return base
        format_id = self._format_id(code)
        if current == format_id:
            return base
        wanted = _Xf(_set_attributes(xf.attributes, {b"numFmtId": b"%d" % format_id,
                                                    b"applyNumberFormat": b"1"}), xf.inner)
        for index, existing in enumerate(self.xfs):
            if existing.same_as(wanted):
                return index
        self.xfs.append(wanted)
        self.new_xfs.append(wanted)
        return len(self.xfs) - 1

    def _is_general(self, format_id: int) -> bool:
        # LibreOffice declares General as a format of its own
        return format_id == 0 or any(i == format_id and code.lower() == "general"
                                     for code, i in self.formats.items())

    def _format_id(self, code: str) -> int:
        if code in self.formats:
            return self.formats[code]
        builtin = _BUILTIN_FORMATS.get(code)
        if builtin is not None and builtin not in self.formats.values():
            return builtin
        format_id = max([163, *self.taken_ids]) + 1
        self.formats[code] = format_id
        self.taken_ids.add(format_id)
        self.new_formats.append((format_id, code))
        return format_id

    def patched(self) -> bytes:
        """styles.xml with the new formats and cell styles; cellXfs comes after numFmts, so it
        is edited first and the offsets of numFmts still hold."""
        assert self.text is not None
        text = _append_children(self.text, _CELL_XFS, b"cellXfs",
                                b"".join(xf.xml() for xf in self.new_xfs), len(self.xfs))
        if self.new_formats:
            formats = b"".join(b'<numFmt numFmtId="%d" formatCode="%s"/>'
                               % (i, _attribute_text(code)) for i, code in self.new_formats)
            count = self.format_count + len(self.new_formats)
            if _NUM_FMTS.search(text):
                text = _append_children(text, _NUM_FMTS, b"numFmts", formats, count)
            else:  # numFmts is the first child of styleSheet
                root = _STYLE_SHEET.search(text)
                assert root is not None
                text = (text[:root.end()] + b'<numFmts count="%d">' % count + formats
                        + b"</numFmts>" + text[root.end():])
        return text


def _children_span(text: bytes, start_tag: re.Pattern[bytes], name: bytes
                   ) -> tuple[int, int] | None:
    """Where the children of the first element ``name`` are, None if there is none."""
    start = start_tag.search(text)
    if start is None:
        return None
    if start[1]:  # self-closing
        return start.end(), start.end()
    end = text.find(b"</%s>" % name, start.end())
    if end < 0:
        raise CannotPatch(f"styles.xml: {name.decode()} is not closed")
    return start.end(), end


def _append_children(text: bytes, start_tag: re.Pattern[bytes], name: bytes, children: bytes,
                     count: int) -> bytes:
    start = start_tag.search(text)
    assert start is not None
    opening = _with_count(start[0], count)
    if start[1]:  # self-closing: <numFmts count="0"/>
        opening = opening[:-2].rstrip() + b">"
        return text[:start.start()] + opening + children + b"</%s>" % name + text[start.end():]
    close = text.find(b"</%s>" % name, start.end())
    return (text[:start.start()] + opening + text[start.end():close] + children
            + text[close:])


def _with_count(tag: bytes, count: int) -> bytes:
    if _COUNT.search(tag):
        return _COUNT.sub(b' count="%d"' % count, tag, count=1)
    end = -2 if tag.endswith(b"/>") else -1
    return tag[:end] + b' count="%d"' % count + tag[end:]


def xml_attributes(text: bytes) -> dict[bytes, bytes]:
    return dict(_attribute_list(text))


def _attribute_list(text: bytes) -> list[tuple[bytes, bytes]]:
    return [(m[1], m[2] if m[2] is not None else m[3]) for m in _ATTRIBUTE.finditer(text)]


def _set_attributes(attributes: list[tuple[bytes, bytes]], values: dict[bytes, bytes]
                    ) -> list[tuple[bytes, bytes]]:
    updated = [(name, values.get(name, value)) for name, value in attributes]
    present = {name for name, _ in attributes}
    return updated + [(name, value) for name, value in values.items() if name not in present]


def _attribute_text(text: str) -> bytes:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .encode("utf-8"))
