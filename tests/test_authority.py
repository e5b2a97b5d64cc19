"""Who may submit what (validations/authority.py): the sender is the inbox folder a file arrived
in (a unit code, or a token of inbox/manifest.yaml); a file for a unit that is not the sender's
own nor below it is refused, never stored, logged in audit_log with the sender as actor, and
answered in the sender's own outbox folder. Library level first, then once through the flow."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import pytest
from test_warehouse_support import snapshot, warehouse

from conftest import SAMPLES
from validations.authority import (
    SENDER_NOT_AUTHORIZED,
    SENDER_UNKNOWN,
    AuthorityError,
    Inbox,
    check_senders,
    may_deliver,
    security_rules,
    write_refusals,
)
from validations.catalog import CatalogError, load_catalog
from validations.intake import expand_paths, validate_paths
from warehouse.staging import write_staging
from warehouse.store import load_batch

JUNE = SAMPLES / "valid" / "2024-06"
C_03386 = JUNE / "105" / "03386_2024-06.csv"  # commune 03386, district 105, province 12
C_03387 = JUNE / "105" / "03387_2024-06.csv"
D_105 = JUNE / "105" / "105_2024-06.xlsx"
C_03388_2025 = SAMPLES / "valid" / "2025-07" / "communes_12" / "03388_2025-07.csv"  # parent: 12
TOKEN = "k7QpXw2M9rT4vB8nY3cL"


def _drop(inbox: Path, folder: str, src: Path, name: str | None = None) -> Path:
    dest = inbox / folder / (name or src.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dest)
    return dest


# --- who is the sender, who may deliver what ------------------------------------------------------
def test_sender_is_the_first_folder_under_the_inbox(tmp_path, units):
    inbox = tmp_path / "inbox"
    (inbox / "manifest.yaml").parent.mkdir()
    (inbox / "manifest.yaml").write_text(f'tokens:\n  "{TOKEN}": "03386"\n', encoding="utf-8")
    box = Inbox(inbox, units)
    assert box.sender_of(inbox / "03386" / "a.csv").unit_code == "03386"
    assert box.sender_of(inbox / "105" / "2024" / "06" / "a.csv").unit_code == "105"
    assert box.sender_of(inbox / TOKEN / "a.csv") == box.sender_of(inbox / TOKEN / "x" / "b.xlsx")
    assert box.sender_of(inbox / TOKEN / "a.csv").via == "token"
    assert box.sender_of(inbox / "a.csv") is None  # straight in the root: nobody's
    assert box.sender_of(inbox / "99999" / "a.csv") is None  # not a unit code, not a token
    assert box.sender_of(inbox / ".." / "03386" / "a.csv") is None  # outside the inbox
    assert box.sender_of(tmp_path / "elsewhere" / "03386" / "a.csv") is None
    (inbox / "manifest.yaml").write_text(
        f'require_tokens: true\ntokens:\n  "{TOKEN}": "03386"\n', encoding="utf-8"
    )
    strict = Inbox(inbox, units)
    assert strict.sender_of(inbox / "03386" / "a.csv") is None  # plain folders no longer trusted
    assert strict.sender_of(inbox / TOKEN / "a.csv").unit_code == "03386"


@pytest.mark.parametrize(
    "manifest, words",
    [
        ('tokens:\n  "short": "03386"\n', "16-128"),
        (f'tokens:\n  "{TOKEN}": "99999"\n', "unknown unit code '99999'"),
        ("tokens: [a, b]\n", "maps each token"),
        ("tokenz: {}\n", "unknown key"),
        ("tokens: {a: [\n", "cannot read"),
    ],
)
def test_a_bad_manifest_fails_loudly_naming_the_file(tmp_path, units, manifest, words):
    (tmp_path / "manifest.yaml").write_text(manifest, encoding="utf-8")
    with pytest.raises(AuthorityError, match="manifest.yaml") as err:
        Inbox(tmp_path, units)
    assert words in str(err.value)
    assert isinstance(err.value, CatalogError)  # the CLI prints it as one sentence


@pytest.mark.parametrize(
    "manifest, line, words",
    [
        # YAML 1.1 reads 00013 as octal 11 and 03386 as the integer 3386: never a unit code
        (f'tokens:\n  "{TOKEN}": 00013\n', 2, "the unit code 00013 is not a string"),
        (f'tokens:\n  "{TOKEN}": 01234\n', 2, "the unit code 01234 is not a string"),
        (f'tokens:\n  "{TOKEN}": 12\n', 2, "the unit code 12 is not a string"),
        (f'tokens:\n  {"1" * 20}: "03386"\n', 2, "the token 1111… is not a string"),
        (
            f'tokens:\n  "{TOKEN}": "03386"\n  "{TOKEN}": "03387"\n',
            3,
            "is given twice (first on line 2)",
        ),
        ('require_tokens: "false"\ntokens: {}\n', 1, "require_tokens is true or false"),
        ("tokens: {}\nrequire_token: true\n", 2, "unknown key(s) require_token"),
    ],
)
def test_manifest_codes_are_yaml_strings_refused_at_load_naming_the_line(
    tmp_path, units, manifest, line, words
):
    (tmp_path / "manifest.yaml").write_text(manifest, encoding="utf-8")
    with pytest.raises(AuthorityError) as err:
        Inbox(tmp_path, units)
    assert f"manifest.yaml, line {line}: " in str(err.value) and words in str(err.value)
    assert err.value.error_code() == "inbox_manifest" and "\n" not in str(err.value)


def test_quoted_codes_load_and_an_empty_manifest_is_no_manifest(tmp_path, units):
    (tmp_path / "manifest.yaml").write_text(
        f'require_tokens: yes\ntokens:\n  "{TOKEN}": "00013"\n', encoding="utf-8"
    )
    box = Inbox(tmp_path, units)
    assert box.tokens == {TOKEN: "00013"} and box.require_tokens is True
    # a code with an 8 or a 9 is a string even unquoted (YAML has no octal reading for it)
    (tmp_path / "manifest.yaml").write_text(f'tokens:\n  "{TOKEN}": 03386\n', encoding="utf-8")
    assert Inbox(tmp_path, units).tokens == {TOKEN: "03386"}
    (tmp_path / "manifest.yaml").write_text("# nothing yet\n", encoding="utf-8")
    assert Inbox(tmp_path, units).tokens == {}


@pytest.mark.parametrize(
    "sender, unit, period, ok",
    [
        ("03386", "03386", "2024-06", True),  # its own report
        ("105", "03386", "2024-06", True),  # a district on behalf of its commune
        ("12", "03386", "2024-06", True),  # the province for a commune
        ("12", "105", "2024-06", True),  # the province for a district
        ("106", "03386", "2024-06", False),  # another district's commune
        ("03387", "03386", "2024-06", False),  # a neighbour commune
        ("03386", "105", "2024-06", False),  # upwards
        ("01", "03386", "2024-06", False),  # another province
        ("105", "03388", "2025-07", False),  # districts are gone: 03388 belongs to 12 directly
        ("12", "03388", "2025-07", True),
        ("105", "03388", "not a period", True),  # unreadable period: any structure's parent
    ],
)
def test_may_deliver_follows_the_structure_of_the_period(units, sender, unit, period, ok):
    assert may_deliver(sender, unit, period, units) is ok


def test_security_rules_come_from_the_catalog(catalog, tmp_path):
    rules = security_rules(catalog)
    assert set(rules) == {SENDER_UNKNOWN, SENDER_NOT_AUTHORIZED}
    assert all(r.severity == "error" and r.message_vi and r.hint_en for r in rules.values())
    assert not set(rules) & set(catalog.rules)  # not validator rules: no sample file needed
    bad = tmp_path / "province.yaml"
    bad.write_text(
        f"include: {catalog.path}\nsecurity:\n  - id: sender_unknown\n    severity: warning\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match="severity must be 'error'"):
        security_rules(load_catalog(bad))


# --- the whole library path: validate -> check senders -> stage -> load -------------------------
def _ingest(con, tmp_path: Path, inbox: Path, validator, catalog, units, batch: str):
    outcome = validate_paths(expand_paths([inbox]), validator)
    kept, refusals = check_senders(outcome, Inbox(inbox, units), catalog)
    staged = write_staging(
        kept.results,
        tmp_path / "staging",
        batch,
        kept.hashes,
        datetime(2024, 6, 16, 9),
        refused=[r.audit() for r in refusals],
    )
    return load_batch(con, staged), refusals


def test_a_unit_cannot_write_another_units_figures(tmp_path, validator, catalog, units):
    con = warehouse(tmp_path)
    inbox = tmp_path / "inbox"
    _drop(inbox, "03386", C_03386)  # its own: stored
    _drop(inbox, "105", C_03387)  # the district for its commune: stored
    _drop(inbox, "106", C_03386, "forged.csv")  # another district: refused
    _drop(inbox, "03387", D_105)  # a commune for its district: refused
    _drop(inbox, "99999", C_03387, "stray.csv")  # unknown folder: refused
    shutil.copy(C_03386, inbox / "root.csv")  # no folder at all: refused
    before = snapshot(con)
    outcomes, refusals = _ingest(con, tmp_path, inbox, validator, catalog, units, "b1")
    assert sorted((o.unit_code, o.status) for o in outcomes) == [
        ("03386", "accepted"),
        ("03387", "accepted"),
    ]
    got = sorted((Path(r.result.path).name, r.rule_id, r.actor) for r in refusals)
    assert got == [
        ("105_2024-06.xlsx", SENDER_NOT_AUTHORIZED, "03387"),
        ("forged.csv", SENDER_NOT_AUTHORIZED, "106"),
        ("root.csv", SENDER_UNKNOWN, "unknown sender"),
        ("stray.csv", SENDER_UNKNOWN, "unknown sender"),
    ]
    for r in refusals:  # the refusal is an error Issue of the submitter's report
        assert r.result.status == "rejected" and r.result.issues[-1].rule_id == r.rule_id
        assert r.result.issues[-1].message_vi and "{" not in r.result.issues[-1].message_en
    after = snapshot(con)
    # nothing of a refused file is stored: only the two allowed submissions are new
    subs = con.execute("SELECT unit_code, file_name FROM fct_submission ORDER BY 1").fetchall()
    assert [(u, Path(f).parent.name) for u, f in subs] == [("03386", "03386"), ("03387", "105")]
    assert (
        con.execute("SELECT count(*) FROM fct_submission WHERE unit_code = '105'").fetchone()[0]
        == 0
    )
    for table in ("fct_rollup", "fct_completeness", "fct_approval", "dim_unit"):
        assert after[table] == before[table]
    audit = con.execute(
        "SELECT actor, action, unit_code, period, to_status, detail FROM audit_log"
        " WHERE action = 'refuse' ORDER BY actor, unit_code"
    ).fetchall()
    assert [(a, u, p) for a, _, u, p, _, _ in audit] == [
        ("03387", "105", "2024-06"),
        ("106", "03386", "2024-06"),
        ("unknown sender", "03386", "2024-06"),
        ("unknown sender", "03387", "2024-06"),
    ]
    assert all(s == "refused" and "not stored" in d for *_, s, d in audit)
    # loading the same batch again logs nothing twice
    load_batch(con, tmp_path / "staging" / "b1")
    assert len(con.execute("SELECT * FROM audit_log WHERE action = 'refuse'").fetchall()) == 4


def test_a_forged_copy_sent_first_does_not_block_the_real_one(tmp_path, validator, catalog, units):
    """The refused file's hash is not stored: the owner's identical file is not a 'duplicate'."""
    con = warehouse(tmp_path)
    first = tmp_path / "first"
    _drop(first, "106", C_03386)
    outcomes, refusals = _ingest(con, tmp_path, first, validator, catalog, units, "b1")
    assert outcomes == [] and [r.rule_id for r in refusals] == [SENDER_NOT_AUTHORIZED]
    second = tmp_path / "second"
    _drop(second, "03386", C_03386)
    (o,), refusals = _ingest(con, tmp_path, second, validator, catalog, units, "b2")
    assert (o.unit_code, o.version, o.status, o.duplicate) == ("03386", 1, "accepted", False)
    assert refusals == []


def test_token_folders_and_reports_in_the_senders_outbox(tmp_path, validator, catalog, units):
    con = warehouse(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "manifest.yaml").write_text(
        f'require_tokens: true\ntokens:\n  "{TOKEN}": "105"\n', encoding="utf-8"
    )
    _drop(inbox, TOKEN, C_03386)  # district 105, by its token, for its commune: stored
    _drop(inbox, TOKEN, C_03388_2025)  # 2025-07: 03388 is the province's, not 105's
    _drop(inbox, "03387", C_03387)  # plain folders are not trusted with require_tokens
    outcomes, refusals = _ingest(con, tmp_path, inbox, validator, catalog, units, "b1")
    assert [(o.unit_code, o.status) for o in outcomes] == [("03386", "accepted")]
    assert sorted((r.result.unit_code, r.rule_id) for r in refusals) == [
        ("03387", SENDER_UNKNOWN),
        ("03388", SENDER_NOT_AUTHORIZED),
    ]
    outbox = tmp_path / "outbox"
    written = write_refusals(outbox, refusals, catalog)
    folders = sorted({p.parent.name for p in written})
    assert folders == ["105", "_unknown_sender"]  # never the folder of the unit a file names
    assert not (outbox / "03388").exists() and not (outbox / "03387").exists()
    assert all(outbox.resolve() in p.resolve().parents for p in written)
    data = json.loads(next(p for p in written if p.parent.name == "105").read_text("utf-8"))
    assert data["status"] == "rejected" and data["warehouse"]["status"] == "refused"
    assert data["issues"][-1]["rule"] == SENDER_NOT_AUTHORIZED
    actors = con.execute("SELECT DISTINCT actor FROM audit_log WHERE action = 'refuse'").fetchall()
    assert sorted(a for (a,) in actors) == ["105", "unknown sender"]  # the token is never logged
    audit = con.execute("SELECT * FROM audit_log WHERE action = 'refuse'").fetchall()
    assert "<token of 105>" in str(audit) and TOKEN not in str(audit)  # never logged


def test_a_province_export_holds_only_its_own_units(tmp_path, validator, catalog, units):
    """Two provinces in one warehouse: Lai Châu's export has no unit of the other one."""
    from warehouse.export import export_period
    from warehouse.rollup import consolidate

    con = warehouse(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    # Hà Giang (02): a commune report made from a Lai Châu one, unit code replaced
    commune = units.communes_of("02", datetime(2024, 6, 14).date())[0].code
    text = C_03386.read_text(encoding="utf-8").replace("03386,", f"{commune},")
    (other / f"{commune}_2024-06.csv").write_text(text, encoding="utf-8")
    files = [*expand_paths([JUNE / "105"]), other / f"{commune}_2024-06.csv"]
    out = validate_paths(files, validator)
    assert {r.unit_code for r in out.results if r.status != "rejected"} >= {commune, "03386"}
    load_batch(con, write_staging(out.results, tmp_path / "staging", "b1", out.hashes))
    consolidate(con, "2024-06", "12", catalog, units)
    consolidate(con, "2024-06", "02", catalog, units)
    mine = {u.code for u in units.in_force(datetime(2024, 6, 14).date()) if u.province_code == "12"}
    counts = export_period(con, "2024-06", "12", tmp_path / "exp")
    assert counts["submission_status"] > 0 and counts["rollup"] > 0
    import duckdb

    for view in counts:
        if not counts[view]:
            continue
        got = duckdb.sql(
            f"SELECT DISTINCT unit_code FROM read_parquet('{tmp_path}/exp/{view}/*/*.parquet')"
        ).fetchall()
        assert {g[0] for g in got} <= mine, view
    other_counts = export_period(con, "2024-06", "02", tmp_path / "exp02")
    got = duckdb.sql(
        f"SELECT DISTINCT unit_code FROM read_parquet('{tmp_path}/exp02/submission_status/*/*.parquet')"
    ).fetchall()
    assert other_counts["submission_status"] > 0 and commune in {g[0] for g in got}
    assert not {g[0] for g in got} & mine


# --- once through the flow -------------------------------------------------------------------------
def test_the_ingest_flow_refuses_and_logs_with_inbox_root(tmp_path, prefect_harness):
    from flows.ingest import ingest_submissions
    from warehouse.db import connect

    inbox = tmp_path / "inbox"
    _drop(inbox, "105", C_03386)
    _drop(inbox, "106", C_03387)  # not 106's commune
    loc = {
        "warehouse": str(tmp_path / "wh.duckdb"),
        "staging": str(tmp_path / "staging"),
        "outbox": str(tmp_path / "outbox"),
        "archive": str(tmp_path / "archive"),
    }
    res = ingest_submissions([str(inbox)], inbox_root=str(inbox), **loc)
    assert [(s["unit_code"], s["status"]) for s in res["submissions"]] == [("03386", "accepted")]
    assert [(r["unit_code"], r["rule"], r["sender"]) for r in res["refused"]] == [
        ("03387", SENDER_NOT_AUTHORIZED, "106")
    ]
    con = connect(loc["warehouse"], read_only=True)
    try:
        assert con.execute("SELECT unit_code FROM fct_submission").fetchall() == [("03386",)]
        assert con.execute(
            "SELECT actor, unit_code FROM audit_log WHERE action = 'refuse'"
        ).fetchall() == [("106", "03387")]
    finally:
        con.close()
    assert (tmp_path / "outbox" / "106").is_dir() and not (tmp_path / "outbox" / "03387").exists()
    assert sorted(p.name for p in (tmp_path / "archive").rglob("*.csv")) == [
        "03386_2024-06.csv",
        "03387_2024-06.csv",
    ]  # nothing lost: the refused file is archived too
    # without inbox_root the flow behaves as before
    res2 = ingest_submissions([str(C_03387)], **{**loc, "archive": None})
    assert res2["refused"] == [] and res2["submissions"][0]["unit_code"] == "03387"


# --- what a sender reads: its own answers, no server path, no token ---------------------------------
def test_reports_never_show_server_paths_or_tokens(tmp_path, validator, catalog, units):
    """A district's token folder delivers its communes' reports: the communes' answers (JSON
    and HTML, written in the communes' folders) name the file only, never the folder."""
    from validations.outbox import write_reports, write_unreadable

    con = warehouse(tmp_path)
    inbox = tmp_path / "srv" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "manifest.yaml").write_text(f'tokens:\n  "{TOKEN}": "105"\n', encoding="utf-8")
    _drop(inbox, TOKEN, C_03386)
    _drop(inbox, TOKEN, C_03387)
    (inbox / TOKEN / "broken.csv").write_bytes(b"")
    outcome = validate_paths(expand_paths([inbox]), validator)
    kept, refusals = check_senders(outcome, Inbox(inbox, units), catalog)
    staged = write_staging(kept.results, tmp_path / "staging", "b1", kept.hashes)
    loaded = {o.file_name: asdict(o) | {"batch": "b1"} for o in load_batch(con, staged)}
    outbox = tmp_path / "outbox"
    written = write_reports(outbox, kept.results, loaded, catalog, senders=kept.senders)
    written += write_unreadable(outbox, kept.unreadable, kept.senders)
    assert {p.parent.name for p in written} == {"03386", "03387", "_unreadable"}
    assert (outbox / "105" / "_unreadable" / "broken.csv.json").is_file()  # the sender's
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert TOKEN not in text and str(tmp_path) not in text and "srv" not in text, path
    data = json.loads((outbox / "03386" / "2024-06_v1.json").read_text(encoding="utf-8"))
    assert data["file"] == "03386_2024-06.csv"
    assert set(data["warehouse"]) <= {
        "unit_code",
        "period",
        "version",
        "status",
        "duplicate",
        "superseded",
    }
    refused = write_refusals(outbox, refusals, catalog)
    assert refused == []


