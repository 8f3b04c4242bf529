"""The ribbon's Python side, on an in-memory stand-in for a workbook open in Excel."""

import datetime as dt
import inspect

import pytest
import xlwings as xw

from addin.excel import buttons
from addin.excel.live import READ_OPTIONS, XLWINGS_API
from addin.workbook.review import layout
from addin.workbook.review.render import template_content
from tests.builders import small_utility, write_csv_ledger
from tests.excel.stand_in import Book, ExcelError


@pytest.fixture
def book(tmp_path):
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    inputs = {"source": str(source), "threshold": 5.0, "as_of": dt.datetime(2026, 11, 30),
              "out_dir": str(tmp_path / "exports")}
    return Book.from_content(tmp_path / "Reliquat.xlsm", template_content("en", inputs))


def residual_rows(book):
    rows = book.sheets["Residuals"].used_range.options(ndim=2).value
    return rows[1:]


def test_every_xlwings_name_the_excel_side_uses_exists_in_xlwings():
    for class_name, members in XLWINGS_API.items():
        cls = getattr(xw, class_name)
        for member in members:
            assert hasattr(cls, member), f"xlwings.{class_name}.{member}"
    assert "buttons" in inspect.signature(xw.App.alert).parameters
    for option in READ_OPTIONS:
        assert f"{option}:" in xw.Range.options.__doc__, f"xlwings.Range.options({option}=)"


def test_extract_fills_the_sheets_in_bulk_and_hands_back_the_status_bar(book):
    buttons.extract(book)
    assert [(r[0], r[10], r[13]) for r in residual_rows(book)] == [
        ("S1", "REBILL", "REBILL"), ("S2", "TRANSFER", "TRANSFER"),
        ("S4", "WRITE_OFF", "WRITE_OFF"), ("S5", "KEEP", "KEEP")]
    assert residual_rows(book)[1][2] == "=Dupont"  # a name, written as text
    assert book.names["RLQ_ALTS"].refers_to == "='Lists'!$C$1:$C$3"
    app = book.app
    assert app.status_bar is False and "Reliquat: Reading the source…" in app.status_history
    assert (app.screen_updating, app.calculation) == (True, "automatic")
    assert app.alerts[-1][1].startswith("4 subscription(s) flagged")
    assert app.writes < 30  # whole blocks, not cell by cell


def test_a_bad_source_shows_a_message_and_leaves_the_sheets_as_they_were(book, tmp_path):
    buttons.extract(book)
    before = {s.name: dict(s.cells) for s in book.sheets}
    (tmp_path / "erp" / "open_items.csv").unlink()
    buttons.extract(book)
    title, message = book.app.alerts[-1]
    assert title == "Reliquat – Extract" and "missing file: open_items.csv" in message
    assert {s.name: dict(s.cells) for s in book.sheets} == before


def test_commit_writes_the_files_stamps_and_saves_the_workbook(book, tmp_path):
    buttons.extract(book)
    for row in range(2, 5):
        book.sheets["Residuals"].range((row, 16)).value = "Yes"
    saves = book.saves
    buttons.commit(book)
    assert "Batch B" in book.app.alerts[-1][1]
    batch = residual_rows(book)[0][17]
    assert [r[17] for r in residual_rows(book)] == [batch, batch, batch, None]
    exports = tmp_path / "exports"
    assert sorted(p.name for p in exports.iterdir()) == sorted([
        f"postings_{batch}.csv", f"rebill_{batch}.csv", f"batch_{batch}.json",
        f"batch_{batch}.xlsm"])
    assert book.saves == saves + 1
    journal = book.sheets["Journal"].used_range.options(ndim=2).value
    assert [r[3] for r in journal[1:]] == ["batch", "action", "action", "action"]


def test_commit_saves_the_workbook_in_automatic_calculation_with_the_screen_on(book):
    """Excel stores the calculation mode in the file: saved in manual, the review and its
    audit copy would reopen in manual and switch the whole Excel session to manual."""
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    buttons.commit(book)
    assert book.app.alerts[-1][1].startswith("Batch B")
    assert book.saved_with[-1] == (True, "automatic")
    assert (book.app.screen_updating, book.app.calculation) == (True, "automatic")


def test_commit_saves_a_workbook_in_the_calculation_mode_its_user_had(book):
    book.app.calculation = "semiautomatic"
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    buttons.commit(book)
    assert book.saved_with[-1] == (True, "semiautomatic")
    assert (book.app.screen_updating, book.app.calculation) == (True, "semiautomatic")


def test_validate_writes_each_rows_check_and_commits_nothing(book, tmp_path):
    buttons.extract(book)
    book.sheets["Residuals"].range((3, 14)).value = "REBILL"
    book.sheets["Residuals"].range((3, 16)).value = "Yes"
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    buttons.validate(book)
    rows = residual_rows(book)
    assert rows[1][18].startswith("REBILL needs an active subscription: S2 is terminated")
    assert not (tmp_path / "exports").exists()


