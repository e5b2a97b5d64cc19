"""The `tonghop` command: a thin Typer shell over validations/, warehouse/ and flows/.

Imports are local to each command so that `tonghop validate` never pays for Prefect,
DuckDB or Great Expectations.

Errors are handled once, here (`_Command.invoke`): any `validations.errors.TonghopError` (the
user's to fix) or `OSError` ends in one sentence on stderr (or, with `--json`, one JSON object
with a stable `code` on stdout) and its exit status, never in a traceback. Whatever a submitter
wrote (file names, codes, messages quoting cells) is printed with its control characters
escaped (`one_line`), and JSON output carries no raw line separator or bidi override.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from validations.errors import (
    NotFoundError,
    TonghopError,
    UsageError,
    file_access_error,
    output_error,
)
from validations.fmt import json_safe, one_line
from validations.messages import LANGS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="tonghop: validate and consolidate commune -> district -> province reports.",
)

Lang = Annotated[
    str,
    typer.Option(
        "--lang", envvar="TONGHOP_LANG", help="Language of messages: vi or en ($TONGHOP_LANG)."
    ),
]
CatalogFile = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="Catalog YAML, e.g. a province's that includes the national one (default: "
        "$TONGHOP_CATALOG, else the national default form).",
    ),
]
EXIT_ACCEPTED, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise _fail("usage.lang", option="--lang", value=lang)
    return lang


def _lang(params: dict[str, Any]) -> str:
    """The language of messages: the command's --lang, else $TONGHOP_LANG, else Vietnamese."""
    for lang in (params.get("lang"), os.environ.get("TONGHOP_LANG", "").strip().lower()):
        if lang in LANGS:
            return str(lang)
    return "vi"


class _Command(TyperCommand):
    """Every tonghop command: the one place where errors become one sentence and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TonghopError as exc:
            _report_error(exc, ctx.params)
        except OSError as exc:  # a file or folder the user named cannot be used
            _report_error(file_access_error(exc), ctx.params)


def _report_error(exc: TonghopError, params: dict[str, Any]) -> None:
    lang = _lang(params)
    if params.get("as_json"):
        typer.echo(_json(exc.to_dict(lang)))
    else:
        typer.echo(one_line(exc.message(lang)), err=True)
    raise typer.Exit(exc.exit_code)


def _json(data: Any) -> str:
    return json_safe(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _echo(text: object) -> None:
    """One line of output built from data: control characters escaped."""
    typer.echo(one_line(text))


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Submission file (.csv or .xlsx).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    lang: Lang = "vi",
    catalog: CatalogFile = None,
    warehouse: Annotated[
        str | None,
        typer.Option(
            "--warehouse",
            help="Also judge the file against this warehouse, as the ingest would: outliers, "
            "last year's figures, and the version it would get (held, duplicate).",
        ),
    ] = None,
) -> None:
    """Check one submission file and say exactly what to fix.

    Exit 0: accepted (with or without warnings); 1: rejected; 2: unreadable file or usage error.
    """
    from service.check import check
    from validations.catalog import load_catalog
    from validations.report import render_record, render_text
    from validations.units import load_units
    from validations.validator import Validator
    from warehouse.access import WarehouseFile

    lang = _check_lang(lang)
    cat = load_catalog(catalog)
    wh = WarehouseFile(warehouse) if warehouse else None
    (verdict,) = check([file], Validator(catalog=cat), cat, load_units(), wh)
    if verdict.result is None:  # unreadable: one sentence, exit 2
        u = verdict.unreadable
        assert u is not None
        raise u.error()
    if as_json:
        typer.echo(json_safe(render_record(verdict.record(lang, name=str(file)))))
    else:
        typer.echo(render_text(verdict.result, cat, lang))
        if verdict.outcome is not None:
            typer.echo(verdict.record(lang)["outcome"][f"message_{lang}"])
    raise typer.Exit(EXIT_REJECTED if verdict.status == "rejected" else EXIT_ACCEPTED)


@app.command()
def template(
    unit: Annotated[str, typer.Option("--unit", help="Unit code, e.g. 03386 or 105.")],
    period: Annotated[
        str, typer.Option("--period", help="Period: 2024-06, 2024-Q2, 2024-H1, 2024.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the .xlsx form.")],
    catalog: CatalogFile = None,
) -> None:
    """Generate the Excel form for one unit and one period."""
    from validations.catalog import load_catalog
    from validations.template import write_template

    if output.suffix.lower() != ".xlsx":
        raise _fail("usage.form_not_xlsx", path=str(output))
    _writable_file(output)
    cat = load_catalog(catalog)
    try:
        path = write_template(unit, period, output, catalog=cat)
    except OSError as exc:
        raise output_error(output, exc) from None
    _echo(f"Đã tạo biểu mẫu / form written: {path}")


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
        raise _fail("usage.not_a_date", option="--on", value=on) from None
    hits = (
        [u for c in units.pad(query, day) for u in units.versions(c) if not day or u.valid_on(day)]
        if query.strip().isascii() and query.strip().isdigit()
        else units.find_by_name(query, on=day)
    )
    if not hits:
        raise _fail("not_found.unit", 1, query=query)
    for u in hits:
        until = u.valid_to.isoformat() if u.valid_to else "…"
        since = u.valid_from.isoformat() if u.valid_from else "…"
        fields = (u.code, u.level, u.name, f"parent={u.parent_code or '-'}", f"{since}..{until}")
        typer.echo("\t".join(one_line(f) for f in fields))


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


def _fail(reason: str, code: int = EXIT_UNREADABLE, **params: Any) -> TonghopError:
    """A usage error (exit 2) or nothing found (exit 1): a code of the message catalog, shown
    by _report_error in the user's language like every other error."""
    return (NotFoundError if code == 1 else UsageError)(reason, **params)


