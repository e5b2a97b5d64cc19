"""The `tonghop` command: a thin Typer shell over validations/, warehouse/ and flows/.

Imports are local to each command so that `tonghop validate` never pays for Prefect,
DuckDB or Great Expectations.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="tonghop: validate and consolidate commune -> district -> province reports.",
)

Lang = Annotated[str, typer.Option("--lang", help="Language of messages: vi or en.")]
EXIT_ACCEPTED, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2


def _check_lang(lang: str) -> str:
    if lang not in ("vi", "en"):
        typer.echo(f"--lang must be vi or en, not '{lang}'.", err=True)
        raise typer.Exit(EXIT_UNREADABLE)
    return lang


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Submission file (.csv or .xlsx).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    lang: Lang = "vi",
    catalog: Annotated[
        Path | None, typer.Option(help="Catalog YAML (default: the national default form).")
    ] = None,
) -> None:
    """Check one submission file and say exactly what to fix.

    Exit 0: accepted (with or without warnings); 1: rejected; 2: unreadable file or usage error.
    """
    from validations.catalog import CatalogError, load_catalog
    from validations.readers import ReadError
    from validations.report import render_json, render_text
    from validations.validator import Validator

    lang = _check_lang(lang)
    try:
        cat = load_catalog(catalog)
    except CatalogError as exc:
        typer.echo(f"Catalog error: {exc}", err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None
    try:
        result = Validator(catalog=cat).validate_file(file)
    except ReadError as exc:
        msg = exc.message_vi if lang == "vi" else exc.message_en
        if as_json:
            out = {"file": str(file), "status": "unreadable", "message": msg, "issues": []}
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            typer.echo(msg, err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None
    typer.echo(render_json(result, lang) if as_json else render_text(result, cat, lang))
    raise typer.Exit(EXIT_REJECTED if str(result.status) == "rejected" else EXIT_ACCEPTED)


@app.command()
def template(
    unit: Annotated[str, typer.Option("--unit", help="Unit code, e.g. 03386 or 105.")],
    period: Annotated[
        str, typer.Option("--period", help="Period: 2024-06, 2024-Q2, 2024-H1, 2024.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the .xlsx form.")],
) -> None:
    """Generate the Excel form for one unit and one period."""
    from validations.template import TemplateError, write_template

    if output.suffix.lower() != ".xlsx":
        typer.echo(f"{output}: the form is an Excel workbook; name it *.xlsx.", err=True)
        raise typer.Exit(EXIT_UNREADABLE)
    try:
        path = write_template(unit, period, output)
    except TemplateError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None
    except OSError as exc:
        typer.echo(f"{output}: cannot write the file ({exc.strerror}).", err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None
    typer.echo(f"Đã tạo biểu mẫu / form written: {path}")


@app.command()
def unit(
    query: Annotated[str, typer.Argument(help="A unit code (03386) or a name (Tam Đường).")],
    on: Annotated[
        str | None, typer.Option("--on", help="Date YYYY-MM-DD: only units in force that day.")
    ] = None,
) -> None:
    """Look up a reference unit by code or by name (accents and case folded)."""
    from datetime import date

    from validations.units import load_units

    units = load_units()
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        typer.echo(f"--on '{on}' is not a date: write YYYY-MM-DD.", err=True)
        raise typer.Exit(EXIT_UNREADABLE) from None
    hits = (
        [u for c in units.pad(query, day) for u in units.versions(c) if not day or u.valid_on(day)]
        if query.strip().isdigit()
        else units.find_by_name(query, on=day)
    )
    if not hits:
        typer.echo(f"No unit matches '{query}'.", err=True)
        raise typer.Exit(1)
    for u in hits:
        until = u.valid_to.isoformat() if u.valid_to else "…"
        since = u.valid_from.isoformat() if u.valid_from else "…"
        typer.echo(
            f"{u.code}\t{u.level}\t{u.name}\tparent={u.parent_code or '-'}\t{since}..{until}"
        )


@app.command()
def demo(
    samples: Annotated[Path, typer.Option(help="Folder of sample submissions.")] = Path(
        "sample_submissions"
    ),
    lang: Lang = "vi",
) -> None:
    """The main job: validate every sample submission and print the verdicts."""
    from validations.readers import ReadError
    from validations.validator import Validator

    lang = _check_lang(lang)
    files = sorted(p for p in samples.rglob("*") if p.suffix.lower() in (".csv", ".xlsx"))
    if not files:
        typer.echo(f"No .csv or .xlsx files under {samples}.", err=True)
        raise typer.Exit(EXIT_UNREADABLE)
    validator = Validator()
    counts: dict[str, int] = {}
    for path in files:
        try:
            res = validator.validate_file(path)
            status = str(res.status)
            first = res.issues[0].rule_id if res.issues else ""
        except ReadError as exc:
            status, first = "unreadable", (exc.message_vi if lang == "vi" else exc.message_en)
        counts[status] = counts.get(status, 0) + 1
        typer.echo(f"{status:<24} {path}  {first}")
    typer.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
