"""One run per workbook: a second click while a button runs is refused.

On macOS RunPython returns at once (AppleScript), so a second click starts a second Python
process beside the first. Each run holds an OS lock (flock; LockFile on Windows) on a file in
the user's temp folder, named after the workbook's full name, for as long as it runs; the
operating system releases it when the process ends, however it ends. The file also says which
button holds it and since when, for the message of a second click.

The temp folder, not the workbook's: that one may be read-only or synced to a cloud, and the
two clicks always come from the same machine. Windows locks are mandatory, so the lock is on
the file's first byte and the holder is written after it, where the second run can read it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from addin.domain.problems import Problem, ReliquatError, Where
from addin.register.lock import held, holder_of, try_lock


class AlreadyRunning(ReliquatError):
    """A button is running on this workbook in another process."""


@contextmanager
def one_run(workbook: str, action: str) -> Iterator[None]:
    """Held while ``action`` (Extract, Validate, Commit) runs on ``workbook`` (its full
    name); refused at once, with who holds it, when another run holds it."""
    path = lock_file(workbook)
    handle = _open(path)
    try:
        if not try_lock(handle):
            raise AlreadyRunning(_refusal(_holder(handle)))
        with held(handle, json.dumps({"action": action, "since": f"{dt.datetime.now():%H:%M}",
                                      "pid": os.getpid()})):
            yield
    finally:
        handle.close()


def lock_file(workbook: str) -> Path:
    key = os.path.normcase(os.path.abspath(workbook))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"reliquat-run-{digest}.lock"


def _open(path: Path) -> IO[bytes]:
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ReliquatError([Problem(Where(str(path)),
                                     f"cannot create the file that keeps two runs on one "
                                     f"workbook apart: {exc.strerror or exc}")]) from exc
    return os.fdopen(descriptor, "r+b", buffering=0)


def _holder(handle: IO[bytes]) -> dict[str, object]:
    try:
        found = json.loads(holder_of(handle))
    except ValueError:  # the first run has not written it yet
        return {}
    return found if isinstance(found, dict) else {}


def _refusal(holder: dict[str, object]) -> list[Problem]:
    what = f" {holder['action']}" if holder.get("action") else ""
    since = f" (since {holder['since']})" if holder.get("since") else ""
    return [Problem(Where(), f"Reliquat is already running{what} on this workbook{since}; "
                             f"wait for it to finish")]
