"""Queries run beside the ones on a connection, each on a connection of its own.

The pushdown's whole scans of the items (a count, the small items kept out, the checks of
the rows it does not fetch) need no result until the end: they run meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")
SCANS_BESIDE = 2
Work = Callable[[Connection], T]  # a query to run, on the connection it is given


class Run(Protocol):
    """How a Work is run beside: its result to come."""

    def __call__(self, work: Work[T]) -> Future[T]: ...


@contextmanager
def beside(conn: Connection) -> Iterator[Run]:
    """A way to run queries beside the ones on ``conn``: on connections of their own, in
    ``SCANS_BESIDE`` threads (a server runs each connection's queries on its own core;
    SQLite lets go of Python's lock while it runs one); on ``conn`` itself, at once, for a
    SQLite database in memory, which another connection would not see."""
    if conn.dialect.name == "sqlite" and not _is_sqlite_file(conn):
        def at_once(work: Work[T]) -> Future[T]:
            done: Future[T] = Future()
            done.set_result(work(conn))
            return done

        yield at_once
        return
    own = threading.local()
    opened: list[Connection] = []

    def on_own_connection(work: Work[T]) -> T:
        if not hasattr(own, "connection"):
            own.connection = conn.engine.connect()
            opened.append(own.connection)
        return work(own.connection)

    pool = ThreadPoolExecutor(SCANS_BESIDE, thread_name_prefix="reliquat-scan")
    try:
        yield lambda work: pool.submit(on_own_connection, work)
    except BaseException:
        pool.shutdown(cancel_futures=True)  # a refused ledger: the scans not begun are moot
        raise
    finally:
        pool.shutdown()
        for connection in opened:
            connection.close()


def _is_sqlite_file(conn: Connection) -> bool:
    databases = conn.exec_driver_sql("PRAGMA database_list").fetchall()
    return any(name == "main" and path for _, name, path in databases)
