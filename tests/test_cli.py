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


# --- no traceback anywhere: one sentence, a stable code, the right exit status ------------------
@pytest.fixture(scope="module")
def rejected_only(tmp_path_factory, validator):
    """A warehouse where commune 03386 sent only a rejected version for 2024-06."""
    from test_warehouse_support import warehouse

    from validations.intake import validate_paths
    from warehouse.staging import write_staging
    from warehouse.store import load_batch

    tmp = tmp_path_factory.mktemp("rejected_only")
    con = warehouse(tmp)
    out = validate_paths([SAMPLES / "invalid" / "crime_solved_le_cases.csv"], validator)
    (done,) = load_batch(con, write_staging(out.results, tmp / "staging", "b1", out.hashes))
    assert done.status == "rejected"
    district = SAMPLES / "valid" / "2024-06" / "105" / "105_2024-06.xlsx"  # for report, export
    out = validate_paths([district], validator)
    (done,) = load_batch(con, write_staging(out.results, tmp / "staging", "b2", out.hashes))
    assert done.status == "accepted"
    from validations.catalog import load_catalog
    from validations.units import load_units
    from warehouse.rollup import consolidate

    consolidate(con, "2024-06", "105", load_catalog(), load_units())
    con.close()
    return tmp / "wh.duckdb"


def test_status_of_a_unit_with_only_rejected_versions(rejected_only):
    res = run("status", "--period", "2024-06", "--warehouse", str(rejected_only))
    assert res.exit_code == 0, res.output
    (line,) = [ln for ln in res.stdout.splitlines() if ln.startswith("03386")]
    assert "v- none" in line and "latest=rejected" in line and "rejected=1" in line
    assert res.stdout.splitlines()[-1] == "2 units sent something for 2024-06"


@pytest.mark.parametrize("command", ["report", "export"])
def test_output_paths_that_cannot_be_written_are_one_sentence(rejected_only, tmp_path, command):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    targets = {
        "report": [tmp_path, a_file / "summary.md", Path("/proc/version")],
        "export": [a_file, a_file / "sub", Path("/proc/version/x")],
    }[command]
    for target in targets:
        res = run(
            command, "--period", "2024-06", "--unit", "105", "-o", str(target),
            "--warehouse", str(rejected_only),
        )  # fmt: skip
        assert res.exit_code == 2, (target, res.output)
        assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
        assert f"Không ghi được {'tệp' if command == 'report' else 'thư mục'} {target}" in (
            res.output
        )
    assert a_file.read_text() == "x"  # nothing overwritten


def test_errors_in_json_carry_a_stable_code(tmp_path):
    res = run("validate", str(SAMPLES / "messy" / "canonical.csv"), "--json", "--catalog",
              str(tmp_path / "none.yaml"))  # fmt: skip
    assert res.exit_code == 2
    assert json.loads(res.stdout) == {
        "status": "error",
        "code": "catalog",
        "reason": "catalog.file_not_found",
        "params": {"where": str(tmp_path / "none.yaml")},
        "message": f"{tmp_path / 'none.yaml'}: không tìm thấy tệp danh mục",
    }
    res = run("validate", str(SAMPLES / "unreadable" / "binary.csv"), "--json")
    data = json.loads(res.stdout)
    assert (res.exit_code, data["status"], data["code"], data["file"]) == (
        2, "unreadable", "binary", "binary.csv",
    )  # fmt: skip
    res = run("status", "--period", "2024-06", "--warehouse", str(tmp_path / "no.duckdb"))
    assert res.exit_code == 2 and res.output.startswith("Chưa có kho dữ liệu tại ")
    res = run("status", "--period", "2024.1", "--warehouse", str(tmp_path / "no.duckdb"))
    assert res.exit_code == 2 and "có thể là 2024-01 hoặc 2024-10" in res.output


def test_errors_are_said_in_vietnamese_by_default_and_in_english_on_request(tmp_path):
    """One message catalog: --lang where a command has it, $TONGHOP_LANG for every command."""
    args = ["status", "--period", "2024-13", "--warehouse", str(tmp_path / "no.duckdb")]
    res = run(*args)
    assert (res.exit_code, res.output) == (2, "'2024-13': không có tháng 13\n")
    res = runner.invoke(app, args, env={"TONGHOP_LANG": "en"})
    assert (res.exit_code, res.output) == (2, "'2024-13': month 13 does not exist\n")
    res = runner.invoke(app, ["rollup", "--period", "2024-06", "--unit", "105", "--format", "pdf"])
    assert res.output == "--format phải là table, csv hoặc json, không phải 'pdf'.\n"
    none = str(tmp_path / "none.yaml")
    res = run("validate", str(SAMPLES / "messy" / "canonical.csv"), "--json", "--catalog", none,
              "--lang", "en")  # fmt: skip
    assert json.loads(res.stdout)["message"] == f"{none}: catalog file not found"
    res = runner.invoke(
        app,
        ["validate", str(SAMPLES / "unreadable" / "binary.csv"), "--json"],
        env={"TONGHOP_LANG": "en"},
    )
    assert json.loads(res.stdout)["message"].startswith("File 'binary.csv' is neither")
    res = run("validate", str(SAMPLES / "unreadable" / "binary.csv"), "--lang", "fr")
    assert (res.exit_code, res.output) == (2, "--lang phải là vi hoặc en, không phải 'fr'.\n")


