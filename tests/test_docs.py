"""The README lists every CLI command and links every document of docs/; its first two commands
are the ones CI runs; docs/ documents every rule."""

import re

from typer.main import get_command

from conftest import ROOT
from tonghop.cli import app

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = README + "".join(f.read_text(encoding="utf-8") for f in sorted((ROOT / "docs").glob("*.md")))


def test_every_cli_command_is_in_the_readme():
    commands = sorted(get_command(app).commands)  # type: ignore[attr-defined]
    assert commands, "no commands registered"
    missing = [c for c in commands if f"tonghop {c}" not in README]  # the README's table
    assert missing == []


def test_readme_first_two_commands_install_run_demo_then_test():
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert "pip install" in block[0] and "tonghop demo" in block[0]
    assert "pytest" in block[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert block[1].strip() in ci
    assert "-c constraints.txt -e '.[dev]'" in ci and "-c constraints.txt -e '.[dev]'" in block[0]


def test_every_rule_of_the_catalog_is_documented(catalog):
    assert [r for r in catalog.rules if f"`{r}`" not in DOCS] == []


def test_readme_is_short_and_links_every_doc():
    assert len(README.splitlines()) <= 320
    for f in (ROOT / "docs").glob("*.md"):
        assert f"docs/{f.name}" in README, f.name
