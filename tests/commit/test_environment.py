"""A commit on a full disk or a read-only folder: a refusal naming the file, and nothing
half-written anywhere (export folder, workbook folder, register)."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from addin import api
from addin.config import Config
from addin.domain.problems import ReliquatError
from addin.locations import Location
from addin.register.location import default_register
from addin.register.store import Register
from tests.builders import AS_OF, small_utility, write_csv_ledger
from tests.support.disks import fill, read_only, small_disk
from tests.support.exports import leftovers


@pytest.fixture
def review(tmp_path: Path) -> Path:
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    api.register_init()
    out = tmp_path / "review.xlsx"
    api.extract(source, out, as_of=AS_OF, now=dt.datetime(2026, 11, 30, 9))
    return out


def refused(review: Path, out_dir: Path, config: Config | None = None) -> str:
    before = review.read_bytes()
    with pytest.raises(ReliquatError) as error:
        api.commit(review, out_dir, accept_proposals=True, config=config)
    assert review.read_bytes() == before
    assert leftovers(review.parent) == []
    return str(error.value)


def test_a_full_export_folder(review, tmp_path):
    with small_disk(tmp_path / "exports") as disk:
        fill(disk, leave_bytes=4096)
        message = refused(review, disk)
        assert "cannot write: No space left on device" in message
        assert str(disk) in message
        assert sorted(p.name for p in disk.iterdir()) == ["filler.bin"]
    assert Register(default_register()).entries() == []


def test_a_read_only_export_folder(review, tmp_path):
    with small_disk(tmp_path / "exports") as disk:
        read_only(disk)
        message = refused(review, disk / "batches")
        assert f"{disk / 'batches'}: cannot create the export folder: Read-only file system" \
            in message
    assert Register(default_register()).entries() == []


def test_a_full_workbook_folder(review, tmp_path):
    with small_disk(tmp_path / "work", size_kb=128) as disk:
        moved = disk / "review.xlsx"
        shutil.copyfile(review, moved)
        fill(disk, leave_bytes=2048)
        message = refused(moved, tmp_path / "out")
        assert "cannot write the stamped workbook beside review.xlsx: No space left on " \
               "device" in message
        assert sorted(p.name for p in disk.iterdir()) == ["filler.bin", "review.xlsx"]
    assert list((tmp_path / "out").iterdir()) == []
    assert Register(default_register()).entries() == []


def test_a_read_only_workbook_folder(review, tmp_path):
    with small_disk(tmp_path / "work") as disk:
        moved = disk / "review.xlsx"
        shutil.copyfile(review, moved)
        read_only(disk)
        message = refused(moved, tmp_path / "out")
        assert "cannot write the stamped workbook beside review.xlsx: Read-only file system" \
            in message
    assert list((tmp_path / "out").iterdir()) == []


def test_a_full_disk_under_the_register(tmp_path):
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    review = tmp_path / "review.xlsx"
    with small_disk(tmp_path / "registers", size_kb=64) as disk:
        config = replace(Config(), register=Location.of(disk / "register.sqlite"))
        api.extract(source, review, as_of=AS_OF, config=config)
        fill(disk, leave_bytes=1024)
        message = refused(review, tmp_path / "out", config)
        assert f"{disk / 'register.sqlite'}: register: cannot" in message
        assert "full" in message or "No space left" in message
        assert sorted(p.name for p in disk.iterdir() if p.suffix != ".lock") == ["filler.bin"]
    assert not (tmp_path / "out").exists()