def _period_code(period: str) -> str:
    """The canonical period code (a PeriodError, exit 2, names what is wrong)."""
    from validations.period import parse_period

    return parse_period(period).code


def _writable_file(output: Path) -> None:
    """Refuse, before any work, an output file that is a folder or sits where none can be."""
    if output.is_dir():
        raise output_error(output)
    parent = output.parent
    if parent.exists() and not parent.is_dir():
        raise output_error(output, NotADirectoryError(20, "Not a directory"))


def _writable_folder(output: Path) -> None:
    """Refuse, before any work, an output folder that is a file or cannot be written."""
    if output.exists() and not output.is_dir():
        raise output_error(output, NotADirectoryError(20, "Not a directory"), "folder")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(output, exc, "folder") from None
    if not os.access(output, os.W_OK | os.X_OK):
        raise output_error(output, PermissionError(13, "Permission denied"), "folder")


def _read_warehouse(warehouse: str | None, work):  # type: ignore[no-untyped-def]
    """Open the warehouse read-only, run `work(con)` and close it (a user's mistake: no file,
    a writer holding it, no data, is a TonghopError: one sentence, not a traceback)."""
    from warehouse.access import WarehouseFile
    from warehouse.db import warehouse_path

    with WarehouseFile(warehouse_path(warehouse)).reading() as con:
        return work(con)


def _writer(warehouse: str | None, catalog: Path | None = None):  # type: ignore[no-untyped-def]
    """The warehouse for an operation that writes it: its reference data (the catalog's
    indicators among them) loaded when it differs; a lock held by another process is said at
    once (no waiting at a terminal)."""
    from validations.catalog import load_catalog
    from validations.units import load_units
    from warehouse.access import WarehouseFile
    from warehouse.db import warehouse_path

    return WarehouseFile(warehouse_path(warehouse), load_catalog(catalog), load_units())