def test_an_excel_error_in_a_decision_cell_is_refused_naming_the_cell(book, tmp_path):
    buttons.extract(book)
    residuals = book.sheets["Residuals"]
    residuals.range((2, 16)).value = "Yes"
    residuals.cells[(3, 16)] = ExcelError("#N/A")  # Accept
    residuals.cells[(4, 15)] = ExcelError("#SPILL!")  # Target subscription
    residuals.cells[(2, 7)] = ExcelError("#REF!")  # Balance
    before = {s.name: dict(s.cells) for s in book.sheets}
    buttons.commit(book)
    error = "is an Excel error, not a value: correct the cell or clear it"
    assert book.app.alerts[-1][1] == "\n".join([
        "Commit refused. Nothing was changed.\n",
        f"{book.fullname}, line 2, column 'Residuals!Balance': #REF! {error}",
        f"{book.fullname}, line 4, column 'Residuals!Target subscription': #SPILL! {error}",
        f"{book.fullname}, line 3, column 'Residuals!Accept': #N/A {error}"])
    assert {s.name: dict(s.cells) for s in book.sheets} == before
    assert not (tmp_path / "exports").exists()


def test_commit_asks_before_leaving_out_rows_paid_since_extraction(book, tmp_path):
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    book.sheets["Residuals"].range((3, 16)).value = "Yes"
    items = tmp_path / "erp" / "open_items.csv"
    items.write_text("\n".join(line for line in items.read_text(encoding="utf-8-sig")
                               .splitlines() if not line.startswith("I1;")) + "\n",
                     encoding="utf-8")
    book.app.answers = ["no"]
    buttons.commit(book)
    assert "Commit the other rows?" in book.app.alerts[-2][1]
    assert residual_rows(book)[1][17] is None and not (tmp_path / "exports").exists()
    book.app.answers = ["yes"]
    buttons.commit(book)
    rows = residual_rows(book)
    assert rows[0][17] is None and rows[1][17].startswith("B")
    assert rows[0][18] == "not committed: item I1 is no longer open in the source"


