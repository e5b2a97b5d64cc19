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


def _blocks() -> list[str]:
    """The README's and docs/'s paragraphs, each row of a table on its own."""
    out = []
    for f in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for para in re.split(r"\n\s*\n", f.read_text(encoding="utf-8")):
            rows = [ln for ln in para.splitlines() if ln.startswith("|")]
            out += rows if rows else [para]
    return out


def test_every_option_of_every_command_is_documented_beside_its_command():
    """A new option (`tonghop ingest --catalog`) is said in a paragraph (or a table row) of the
    README or docs/ that names its command."""
    blocks = _blocks()
    missing = []

    def walk(group, prefix: list[str]) -> None:
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                walk(cmd, [*prefix, name])
                continue
            full = "tonghop " + " ".join([*prefix, name])
            for p in cmd.params:
                for opt in (o for o in getattr(p, "opts", []) if o.startswith("--")):
                    if not any(full in b and opt in b for b in blocks):
                        missing.append(f"{full} {opt}")

    walk(get_command(app), [])
    assert missing == []