def test_answers_of_different_senders_never_overwrite_each_other(
    tmp_path, validator, catalog, units
):
    """Two senders send unreadable files with one name, and files naming no known unit: each
    answer lands in its own sender's folder (a token sender's under its unit code)."""
    from validations.outbox import write_reports, write_unreadable

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "manifest.yaml").write_text(f'tokens:\n  "{TOKEN}": "106"\n', encoding="utf-8")
    for folder, body in (("03386", b"a"), ("03387", b"b"), (TOKEN, b"c"), ("nobody", b"d")):
        (inbox / folder).mkdir()
        (inbox / folder / "baocao.xls").write_bytes(b"\xd0\xcf\x11\xe0" + body)
        text = C_03386.read_text(encoding="utf-8").replace("03386,", "99999,")
        (inbox / folder / "unknown_unit.csv").write_text(text, encoding="utf-8")
    outcome = validate_paths(expand_paths([inbox]), validator)
    kept, refusals = check_senders(outcome, Inbox(inbox, units), catalog)
    assert len(kept.unreadable) == 4
    assert [(Path(r.result.path).parent.name, r.rule_id) for r in refusals] == [
        ("nobody", SENDER_UNKNOWN)  # its report goes to _unknown_sender/ (write_refusals)
    ]
    outbox = tmp_path / "outbox"
    written = write_unreadable(outbox, kept.unreadable, kept.senders)
    assert sorted(str(p.relative_to(outbox)) for p in written) == [
        "03386/_unreadable/baocao.xls.json",
        "03387/_unreadable/baocao.xls.json",
        "106/_unreadable/baocao.xls.json",
        "_unknown_sender/_unreadable/baocao.xls.json",
    ]
    unknown = [r for r in kept.results if r.unit_code is None]
    reports = write_reports(outbox, unknown, {}, catalog, senders=kept.senders)
    assert sorted({p.parent.name for p in reports}) == ["03386", "03387", "106"]
    assert len(reports) == 2 * len(unknown) == 6  # one JSON and one HTML each
    assert not (outbox / "unknown").exists()
    # without an inbox, two files of one name in one batch still get two answers
    flat = write_unreadable(tmp_path / "flat", kept.unreadable)
    assert len({p.name for p in flat}) == 4 and {p.parent.name for p in flat} == {"_unreadable"}


