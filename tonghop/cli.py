"""The `tonghop` command: a thin Typer shell over validations/, warehouse/ and flows/.

Imports are local to each command so that `tonghop validate` never pays for Prefect,
DuckDB or Great Expectations.
"""

from __future__ import annotations

import json
import os
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


Warehouse = Annotated[
    str | None,
    typer.Option(
        "--warehouse", help="DuckDB file (default: $TONGHOP_WAREHOUSE or ./data/tonghop.duckdb)."
    ),
]
Period = Annotated[str, typer.Option("--period", help="Period: 2024-06, 2024-Q2, 2024-H1, 2024.")]
UnitCode = Annotated[
    str, typer.Option("--unit", help="Unit code, e.g. 105 (district) or 12 (province).")
]
Actor = Annotated[str, typer.Option("--actor", help="Who does it (recorded in the audit log).")]


def _fail(message: str, code: int = EXIT_UNREADABLE) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _steward_errors():  # type: ignore[no-untyped-def]
    """Exceptions that are the user's to fix, shown as one sentence instead of a traceback."""
    from validations.catalog import CatalogError
    from validations.period import PeriodError
    from warehouse.approval import ApprovalError
    from warehouse.db import WarehouseError
    from warehouse.rollup import RollupError
    from warehouse.staging import StagingError

    return (CatalogError, PeriodError, ApprovalError, WarehouseError, RollupError, StagingError)


def _period_code(period: str) -> str:
    """The canonical period code, or exit 2 with the reason."""
    from validations.period import PeriodError, parse_period

    try:
        return parse_period(period).code
    except PeriodError as exc:
        raise _fail(str(exc)) from None


