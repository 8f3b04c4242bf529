"""Stamping a review by patching its package: the cells openpyxl would write, every other part
byte for byte, and openpyxl itself when the package is beyond what the patch handles."""

import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from addin import api
from addin.domain.problems import WorkbookError
from addin.domain.texts import text
from addin.workbook.ooxml.calamine import read_sheets
from addin.workbook.ooxml.package import describe_package
from addin.workbook.ooxml.stamping import CannotPatch, write_stamped
from addin.workbook.ooxml.stamping import rows as row_patch
from addin.workbook.ooxml.stamping import sheets as sheet_patch
from addin.workbook.openpyxl_file import FileReview
from addin.workbook.port import Stamps
from addin.workbook.review import layout
from tests.builders import AS_OF, active, item, small_utility, write_csv_ledger
from tests.support import libreoffice

NOW = dt.datetime(2026, 11, 30, 9, 15, 30)
BATCH = "B20261130-091530-AB12"
CHECK = "committed 30.11.2026 09:15"
MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


# --- building reviews and stamps ---------------------------------------------------------------


def extract(tmp_path: Path, name: str, items=None, subscriptions=None) -> Path:
    if items is None:
        items, subscriptions = small_utility()
    ledger = write_csv_ledger(tmp_path / f"erp-{Path(name).stem}", items, subscriptions)
    out = tmp_path / name
    api.register_init()  # a register exists: the review carries its check values
    api.extract(ledger, out, as_of=AS_OF, now=NOW, user="anna")
    return out


@pytest.fixture
def review(tmp_path: Path) -> Path:
    """An .xlsm review as `reliquat extract` writes it: rows 2-5 on Residuals, 2-6 on Items."""
    return extract(tmp_path, "review.xlsm")


@pytest.fixture
def long_review(tmp_path: Path) -> Path:
    """40 rows proposed alike: long runs of identical stamps, written in one pass."""
    items = [item(f"I{n}", f"S{n}", "0.50", customer=f"C{n}") for n in range(40)]
    subscriptions = [active(f"S{n}", f"C{n}") for n in range(40)]
    return extract(tmp_path, "long.xlsm", items, subscriptions)


@pytest.fixture
def openpyxl_review(tmp_path: Path) -> Path:
    """A review an accountant saved through openpyxl: another producer's XML."""
    path = extract(tmp_path, "saved.xlsx")
    openpyxl.load_workbook(path).save(path)
    return path


def commit_stamps(residual_lines, item_lines, batch: str = BATCH) -> Stamps:
    stamps = Stamps()
    for line in residual_lines:
        stamps.residuals[(line, "batch")] = batch
        stamps.residuals[(line, "check")] = CHECK
    for line in item_lines:
        stamps.items[(line, "batch")] = batch
    stamps.journal_rows = [
        [batch, NOW, "anna", "batch", None, 3, 4, None, None, "source: erp; files: a.csv"],
        [batch, NOW, "anna", "action", "REBILL", 1, 1, Decimal("0.50"), "CHF", None],
        [batch, NOW, "anna", "action", "WRITE_OFF", 2, 2, Decimal("1234567.89"), "CHF", None],
        [batch, NOW, "anna", "refused", "TRANSFER", 1, 2, Decimal("-0.05"), "CHF",
         "=S2: amount changed"],
    ]
    return stamps


def patched(source: Path, stamps: Stamps, name: str = "patched") -> Path:
    target = source.with_name(f"{name}{source.suffix}")
    write_stamped(source, target, stamps)
    return target


def cannot(*args: object) -> None:
    raise CannotPatch("this test wants openpyxl")