def test_a_commit_that_cannot_write_its_files_changes_nothing(book, tmp_path, monkeypatch):
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    before = {s.name: dict(s.cells) for s in book.sheets}

    def fail(path, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("addin.commit.writing.write_rebills", fail)
    buttons.commit(book)
    message = book.app.alerts[-1][1]
    assert message.startswith("Commit refused. Nothing was changed.")
    assert "rebill_B" in message and "cannot write: No space left on device" in message
    assert {s.name: dict(s.cells) for s in book.sheets} == before
    exports = tmp_path / "exports"
    assert not exports.exists() or list(exports.iterdir()) == []


def test_excel_failing_to_save_after_the_commit_says_the_batch_is_committed(book, tmp_path,
                                                                            monkeypatch):
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    before = {s.name: dict(s.cells) for s in book.sheets}

    def fail():
        raise RuntimeError("the file is read-only")

    monkeypatch.setattr(book, "save", fail)
    buttons.commit(book)
    message = book.app.alerts[-1][1]
    assert message.startswith("Batch B") and "could not be stamped in Excel" in message
    assert {s.name: dict(s.cells) for s in book.sheets} == before
    assert len(list((tmp_path / "exports").glob("postings_B*.csv"))) == 1


def test_a_large_sheet_goes_to_excel_in_blocks_of_rows(book, monkeypatch):
    from addin.excel import live

    monkeypatch.setattr(live, "BLOCK_ROWS", 2)
    buttons.extract(book)
    assert [(r[0], r[13]) for r in residual_rows(book)] == [
        ("S1", "REBILL"), ("S2", "TRANSFER"), ("S4", "WRITE_OFF"), ("S5", "KEEP")]
    items = book.sheets["Items"].used_range.options(ndim=2).value
    assert len(items) > 5 and items[0][0] == "Subscription"


def _cell(sheet: str, key: str, line: int, value: object):
    """An edit of one cell, by its column key."""
    column = {"Residuals": layout.RESIDUALS, "Items": layout.ITEMS}[sheet].index(key) + 1

    def edit(book) -> None:
        book.sheets[sheet].range((line, column)).value = value
    return edit


def _cleared(sheet: str):
    return lambda book: book.sheets[sheet].clear_contents()


@pytest.mark.parametrize("edit, expected", [
    (_cleared("Control"), "sheet 'Control' is empty"),
    (_cleared("Residuals"), "sheet 'Residuals': column missing"),
    (_cell("Residuals", "balance", 1, None), "sheet 'Residuals': column missing"),
    (_cell("Residuals", "balance", 2, None), "not an amount: None"),  # an error cell
    (_cell("Residuals", "balance", 2, True), "not an amount: True"),
    (_cell("Items", "due_date", 2, "31.02.2026"), "no such date: '31.02.2026'"),
    (_cell("Items", "open_amount", 2, dt.datetime(2026, 1, 1)), "not an amount"),
], ids=["Control cleared", "Residuals cleared", "Balance header cleared", "Balance empty",
        "Balance a boolean", "Due date no date", "Open amount a date"])
def test_an_odd_sheet_is_refused_naming_the_place_never_a_crash(book, edit, expected):
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    edit(book)
    buttons.validate(book)
    message = book.app.alerts[-1][1]
    assert message.startswith("Validate refused. Nothing was changed."), message
    assert expected in message and book.fullname in message


def test_a_hidden_alternatives_index_that_is_no_number_is_ignored(book):
    """A text such as 1e999 reads as an infinite float: no alternative offered, no crash."""
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    _cell("Residuals", "alt_start", 2, float("inf"))(book)
    buttons.validate(book)
    assert book.app.alerts[-1][1] == "1 row(s) ready to commit."


def _control(book, key: str, value: object) -> None:
    """Type a value into the Control sheet's input ``key``."""
    sheet = book.sheets["Control"]
    rows = sheet.used_range.options(ndim=2).value
    line = next(i for i, r in enumerate(rows, start=1) if r[2] == key)
    sheet.range((line, 2)).value = value


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Python runs in the interpreter's folder under RunPython, not in the workbook's."""
    folder = tmp_path / "python"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def _commit_first_row(book) -> str:
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    buttons.commit(book)
    message = book.app.alerts[-1][1]
    assert message.startswith("Batch B"), message
    return residual_rows(book)[0][17]


def test_a_relative_source_on_control_is_read_from_the_workbooks_folder(book, elsewhere):
    _control(book, "source", "erp")
    buttons.extract(book)
    assert book.app.alerts[-1][1].startswith("4 subscription(s) flagged")
    assert _commit_first_row(book).startswith("B")


def test_a_relative_config_on_control_is_read_from_the_workbooks_folder(book, tmp_path,
                                                                      elsewhere):
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "team.toml").write_text('[accounts]\ntransit = "1090"\n\n'
                                        '[register]\npath = "register.sqlite"\n',
                                        encoding="utf-8")
    _control(book, "config", "settings/team.toml")
    buttons.extract(book)
    batch = _commit_first_row(book)
    assert (settings / "register.sqlite").is_file()  # relative to the config file
    postings = (tmp_path / "exports" / f"postings_{batch}.csv").read_text(encoding="utf-8")
    assert ";1090;1100;" in postings


def test_a_relative_export_folder_on_control_is_taken_from_the_workbooks_folder(book,
                                                                              tmp_path,
                                                                              elsewhere):
    _control(book, "out_dir", "batches/2026")
    buttons.extract(book)
    batch = _commit_first_row(book)
    assert (tmp_path / "batches" / "2026" / f"postings_{batch}.csv").is_file()
    assert not (tmp_path / "exports").exists() and list(elsewhere.iterdir()) == []


def test_without_an_export_folder_the_files_go_to_exports_beside_the_workbook(book, tmp_path,
                                                                             elsewhere):
    _control(book, "out_dir", None)
    buttons.extract(book)
    batch = _commit_first_row(book)
    assert (tmp_path / "exports" / f"batch_{batch}.json").is_file()
    assert list(elsewhere.iterdir()) == []


def test_reverse_undoes_the_batch_whose_journal_block_is_selected(book, tmp_path):
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    buttons.commit(book)
    batch = residual_rows(book)[0][17]
    book.select("Journal", 2)
    book.app.answers = ["yes"]
    buttons.reverse(book)
    message = book.app.alerts[-1][1]
    assert f"reverses batch {batch}" in message and "1 posting line(s) swapped" in message
    journal = book.sheets["Journal"].used_range.options(ndim=2).value
    assert journal[-1][3] == "reversal" and f"reverses {batch}" in journal[-1][9]
    assert len(list((tmp_path / "exports").glob("postings_B*.csv"))) == 2


def test_reverse_asks_first_and_needs_a_journal_cell(book):
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"
    buttons.commit(book)
    book.select("Residuals", 2)
    buttons.reverse(book)
    assert "select a cell of the batch's block on the Journal sheet" in book.app.alerts[-1][1]
    book.select("Journal", 2)
    book.app.answers = ["no"]
    buttons.reverse(book)
    assert book.app.alerts[-1][1].endswith("was not reversed.")


def test_a_button_says_first_what_it_finished_of_a_killed_commit(book, tmp_path,
                                                                  monkeypatch):
    buttons.extract(book)
    book.sheets["Residuals"].range((2, 16)).value = "Yes"

    def fail(name: str) -> None:
        if name == "exported":
            raise RuntimeError("killed")

    with monkeypatch.context() as m:
        m.setattr("addin.commit.protocol.checkpoint", fail)
        buttons.commit(book)
    assert book.app.alerts[-1][1].startswith("Commit failed.")
    buttons.validate(book)
    message = book.app.alerts[-1][1]
    assert message.startswith("An interrupted commit was dealt with first:\n- batch B")
    assert "was interrupted after its files became visible: finished" in message
    assert len(list((tmp_path / "exports").glob("postings_B*.csv"))) == 1