Outbox = Annotated[Path | None, typer.Option(help="Submitters' reports (default ./outbox).")]


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of submissions.")],
    warehouse: Warehouse = None,
    outbox: Outbox = None,
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
    catalog: CatalogFile = None,
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

    Files are taken in order of arrival (modification time, then name), each judged by the
    catalog `validate --catalog` would use. Exit 0 when the run completed, whatever the
    verdicts.
    """
    from validations.catalog import catalog_file, load_catalog

    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise _fail("usage.paths_not_found", paths=missing)
    load_catalog(catalog)  # refused as validate refuses it, before Prefect starts
    kw = {
        "warehouse": warehouse,
        "outbox": str(outbox) if outbox else None,
        "archive": str(archive) if archive else None,
        "inbox_root": str(inbox) if inbox else None,
        "catalog": str(catalog_file(catalog)) if catalog else None,
    }
    if no_prefect:
        from service.ingest import ingest as run_ingest
        from warehouse.ingest_settings import IngestSettings

        settings = IngestSettings.resolve(kw.pop("warehouse"), None, kw.pop("outbox"), **kw)
        res = run_ingest([str(p) for p in paths], settings)
    else:
        from flows.ingest import ingest_submissions

        res = dict(ingest_submissions([str(p) for p in paths], **kw))
    if as_json:
        typer.echo(_json(res))
        return

    def line(s: dict, tail: str = "") -> None:  # type: ignore[type-arg]
        status = "duplicate" if s["duplicate"] else s["status"]
        _echo(
            f"{status:<24} {s['unit_code'] or '?':<6} {s['period'] or '?':<8} v{s['version']}  "
            f"{s['file']}{tail}"
        )

    for s in res["submissions"]:
        line(s)
    for s in res.get("loaded_late", []):
        line(s, f"  (staged earlier, batch {s['batch']})")
    for u in res["unreadable"]:
        _echo(f"{'unreadable':<24} {u['file']}: {u['message_vi']}")
    for r in res.get("refused", []):
        _echo(
            f"{'refused':<24} {r['unit_code'] or '?':<6} {r['period'] or '?':<8} {r['rule']}  "
            f"{r['file']}"
        )
    for f in res.get("changed", []):
        _echo(f"{'changed while read':<24} {f}: left for the next run")
    for left in (res.get("archive") or {}).get("left", []):
        _echo(f"{'not archived':<24} {left['file']}: {left['reason']}")
    _echo(f"warehouse: {res['warehouse']}   reports: {res['outbox']}/")


@app.command()
def consolidate(
    period: Period,
    unit: UnitCode,
    warehouse: Warehouse = None,
    abs_tol: Annotated[
        float | None,
        typer.Option(
            "--abs-tol",
            help="Cross-level difference tolerated, absolute, for every indicator (default: "
            "each indicator's tolerance in the catalog).",
        ),
    ] = None,
    rel_tol: Annotated[
        float | None,
        typer.Option(
            "--rel-tol", help="Cross-level difference tolerated, share of the sum (as --abs-tol)."
        ),
    ] = None,
    catalog: CatalogFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run the consolidate flow for a district or province: completeness, checks, rollups."""
    from validations.catalog import catalog_file, load_catalog
    from validations.units import load_units
    from warehouse.rollup import scope_of

    # the catalog and the scope are refused before Prefect starts
    scope_of(_period_code(period), unit, load_catalog(catalog), load_units())
    from flows.consolidate import consolidate_period

    res = consolidate_period(
        [period],
        unit,
        warehouse=warehouse,
        catalog=str(catalog_file(catalog)) if catalog else None,
        abs_tol=abs_tol,
        rel_tol=rel_tol,
    )[0]
    if as_json:
        typer.echo(_json(res))
        return
    _print_consolidation(res)


def _some(codes: list[str], n: int = 10) -> str:
    """The first n codes, and how many more."""
    return ", ".join(codes[:n]) + (f" and {len(codes) - n} more" if len(codes) > n else "")


