"""A folder of CSV exports narrowed on its columns gives the selection of the whole ledger.

The rules in ``addin.domain`` are the specification: on random ledgers, ``select`` over the
narrowed part (with the balances computed on the columns) must equal ``select`` over every
record the exact reader builds. And whenever the fast reader is unsure, the exact one answers.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.config import Config
from addin.domain.model import Ledger, Rules
from addin.domain.problems import SourceError
from addin.domain.rules import select
from addin.locations import Location
from addin.sources import file_selection, read_for_commit, read_for_rules, read_ledger
from addin.sources.columnar import PYTHON_SPACE, CsvExport, TextTable
from addin.sources.file_selection import read_items_files, read_selection_files
from tests.sources.small_ledger import write_csv

AS_OF = dt.date(2027, 1, 31)
CONFIG = Config()


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    customers = [f"C{n}" for n in range(draw(st.integers(1, 4)))]
    subs = []
    for number in range(draw(st.integers(1, 8))):
        terminated = draw(st.booleans())
        end = AS_OF + dt.timedelta(days=draw(st.integers(-90, 90)))
        subs.append((f"S{number}", draw(st.sampled_from(customers)),
                     "terminated" if terminated else "active",
                     f"{end:%d.%m.%Y}" if terminated else "",
                     draw(st.sampled_from(["", "15.02.2027", "01.02.2027"])), f"Label {number}"))
    items = []
    for number in range(draw(st.integers(0, 40))):
        sub = draw(st.sampled_from(subs))
        cents = draw(st.one_of(st.integers(-700, 700), st.integers(-50_000, 50_000),
                               st.just(0)))
        due = AS_OF - dt.timedelta(days=draw(st.integers(-40, 120)))
        items.append((f"I{number}", sub[1], draw(st.sampled_from(["Name A", "Name B"])), sub[0],
                      f"F{number}", "01.09.2026", f"{due:%d.%m.%Y}", "100.00",
                      str(Decimal(cents).scaleb(-2)), draw(st.sampled_from(["CHF", "EUR"])),
                      draw(st.sampled_from(["0", "0", "1"])),
                      draw(st.sampled_from(["0", "0", "0", "1"]))))
    return items, subs


def write(folder: Path, items: list[tuple[str, ...]], subs: list[tuple[str, ...]]) -> None:
    write_csv(folder, items=tuple(items), subs=tuple(subs))


def csv_files(folder: Path) -> dict[str, Path]:
    return {name: folder / f"{name}.csv" for name in ("open_items", "subscriptions")}


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers(), threshold=st.sampled_from(["0.00", "1.00", "5.00", "7.50"]),
       overdue_days=st.sampled_from([0, 30, 60]), credits=st.booleans(),
       committed_share=st.integers(0, 3), data=st.data())
def test_the_narrowed_csv_ledger_gives_the_whole_ledgers_selection(
        tmp_path_factory: pytest.TempPathFactory, ledger, threshold, overdue_days, credits,
        committed_share, data) -> None:
    items, subs = ledger
    folder = tmp_path_factory.mktemp("csv")
    write(folder, items, subs)
    rules = Rules(threshold=Decimal(threshold), as_of=AS_OF, min_overdue_days=overdue_days,
                  include_credits=credits)
    ids = [row[0] for row in items]
    committed = {i: "B1" for i in data.draw(st.lists(st.sampled_from(ids), max_size=3))
                 } if ids and committed_share else {}

    narrowed = read_selection_files(csv_files(folder), CONFIG, rules, committed, str(folder))
    assert narrowed is not None, "the fast reader gave up on a clean export"
    part, balances, count = narrowed
    whole = read_ledger(folder, CONFIG)

    assert count == len(whole.items)
    narrowed_selection = replace(select(part, rules, committed, balances), items_read=count)
    assert narrowed_selection == select(whole, rules, committed)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers(), data=st.data())
def test_the_commit_reads_what_the_pushdown_would_read(
        tmp_path_factory: pytest.TempPathFactory, ledger, data) -> None:
    """Every item of the given subscriptions, the given items wherever they are, and the
    subscriptions of both: as the database gives them (pushdown.read_items)."""
    items, subs = ledger
    folder = tmp_path_factory.mktemp("csv")
    write(folder, items, subs)
    wanted_subs, wanted_items = commit_keys(data, items, subs)

    part = read_items_files(csv_files(folder), CONFIG, wanted_subs, wanted_items, str(folder))

    assert_read_as_pushdown(part, read_ledger(folder, CONFIG), wanted_subs, wanted_items)
    assert read_for_commit(Location.of(folder), CONFIG, wanted_subs, wanted_items) == part


def commit_keys(data: st.DataObject, items: Sequence[Sequence[object]],
                subs: Sequence[Sequence[object]]) -> tuple[list[str], list[str]]:
    """Some subscriptions and some items, as a commit asks for them."""
    wanted_subs = data.draw(st.lists(st.sampled_from([str(s[0]) for s in subs]), max_size=3))
    wanted_items = data.draw(st.lists(st.sampled_from([str(i[0]) for i in items]), max_size=3)
                             ) if items else []
    return wanted_subs, wanted_items


def assert_read_as_pushdown(part: Ledger | None, whole: Ledger, wanted_subs: list[str],
                            wanted_items: list[str]) -> None:
    assert part is not None
    expected = [i for i in whole.items
                if i.subscription_id in wanted_subs or i.item_id in wanted_items]
    assert part.items == tuple(expected)
    assert set(part.subscriptions) == set(wanted_subs) | {i.subscription_id for i in expected}
    assert all(part.subscriptions[k] == whole.subscriptions[k] for k in part.subscriptions)


def test_read_for_rules_narrows_a_csv_folder(tmp_path: Path) -> None:
    items = [("I1", "C1", "A", "S1", "F1", "01.09.2026", "01.10.2026", "1.00", "0.40", "CHF",
              "0", "0"),
             ("I2", "C1", "A", "S1", "F2", "01.09.2026", "15.02.2027", "900.00", "900.00",
              "CHF", "0", "0"),
             ("I3", "C2", "B", "S2", "F3", "01.09.2026", "01.10.2026", "900.00", "900.00",
              "CHF", "0", "0")]
    subs = [("S1", "C1", "active", "", "15.02.2027", ""), ("S2", "C2", "active", "", "", "")]
    write(tmp_path, items, subs)
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)

    ledger, balances, count = read_for_rules(Location.of(tmp_path), CONFIG, rules, ())

    assert count == 3
    assert [i.item_id for i in ledger.items] == ["I1"]  # I2 is not due yet, nor small
    assert list(ledger.subscriptions) == ["S1"]
    assert balances == {("C1", "CHF"): (Decimal("900.40"), Decimal("0.40"))}


GOOD_ITEM = ("I1", "C1", "A", "S1", "F1", "01.09.2026", "01.10.2026", "1.00", "0.40", "CHF",
             "0", "0")
GOOD_SUB = ("S1", "C1", "active", "", "15.02.2027", "")


@pytest.mark.parametrize(("items", "subs", "problem"), [
    ([GOOD_ITEM, GOOD_ITEM], [GOOD_SUB], "duplicate item 'I1' (first at line 2)"),
    ([(*GOOD_ITEM[:8], "0.405", *GOOD_ITEM[9:])], [GOOD_SUB], "0.405"),
    ([(*GOOD_ITEM[:3], "S9", *GOOD_ITEM[4:])], [GOOD_SUB], "unknown subscription 'S9'"),
    ([(*GOOD_ITEM[:1], "C2", *GOOD_ITEM[2:])], [GOOD_SUB], "belongs to 'C1'"),
    ([("=I1", *GOOD_ITEM[1:])], [GOOD_SUB], "must not look like a formula"),
    ([(*GOOD_ITEM[:6], "31.02.2026", *GOOD_ITEM[7:])], [GOOD_SUB], "no such date"),
    ([GOOD_ITEM], [GOOD_SUB, GOOD_SUB], "duplicate subscription 'S1'"),
    ([GOOD_ITEM], [(*GOOD_SUB[:2], "sleeping", *GOOD_SUB[3:])], "unknown status"),
    ([(*GOOD_ITEM[:4], "", *GOOD_ITEM[5:])], [GOOD_SUB], "empty"),
    # Columns of the second read, on a row that does not become a record: still checked.
    ([GOOD_ITEM, ("I2", *GOOD_ITEM[1:4], "F2", "31.02.2026", "15.02.2027", "900.00", "900.00",
                  *GOOD_ITEM[9:])], [GOOD_SUB], "no such date"),
    ([GOOD_ITEM], [GOOD_SUB, ("S2", "C2", "sleeping", "", "", "")], "unknown status"),
])
def test_a_bad_export_is_refused_in_the_exact_readers_words(tmp_path: Path, items, subs,
                                                             problem: str) -> None:
    write(tmp_path, items, subs)
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)
    assert read_selection_files(csv_files(tmp_path), CONFIG, rules, (), str(tmp_path)) is None

    refused = refused_alike(tmp_path, rules)
    assert problem in refused
    assert "line" in refused


def refused_alike(source: Path, rules: Rules) -> str:
    """What the exact reader says of the source, which read_for_rules must say too."""
    with pytest.raises(SourceError) as fast:
        read_for_rules(Location.of(source), CONFIG, rules, ())
    with pytest.raises(SourceError) as exact:
        read_ledger(source, CONFIG)
    assert str(fast.value) == str(exact.value)
    return str(fast.value)


@pytest.mark.parametrize("space", list(PYTHON_SPACE))
def test_an_id_with_any_space_python_strips_reads_as_the_exact_reader_reads_it(
        tmp_path: Path, space: str) -> None:
    """The exact reader strips ids; the fast one must notice each such character, at either
    end, and leave the file to the exact reader (or, for a line end, read the same lines)."""
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)
    for padded in (space + "S1", "S1" + space):
        write(tmp_path, [GOOD_ITEM], [(padded, *GOOD_SUB[1:])])
        exact = _outcome(lambda: read_ledger(tmp_path, CONFIG))
        fast = read_selection_files(csv_files(tmp_path), CONFIG, rules, (), str(tmp_path))

        assert exact == ["S1"] or "line" in exact  # a CR alone ends a line
        assert _outcome(lambda: read_for_rules(Location.of(tmp_path), CONFIG, rules, ())[0]
                        ) == exact
        assert fast is None or list(fast[0].subscriptions) == exact, repr(padded)


def _outcome(read: Callable[[], Ledger]) -> list[str] | str:
    """The subscriptions read, or the error shown."""
    try:
        return list(read().subscriptions)
    except SourceError as error:
        return str(error)


def test_python_space_is_every_character_str_strip_removes() -> None:
    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == PYTHON_SPACE


def test_a_windows_1252_export_is_narrowed_like_its_utf8_twin(tmp_path: Path) -> None:
    items = [(*GOOD_ITEM[:2], "Müller Zoé", *GOOD_ITEM[3:])]
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)
    write(tmp_path / "utf8", items, [GOOD_SUB])
    legacy = tmp_path / "cp1252"
    legacy.mkdir()
    for name in ("open_items.csv", "subscriptions.csv"):
        text = (tmp_path / "utf8" / name).read_text(encoding="utf-8-sig")
        (legacy / name).write_bytes(text.encode("cp1252"))

    twins = [read_selection_files(csv_files(folder), CONFIG, rules, (), "x")
             for folder in (tmp_path / "utf8", legacy)]

    assert twins[0] is not None and twins[1] is not None
    assert twins[0][0].items == twins[1][0].items
    assert twins[1][0].items[0].customer_name == "Müller Zoé"


def test_a_quoted_line_break_is_read_as_the_exact_reader_reads_it(tmp_path: Path) -> None:
    items = [(*GOOD_ITEM[:2], 'Boillat\nMarie; "Mimi"', *GOOD_ITEM[3:])]
    write(tmp_path, items, [GOOD_SUB])
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)

    narrowed = read_selection_files(csv_files(tmp_path), CONFIG, rules, (), "x")

    assert narrowed is not None
    assert narrowed[0].items == read_ledger(tmp_path, CONFIG).items


def test_amounts_whose_sums_could_overflow_go_to_the_exact_reader(tmp_path: Path) -> None:
    """Sixteen digits before the point are allowed; ten of them summed in int64 cents could
    wrap around, so such an export is summed as Decimals."""
    big = "9999999999999999.99"
    items = [(f"I{n}", *GOOD_ITEM[1:4], f"F{n}", *GOOD_ITEM[5:8], big, *GOOD_ITEM[9:])
             for n in range(10)]
    write(tmp_path, items, [GOOD_SUB])
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)

    assert read_selection_files(csv_files(tmp_path), CONFIG, rules, (), "x") is None
    ledger, balances, _ = read_for_rules(Location.of(tmp_path), CONFIG, rules, ())
    assert balances is None  # the whole ledger, read exactly
    assert sum(i.open_amount for i in ledger.items) == Decimal("99999999999999999.90")
    write(tmp_path, items[:2], [GOOD_SUB])  # two of them fit: the fast reader keeps them
    assert read_selection_files(csv_files(tmp_path), CONFIG, rules, (), "x") is not None


def _two_pass_ledger() -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Items whose names, numbers, dates and labels differ row by row, with line breaks in
    quotes before and among the rows kept: only I2 (S2) and I4 with I5 (S4) are residuals,
    and the subscriptions of their customer C1."""
    def item(n: int, name: str, sub: str, open_amount: str) -> tuple[str, ...]:
        return (f"I{n}", "C2" if sub == "S3" else "C1", name, sub, f"F-{n}", f"0{n}.09.2026",
                "01.10.2026", f"{n}00.00", open_amount, "CHF", "0", "0")
    items = [item(1, "Zoé\r\nMüller", "S1", "900.00"), item(2, "Boillat", "S2", "0.40"),
             item(3, 'Joliat "Lulu"\nLukas', "S3", "900.00"),
             item(4, "Schärer\nAnne", "S4", "1.10"), item(5, "Übersax", "S4", "1.00")]
    subs = [("S1", "C1", "active", "", "", "Électricité\nCôte 1"),
            ("S2", "C1", "terminated", "30.11.2026", "", "Eau – Côte 2"),
            ("S3", "C2", "active", "", "", "Gaz"),
            ("S4", "C1", "active", "", "15.02.2027", "Chauffage; Côte 4")]
    return items, subs


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_the_second_read_gives_the_kept_rows_their_own_cells_in_file_order(
        tmp_path: Path, encoding: str) -> None:
    items, subs = _two_pass_ledger()
    write(tmp_path, items, subs)
    for name in ("open_items.csv", "subscriptions.csv"):
        text = (tmp_path / name).read_text(encoding="utf-8-sig")
        (tmp_path / name).write_bytes(text.encode(encoding))
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)

    narrowed = read_selection_files(csv_files(tmp_path), CONFIG, rules, (), "x")

    assert narrowed is not None
    whole = read_ledger(tmp_path, CONFIG)
    assert [(i.item_id, i.customer_name, i.document_no) for i in narrowed[0].items] == [
        ("I2", "Boillat", "F-2"), ("I4", "Schärer\nAnne", "F-4"), ("I5", "Übersax", "F-5")]
    assert narrowed[0].items == tuple(i for i in whole.items if i.item_id in {"I2", "I4", "I5"})
    assert narrowed[0].subscriptions == {k: v for k, v in whole.subscriptions.items()
                                         if k != "S3"}
    assert narrowed[0].subscriptions["S1"].label == "Électricité\nCôte 1"
    part = read_items_files(csv_files(tmp_path), CONFIG, ["S4"], ["I1"], "x")
    assert part is not None
    assert [(i.item_id, i.document_date) for i in part.items] == [
        ("I1", dt.date(2026, 9, 1)), ("I4", dt.date(2026, 9, 4)), ("I5", dt.date(2026, 9, 5))]


