"""The README documents every CLI command, and its first two commands are the ones CI runs."""

import re

from typer.main import get_command

from conftest import ROOT
from tonghop.cli import app

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_cli_command_is_in_the_readme():
    commands = sorted(get_command(app).commands)  # type: ignore[attr-defined]
    assert commands, "no commands registered"
    missing = [c for c in commands if f"tonghop {c}" not in README]
    assert missing == []


def test_readme_first_two_commands_install_run_demo_then_test():
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert "pip install" in block[0] and "tonghop demo" in block[0]
    assert "pytest" in block[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert block[1].strip() in ci
    assert "-c constraints.txt -e '.[dev]'" in ci and "-c constraints.txt -e '.[dev]'" in block[0]


def test_every_rule_of_the_catalog_is_documented(catalog):
    assert [r for r in catalog.rules if f"`{r}`" not in README] == []