def _print_consolidation(res: dict, indent: str = "") -> None:  # type: ignore[type-arg]
    pct = res["completeness_pct"]
    months = res.get("months") or 1
    partial = res.get("partial") or {}
    missing = [m for m in res["missing"] if m not in partial]
    sent: dict[int, list[str]] = {}
    for code, n in partial.items():
        sent.setdefault(n, []).append(code)
    _echo(
        f"{indent}{res['unit_code']} {res['period']}: {res['received']}/{res['expected']} reported"
        + (f" all {months} months" if months > 1 else "")
        + (f" ({pct:.1f}%)" if pct is not None else "")
        + "".join(
            f", {len(codes)} sent {n}/{months} months ({_some(codes)})"
            for n, codes in sorted(sent.items(), reverse=True)
        )
        + (
            f"; monthly figures {res['months_received']}/{res['months_expected']}"
            if months > 1 and res.get("months_expected")
            else ""
        )
        + (f", missing {', '.join(missing)}" if missing else "")
        + (f", late {', '.join(res['late'])}" if res["late"] else "")
        + (
            f", {len(res['via_children'])} complete through their communes"
            if res.get("via_children")
            else ""
        )
        + (
            f"; communes {res['communes_received']}/{res['communes_expected']}"
            if res.get("communes_expected") and res["children"]
            else ""
        )
        + f", {res['indicators']} indicators, {len(res['issues'])} issues"
        + (f", from {res['submissions']} submissions" if res.get("submissions") else "")
        + ("; approved: kept as approved, not rewritten" if res.get("kept") else "")
    )
    for issue in res["issues"]:
        _echo(f"{indent}  [{issue['severity']}] {issue['rule']}: {issue['message_vi']}")
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
        _echo(f"{indent}Great Expectations checkpoint: {verdict}")
        for issue in quality["issues"]:
            _echo(f"{indent}  [{issue['severity']}] {issue['rule']}: {issue['message_vi']}")
        if quality.get("docs_index"):
            _echo(f"{indent}Data Docs: {quality['docs_index']}")


def _approval(
    action: str,
    unit: str,
    period: str,
    actor: str,
    warehouse: str | None,
    catalog: Path | None = None,
) -> None:
    from service.approval import act, review

    wh = _writer(warehouse, catalog)
    done = act(wh, action, unit, period, actor, wh.catalog, wh.units)
    verb = {"approve": "approved", "accept": "accepted", "unaccept": "un-accepted"}
    _echo(f"{verb.get(action, action + 'd')}: {unit} {done.period} by {done.actor}")
    for sid in done.released:
        _echo(f"  released held version {sid}")
    if action == "approve":  # the open warnings it was approved with, named
        with wh.reading() as con:
            warnings = review(con, action, unit, done.period, wh.catalog).warnings
        lang = _lang({})
        if warnings:
            _echo(f"  approved with {len(warnings)} open warning(s) below it:")
        for w in warnings:
            _echo(f"  - {w['unit_code']} {w['indicator'] or ''}: {w[f'message_{lang}']}")


@app.command()
def approve(
    period: Period,
    unit: UnitCode,
    actor: Actor,
    warehouse: Warehouse = None,
    catalog: CatalogFile = None,
) -> None:
    """A district steward approves its consolidated period; it and the units below are locked.

    The open warnings of the unit and the units below it (cross-level, quality, plausibility)
    are listed after it."""
    _approval("approve", unit, period, actor, warehouse, catalog)


@app.command()
def accept(
    period: Period,
    unit: UnitCode,
    actor: Actor,
    warehouse: Warehouse = None,
    catalog: CatalogFile = None,
) -> None:
    """The province accepts an approved district's period."""
    _approval("accept", unit, period, actor, warehouse, catalog)


@app.command()
def unaccept(
    period: Period,
    unit: UnitCode,
    actor: Actor,
    warehouse: Warehouse = None,
    catalog: CatalogFile = None,
) -> None:
    """The province takes back its acceptance (accepted -> approved): the district may then
    unapprove. Refused while the province's own period is approved."""
    _approval("unaccept", unit, period, actor, warehouse, catalog)


@app.command()
def unapprove(
    period: Period,
    unit: UnitCode,
    actor: Actor,
    warehouse: Warehouse = None,
    catalog: CatalogFile = None,
) -> None:
    """Unlock an approved period; versions held meanwhile become current. Refused once the
    level above has accepted it (it un-accepts first: tonghop unaccept)."""
    _approval("unapprove", unit, period, actor, warehouse, catalog)


