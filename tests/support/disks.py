"""Real full and read-only file systems for tests: a small tmpfs mounted in the test's folder
(needs root, as on the CI machines; elsewhere the tests that need it are skipped)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(folder: Path, size_kb: int = 256) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs",
                           str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path, leave_bytes: int) -> None:
    """Fill the disk until only about ``leave_bytes`` are free."""
    import os

    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    (disk / "filler.bin").write_bytes(b"\0" * max(free - leave_bytes, 0))


def read_only(disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
