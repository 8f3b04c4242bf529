"""One register per installation: where it is, who it is, what it refuses to be, and what it
says when it cannot be used."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from addin import api
from addin.config import load_config
from addin.domain.problems import CommitRefused, ConfigError, ReliquatError
from addin.register import lock, store
from addin.register.location import default_register
from addin.register.store import Register
from tests.builders import AS_OF, small_utility, with_register, write_csv_ledger
from tests.support.exports import exported_items, leftovers

NOW = dt.datetime(2026, 11, 30, 9, 0)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_csv_ledger(tmp_path / "erp", *small_utility())


def test_the_default_register_is_in_the_users_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home-data"))
    assert default_register().path == tmp_path / "home-data" / "Reliquat" / "register.sqlite"


def test_the_config_names_a_register_file_relative_to_itself_or_a_database_url(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('[register]\npath = "registers/r.sqlite"\n', encoding="utf-8")
    assert load_config(path).register.path == tmp_path / "registers" / "r.sqlite"
    path.write_text('[register]\nurl = "postgresql+psycopg://anna:secret@db/reliquat"\n',
                    encoding="utf-8")
    assert load_config(path).register.shown == "postgresql+psycopg://anna:***@db/reliquat"
    path.write_text('[register]\npath = "r.sqlite"\nurl = "sqlite:///r.sqlite"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[register\]: give path or url, not both"):
        load_config(path)


def test_extract_records_the_registers_identity_and_keys_the_review(source, tmp_path):
    plain = api.extract(source, tmp_path / "before.xlsx", as_of=AS_OF)
    assert plain.register_id == "" and not default_register().path.exists()
    created = api.register_init()
    keyed = api.extract(source, tmp_path / "after.xlsx", as_of=AS_OF)
    assert keyed.register_id == created.register_id and keyed.register_id.startswith("R")
    assert api.register_init().lines == (
        f"register {created.register_id} already there at {created.register}",)


@pytest.mark.parametrize(("content", "says"), [
    (b"not a database at all, just text", "not a Reliquat register, or a damaged one"),
    (None, "not a Reliquat register (no reliquat_info table)"),
])
def test_a_foreign_or_damaged_register_file_is_refused_naming_it(source, tmp_path, content,
                                                                  says):
    path = default_register().path
    path.parent.mkdir(parents=True)
    if content is None:
        sqlite3.connect(path).execute("CREATE TABLE invoices (id TEXT)").connection.commit()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(ReliquatError) as refused:
        api.extract(source, tmp_path / "review.xlsx", as_of=AS_OF)
    assert f"{path}: register: {says}" in str(refused.value)
    assert path.read_bytes() == before and not (tmp_path / "review.xlsx").exists()


def test_a_register_of_the_first_layout_points_to_rebuild(source, tmp_path):
    path = default_register().path
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE batches (batch_id TEXT)")
        conn.execute("CREATE TABLE committed_items (item_id TEXT)")
    with pytest.raises(ReliquatError, match="a register of an earlier Reliquat .* 'reliquat "
                                            "register rebuild --out-dir FOLDER'"):
        api.extract(source, tmp_path / "review.xlsx", as_of=AS_OF)


def test_a_register_busy_in_another_process_is_refused_in_words(source, tmp_path,
                                                                monkeypatch):
    api.register_init()
    review = tmp_path / "review.xlsx"
    api.extract(source, review, as_of=AS_OF)
    monkeypatch.setattr(store, "BUSY_SECONDS", 0.2)
    holder = sqlite3.connect(default_register().path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(ReliquatError) as refused:
            api.commit(review, tmp_path / "out", accept_proposals=True)
    finally:
        holder.rollback()
        holder.close()
    message = str(refused.value)
    assert "register: busy: another process has held it for more than 0.2 s (database is " \
           "locked); try again in a moment" in message
    assert "SELECT" not in message and "INSERT" not in message
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_second_commit_waits_for_the_first_then_says_who_holds_it(source, tmp_path,
                                                                    monkeypatch):
    api.register_init()
    review = tmp_path / "review.xlsx"
    api.extract(source, review, as_of=AS_OF)
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.3)
    with lock.commit_lock(Register(default_register())), \
            pytest.raises(ReliquatError) as refused:
        api.commit(review, tmp_path / "out", accept_proposals=True)
    assert "register: another commit is in progress (" in str(refused.value)
    assert ", process " in str(refused.value)
    assert api.commit(review, tmp_path / "out", accept_proposals=True).batch is not None


# --- the export folder as a second witness ----------------------------------------------------


def test_a_lost_register_cannot_export_again_and_is_rebuilt_from_the_records(source,
                                                                             tmp_path):
    review = tmp_path / "review.xlsx"
    api.extract(source, review, as_of=AS_OF)
    first = api.commit(review, tmp_path / "out", accept_proposals=True).batch.batch_id
    default_register().path.unlink()  # lost: a new laptop, a wiped profile
    again = tmp_path / "again.xlsx"
    api.extract(source, again, as_of=AS_OF)
    with pytest.raises(CommitRefused) as refused:
        api.commit(again, tmp_path / "out", accept_proposals=True)
    message = str(refused.value)
    assert f"item I1 was already exported in batch {first} (batch_{first}.json in the " \
           f"export folder)" in message
    assert f"batch {first} is in the export folder but not in the register" in message
    checked = api.register_check([tmp_path / "out"])
    assert [str(p) for p in checked.problems] == [
        f"{tmp_path / 'out' / f'batch_{first}.json'}: batch {first} is not in the register "
        f"(4 item(s)); 'reliquat register rebuild' records it"]
    rebuilt = api.register_rebuild([tmp_path / "out"])
    assert rebuilt.lines == (f"batch {first}: 4 item(s) recorded from "
                             f"{tmp_path / 'out' / f'batch_{first}.json'}",)
    assert api.register_check([tmp_path / "out"]).problems == ()
    later = api.extract(source, tmp_path / "later.xlsx", as_of=AS_OF)
    assert [r.subscription.subscription_id for r in later.selection.residuals] == ["S5"]
    assert dict(exported_items(tmp_path / "out")) == {"I1": 1, "I3": 1, "I4": 1, "I5": 1}


def test_a_record_of_the_first_layout_gives_its_items_through_its_posting_file(source,
                                                                               tmp_path):
    review = tmp_path / "review.xlsx"
    api.extract(source, review, as_of=AS_OF)
    batch = api.commit(review, tmp_path / "out", accept_proposals=True).batch.batch_id
    record = tmp_path / "out" / f"batch_{batch}.json"
    data = json.loads(record.read_text(encoding="utf-8"))
    for key in ("items", "item_columns", "register"):
        del data[key]
    record.write_text(json.dumps(data), encoding="utf-8")
    default_register().path.unlink()
    rebuilt = api.register_rebuild([tmp_path / "out"])
    assert rebuilt.lines == (f"batch {batch}: 4 item(s) recorded from {record}",)
    items = {i.item_id: (i.amount, i.action, i.target)
             for i in Register(default_register()).items_of(batch)}
    assert items == {"I1": ("0.50", "REBILL", None), "I3": ("4.99", "TRANSFER", "S3"),
                     "I4": ("-1.00", "TRANSFER", "S3"), "I5": ("0.70", "WRITE_OFF", None)}


def test_check_names_an_export_file_changed_after_it_was_written(source, tmp_path):
    review = tmp_path / "review.xlsx"
    api.extract(source, review, as_of=AS_OF)
    batch = api.commit(review, tmp_path / "out", accept_proposals=True).batch.batch_id
    postings = tmp_path / "out" / f"postings_{batch}.csv"
    postings.write_text(postings.read_text(encoding="utf-8").replace("0.50", "0.05"),
                        encoding="utf-8")
    problems = [str(p) for p in api.register_check([tmp_path / "out"]).problems]
    assert problems == [f"{postings}: changed since it was exported (its sha256 differs from "
                        f"the record)"]


def test_the_register_command_line_checks_and_rebuilds(source, tmp_path, capsys):
    from addin.cli import main

    review = tmp_path / "review.xlsx"
    api.extract(source, review, as_of=AS_OF)
    api.commit(review, tmp_path / "out", accept_proposals=True)
    assert main(["register", "check", "--out-dir", str(tmp_path / "out")]) == 0
    assert "The register and the export folders agree." in capsys.readouterr().out
    default_register().path.unlink()
    assert main(["register", "check", "--out-dir", str(tmp_path / "out")]) == 1
    assert main(["register", "rebuild", "--out-dir", str(tmp_path / "out")]) == 0
    assert main(["register", "check", "--out-dir", str(tmp_path / "out")]) == 0


# --- a register a team shares on a server ------------------------------------------------------


@pytest.mark.database
def test_a_team_shares_one_register_on_a_server_without_its_password(source, tmp_path,
                                                                     postgres_url):
    url = postgres_url.replace("postgres@", "postgres:S3cret@")
    team = tmp_path / "team.toml"
    team.write_text(f'[register]\nurl = "{url}"\n', encoding="utf-8")
    config = load_config(team)
    created = api.register_init(config)
    assert "S3cret" not in created.register and ":***@" in created.register
    anna, bruno = tmp_path / "anna.xlsx", tmp_path / "bruno.xlsx"
    api.extract(source, anna, as_of=AS_OF, config=config)
    api.extract(source, bruno, as_of=AS_OF, config=config)
    api.commit(anna, tmp_path / "anna-out", accept_proposals=True, config=config)
    with pytest.raises(CommitRefused, match="item I1 was already committed in batch B"):
        api.commit(bruno, tmp_path / "bruno-out", accept_proposals=True, config=config)
    register = Register(config.register)
    assert all("S3cret" not in e.source and "S3cret" not in json.dumps(e.plan)
               for e in register.entries())
    register.close()


@pytest.mark.database
def test_a_server_register_holds_the_commit_lock_for_its_session(source, tmp_path,
                                                                 server_url, monkeypatch):
    config = with_register(tmp_path / "unused.sqlite")
    from dataclasses import replace

    from addin.locations import Location

    config = replace(config, register=Location.of(server_url))
    api.register_init(config)
    review = tmp_path / "review.xlsx"
    api.extract(source, review, as_of=AS_OF, config=config)
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.3)
    register = Register(config.register)
    with lock.commit_lock(register), pytest.raises(ReliquatError,
                                                   match="another commit is in progress"):
        api.commit(review, tmp_path / "out", accept_proposals=True, config=config)
    register.close()
    outcome = api.commit(review, tmp_path / "out", accept_proposals=True, config=config)
    assert len(outcome.batch.item_ids) == 4
    assert leftovers(tmp_path / "out", tmp_path) == []
