"""A database URL whose driver is not installed: the message names Reliquat's extra to
install, wherever the URL is opened (a source, a team register, a worksheet function)."""

from __future__ import annotations

import importlib.abc
import sys
from pathlib import Path

import pytest

from addin import api
from addin.config import load_config
from addin.domain.problems import ReliquatError

DRIVERS = ("psycopg", "psycopg2", "pymysql", "MySQLdb")
INSTALL = "(from the folder that holds your copy of Reliquat: python -m pip install " \
          "\"./reliquat[{extra}]\")"


class _NotInstalled(importlib.abc.MetaPathFinder):
    """Imports of the database drivers fail as they do where pip never installed them."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in DRIVERS:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@pytest.fixture
def no_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELIQUAT_DB_PASSWORD", "not asked: the keyring stays untouched")
    for name in [n for n in sys.modules if n.split(".")[0] in DRIVERS]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NotInstalled(), *sys.meta_path])


def refusal(call) -> str:
    with pytest.raises(ReliquatError) as refused:
        call()
    return str(refused.value)


@pytest.mark.parametrize(("url", "extra"), [
    ("postgresql+psycopg://anna@db.example.ch/erp", "postgres"),
    ("mysql+pymysql://anna@db.example.ch/erp", "mariadb"),
    ("mariadb+pymysql://anna@db.example.ch/erp", "mariadb"),
])
def test_a_source_url_without_its_driver_names_the_extra_to_install(no_drivers, tmp_path, url,
                                                                   extra):
    message = refusal(lambda: api.extract(url, tmp_path / "review.xlsx"))
    module = url.split("+")[1].split(":")[0]
    assert message == (f"{url}: Reliquat's {extra} extra is not installed (No module named "
                       f"'{module}') " + INSTALL.format(extra=extra))


def test_a_url_with_another_driver_is_told_the_one_the_extra_brings(no_drivers, tmp_path):
    url = "mysql://anna@db.example.ch/erp"  # SQLAlchemy's default driver: MySQLdb
    message = refusal(lambda: api.extract(url, tmp_path / "review.xlsx"))
    assert message == (f"{url}: the database driver is not installed (No module named "
                       f"'MySQLdb'): write the URL as mysql+pymysql://… and install "
                       f"Reliquat's mariadb extra " + INSTALL.format(extra="mariadb"))


def test_a_team_register_without_its_driver_names_the_extra_to_install(no_drivers, tmp_path):
    config = tmp_path / "team.toml"
    config.write_text('[register]\nurl = "mysql+pymysql://reliquat@db.example.ch/finance"\n',
                      encoding="utf-8")
    message = refusal(lambda: api.register_init(load_config(config)))
    assert message == ("mysql+pymysql://reliquat@db.example.ch/finance: register: Reliquat's "
                       "mariadb extra is not installed (No module named 'pymysql') "
                       + INSTALL.format(extra="mariadb"))


def test_a_worksheet_function_on_a_url_without_its_driver_says_so_in_the_cell(no_drivers):
    from udfs.reliquat_functions import RELIQUAT_OPEN_BALANCE

    answer = RELIQUAT_OPEN_BALANCE("postgresql+psycopg://anna@db.example.ch/erp", "S1")
    assert answer.startswith("Reliquat: postgresql+psycopg://anna@db.example.ch/erp: "
                             "Reliquat's postgres extra is not installed")


def test_every_place_that_opens_a_database_url_goes_through_the_driver_message():
    """create_engine on a user's URL is called in two places only, each with missing_driver."""
    root = Path(__file__).resolve().parents[1] / "addin"
    callers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                     if "create_engine(with_password(" in p.read_text(encoding="utf-8"))
    assert callers == ["register/store.py", "sources/sql_source.py"]
    for caller in callers:
        assert "missing_driver(" in (root / caller).read_text(encoding="utf-8")
