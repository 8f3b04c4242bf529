"""A database password is used to connect and written nowhere: not in the workbook, the
batch record, the exports, the register or the command's output."""

import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from addin.demo.ledger import generate_ledger
from addin.locations import redact, with_password

SECRET = "S3cret-Passw0rd"


def test_a_recorded_url_shows_no_password():
    assert redact(f"postgresql+psycopg://anna:{SECRET}@db.local/erp") == \
        "postgresql+psycopg://anna:***@db.local/erp"


def test_the_password_comes_from_the_environment_when_the_url_has_none(monkeypatch):
    monkeypatch.setenv("RELIQUAT_DB_PASSWORD", SECRET)
    url = make_url(with_password("postgresql+psycopg://anna:***@db.local/erp"))
    assert url.password == SECRET
    monkeypatch.delenv("RELIQUAT_DB_PASSWORD")
    assert make_url(with_password(f"postgresql+psycopg://anna:{SECRET}@db/erp")).password == \
        SECRET


def every_text_written(folder: Path) -> str:
    texts = []
    for path in folder.rglob("*"):
        if path.suffix in (".xlsx", ".xlsm"):
            with zipfile.ZipFile(path) as package:
                texts += [package.read(n).decode("utf-8", "replace") for n in package.namelist()]
        elif path.is_file():
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


@pytest.mark.database
def test_no_password_is_written_anywhere(postgres_url, tmp_path):
    generate_ledger(postgres_url, customers=300, as_of=dt.date(2026, 11, 30))
    url = make_url(postgres_url).set(password=SECRET).render_as_string(hide_password=False)
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "addin", *args], capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "RELIQUAT_DB_PASSWORD": SECRET})
    review = tmp_path / "work" / "review.xlsx"
    extracted = run("extract", "--source", url, "--out", str(review), "--as-of", "30.11.2026")
    assert extracted.returncode == 0, extracted.stderr
    committed = run("commit", str(review), "--out-dir", str(tmp_path / "work" / "out"),
                    "--accept-proposals")  # re-reads the source: the password from the env
    assert committed.returncode == 0, committed.stderr
    written = every_text_written(tmp_path / "work")
    assert ":***@" in written
    assert SECRET not in written + extracted.stdout + extracted.stderr + committed.stdout