@app.command()
def rollup(
    period: Period,
    unit: UnitCode,
    warehouse: Warehouse = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    catalog: CatalogFile = None,
) -> None:
    """Print a consolidated unit's rollup (read-only; run consolidate first). An approved
    period that a later correction would change says so first (stderr for csv and json)."""
    if fmt not in ("table", "csv", "json"):
        raise _fail("usage.format", value=fmt, allowed=["table", "csv", "json"])
    from service import figures
    from validations.catalog import load_catalog
    from validations.fmt import fmt_num
    from validations.units import load_units

    code = _period_code(period)
    cat = load_catalog(catalog)

    def read(con: Any) -> tuple[Any, list[Any], Any]:
        df = figures.rollup(con, unit, code)
        why = figures.no_rollup(con, unit, code, cat, load_units()) if df.empty else None
        return df, figures.approval_notes(con, unit, code, cat), why

    df, notes, why = _read_warehouse(warehouse, read)
    if why is not None:
        raise _fail(why.reason, 1, **why.params)
    lang = _lang({})
    for note in notes:  # an approved period a later correction would change: said first
        typer.echo(f"! {note.render(lang)}", err=fmt != "table")
    if fmt == "json":
        typer.echo(
            json_safe(df.to_json(orient="records", force_ascii=False, indent=2, date_format="iso"))
        )
    elif fmt == "csv":
        from validations.report import csv_safe

        typer.echo(df.map(csv_safe).to_csv(index=False), nl=False)
    else:
        import pandas as pd

        for r in df.itertuples():
            target = (
                f"{r.attainment} {fmt_num(r.attainment_points)}" if pd.notna(r.attainment) else ""
            )
            _echo(f"{r.indicator:<30} {fmt_num(r.value):>12}  {r.source or '':<9} {target}")


@app.command()
def status(
    period: Period,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="The units below this one: who sent what, on time or late."),
    ] = None,
    warehouse: Warehouse = None,
    catalog: CatalogFile = None,
) -> None:
    """Who sent what for a period: on time, late, missing, rejected, held; versions; approval.

    With --unit, every unit below it (a district's communes, a province's districts), sent or
    not; without it, every unit that sent something."""
    from service import status as st
    from validations.catalog import load_catalog
    from validations.units import load_units

    code = _period_code(period)
    cat = load_catalog(catalog)
    if unit is None:
        rows = _read_warehouse(warehouse, lambda con: st.senders(con, code, cat))
        for r in rows:
            _echo(
                f"{r['unit_code']:<6} {_cell(r['unit_name']):<28} {r['state']:<9} "
                f"v{_cell(r['current_version'], '-')} {_cell(r['current_status'], 'none'):<23} "
                f"latest={_cell(r['latest_status'], 'none'):<23} "
                f"rejected={_cell(r['n_rejected'], '0')} held={_cell(r['n_held'], '0')} "
                f"{_cell(r['approval_state'])}".rstrip()
            )
        _echo(f"{len(rows)} units sent something for {code}")
        return
    res = _read_warehouse(
        warehouse, lambda con: st.period_status(con, unit, code, cat, load_units())
    )
    for r in res.rows:
        ap = r.approval["state"] if r.approval else ""
        _echo(
            f"{r.code:<6} {_cell(r.name):<28} {r.state:<9} v{_cell(r.current_version, '-')} "
            f"{_cell(r.current_status, 'none'):<23} rejected={r.n_rejected} held={r.held} "
            f"{r.children} {ap}".rstrip()
        )
    counts = ", ".join(f"{k} {res.count(k)}" for k in (*st.STATES, "held") if res.count(k))
    _echo(f"{res.unit.code} {code}: {len(res.rows)} units below: {counts}")