def by_openpyxl(source: Path, stamps: Stamps, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What the openpyxl fallback writes for the same stamps."""
    copy = source.with_name(f"by-openpyxl{source.suffix}")
    with monkeypatch.context() as m:
        m.setattr("addin.workbook.openpyxl_file.write_stamped", cannot)
        FileReview(source).write_stamped(stamps, copy)
    return copy


# --- reading packages --------------------------------------------------------------------------


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet title -> part name, from workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as archive:
        book = ET.fromstring(archive.read("xl/workbook.xml"))
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "").lstrip("/") for rel in rels}
    found = {}
    for sheet in book.iter(f"{MAIN_NS}sheet"):
        rel_id = next(v for k, v in sheet.attrib.items() if k.endswith("}id"))
        target = targets[rel_id]
        found[sheet.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return found


def sheet_xml(path: Path, title: str) -> bytes:
    return parts(path)[sheet_parts(path)[title]]


def rewrite(path: Path, part: str, change: Callable[[bytes], bytes]) -> None:
    """Replace one part of the package, keeping the others and their order."""
    old = parts(path)
    changed = change(old[part])
    assert changed != old[part], f"{part} did not change: the test no longer tests anything"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in old.items():
            archive.writestr(name, changed if name == part else data)


def rows_except(xml: bytes, numbers: set[int]) -> bytes:
    """The sheet XML without the rows ``numbers`` and without its <dimension>."""
    xml = re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", xml)
    return re.sub(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)',
                  lambda m: b"" if int(m[1]) in numbers else m[0], xml, flags=re.S)


def assert_in_order(path: Path, *titles: str) -> None:
    """Rows and each row's cells in strictly increasing order, as Excel requires."""
    for title in titles:
        rows = re.findall(rb'<row r="(\d+)"[^>]*?(?:/>|>(.*?)</row>)', sheet_xml(path, title), re.S)
        numbers = [int(number) for number, _ in rows]
        assert numbers == sorted(set(numbers)), title
        for number, cells in rows:
            refs = re.findall(rb'<c r="([A-Z]+)(\d+)"', cells)
            assert {n for _, n in refs} <= {number}, (title, number)
            columns = [column_number(letters) for letters, _ in refs]
            assert columns == sorted(set(columns)), (title, number)


def column_number(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index


def cell(path: Path, title: str, ref: str) -> openpyxl.cell.Cell:
    return openpyxl.load_workbook(path)[title][ref]


# --- what the patch writes ---------------------------------------------------------------------


def test_the_stamped_cells_hold_exactly_the_values(review: Path):
    stamps = commit_stamps(range(2, 5), range(2, 6))
    stamps.residuals[(5, "notes")] = '=HYPERLINK("http://x")'
    stamps.residuals[(4, "notes")] = "  <b> & 'quoted' \"too\"  "
    out = patched(review, stamps)

    sheets = read_sheets(out)
    residuals, items = sheets["Residuals"], sheets["Items"]
    assert [(r[17], r[18]) for r in residuals[1:]] == [(BATCH, CHECK)] * 3 + [("", "")]
    assert [r[11] for r in items[1:]] == [BATCH] * 4 + [""]
    assert residuals[3][16] == "  <b> & 'quoted' \"too\"  "
    assert residuals[4][16] == '=HYPERLINK("http://x")'
    text = cell(out, "Residuals", "Q5")
    assert (text.value, text.data_type) == ('=HYPERLINK("http://x")', "s")  # never a formula
    assert_in_order(out, "Residuals", "Items", "Journal")


def test_a_text_loses_only_the_characters_xml_cannot_hold(review: Path):
    stamps = Stamps(residuals={(2, "notes"): "a\x00b\x1fc\ufffed\ud800e", (3, "notes"): "\tx\ny "})
    out = patched(review, stamps)
    assert cell(out, "Residuals", "Q2").value == "abcde"
    assert cell(out, "Residuals", "Q3").value == "\tx\ny "


def test_a_stamped_text_too_long_for_a_cell_is_cut_with_a_marker(review: Path, monkeypatch):
    stamps = Stamps(residuals={(2, "check"): "not committed: " + "changed; " * 5000})
    for out in (patched(review, stamps), by_openpyxl(review, stamps, monkeypatch)):
        check = read_sheets(out)["Residuals"][1][18]
        assert len(check) == 32_767, out.name
        assert check.startswith("not committed: changed; ")
        assert check.endswith("… [cut: 45 015 characters in all]")


def test_untouched_cells_and_parts_stay_as_they_were(review: Path):
    before = parts(review)
    out = patched(review, commit_stamps(range(2, 5), range(2, 6)))
    after = parts(out)

    titles = sheet_parts(review)
    sheets = {titles["Residuals"], titles["Items"], titles["Journal"]}
    # styles only if a number format is missing; workbook.xml for the Journal's filter
    touched = {*sheets, "xl/styles.xml", "xl/workbook.xml"}
    assert list(after) == list(before)  # same parts, same order
    assert sheets <= {name for name in before if after[name] != before[name]} <= touched
    with zipfile.ZipFile(review) as old, zipfile.ZipFile(out) as new:
        for name in set(before) - touched:  # copied still compressed
            was, now = old.getinfo(name), new.getinfo(name)
            assert (now.compress_type, now.CRC, now.compress_size) == (
                was.compress_type, was.CRC, was.compress_size)
        assert new.testzip() is None
    info = describe_package(out)
    assert info.is_macro_enabled and info.problems() == []

    stamped = {("Residuals", r, c) for r in range(2, 5) for c in (17, 18)} | {
        ("Items", r, 11) for r in range(2, 6)}
    old_sheets, new_sheets = read_sheets(review), read_sheets(out)
    for title, rows in old_sheets.items():
        if title == "Journal":
            continue
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if (title, r, c) not in stamped:
                    assert new_sheets[title][r - 1][c] == value, (title, r, c)


def test_rows_without_stamps_are_copied_byte_for_byte(review: Path):
    for title in ("Residuals", "Items"):  # as Excel writes rows
        rewrite(review, sheet_parts(review)[title],
                lambda xml: re.sub(rb'(<row r="\d+")', rb'\1 spans="1:21"', xml))
    out = patched(review, Stamps(residuals={(3, "batch"): BATCH}, items={(4, "batch"): BATCH}))
    for title, line in (("Residuals", 3), ("Items", 4)):
        before, after = sheet_xml(review, title), sheet_xml(out, title)
        assert rows_except(after, {line}) == rows_except(before, {line})
        assert re.search(rb'<row r="%d"[^>]*>' % line, after)[0].find(b"spans") < 0
        assert after.count(b"spans=") == before.count(b"spans=") - 1


def test_journal_rows_go_after_the_existing_ones_with_their_number_formats(review: Path):
    first = patched(review, commit_stamps([], [], batch="B1"), "first")
    second = patched(first, commit_stamps([], [], batch="B2"), "second")

    journal = read_sheets(second)["Journal"]
    assert [r[0] for r in journal] == ["Batch"] + ["B1"] * 4 + ["B2"] * 4
    assert [r[7] for r in journal[1:5]] == ["", 0.5, 1234567.89, -0.05]
    assert {r[1] for r in journal[1:]} == {NOW}
    assert journal[4][9] == "=S2: amount changed"
    sheet = openpyxl.load_workbook(second)["Journal"]
    assert [(c.number_format, c.value) for c in sheet[7]][1:8] == [
        ("DD.MM.YYYY HH:MM:SS", NOW), ("General", "anna"), ("General", "action"),
        ("General", "REBILL"), ("0", 1), ("0", 1), ("#,##0.00", 0.5)]
    xml = sheet_xml(second, "Journal")
    for amount in (b"0.50", b"1234567.89", b"-0.05"):  # Decimal as written, never a float
        assert xml.count(b"<v>" + amount + b"</v>") == 2
    assert b'<dimension ref="A1:J9"' in xml
    assert parts(second)["xl/styles.xml"] == parts(first)["xl/styles.xml"]


def filters(path: Path) -> tuple[str, str]:
    """The Journal's autofilter and its hidden _FilterDatabase name."""
    book = openpyxl.load_workbook(path)
    index = book.sheetnames.index("Journal")
    workbook = parts(path)["xl/workbook.xml"].decode()
    [name] = re.findall(rf'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}"'
                        r"[^>]*>([^<]*)</definedName>", workbook)
    return book["Journal"].auto_filter.ref, name


def test_the_journal_filter_covers_the_rows_each_commit_appends(review: Path, monkeypatch):
    assert filters(review) == ("A1:J1", "'Journal'!$A$1:$J$1")
    first = patched(review, commit_stamps([], [], batch="B1"), "first")
    assert filters(first) == ("A1:J5", "'Journal'!$A$1:$J$5")
    assert filters(patched(first, commit_stamps([], [], batch="B2"), "second")) == (
        "A1:J9", "'Journal'!$A$1:$J$9")
    assert filters(by_openpyxl(first, commit_stamps([], [], batch="B2"), monkeypatch)) == (
        "A1:J9", "'Journal'!$A$1:$J$9")


def test_styles_are_patched_as_text_keeping_their_namespaces(review: Path):
    declared = (b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                b'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
                b'mc:Ignorable="x14ac x16r2" '
                b'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
                b'xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/02/main">')

    def without_number_formats(xml: bytes) -> bytes:
        xml = re.sub(rb"<numFmts.*?</numFmts>", b"", re.sub(rb"<styleSheet[^>]*>", declared, xml))
        return re.sub(rb'numFmtId="\d+"', b'numFmtId="0"', xml)

    rewrite(review, "xl/styles.xml", without_number_formats)
    before = parts(review)["xl/styles.xml"]

    out = patched(review, commit_stamps([], []))

    after = parts(out)["xl/styles.xml"]
    added = re.search(rb'<numFmts count="1"><numFmt numFmtId="(\d+)" '
                      rb'formatCode="DD.MM.YYYY HH:MM:SS"/></numFmts>', after)
    assert added is not None and int(added[1]) >= 164  # 0 and 0.00 are built in
    assert declared + added[0] in after  # numFmts goes first, the namespaces stay as they were
    rest = after.replace(added[0], b"")
    xfs = re.search(rb'<cellXfs count="(\d+)">(.*)</cellXfs>', rest, re.S)
    assert int(xfs[1]) == xfs[2].count(b"<xf ") == before.count(b"<xf ") - 1 + 3  # - cellStyleXfs
    start, end = rest.index(b"<cellXfs"), rest.index(b"</cellXfs>")
    assert rest[:start] == before[:before.index(b"<cellXfs")]
    assert rest[end:] == before[before.index(b"</cellXfs>"):]
    sheet = openpyxl.load_workbook(out)["Journal"]
    assert [sheet[ref].number_format for ref in ("B3", "F3", "H3")] == [
        "DD.MM.YYYY HH:MM:SS", "0", "#,##0.00"]


def test_the_same_values_as_openpyxl_writes(review: Path, openpyxl_review: Path,
                                            long_review: Path, monkeypatch):
    cases = [(review, commit_stamps(range(2, 5), range(2, 6))),
             (openpyxl_review, commit_stamps(range(2, 5), range(2, 6))),
             (long_review, commit_stamps(range(2, 42), range(2, 42)))]
    for source, stamps in cases:
        stamps.residuals[(9, "notes")] = "beyond the last row"
        ours, theirs = patched(source, stamps), by_openpyxl(source, stamps, monkeypatch)
        assert read_sheets(ours) == read_sheets(theirs), source.name
        for ref in ("R2", "S3", "Q9"):
            mine, other = cell(ours, "Residuals", ref), cell(theirs, "Residuals", ref)
            assert (mine.value, mine.data_type) == (other.value, other.data_type)


@pytest.mark.parametrize("chunk", [700, 8192, 4 << 20])
def test_long_runs_give_the_cells_openpyxl_writes_whatever_the_chunks(long_review: Path,
                                                                      monkeypatch, chunk):
    """Runs of rows stamped alike are written in one pass, also across the chunks that cut
    them; a row already holding a stamped cell sends its run back to row by row."""
    stamps = commit_stamps(range(2, 42), range(2, 42))
    del stamps.residuals[(20, "check")]  # splits the run
    stamps.residuals[(30, "check")] = "not committed: amount changed"
    rewrite(long_review, sheet_parts(long_review)["Items"],
            lambda xml: xml.replace(b'<c r="M25"', b'<c r="L25" t="inlineStr"><is><t>old</t>'
                                                   b'</is></c><c r="M25"'))

    def like_excel(xml: bytes) -> bytes:  # spans on every row; row 10 has TA but no T cell
        xml = re.sub(rb'(<row r="\d+")', rb'\1 spans="1:21"', xml)
        xml = re.sub(rb'<c r="T10"[^>]*>.*?</c>', b"", xml, count=1)
        return xml.replace(b"</row><row r=\"11\"", b'<c r="TA10"><v>7</v></c></row><row r="11"')

    rewrite(long_review, sheet_parts(long_review)["Residuals"], like_excel)
    theirs = by_openpyxl(long_review, stamps, monkeypatch)
    in_one_pass = []
    one_pass = row_patch.RowPatcher._inserted_before_next_cell

    def spy(patcher, rows, cells, first, last):
        written = one_pass(patcher, rows, cells, first, last)
        in_one_pass.extend(range(first, last + 1) if written is not None else [])
        return written

    monkeypatch.setattr(row_patch.RowPatcher, "_inserted_before_next_cell", spy)
    monkeypatch.setattr(sheet_patch, "_CHUNK", chunk)

    ours = patched(long_review, stamps)

    assert read_sheets(ours) == read_sheets(theirs)
    assert read_sheets(ours)["Items"][24][11] == BATCH
    assert_in_order(ours, "Residuals", "Items")
    assert sheet_xml(ours, "Residuals").count(b"spans=") == 1  # the header row's
    if chunk > 700:  # else no chunk holds enough rows of a run
        assert len(in_one_pass) >= 15, in_one_pass


def test_missing_rows_and_cells_are_inserted_in_order(tmp_path: Path):
    source = tmp_path / "sparse.xlsx"
    book = openpyxl.Workbook()
    for sheet in (layout.RESIDUALS, layout.ITEMS, layout.JOURNAL):
        ws = book.create_sheet(sheet.en)
        ws.append([c.en for c in sheet.columns])
    del book["Sheet"]
    residuals = book["Residuals"]
    residuals["A2"], residuals["U2"], residuals["A4"], residuals["C4"] = "S1", 1, "S3", "x"
    book.save(source)
    stamps = Stamps(residuals={(4, "batch"): BATCH, (3, "check"): CHECK, (7, "notes"): "n",
                               (2, "subscription_id"): "S9", (4, "target"): "S4"})

    out = patched(source, stamps)

    xml = sheet_xml(out, "Residuals")
    rows = [int(n) for n in re.findall(rb'<row r="(\d+)"', xml)]
    assert rows == [1, 2, 3, 4, 7]
    row4 = re.search(rb'<row r="4".*?</row>', xml)[0]
    assert re.findall(rb'<c r="([A-Z]+)4"', row4) == [b"A", b"C", b"O", b"R"]
    assert b'<dimension ref="A1:X7"' in xml
    assert_in_order(out, "Residuals")
    sheet = openpyxl.load_workbook(out)["Residuals"]
    assert [sheet[ref].value for ref in ("A2", "U2", "S3", "A4", "C4", "O4", "R4", "Q7")] == [
        "S9", 1, CHECK, "S3", "x", "S4", BATCH, "n"]


def with_shared_header(path: Path, title: str) -> None:
    """Row 1 of ``title`` as shared strings, as Excel and LibreOffice write them: after other
    strings, "Lot" in rich text runs, one with a phonetic reading that is not part of it."""
    part = sheet_parts(path)[title]
    header = re.search(rb'<row r="1".*?</row>', parts(path)[part], re.S)[0]
    texts = [m.decode() for m in re.findall(rb"<is><t>([^<]*)</t></is>", header)]
    items = [b"<si><t>before</t></si>"] * 3 + [
        b"<si><r><t>L</t></r><r><rPr><b/></rPr><t>ot</t></r><rPh sb=\"0\" eb=\"1\"><t>x</t>"
        b"</rPh></si>" if text == "Lot" else f"<si><t>{text}</t></si>".encode()
        for text in texts]
    index = iter(range(3, 3 + len(texts)))
    shared = re.sub(rb' t="inlineStr"><is><t>[^<]*</t></is>',
                    lambda m: b' t="s"><v>%d</v>' % next(index), header)
    rewrite(path, part, lambda xml: xml.replace(header, shared))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats.org/'
                         b'spreadsheetml/2006/main">' + b"".join(items) + b"</sst>")
    strings = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    rewrite(path, "[Content_Types].xml", lambda xml: xml.replace(
        b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{strings}"/>'
                     f"</Types>".encode()))
    rewrite(path, "xl/_rels/workbook.xml.rels", lambda xml: xml.replace(
        b"</Relationships>", f'<Relationship Id="rId98" Type="{rel}" '
                             f'Target="sharedStrings.xml"/></Relationships>'.encode()))


def test_headers_are_found_in_any_language_and_in_rich_text(tmp_path: Path, monkeypatch):
    from addin.config import Config

    items, subscriptions = small_utility()
    ledger = write_csv_ledger(tmp_path / "erp", items, subscriptions)
    review = tmp_path / "revue.xlsm"
    api.extract(ledger, review, config=api.with_language(Config(), "fr"), as_of=AS_OF, now=NOW)
    with_shared_header(review, "Reliquats")
    stamps = commit_stamps(range(2, 5), range(2, 6))

    ours = patched(review, stamps)

    sheets = read_sheets(ours)
    assert sheets["Reliquats"][0][16:19] == ["Remarques", "Lot", "Contrôle"]
    assert [r[17] for r in sheets["Reliquats"][1:]] == [BATCH] * 3 + [""]
    assert [r[18] for r in sheets["Reliquats"][1:]] == [CHECK] * 3 + [""]
    assert sheets == read_sheets(by_openpyxl(review, stamps, monkeypatch))


def test_a_stamped_cell_keeps_its_style(review: Path):
    before = re.search(rb'<c r="P2"[^>]*>', sheet_xml(review, "Residuals"))[0]
    style = re.search(rb' s="(\d+)"', before)[1]
    out = patched(review, Stamps(residuals={(2, "accept"): "Yes"}))
    after = re.search(rb'<c r="P2"[^>]*>', sheet_xml(out, "Residuals"))[0]
    assert re.search(rb' s="(\d+)"', after)[1] == style
    assert cell(out, "Residuals", "P2").value == "Yes"


def test_the_calc_chain_goes_with_its_content_type_and_relationship(review: Path):
    calc_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"
    calc_rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
    with zipfile.ZipFile(review, "a") as archive:
        archive.writestr("xl/calcChain.xml", b'<calcChain xmlns="http://schemas.openxmlformats'
                                             b'.org/spreadsheetml/2006/main"><c r="A1" i="1"/>'
                                             b"</calcChain>")
    rewrite(review, "[Content_Types].xml", lambda xml: xml.replace(
        b"</Types>", f'<Override PartName="/xl/calcChain.xml" ContentType="{calc_type}"/>'
                     f"</Types>".encode()))
    rewrite(review, "xl/_rels/workbook.xml.rels", lambda xml: xml.replace(
        b"</Relationships>", f'<Relationship Id="rId99" Type="{calc_rel}" '
                             f'Target="calcChain.xml"/></Relationships>'.encode()))

    out = patched(review, commit_stamps([2], [2]))

    after = parts(out)
    assert "xl/calcChain.xml" not in after
    assert b"calcChain" not in after["[Content_Types].xml"]
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    assert describe_package(out).problems() == []
    assert read_sheets(out)["Residuals"][1][17] == BATCH


# --- what it leaves to openpyxl ----------------------------------------------------------------


def without_row_refs(xml: bytes) -> bytes:
    return re.sub(rb'<row r="\d+"', b"<row", xml)


def without_ref_on_row_3(xml: bytes) -> bytes:
    return xml.replace(b'<row r="3"', b"<row")


def without_cell_refs_in_row_2(xml: bytes) -> bytes:
    return re.sub(rb'<c r="[A-Z]+2"', b"<c", xml)


def prefixed(xml: bytes) -> bytes:
    xml = xml.replace(b'<worksheet xmlns="', b'<worksheet xmlns:x="')
    return re.sub(rb"<(/?)([A-Za-z]\w*)(?=[\s/>])", rb"<\1x:\2", xml)


def shared_formula_at_r2(xml: bytes) -> bytes:
    return xml.replace(b'<c r="T2"', b'<c r="R2"><f t="shared" ref="R2:R3" si="0">A2</f>'
                                     b'<v>0</v></c><c r="T2"', 1)


@pytest.mark.parametrize("change", [without_row_refs, without_ref_on_row_3,
                                    without_cell_refs_in_row_2, prefixed, shared_formula_at_r2])
def test_a_sheet_the_patch_cannot_read_safely_is_refused(review: Path, change):
    rewrite(review, sheet_parts(review)["Residuals"], change)
    with pytest.raises(CannotPatch):
        patched(review, commit_stamps([2], []))


def test_a_cell_without_reference_among_rows_stamped_alike_is_refused(long_review: Path):
    """Its column is the one after the cell before it: here R12, which the stamps write."""
    rewrite(long_review, sheet_parts(long_review)["Residuals"], lambda xml: xml.replace(
        b'<c r="T12"', b'<c t="inlineStr"><is><t>old</t></is></c><c r="T12"'))
    with pytest.raises(CannotPatch):
        patched(long_review, commit_stamps(range(2, 42), []))


def test_an_unreadable_workbook_part_is_refused(review: Path):
    rewrite(review, "xl/workbook.xml", lambda xml: xml[:40])
    with pytest.raises(CannotPatch):
        patched(review, commit_stamps([2], [2]))


def test_the_commit_saves_with_openpyxl_when_the_patch_cannot(review: Path, tmp_path: Path):
    rewrite(review, sheet_parts(review)["Items"], without_row_refs)
    with pytest.raises(CannotPatch):
        patched(review, commit_stamps([], [2]))

    outcome = api.commit(review, tmp_path / "out", accept_proposals=True, now=NOW, user="anna")

    batch = outcome.batch.batch_id
    sheets = read_sheets(review)
    assert [r[11] for r in sheets["Items"][1:]] == [batch] * 4 + [""]
    assert [r[0] for r in sheets["Journal"][1:]] == [batch] * 4
    assert describe_package(review).problems() == []


def test_the_commit_patches_without_loading_the_workbook(review: Path, tmp_path: Path,
                                                         monkeypatch):
    monkeypatch.setattr("addin.workbook.openpyxl_file._load", cannot)
    outcome = api.commit(review, tmp_path / "out", accept_proposals=True, now=NOW, user="anna")
    assert [r[17] for r in read_sheets(review)["Residuals"][1:]] == [
        outcome.batch.batch_id] * 3 + [""]


def test_any_other_error_of_the_patch_is_raised_and_leaves_the_workbook(review: Path,
                                                                        tmp_path: Path,
                                                                        monkeypatch):
    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("addin.workbook.openpyxl_file.write_stamped", broken)
    before = review.read_bytes()
    with pytest.raises(WorkbookError, match="cannot write the stamped workbook beside "
                                            "review.xlsm: disk full"):
        api.commit(review, tmp_path / "out", accept_proposals=True, now=NOW)
    assert review.read_bytes() == before
    assert [p.name for p in review.parent.iterdir() if p.name.startswith(".review")] == []


# --- LibreOffice -------------------------------------------------------------------------------

needs_libreoffice = pytest.mark.skipif(not libreoffice.soffice_available(),
                                       reason="LibreOffice is not installed (make system-deps)")


@pytest.mark.libreoffice
@needs_libreoffice
def test_a_review_saved_by_libreoffice_is_patched_as_openpyxl_would_and_opens_there(
        review: Path, monkeypatch):
    saved = libreoffice.convert(review, review.with_name("saved-by-lo.xlsx"),
                                "Calc MS Excel 2007 XML")
    assert b"<sst " in parts(saved)["xl/sharedStrings.xml"]  # headers are shared strings
    stamps = commit_stamps(range(2, 5), range(2, 6))

    ours = patched(saved, stamps)

    assert read_sheets(ours) == read_sheets(by_openpyxl(saved, stamps, monkeypatch))
    assert_in_order(ours, "Residuals", "Items", "Journal")
    seen = libreoffice.inspect(ours, cells=["Residuals!R2:S2", "Journal!A5:J5"], recalc=False)
    assert [seen["cells"][f"Residuals!{c}2"] for c in "RS"] == [BATCH, CHECK]
    assert seen["cells"]["Journal!H5"] == -0.05
    assert seen["cells"]["Journal!J5"] == "=S2: amount changed"
    assert seen["formulas"]["Journal!J5"] is None


@pytest.mark.libreoffice
@needs_libreoffice
def test_the_patched_review_opens_in_libreoffice_with_its_vba(review: Path):
    out = patched(review, commit_stamps(range(2, 5), range(2, 6)))
    seen = libreoffice.inspect(out, cells=["Residuals!R2:S4", "Items!L2:L3", "Journal!A2:H3"],
                               basic=True)
    assert seen["cells"]["Residuals!R4"] == BATCH
    assert seen["cells"]["Residuals!S3"] == CHECK
    assert seen["cells"]["Items!L3"] == BATCH
    assert seen["cells"]["Journal!H3"] == 0.5
    assert "Ribbon" in next(iter(seen["basic"].values()))


def test_a_check_said_as_a_text_keeps_its_run_in_one_pass(long_review: Path, monkeypatch):
    """The commit's check stamp is a ``Text`` (a str that knows its key): its rows are stamped
    alike, in one pass, and read back as a plain text would."""
    said = text("stamped", "committed {at}", at="30.11.2026 09:15")
    stamps = commit_stamps(range(2, 42), range(2, 42))
    plain = patched(long_review, stamps, "plain")
    for line in range(2, 42):
        stamps.residuals[(line, "check")] = said
    in_one_pass = []
    one_pass = row_patch.RowPatcher._inserted_before_next_cell

    checks = layout.RESIDUALS.index("check")

    def spy(patcher, rows, cells, first, last):
        written = one_pass(patcher, rows, cells, first, last)
        if written is not None and checks in dict(cells):
            in_one_pass.extend(range(first, last + 1))
        return written

    monkeypatch.setattr(row_patch.RowPatcher, "_inserted_before_next_cell", spy)
    ours = patched(long_review, stamps)

    assert in_one_pass == list(range(2, 42))
    assert sheet_xml(ours, "Residuals") == sheet_xml(plain, "Residuals")
