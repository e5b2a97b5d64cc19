"""The `tonghop` command: exit codes, JSON shape, languages, unreadable files, template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT, SAMPLES
from tonghop.cli import app

runner = CliRunner()
UNREADABLE = sorted((SAMPLES / "unreadable").iterdir())


def run(*args: str):
    return runner.invoke(app, list(args))


def test_valid_file_exits_0_and_says_accepted():
    res = run("validate", str(SAMPLES / "valid" / "2024-06" / "105" / "03386_2024-06.csv"))
    assert res.exit_code == 0, res.output
    assert "ĐƯỢC CHẤP NHẬN" in res.output


def test_rejected_file_exits_1_with_json_record():
    res = run("validate", str(SAMPLES / "invalid" / "crime_solved_le_cases.csv"), "--json")
    assert res.exit_code == 1
    data = json.loads(res.output)
    assert data["status"] == "rejected"
    assert data["issues"][0]["rule"] == "crime_solved_le_cases"
    assert data["issues"][0]["location"] == "row 3"


def test_warning_only_file_exits_0():
    res = run(
        "validate",
        str(SAMPLES / "invalid" / "participants_per_session_plausible.csv"),
        "--json",
        "--lang",
        "en",
    )
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["status"] == "accepted_with_warnings"
    assert "more than 2,000 per session" in data["issues"][0]["message"]


@pytest.mark.parametrize("path", UNREADABLE, ids=lambda p: p.name)
def test_unreadable_files_exit_2_with_one_sentence_and_no_traceback(path: Path):
    res = run("validate", str(path))
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert path.name in res.output
    res_json = run("validate", str(path), "--json")
    assert res_json.exit_code == 2
    assert json.loads(res_json.output)["status"] == "unreadable"


def test_usage_errors_exit_2():
    assert run("validate").exit_code == 2
    assert run("validate", "no_such_file.csv").exit_code == 2
    assert run("validate", str(SAMPLES / "messy" / "canonical.csv"), "--lang", "fr").exit_code == 2


def test_template_then_validate_roundtrip(tmp_path):
    out = tmp_path / "form.xlsx"
    res = run("template", "--unit", "3386", "--period", "2024-06", "-o", str(out))
    assert res.exit_code == 2 and "03386" in res.output  # stripped zeros: suggests the real code
    res = run("template", "--unit", "03386", "--period", "2024-06", "-o", str(out))
    assert res.exit_code == 0 and out.exists()
    res = run("validate", str(out), "--json")
    data = json.loads(res.output)
    # an empty form is read back and every required indicator is reported missing, by cell
    assert res.exit_code == 1
    missing = [i for i in data["issues"] if i["rule"] == "indicator_missing"]
    assert len(missing) == 24 and all(i["location"].startswith("BaoCao!E") for i in missing)


def test_unit_lookup_by_code_and_name():
    res = run("unit", "tam duong", "--on", "2024-06-14")
    assert res.exit_code == 0 and "106\tD\tHuyện Tam Đường" in res.output
    assert run("unit", "3386").output.startswith("03386\tC\tPhường Quyết Thắng")
    assert run("unit", "zzzz").exit_code == 1


def test_console_script_runs_without_prefect_or_great_expectations():
    code = (
        "import sys\n"
        f"sys.argv = ['tonghop', 'validate', {str(SAMPLES / 'messy' / 'canonical.csv')!r}]\n"
        "import tonghop.cli as cli\n"
        "try:\n    cli.main()\nexcept SystemExit as e:\n    rc = e.code\n"
        "print('RESULT', rc, 'prefect' in sys.modules, 'great_expectations' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ},
        check=False,
    )
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][0]
    assert line == "RESULT 0 False False"
