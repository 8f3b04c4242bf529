"""One commit at a time per register, and a lock that dies with its holder.

The lock says whether a batch still pending belongs to a commit that is running (its holder
holds the lock) or to one that was killed (nobody does): only then may it be finished or
undone. The operating system releases it when the process ends, however it ends:
- a file register: an OS lock on ``<register>.lock`` beside it (flock; LockFileEx on Windows);
- PostgreSQL: a session advisory lock; MariaDB/MySQL: GET_LOCK; both end with the session.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from sqlalchemy import text

from addin.register.store import Register, RegisterError

WAIT_SECONDS = 120.0
_POLL = 0.2
_PG_KEY = 0x52454C49_51554154  # "RELIQUAT"
_MY_NAME = "reliquat_commit"


@contextmanager
def commit_lock(register: Register, wait: float | None = None) -> Iterator[None]:
    """Held for a whole commit or recovery; waits up to ``wait`` seconds (WAIT_SECONDS by
    default) for another one."""
    wait = WAIT_SECONDS if wait is None else wait
    file = register.file()
    if file is not None:
        with _file_lock(register, file.with_name(file.name + ".lock"), wait):
            yield
    else:
        with _server_lock(register, wait):
            yield


class LockBusy(RegisterError):
    """Another commit holds the lock."""


def current_user() -> str:
    """Who the register names for a batch, an extraction or a lock."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _holder() -> str:
    return f"{current_user()}@{socket.gethostname()}, process {os.getpid()}, since " \
           f"{time.strftime('%d.%m.%Y %H:%M:%S')}"


def _busy(register: Register, holder: str, wait: float) -> LockBusy:
    from addin.domain.problems import Problem, Where

    who = f" ({holder})" if holder else ""
    return LockBusy([Problem(Where(register.shown),
                          f"register: another commit is in progress{who}; waited {wait:.0f} s, "
                          f"try again when it is done")])


def holder_of(handle: IO[bytes]) -> str:
    """Who holds the lock on ``handle``, as ``held`` wrote it ("" when unknown)."""
    try:
        handle.seek(1)
        return handle.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


@contextmanager
def _file_lock(register: Register, path: Path, wait: float) -> Iterator[None]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+b", buffering=0)  # unbuffered: closing it never writes
    except OSError as exc:
        raise RegisterError(f"cannot lock the register {register.shown}: "
                            f"{exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + wait
        while not try_lock(handle):
            if time.monotonic() >= deadline:
                raise _busy(register, holder_of(handle), wait)
            time.sleep(_POLL)
        with held(handle, _holder()):
            yield
    finally:
        handle.close()


@contextmanager
def held(handle: IO[bytes], holder: str) -> Iterator[None]:
    """The lock just taken on ``handle``, released when the block ends. Who holds it is
    written after the locked byte, only for the message of whoever waits or is refused."""
    with suppress(OSError):
        handle.seek(1)
        handle.truncate()
        handle.write(holder.encode("utf-8"))
    try:
        yield
    finally:
        unlock(handle)


def try_lock(handle: IO[bytes]) -> bool:
    """An exclusive OS lock on the file's first byte, if free now. The holder's details go
    after it: Windows locks block reading the locked byte."""
    handle.seek(0)
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def unlock(handle: IO[bytes]) -> None:
    handle.seek(0)
    if os.name == "nt":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def _server_lock(register: Register, wait: float) -> Iterator[None]:
    engine = register._connect()
    with register._errors("lock"), engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            acquire = text("SELECT pg_try_advisory_lock(:key)").bindparams(key=_PG_KEY)
            release = text("SELECT pg_advisory_unlock(:key)").bindparams(key=_PG_KEY)
        elif dialect in ("mysql", "mariadb"):
            acquire = text("SELECT GET_LOCK(:name, 0)").bindparams(name=_MY_NAME)
            release = text("SELECT RELEASE_LOCK(:name)").bindparams(name=_MY_NAME)
        else:  # no session lock known: the items' primary key still refuses a second claim
            yield
            return
        deadline = time.monotonic() + wait
        while not conn.execute(acquire).scalar():
            conn.commit()
            if time.monotonic() >= deadline:
                raise _busy(register, "", wait)
            time.sleep(_POLL)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(release)
            conn.commit()
