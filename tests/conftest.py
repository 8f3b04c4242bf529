"""Shared fixtures: real database servers, each in a database of its own that is dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

SERVERS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/{db}",
}
ADMIN_DB = {"postgresql": "test", "mariadb": "test"}


def _scratch_database(kind: str) -> Iterator[str]:
    admin_url = SERVERS[kind].format(db=ADMIN_DB[kind])
    name = f"reliquat_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # any driver or connection error means: no server to test on
        pytest.skip(f"{kind} server not reachable at {admin_url}: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0]}")
    try:
        yield SERVERS[kind].format(db=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()


@pytest.fixture(autouse=True)
def own_register(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                 ) -> None:
    """Each test has its own user data folder, so its default register is its own (Linux's
    platformdirs follows XDG_DATA_HOME), never the real user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


def default_register_file() -> Path:
    from addin.register.location import default_register

    return default_register().path


@pytest.fixture(params=["postgresql", "mariadb"])
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A SQLAlchemy URL to an empty database on a real server (skipped, with why, if down)."""
    yield from _scratch_database(request.param)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """PostgreSQL alone: its trust authentication accepts any password, which a test of
    where passwords go needs (MariaDB's passwordless root refuses one)."""
    yield from _scratch_database("postgresql")


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """MariaDB alone: what only MariaDB/MySQL does (JSON_TABLE, collations)."""
    yield from _scratch_database("mariadb")