def _read_warehouse(
    warehouse: str | None, work, extra_errors: tuple = (), code: int = EXIT_UNREADABLE
):  # type: ignore[no-untyped-def]
    """Open the warehouse read-only, run `work(con)` and close it; a user's mistake (no file,
    a writer holding it, no data) ends in one sentence, not a traceback."""
    from warehouse.db import connect, warehouse_path

    path = warehouse_path(warehouse)
    if not path.exists():
        raise _fail(f"No warehouse at {path}: run tonghop ingest first.")
    try:
        con = connect(path, read_only=True)
        try:
            return work(con)
        finally:
            con.close()
    except (*extra_errors, *_steward_errors()) as exc:
        raise _fail(str(exc), code) from None


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of submissions.")],
    warehouse: Warehouse = None,
    outbox: Annotated[
        Path | None, typer.Option(help="Submitters' reports (default ./outbox).")
    ] = None,
    archive: Annotated[
        Path | None, typer.Option(help="Move ingested files here after loading.")
    ] = None,
    inbox: Annotated[
        Path | None,
        typer.Option(
            "--inbox",
            help="Inbox root: each file's sender is its folder under it (inbox/<unit_code>/ or "
            "a token of inbox/manifest.yaml); files for other units are refused.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    no_prefect: Annotated[
        bool,
        typer.Option(
            "--no-prefect",
            help="Run the same steps as plain library calls in this process, without Prefect "
            "(no server, no UI; validation still uses every core).",
        ),
    ] = False,
) -> None:
    """Run the ingest flow: validate, stage, load into the warehouse, answer each submitter.

    Files are taken in order of arrival (modification time, then name). Exit 0 when the run
    completed, whatever the verdicts.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _fail(f"Not found: {', '.join(missing)}")
    kw = {
        "warehouse": warehouse,
        "outbox": str(outbox) if outbox else None,
        "archive": str(archive) if archive else None,
        "inbox_root": str(inbox) if inbox else None,
    }
    try:
        if no_prefect:
            from warehouse.ingest import IngestSettings
            from warehouse.ingest import ingest as run_ingest

            settings = IngestSettings.resolve(kw.pop("warehouse"), None, kw.pop("outbox"), **kw)
            res = run_ingest([str(p) for p in paths], settings)
        else:
            from flows.ingest import ingest_submissions

            res = ingest_submissions([str(p) for p in paths], **kw)
    except _steward_errors() as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(res, ensure_ascii=False, indent=2, default=str))
        return

    def line(s: dict, tail: str = "") -> None:  # type: ignore[type-arg]
        status = "duplicate" if s["duplicate"] else s["status"]
        typer.echo(
            f"{status:<24} {s['unit_code'] or '?':<6} {s['period'] or '?':<8} v{s['version']}  {s['file']}{tail}"
        )

    for s in res["submissions"]:
        line(s)
    for s in res.get("loaded_late", []):
        line(s, f"  (staged earlier, batch {s['batch']})")
    for u in res["unreadable"]:
        typer.echo(f"{'unreadable':<24} {u['file']}: {u['message_vi']}")
    for r in res.get("refused", []):
        typer.echo(
            f"{'refused':<24} {r['unit_code'] or '?':<6} {r['period'] or '?':<8} {r['rule']}  {r['file']}"
        )
    for f in res.get("changed", []):
        typer.echo(f"{'changed while read':<24} {f}: left for the next run")
    for left in (res.get("archive") or {}).get("left", []):
        typer.echo(f"{'not archived':<24} {left['file']}: {left['reason']}")
    typer.echo(f"warehouse: {res['warehouse']}   reports: {res['outbox']}/")


@app.command()
def consolidate(
    period: Period,
    unit: UnitCode,
    warehouse: Warehouse = None,
    abs_tol: Annotated[
        float, typer.Option("--abs-tol", help="Cross-level difference tolerated, absolute.")
    ] = 0.0,
    rel_tol: Annotated[
        float, typer.Option("--rel-tol", help="Cross-level difference tolerated, share of the sum.")
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run the consolidate flow for a district or province: completeness, checks, rollups."""
    code = _period_code(period)
    from validations.catalog import load_catalog
    from validations.period import parse_period
    from validations.units import LEVEL_NAMES_EN, load_units

    found = load_units().get(unit, parse_period(code).end(load_catalog().close_day))
    if found is None:
        raise _fail(f"Unit {unit} does not exist in period {code}: check the code (tonghop unit).")
    if found.level == "C":
        raise _fail(
            f"{unit} is a {LEVEL_NAMES_EN['C']}: consolidate its district or province instead."
        )
    from flows.consolidate import consolidate_period

    try:
        res = consolidate_period(
            [period], unit, warehouse=warehouse, abs_tol=abs_tol, rel_tol=rel_tol
        )[0]
    except _steward_errors() as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(res, ensure_ascii=False, indent=2, default=str))
        return
    _print_consolidation(res)


def _print_consolidation(res: dict, indent: str = "") -> None:  # type: ignore[type-arg]
    pct = res["completeness_pct"]
    typer.echo(
        f"{indent}{res['unit_code']} {res['period']}: {res['received']}/{res['expected']} reported"
        + (f" ({pct:.1f}%)" if pct is not None else "")
        + (f", missing {', '.join(res['missing'])}" if res["missing"] else "")
        + (f", late {', '.join(res['late'])}" if res["late"] else "")
        + f", {res['indicators']} indicators, {len(res['issues'])} issues"
    )
    for issue in res["issues"]:
        typer.echo(f"{indent}  [{issue['severity']}] {issue['rule']}: {issue['message_vi']}")
    for child in res["children"]:
        _print_consolidation(child, indent + "  ")
    quality = res.get("quality")
    if quality:
        verdict = (
            "đạt / passed"
            if quality["success"]
            else f"KHÔNG ĐẠT / FAILED ({quality['failed_expectations']}/"
            f"{quality['evaluated_expectations']} expectations)"
        )
        typer.echo(f"{indent}Great Expectations checkpoint: {verdict}")
        for issue in quality["issues"]:
            typer.echo(f"{indent}  [{issue['severity']}] {issue['rule']}: {issue['message_vi']}")
        if quality.get("docs_index"):
            typer.echo(f"{indent}Data Docs: {quality['docs_index']}")