@pytest.mark.parametrize("rewritten", [
    [GOOD_ITEM, ("I2", *GOOD_ITEM[1:])],
    [(*GOOD_ITEM[:8], "9.99", *GOOD_ITEM[9:])],  # as many rows, one amount changed
], ids=["a row more", "as many rows"])
def test_an_export_rewritten_between_the_two_reads_is_read_by_the_exact_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rewritten) -> None:
    write(tmp_path, [GOOD_ITEM], [GOOD_SUB])
    first_read = file_selection._selected

    def then_rewritten(*args, **kwargs):  # type: ignore[no-untyped-def]
        selected = first_read(*args, **kwargs)
        write(tmp_path, rewritten, [GOOD_SUB])
        return selected

    monkeypatch.setattr(file_selection, "_selected", then_rewritten)
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)

    assert read_selection_files(csv_files(tmp_path), CONFIG, rules, (), "x") is None


def test_an_export_gone_before_its_second_read_is_refused_in_the_exact_readers_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second read runs in a thread: what it raises is still the source's error."""
    write(tmp_path, [GOOD_ITEM], [GOOD_SUB])
    read = CsvExport.read

    def gone_before_the_second(self: CsvExport, selection: bool) -> TextTable | None:
        if not selection and self.entity == "open_items":
            self.path.unlink()
        return read(self, selection)

    monkeypatch.setattr(CsvExport, "read", gone_before_the_second)
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)

    with pytest.raises(SourceError, match=r"open_items\.csv: missing file: open_items\.csv"):
        read_for_rules(Location.of(tmp_path), CONFIG, rules, ())