def _cell(value: Any, default: str = "") -> str:
    """A warehouse cell as text: NULL (None, NaN, pandas NA) is `default`, 2.0 is "2"."""
    import pandas as pd

    if value is None or pd.isna(value):
        return default
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@app.command()
def report(
    period: Period,
    unit: UnitCode,
    fmt: Annotated[
        str, typer.Option("--format", help="md, html, xlsx or docx (the document to sign).")
    ] = "md",
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="File to write (Markdown goes to stdout without it)."),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            "--profile",
            help="The issuing office's profile (YAML: heading, number, place, recipients, "
            "signer) for docx; default: <profiles folder>/<unit>.yaml, else from the unit's name.",
        ),
    ] = None,
    profiles: Annotated[
        Path | None,
        typer.Option(
            "--profiles",
            help="Folder of profiles (default: $TONGHOP_PROFILES, else profiles/ beside the "
            "warehouse).",
        ),
    ] = None,
    warehouse: Warehouse = None,
    catalog: CatalogFile = None,
) -> None:
    """The period's report as the province publishes it: sentences, tables, charts; as docx,
    the Decree 30 document an office edits and signs."""
    if fmt not in ("md", "html", "xlsx", "docx"):
        raise _fail("usage.format", value=fmt, allowed=["md", "html", "xlsx", "docx"])
    if fmt == "xlsx" and output is None:
        raise _fail("usage.xlsx_needs_output")
    if fmt == "docx" and output is None:
        raise _fail("usage.docx_needs_output")
    if output is not None:
        _writable_file(output)
    from service import figures
    from validations.catalog import load_catalog
    from validations.units import load_units
    from warehouse.summary import (
        find_profile,
        render_html,
        render_markdown,
        write_docx,
        write_xlsx,
    )

    units, cat = load_units(), load_catalog(catalog)
    summary = _read_warehouse(warehouse, lambda con: figures.summary(con, period, unit, cat, units))
    if fmt in ("md", "html"):
        text = render_markdown(summary, units) if fmt == "md" else render_html(summary, units)
        if output is None:
            typer.echo(text, nl=False)
            return
    assert output is not None
    office = find_profile(summary.unit, profile, profiles, warehouse) if fmt == "docx" else None
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "xlsx":
            write_xlsx(summary, units, output)
        elif fmt == "docx":
            write_docx(summary, units, output, office)
        else:
            output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise output_error(output, exc) from None
    _echo(f"Đã ghi / written: {output}")
    if office is not None:
        _echo(f"Hồ sơ đơn vị / profile: {office.path or 'mặc định theo tên đơn vị / defaults'}")


@app.command()
def export(
    period: Period,
    unit: UnitCode,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the Parquet files.")],
    warehouse: Warehouse = None,
) -> None:
    """Export a period's views for the unit and the units below it as Parquet (read-only)."""
    _writable_folder(output)
    import duckdb

    from service import figures

    def work(con: Any) -> dict[str, int]:
        try:
            return figures.export(con, period, unit, output)
        except (duckdb.IOException, duckdb.PermissionException) as exc:
            raise output_error(output, OSError(str(exc).splitlines()[0]), "folder") from None

    counts = _read_warehouse(warehouse, work)
    for name, n in counts.items():
        _echo(f"{name:<18} {n:>6} rows  {output / name}/")


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
        raise _fail("usage.samples_missing", path=str(samples / "valid"))
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
    from tonghop.portal.demo import demo_accounts, hint

    demo_accounts(res["root"])
    typer.echo("")
    typer.echo(hint(res["root"], res["warehouse"]))


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


