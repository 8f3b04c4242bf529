from decimal import Decimal
from pathlib import Path

import pytest

from addin.config import Config, load_config, parse_day, parse_threshold
from addin.domain.problems import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_config_loads_and_states_the_defaults():
    config = load_config(ROOT / "reliquat.example.toml")
    defaults = Config()
    assert (config.rules, config.accounts, config.billing, config.delimiter, config.language) == (
        defaults.rules, defaults.accounts, defaults.billing, defaults.delimiter,
        defaults.language)


def test_settings_and_column_mapping_are_read(tmp_path: Path):
    path = tmp_path / "erp.toml"
    path.write_text('[rules]\nthreshold = "2.50"\nmin_overdue_days = 45\n'
                    '[columns.open_items]\nitem_id = "No poste"\n'
                    '[register]\npath = "reg.sqlite"\n', encoding="utf-8")
    config = load_config(path)
    assert config.rules.threshold == Decimal("2.50")
    assert config.rules.min_overdue_days == 45
    assert config.header_for("open_items", "item_id") == "No poste"
    assert config.header_for("open_items", "due_date") == "due_date"
    assert config.register is not None
    assert config.register.path == (tmp_path / "reg.sqlite").resolve()


def test_every_bad_setting_is_reported_at_once_with_its_key(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('[rules]\nthreshold = "-1"\nmin_overdue_days = "x"\n'
                    '[columns.open_items]\nitem_nr = "No"\n[export]\ndelimiter = "#"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).splitlines() == [
        f"{path}, [rules] threshold: must not be negative",
        f"{path}, [rules] min_overdue_days: must be a whole number >= 0",
        f"{path}, [columns.open_items] item_nr: unknown column",
        f"{path}, [export] delimiter: must be ; , | or a tab",
    ]


def test_a_missing_config_file_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_a_negative_threshold_on_the_command_line_is_refused():
    with pytest.raises(ConfigError, match="--threshold: must not be negative: -0.01"):
        parse_threshold("-0.01")


def test_an_impossible_as_of_date_is_refused():
    with pytest.raises(ConfigError, match="no such date: '31.02.2026'"):
        parse_day("31.02.2026")


def test_the_export_encoding_is_utf8_unless_the_config_names_another(tmp_path: Path):
    assert Config().encoding == load_config(ROOT / "reliquat.example.toml").encoding == "utf-8"
    path = tmp_path / "erp.toml"
    path.write_text('[export]\nencoding = "cp1252"\n', encoding="utf-8")
    assert load_config(path).encoding == "cp1252"
    path.write_text('[export]\nencoding = "latin-1"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}, [export] encoding: must be utf-8, utf-8-sig or cp1252"


def test_a_misspelt_setting_is_named_not_ignored(tmp_path: Path):
    path = tmp_path / "typo.toml"
    path.write_text('[rules]\nthreshhold = "2.00"\n[export]\nencodng = "cp1252"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert sorted(str(error.value).splitlines()) == [
        f"{path}, [export] encodng: unknown setting",
        f"{path}, [rules] threshhold: unknown setting"]