def _approval(action: str, unit: str, period: str, actor: str, warehouse: str | None) -> None:
    from validations.catalog import load_catalog
    from warehouse import approval
    from warehouse.db import open_warehouse

    try:
        con = open_warehouse(warehouse)
        try:
            if action == "accept":
                approval.accept(con, unit, period, actor)
                released: list[str] = []
            elif action == "approve":
                approval.approve(con, unit, period, actor, close_day=load_catalog().close_day)
                released = []
            else:
                released = approval.unapprove(
                    con, unit, period, actor, close_day=load_catalog().close_day
                )
        finally:
            con.close()
    except _steward_errors() as exc:
        raise _fail(str(exc), 1) from None
    typer.echo(f"{action}d: {unit} {period} by {actor}")
    for sid in released:
        typer.echo(f"  released held version {sid}")


@app.command()
def approve(period: Period, unit: UnitCode, actor: Actor, warehouse: Warehouse = None) -> None:
    """A district steward approves its consolidated period; it and the units below are locked."""
    _approval("approve", unit, period, actor, warehouse)


@app.command()
def accept(period: Period, unit: UnitCode, actor: Actor, warehouse: Warehouse = None) -> None:
    """The province accepts an approved district's period."""
    _approval("accept", unit, period, actor, warehouse)


@app.command()
def unapprove(period: Period, unit: UnitCode, actor: Actor, warehouse: Warehouse = None) -> None:
    """Unlock an approved period; versions held meanwhile become current."""
    _approval("unapprove", unit, period, actor, warehouse)


ROLLUP_COLUMNS = [
    "unit_code",
    "level",
    "period",
    "indicator",
    "label_vi",
    "value",
    "numerator",
    "denominator",
    "share",
    "children_sum",
    "source",
    "target",
    "attainment",
    "attainment_points",
    "change_vs_last_year",
    "completeness",
]


@app.command()
def rollup(
    period: Period,
    unit: UnitCode,
    warehouse: Warehouse = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Print a consolidated unit's rollup (read-only; run consolidate first)."""
    if fmt not in ("table", "csv", "json"):
        raise _fail(f"--format must be table, csv or json, not '{fmt}'.")
    from validations.fmt import fmt_num

    code = _period_code(period)
    df = _read_warehouse(
        warehouse,
        lambda con: con.execute(
            f"SELECT {', '.join(ROLLUP_COLUMNS)} FROM v_rollup WHERE unit_code = ? AND period = ? "
            "ORDER BY indicator",
            [unit, code],
        ).df(),
    )
    if df.empty:
        raise _fail(
            f"No rollup for {unit} {code}: run tonghop consolidate --period {code} --unit {unit}.",
            1,
        )
    if fmt == "json":
        typer.echo(df.to_json(orient="records", force_ascii=False, indent=2, date_format="iso"))
    elif fmt == "csv":
        from validations.report import csv_safe

        typer.echo(df.map(csv_safe).to_csv(index=False), nl=False)
    else:
        import pandas as pd

        for r in df.itertuples():
            target = (
                f"{r.attainment} {fmt_num(r.attainment_points)}" if pd.notna(r.attainment) else ""
            )
            typer.echo(f"{r.indicator:<30} {fmt_num(r.value):>12}  {r.source or '':<9} {target}")


@app.command()
def status(
    period: Period,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only this unit and the units below it.")
    ] = None,
    warehouse: Warehouse = None,
) -> None:
    """Which units sent what for a period: versions, current status, rejections, held, approval."""

    code = _period_code(period)
    df = _read_warehouse(
        warehouse,
        lambda con: con.execute(
            "SELECT s.unit_code, s.unit_name, s.n_versions, s.current_version, s.current_status, "
            "s.latest_status, s.n_rejected, s.n_held, s.approval_state "
            "FROM v_submission_status s JOIN dim_unit u ON u.unit_code = s.unit_code "
            "AND u.structure = s.structure WHERE s.period = ? AND (? IS NULL OR s.unit_code = ? "
            "OR u.parent_code = ? OR u.province_code = ?) ORDER BY s.unit_code",
            [code, unit, unit, unit, unit],
        ).df(),
    )
    for r in df.itertuples():
        typer.echo(
            f"{r.unit_code:<6} {r.unit_name:<28} v{r.current_version or '-'} {r.current_status or 'none':<23}"
            f" latest={r.latest_status:<23} rejected={r.n_rejected} held={r.n_held}"
            f" {r.approval_state if isinstance(r.approval_state, str) else ''}"
        )
    typer.echo(f"{len(df)} units sent something for {code}")