def test_the_ingest_flow_answers_every_file_of_an_inbox(tmp_path, prefect_harness):
    """Through the flow: an .xls, an .ods, a name ending in a space and a file naming no known
    unit each get an answer in their sender's outbox folder, and all are archived; the
    manifest stays where it is."""
    from flows.ingest import ingest_submissions

    inbox = tmp_path / "inbox"
    (inbox / TOKEN).mkdir(parents=True)
    (inbox / "manifest.yaml").write_text(f'tokens:\n  "{TOKEN}": "106"\n', encoding="utf-8")
    _drop(inbox, "105", C_03386, "03386_2024-06.csv ")  # trailing space: read as any CSV
    (inbox / TOKEN / "baocao.xls").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(60))
    (inbox / "nobody").mkdir()
    (inbox / "nobody" / "baocao.ods").write_bytes(b"PK\x03\x04" + bytes(60))
    text = C_03386.read_text(encoding="utf-8").replace("03386,", "99999,")
    (inbox / "105" / "unknown_unit.csv").write_text(text, encoding="utf-8")
    out = tmp_path / "outbox"
    res = ingest_submissions(
        [str(inbox)],
        inbox_root=str(inbox),
        warehouse=str(tmp_path / "wh.duckdb"),
        staging=str(tmp_path / "staging"),
        outbox=str(out),
        archive=str(tmp_path / "archive"),
    )
    assert res["files"] == 4
    assert sorted((s["unit_code"] or "?", s["status"]) for s in res["submissions"]) == [
        ("03386", "accepted"),
        ("?", "rejected"),
    ]
    assert sorted(u["code"] for u in res["unreadable"]) == ["old_excel", "old_excel"]
    answers = sorted(str(p.relative_to(out)) for p in out.rglob("*.json"))
    assert "106/_unreadable/baocao.xls.json" in answers  # the token's unit, never the token
    assert "_unknown_sender/_unreadable/baocao.ods.json" in answers
    assert "03386/2024-06_v1.json" in answers
    assert any(a.startswith("105/2024-06_unknown_unit_") for a in answers)  # the sender's
    assert not any(TOKEN in a for a in answers) and not (out / "unknown").exists()
    archived = sorted(
        p.name
        for p in (tmp_path / "archive").rglob("*")
        if p.is_file() and p.name != "manifest.json"  # the archive's own list of what it holds
    )
    assert archived == sorted(
        ["03386_2024-06.csv ", "baocao.xls", "baocao.ods", "unknown_unit.csv"]
    )
    assert len(list((tmp_path / "archive").rglob("manifest.json"))) == 1
    assert (inbox / "manifest.yaml").is_file()