def test_every_tonghop_error_is_caught_in_one_place():
    """The error classes of every module derive from TonghopError; the CLI catches that."""
    from tonghop import cli
    from validations.catalog import CatalogError
    from validations.errors import RefusedError, TonghopError
    from validations.period import PeriodError
    from validations.readers import ReadError
    from validations.template import TemplateError
    from validations.units import ReferenceDataError
    from warehouse.approval import ApprovalError
    from warehouse.db import WarehouseError, WarehouseLockedError
    from warehouse.export import ExportError
    from warehouse.quality import QualityError
    from warehouse.rollup import RollupError
    from warehouse.staging import StagingError
    from warehouse.store import StoreError
    from warehouse.summary import SummaryError

    classes = [CatalogError, PeriodError, ReadError, TemplateError, ReferenceDataError,
               ApprovalError, WarehouseError, WarehouseLockedError, ExportError, QualityError,
               RollupError, StagingError, StoreError, SummaryError]  # fmt: skip
    assert all(issubclass(c, TonghopError) for c in classes)
    codes = [c.code for c in classes]
    assert len(set(codes)) == len(codes) and "warehouse_locked" in codes
    assert {c for c in classes if issubclass(c, RefusedError)} == {
        ApprovalError, ExportError, SummaryError,
    }  # fmt: skip
    assert all(info.cls is cli._Command for info in cli.app.registered_commands)
    source = Path(cli.__file__).read_text(encoding="utf-8")
    assert source.count("except TonghopError") == 1 and "_steward_errors" not in source


def test_ingest_prints_file_names_and_messages_escaped(monkeypatch):
    """A file named with a newline cannot forge a result line, ANSI escapes never reach the
    terminal, and --json carries no raw line separator."""
    import flows.ingest

    evil = "/in/03386/a\nrejected                 03387  2024-06  v1  ok.csv\x1b[31m\u2028.csv"
    result = {
        "batch_id": "b",
        "files": 3,
        "submissions": [
            {
                "file": evil,
                "unit_code": "03386",
                "period": "2024-06",
                "version": 1,
                "status": "accepted",
                "duplicate": False,
                "superseded": None,
            },
        ],  # fmt: skip
        "unreadable": [
            {
                "file": evil,
                "status": "unreadable",
                "code": "binary",
                "message_vi": "Tệp 'a\\n…' \x1b[2J",
                "message_en": "x",
            }
        ],  # fmt: skip
        "refused": [
            {
                "file": evil,
                "status": "refused",
                "rule": "sender_unknown",
                "unit_code": "03386",
                "period": "2024-06",
                "sender": None,
                "via": None,
            }
        ],  # fmt: skip
        "other_batches_loaded": [],
        "warehouse": "wh\x1b[0m.duckdb",
        "outbox": "outbox",
    }
    monkeypatch.setattr(flows.ingest, "ingest_submissions", lambda *a, **k: result)
    res = run("ingest", str(SAMPLES / "messy" / "canonical.csv"))
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) == 4 and "\x1b" not in res.stdout and "\u2028" not in res.stdout
    assert [ln.split()[0] for ln in lines[:3]] == ["accepted", "unreadable", "refused"]
    assert "a\\nrejected" in lines[0] and "\\x1b[31m" in lines[0]
    res = run("ingest", str(SAMPLES / "messy" / "canonical.csv"), "--json")
    assert "\u2028" not in res.stdout and "\\u2028" in res.stdout
    assert json.loads(res.stdout)["submissions"][0]["file"] == evil


def test_approving_or_consolidating_a_missing_warehouse_creates_none(tmp_path):
    wh = tmp_path / "none.duckdb"
    for args in (
        ["approve", "--period", "2024-06", "--unit", "105", "--actor", "a"],
        ["unapprove", "--period", "2024-06", "--unit", "105", "--actor", "a"],
    ):
        res = CliRunner().invoke(app, [*args, "--warehouse", str(wh)])
        assert res.exit_code == 2 and "Chưa có kho dữ liệu" in res.output, res.output
    assert not wh.exists()