@app.command()
def report(
    period: Period,
    unit: UnitCode,
    fmt: Annotated[str, typer.Option("--format", help="md, html or xlsx.")] = "md",
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="File to write (Markdown goes to stdout without it)."),
    ] = None,
    warehouse: Warehouse = None,
) -> None:
    """The period's summary as the province publishes it: sentences, tables, charts."""
    if fmt not in ("md", "html", "xlsx"):
        raise _fail(f"--format must be md, html or xlsx, not '{fmt}'.")
    if fmt == "xlsx" and output is None:
        raise _fail("An xlsx report needs -o FILE.xlsx.")
    from validations.catalog import load_catalog
    from validations.units import load_units
    from warehouse.summary import (
        SummaryError,
        build_summary,
        render_html,
        render_markdown,
        write_xlsx,
    )

    units = load_units()
    summary = _read_warehouse(
        warehouse,
        lambda con: build_summary(con, period, unit, load_catalog(), units),
        (SummaryError,),
        1,
    )
    if fmt == "xlsx":
        assert output is not None
        write_xlsx(summary, units, output)
        typer.echo(f"Đã ghi / written: {output}")
        return
    text = render_markdown(summary, units) if fmt == "md" else render_html(summary, units)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"Đã ghi / written: {output}")


@app.command()
def export(
    period: Period,
    unit: UnitCode,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the Parquet files.")],
    warehouse: Warehouse = None,
) -> None:
    """Export a period's views for the unit and the units below it as Parquet (read-only)."""
    from warehouse.export import ExportError, export_period

    counts = _read_warehouse(
        warehouse, lambda con: export_period(con, period, unit, output), (ExportError,), 1
    )
    for name, n in counts.items():
        typer.echo(f"{name:<18} {n:>6} rows  {output / name}/")


@app.command()
def demo(
    root: Annotated[
        Path, typer.Option(help="Where the demo warehouse and reports go (recreated).")
    ] = Path("data/demo"),
    samples: Annotated[Path, typer.Option(help="Folder of sample submissions.")] = Path(
        "sample_submissions"
    ),
) -> None:
    """The main job: a fresh warehouse from the samples, the flows run, the province rollup printed."""
    if not (samples / "valid").is_dir():
        raise _fail(f"{samples}/valid not found: run from the repository root or pass --samples.")
    from flows.demo import MONTH, PROVINCE, run_demo

    res = run_demo(root, samples, echo=typer.echo)
    typer.echo("")
    _print_consolidation(res["june"])
    typer.echo("")
    typer.echo(
        f"Province {PROVINCE} rollup for {MONTH} (tonghop rollup --period {MONTH} --unit {PROVINCE} --warehouse {res['warehouse']}):"
    )
    rollup(period=MONTH, unit=PROVINCE, warehouse=res["warehouse"], fmt="table")
    typer.echo("")
    typer.echo(f"Warehouse: {res['warehouse']}")
    typer.echo(f"Submitters' reports: {res['outbox']}/<unit_code>/")
    typer.echo("Province summaries: " + ", ".join(res["reports"]))
    quality = res["june"].get("quality") or {}
    if quality.get("docs_index"):
        typer.echo(f"Great Expectations Data Docs: {quality['docs_index']}")


def main() -> None:
    """Console-script entry point."""
    # The CLI states each run's outcome in one sentence. Prefect's own log lines (with the
    # tracebacks of failed tasks) still go to the Prefect API and UI, but not to the terminal:
    # only its console handler is silenced. Set PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL=INFO to
    # see them here.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