# --- the portal ------------------------------------------------------------------------------
Accounts = Annotated[
    str | None,
    typer.Option(
        "--accounts",
        help="The portal's SQLite file (default: $TONGHOP_ACCOUNTS, else accounts.sqlite beside "
        "the warehouse).",
    ),
]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    warehouse: Warehouse = None,
    accounts: Accounts = None,
    inbox: Annotated[
        Path | None, typer.Option(help="Inbox root the uploads go to (default ./inbox).")
    ] = None,
    outbox: Outbox = None,
    archive: Annotated[
        Path | None, typer.Option(help="Where stored files are moved (default ./archive).")
    ] = None,
    ingest: Annotated[
        str,
        typer.Option(
            help="How delivered files get stored: auto (a Prefect deployment run when "
            "$PREFECT_API_URL is set, else inline), deployment, schedule or inline."
        ),
    ] = "auto",
    smtp: Annotated[
        str | None, typer.Option(help="SMTP server HOST:PORT for e-mail notices ($TONGHOP_SMTP).")
    ] = None,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Send the session cookie over HTTPS only.")
    ] = False,
    workers: Annotated[
        int, typer.Option(help="Web processes (one background worker whatever their number).")
    ] = 1,
    catalog: CatalogFile = None,
) -> None:
    """Run the web portal: submitters upload, stewards approve, provinces read their figures."""
    from tonghop.portal.settings import PortalSettings

    try:
        settings = PortalSettings.resolve(
            warehouse,
            accounts,
            inbox,
            outbox,
            archive,
            ingest=ingest,
            smtp=smtp,
            secure_cookies=secure_cookies,
            base_url=os.environ.get("TONGHOP_PORTAL_URL") or f"http://{host}:{port}",
            catalog=catalog,
        )
    except ValueError as exc:
        if isinstance(exc, TonghopError):
            raise
        raise _fail("usage.portal_settings", detail=exc) from None
    from tonghop.portal.server import listening, run

    sock = listening(host, port)  # a port in use is said before anything starts
    typer.echo(
        f"tonghop portal on http://{host}:{port}/  warehouse {settings.warehouse}  "
        f"accounts {settings.accounts}  inbox {settings.inbox}  ingest {settings.ingest_mode}"
    )
    run(settings, sock, workers)


user_app = typer.Typer(
    no_args_is_help=True, help="Portal accounts: add, token, disable, list, password."
)
app.add_typer(user_app, name="user")


def _accounts(accounts: str | None, warehouse: str | None):  # type: ignore[no-untyped-def]
    from tonghop.portal.accounts import Accounts as Store
    from tonghop.portal.settings import accounts_path

    return Store(accounts_path(accounts, warehouse))


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ - @).")],
    unit: Annotated[str, typer.Option("--unit", help="The user's unit code, e.g. 03386, 105, 12.")],
    role: Annotated[str, typer.Option("--role", help="submitter, steward, viewer or admin.")],
    email: Annotated[
        str | None, typer.Option(help="E-mail address for verdicts and missing-unit notices.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    accounts: Accounts = None,
    warehouse: Warehouse = None,
) -> None:
    """Create a portal account (the password is asked for, or read from standard input)."""
    store = _accounts(accounts, warehouse)
    user = store.add(name, unit, role, _password(password_stdin), email)
    typer.echo(f"user {user.name}: {user.role} of unit {user.unit_code} ({store.db.path})")


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help="User name.")],
    accounts: Accounts = None,
    warehouse: Warehouse = None,
) -> None:
    """Print a new API token for the user (its previous tokens stop working)."""
    typer.echo(_accounts(accounts, warehouse).new_token(name))


@user_app.command("disable")
def user_disable(
    name: Annotated[str, typer.Argument(help="User name.")],
    accounts: Accounts = None,
    warehouse: Warehouse = None,
) -> None:
    """Disable an account: its sessions and tokens stop working at once."""
    _accounts(accounts, warehouse).disable(name)
    typer.echo(f"user {name} disabled")


@user_app.command("list")
def user_list(accounts: Accounts = None, warehouse: Warehouse = None) -> None:
    """List the portal's accounts."""
    for u in _accounts(accounts, warehouse).users():
        state = "disabled" if u.disabled else "active"
        # escaped: an account made before names were checked whole cannot forge a line
        name, email = one_line(u.name), one_line(u.email or "")
        typer.echo(f"{name:<20} {u.role:<10} {u.unit_code:<6} {state:<9} {email}")


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    accounts: Accounts = None,
    warehouse: Warehouse = None,
) -> None:
    """Set a new password (the user's open sessions end)."""
    _accounts(accounts, warehouse).set_password(name, _password(password_stdin))
    typer.echo(f"password of {name} changed")


# Every command handles its errors through _Command (see the module docstring).
for _info in [*app.registered_commands, *user_app.registered_commands]:
    _info.cls = _Command
