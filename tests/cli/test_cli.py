"""The command line as a scheduler or an accountant runs it: exit codes, messages, files."""

import subprocess
import sys
from pathlib import Path

from addin.cli import main
from tests.builders import small_utility, write_csv_ledger


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "addin", *args], capture_output=True,
                          text=True, timeout=120)


def test_extract_then_commit_from_the_command_line(tmp_path: Path):
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    review = tmp_path / "review.xlsx"
    extracted = run("extract", "--source", str(source), "--out", str(review),
                    "--threshold", "5.00", "--as-of", "30.11.2026")
    assert extracted.returncode == 0, extracted.stderr
    assert "TRANSFER" in extracted.stdout and "3.99" in extracted.stdout
    committed = run("commit", str(review), "--out-dir", str(tmp_path / "out"),
                    "--accept-proposals")
    assert committed.returncode == 0, committed.stderr
    assert f"Files written to {tmp_path / 'out'}:" in committed.stdout
    assert len(list((tmp_path / "out").glob("postings_*.csv"))) == 1


def test_bad_input_exits_non_zero_names_the_place_and_writes_nothing(tmp_path: Path):
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    items = source / "open_items.csv"
    items.write_text(items.read_text(encoding="utf-8-sig").replace("0.50;CHF", "0,50;CHF"),
                     encoding="utf-8")
    review = tmp_path / "review.xlsx"
    result = run("extract", "--source", str(source), "--out", str(review), "--as-of",
                 "30.11.2026")
    assert result.returncode == 1
    assert f"{items}, line 2, column 'open_amount': not an amount: '0,50'" in result.stderr
    assert "Traceback" not in result.stderr and "Nothing was written." in result.stderr
    assert not review.exists()


def test_a_negative_threshold_is_refused(tmp_path: Path, capsys):
    source = write_csv_ledger(tmp_path / "erp", *small_utility())
    code = main(["extract", "--source", str(source), "--out", str(tmp_path / "r.xlsx"),
                 "--threshold", "-1"])
    assert code == 1
    assert "--threshold: must not be negative: -1" in capsys.readouterr().err
    assert not (tmp_path / "r.xlsx").exists()


def test_help_explains_each_verb_and_option():
    result = run("commit", "--help")
    assert result.returncode == 0
    for option in ("--out-dir", "--accept-proposals", "--confirm-partial", "--offline",
                   "--source", "--config"):
        assert option in result.stdout


def test_every_verb_of_the_parser_has_its_function():
    from addin.cli import build_parser
    from addin.cli.commands import VERBS

    parser = build_parser()
    verbs = next(a for a in parser._actions if a.dest == "verb")
    assert set(verbs.choices) == set(VERBS)