def test_an_export_gone_before_it_is_first_read_is_refused_in_the_exact_readers_words(
        tmp_path: Path) -> None:
    write(tmp_path, [GOOD_ITEM], [GOOD_SUB])
    files = csv_files(tmp_path)
    files["open_items"].unlink()
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)

    with pytest.raises(SourceError, match=r"open_items\.csv: cannot read the file"):
        read_selection_files(files, CONFIG, rules, (), "x")


def _write_cp1252(folder: Path) -> None:
    write(folder, [(*GOOD_ITEM[:2], "Müller Zoé", *GOOD_ITEM[3:])], [GOOD_SUB])
    for name in ("open_items.csv", "subscriptions.csv"):
        text = (folder / name).read_text(encoding="utf-8-sig")
        (folder / name).write_bytes(text.encode("cp1252"))


def test_the_utf8_copy_of_a_windows_1252_export_is_removed_once_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_cp1252(tmp_path / "export")
    spare = tmp_path / "temp"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)

    narrowed = read_selection_files(csv_files(tmp_path / "export"), CONFIG, rules, (), "x")

    assert narrowed is not None
    assert narrowed[0].items[0].customer_name == "Müller Zoé"
    assert list(spare.iterdir()) == []


def test_an_export_whose_utf8_copy_cannot_be_written_is_read_by_the_exact_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_cp1252(tmp_path)

    def disk_full(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    rules = Rules(threshold=Decimal("5.00"), as_of=AS_OF)

    assert read_selection_files(csv_files(tmp_path), CONFIG, rules, (), "x") is None
    ledger, balances, _ = read_for_rules(Location.of(tmp_path), CONFIG, rules, ())
    assert balances is None  # the whole ledger, read exactly
    assert ledger.items[0].customer_name == "Müller Zoé"
