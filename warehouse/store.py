"""Loading staging batches into the warehouse: versions, supersession, holds, audit.

Only the single writer calls `load_batch`. A batch is loaded in ONE transaction with set-based
SQL over the staged Parquet files, so a SIGKILL leaves the warehouse exactly as before or after
the batch, and a batch of 10,000 submissions costs a handful of statements, not 10,000.

Rules (per unit + period):
- the same content hash already stored (or earlier in the same batch) is a duplicate: no new
  row, the outcome names the stored version (re-ingesting a batch changes nothing). A file
  identical to an older version that was later superseded is also a duplicate: to reinstate it
  the submitter must change it (e.g. a note) or a steward must act. A version rejected for a
  reason that depended on the date (DATE_RULES: `period_future`) is no precedent: the same
  content sent again is judged afresh as a new version;
- a new hash is a new version (1, 2, ... in order of loading, then received_at and position
  within the batch);
- an accepted (or accepted_with_warnings) version becomes the current one and supersedes the
  previous current version, unless it was received before the current one (an older file in a
  batch loaded late: stored, never current); a rejected version is stored with its values and issues but never
  removes the current accepted version;
- when the unit + period, or an ancestor of the unit for that period, is approved (locked), a
  new accepted version is stored with status `held`, not current, until it is unapproved
  (warehouse.approval.unapprove releases it). An approval locks every period it contains: a
  month inside an approved quarter, half-year or year is held too.
Every status change is written to audit_log.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from validations.errors import TonghopError
from validations.period import DEFAULT_CLOSE_DAY, PeriodError, parse_period
from validations.units import structure_on
from warehouse.db import now, transaction
from warehouse.staging import MANIFEST, read_manifest
from warehouse.status import ACCEPTED_STATES, LOCKING_SQL

K = TypeVar("K", bound=Hashable)  # the caller's key of each file (predict_outcomes)
PAUSE_ENV = "TONGHOP_TEST_PAUSE_IN_TXN"
PAUSE_MARKER_ENV = "TONGHOP_TEST_PAUSE_MARKER"
# Rules whose verdict depends on the day the file was read: such a rejection is no precedent
# for identical content sent later.
DATE_RULES = ("period_future",)

# Each unit with itself, its parent and its province as "ancestor", per structure.
ANCESTORS_SQL = """
    SELECT unit_code, structure, unit_code AS ancestor FROM dim_unit
    UNION ALL
    SELECT unit_code, structure, parent_code FROM dim_unit WHERE parent_code IS NOT NULL
    UNION ALL
    SELECT unit_code, structure, province_code FROM dim_unit
    WHERE province_code <> unit_code AND province_code IS DISTINCT FROM parent_code
"""


class StoreError(TonghopError, RuntimeError):
    """A staging batch could not be loaded; the warehouse is unchanged."""


@dataclass(frozen=True, slots=True)
class SubmissionOutcome:
    """What loading one staged submission did."""

    unit_code: str | None
    period: str | None
    version: int
    status: str
    submission_id: str
    duplicate: bool
    superseded: int | None  # version of the submission it replaced as current
    file_name: str | None = None
    current: bool = False  # the stored version (this one, or the one duplicated) is current now
    batch: str | None = None  # the staging batch the file came in

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (all scalars: no deep copy, unlike dataclasses.asdict)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _structures(periods: list[str | None], close_day: int) -> pd.DataFrame:
    rows = []
    for p in periods:
        if p is None:
            continue
        try:
            rows.append((p, structure_on(parse_period(p).end(close_day))))
        except PeriodError:
            continue
    return pd.DataFrame(rows, columns=["period", "structure"], dtype=object)


def containing_sql(col: str) -> str:
    """SQL list of the period codes that contain the period in column `col`, itself first:
    2024-05 -> [2024-05, 2024-Q2, 2024-H1, 2024]; 2024-Q3 -> [2024-Q3, 2024-H2, 2024];
    2024-H1 -> [2024-H1, 2024]; 2024 -> [2024] (canonical codes, validations.period)."""
    y = f"left({col}, 4)"
    return f"""CASE
        WHEN regexp_full_match({col}, '\\d{{4}}-\\d{{2}}') THEN [{col},
            {y} || '-Q' || ((CAST(right({col}, 2) AS INTEGER) + 2) // 3),
            {y} || '-H' || ((CAST(right({col}, 2) AS INTEGER) + 5) // 6), {y}]
        WHEN regexp_full_match({col}, '\\d{{4}}-Q[1-4]') THEN [{col},
            {y} || '-H' || ((CAST(right({col}, 1) AS INTEGER) + 1) // 2), {y}]
        WHEN regexp_full_match({col}, '\\d{{4}}-H[12]') THEN [{col}, {y}]
        ELSE [{col}] END"""


def locked_sql(table: str) -> str:
    """Rows (seq) of `table` (seq, unit_code, period, structure) whose unit+period is locked:
    the unit or one of its ancestors is approved for the period or a period containing it."""
    return f"""
        SELECT DISTINCT w.seq FROM (
            SELECT k.seq, k.ancestor, unnest({containing_sql("k.period")}) AS period FROM (
                SELECT t.seq, t.unit_code AS ancestor, t.period FROM {table} t
                UNION ALL
                SELECT t.seq, a.ancestor, t.period FROM {table} t
                JOIN ({ANCESTORS_SQL}) a
                  ON a.unit_code = t.unit_code AND a.structure = t.structure
            ) k
        ) w
        JOIN fct_approval ap ON ap.unit_code = w.ancestor AND ap.period = w.period
        WHERE ap.state IN {LOCKING_SQL}
    """


def date_rejected_sql(alias: str) -> str:
    """True for a stored submission `alias` rejected for a reason that depended on the date."""
    rules = ", ".join(f"'{r}'" for r in DATE_RULES)
    return f"""({alias}.status = 'rejected' AND EXISTS (
        SELECT 1 FROM fct_issue di WHERE di.submission_id = {alias}.submission_id
        AND di.rule_id IN ({rules}) AND di.severity = 'error'))"""


def promote_current(
    con: duckdb.DuckDBPyConnection, candidates_sql: str, actor: str, at: datetime
) -> None:
    """Make the newest accepted candidate of each unit+period current, chaining `supersedes`.

    `candidates_sql` selects the submission_id of stored, accepted, not held submissions.
    "Newest" orders by received_at, then version: a candidate received before the current
    version (an older file in a batch loaded late) is stored but never becomes current.
    Runs inside the caller's transaction.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _promo AS
        WITH cand AS (
            SELECT s.submission_id, s.unit_code, s.period, s.version, s.received_at
            FROM fct_submission s WHERE s.submission_id IN ({candidates_sql})
        ),
        keys AS (SELECT DISTINCT unit_code, period FROM cand),
        cur AS (
            SELECT s.submission_id AS cur_id, s.unit_code, s.period, s.version AS cur_version,
                   s.received_at AS cur_received_at
            FROM fct_submission s JOIN keys k ON k.unit_code = s.unit_code AND k.period = s.period
            WHERE s.is_current
        ),
        eligible AS (
            SELECT c.*, cur.cur_id
            FROM cand c LEFT JOIN cur ON cur.unit_code = c.unit_code AND cur.period = c.period
            WHERE cur.cur_id IS NULL
               OR c.received_at > cur.cur_received_at
               OR (c.received_at = cur.cur_received_at AND c.version > cur.cur_version)
        )
        SELECT submission_id, unit_code, period, version, cur_id,
               coalesce(lag(submission_id) OVER w, cur_id) AS supersedes,
               row_number() OVER (PARTITION BY unit_code, period
                                  ORDER BY received_at DESC, version DESC) = 1
                   AS becomes_current
        FROM eligible
        WINDOW w AS (PARTITION BY unit_code, period ORDER BY received_at, version)
    """)
    con.execute("""
        UPDATE fct_submission SET is_current = false
        WHERE is_current AND submission_id IN (
            SELECT cur_id FROM _promo WHERE becomes_current AND cur_id IS NOT NULL)
    """)
    con.execute("""
        UPDATE fct_submission SET supersedes = p.supersedes, is_current = p.becomes_current
        FROM _promo p WHERE fct_submission.submission_id = p.submission_id
    """)
    con.execute(
        """
        INSERT INTO audit_log
        SELECT $at, $actor, 'supersede', unit_code, period, supersedes, 'current', 'superseded',
               'superseded by ' || submission_id
        FROM _promo WHERE supersedes IS NOT NULL
        ORDER BY unit_code, period, version
        """,
        {"at": at, "actor": actor},
    )
    con.execute("DROP TABLE _promo")


def pause_for_test() -> None:
    """Test hook: sleep inside the transaction so a test can SIGKILL the writer mid-write.

    Called just before COMMIT by load_batch and warehouse.rollup.consolidate. When
    $TONGHOP_TEST_PAUSE_MARKER names a file, it is created first (tests poll for it)."""
    pause = os.environ.get(PAUSE_ENV)
    if pause:
        marker = os.environ.get(PAUSE_MARKER_ENV)
        if marker:
            Path(marker).touch()
        print("TONGHOP_PAUSED", flush=True)
        print("TONGHOP_PAUSED", file=sys.stderr, flush=True)
        time.sleep(float(pause))


Changed = list[tuple[str, str]]  # (unit_code, period) whose current version changed


def load_batch(
    con: duckdb.DuckDBPyConnection,
    batch_dir: str | Path,
    actor: str = "ingest",
    close_day: int = DEFAULT_CLOSE_DAY,
    after: Callable[[duckdb.DuckDBPyConnection, Changed], object] | None = None,
) -> list[SubmissionOutcome]:
    """Load one staging batch in one transaction; one outcome per staged submission, in order.

    `after(con, changed)` runs inside the same transaction with the (unit_code, period) pairs
    whose current version the batch changed (warehouse.rollup.refresh re-consolidates them),
    so the load and the rollups it makes stale commit together, or neither."""
    batch = Path(batch_dir)
    manifest = read_manifest(batch)
    sub, val, iss = (
        _sql_path(batch / f"{name}.parquet") for name in ("submissions", "values", "issues")
    )
    try:
        periods = [r[0] for r in con.execute(f"SELECT DISTINCT period FROM {sub}").fetchall()]
    except duckdb.Error as exc:
        raise StoreError("store.batch_unreadable", path=str(batch), detail=exc) from exc
    has_schema = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'fct_submission'"
    ).fetchall()[0][0]
    if not has_schema:
        raise StoreError("store.no_schema")
    con.register("_stg_periods", _structures(periods, close_day))
    at = now()
    params = {"at": at, "actor": actor}
    try:
        with transaction(con):
            rows = _load(con, batch, manifest, (sub, val, iss), params, actor, at, after)
    except duckdb.Error as exc:
        raise StoreError("store.load_failed", path=str(batch), detail=exc) from exc
    finally:
        con.unregister("_stg_periods")
    return [SubmissionOutcome(*row) for row in rows]


def _load(  # the body of load_batch's transaction
    con: duckdb.DuckDBPyConnection,
    batch: Path,
    manifest: dict,  # type: ignore[type-arg]
    files: tuple[str, str, str],
    params: dict,  # type: ignore[type-arg]
    actor: str,
    at: datetime,
    after: Callable[[duckdb.DuckDBPyConnection, Changed], object] | None,
) -> list[tuple]:  # type: ignore[type-arg]
    sub, val, iss = files
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _stg AS
        SELECT s.*, p.structure,
               row_number() OVER (PARTITION BY s.unit_code, s.period, s.content_hash
                                  ORDER BY s.received_at, s.seq) AS dup_rank
        FROM read_parquet({sub}) s LEFT JOIN _stg_periods p ON p.period = s.period
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _match AS
        SELECT s.seq, e.submission_id AS existing_id
        FROM _stg s JOIN fct_submission e
          ON e.unit_code IS NOT DISTINCT FROM s.unit_code
         AND e.period IS NOT DISTINCT FROM s.period
         AND e.content_hash = s.content_hash
        WHERE NOT {date_rejected_sql("e")}
        QUALIFY row_number() OVER (PARTITION BY s.seq ORDER BY e.version DESC) = 1
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _numbered AS
        WITH fresh AS (
            SELECT * FROM _stg WHERE dup_rank = 1 AND seq NOT IN (SELECT seq FROM _match)
        ),
        prev AS (
            SELECT e.unit_code, e.period, max(e.version) AS max_version
            FROM fct_submission e
            WHERE EXISTS (SELECT 1 FROM fresh f WHERE f.unit_code IS NOT DISTINCT FROM e.unit_code
                          AND f.period IS NOT DISTINCT FROM e.period)
            GROUP BY e.unit_code, e.period
        )
        SELECT f.*,
               CAST(coalesce(p.max_version, 0) + row_number() OVER (
                   PARTITION BY f.unit_code, f.period ORDER BY f.received_at, f.seq)
                   AS INTEGER) AS version
        FROM fresh f LEFT JOIN prev p
          ON p.unit_code IS NOT DISTINCT FROM f.unit_code
         AND p.period IS NOT DISTINCT FROM f.period
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _new AS
        SELECT n.*,
               coalesce(n.unit_code, '?') || ':' || coalesce(n.period, '?') || ':v'
                   || n.version AS submission_id,
               CASE WHEN n.validation_status IN ('accepted', 'accepted_with_warnings')
                         AND n.seq IN ({locked_sql("_numbered")})
                    THEN 'held' ELSE n.validation_status END AS status
        FROM _numbered n
    """)
    con.execute(
        """
        INSERT INTO fct_submission (submission_id, unit_code, period, structure, level,
            version, content_hash, file_name, batch_id, received_at, validation_status,
            status, supersedes, is_current, n_values, n_errors, n_warnings, loaded_at)
        SELECT submission_id, unit_code, period, structure, level, version, content_hash,
               file_name, batch_id, received_at, validation_status, status, NULL, false,
               n_values, n_errors, n_warnings, $at
        FROM _new ORDER BY seq
        """,
        {"at": at},
    )
    con.execute(f"""
        INSERT INTO fct_value
        SELECT n.submission_id, v.unit_code, v.period, v.indicator, v.value, v.note, v.location
        FROM read_parquet({val}) v JOIN _new n ON n.seq = v.seq
    """)
    con.execute(f"""
        INSERT INTO fct_issue
        SELECT n.submission_id, i.rule_id, i.severity, i.unit_code, i.period, i.indicator,
               i.location, i.value, i.expected, i.message_vi, i.message_en, i.hint_vi,
               i.hint_en, i.extra
        FROM read_parquet({iss}) i JOIN _new n ON n.seq = i.seq
    """)
    con.execute(
        """
        INSERT INTO audit_log
        SELECT $at, $actor, 'ingest', unit_code, period, submission_id, NULL, status,
               'v' || version || ' from ' || coalesce(file_name, '?') || ' (batch '
               || batch_id || ')'
               || CASE WHEN status = 'held'
                       THEN ': held, the unit and period are approved (locked)' ELSE '' END
        FROM _new ORDER BY seq
        """,
        params,
    )
    _log_refused(con, manifest, at)
    promote_current(
        con,
        "SELECT submission_id FROM _new "
        "WHERE status IN ('accepted', 'accepted_with_warnings') "
        "AND unit_code IS NOT NULL AND period IS NOT NULL",
        actor,
        at,
    )
    rows = con.execute(
        """
        WITH resolved AS (
            SELECT s.seq, s.unit_code, s.period, s.file_name,
                   coalesce(n.submission_id, m.existing_id, f.submission_id) AS submission_id,
                   n.submission_id IS NULL AS duplicate
            FROM _stg s
            LEFT JOIN _new n ON n.seq = s.seq
            LEFT JOIN _match m ON m.seq = s.seq
            LEFT JOIN _new f ON s.dup_rank > 1
                 AND f.unit_code IS NOT DISTINCT FROM s.unit_code
                 AND f.period IS NOT DISTINCT FROM s.period
                 AND f.content_hash = s.content_hash
        )
        SELECT r.unit_code, r.period, d.version, d.status, r.submission_id, r.duplicate,
               CASE WHEN r.duplicate THEN NULL ELSE p.version END AS superseded,
               r.file_name, d.is_current, $batch_id AS batch
        FROM resolved r
        JOIN fct_submission d ON d.submission_id = r.submission_id
        LEFT JOIN fct_submission p ON p.submission_id = d.supersedes
        ORDER BY r.seq
    """,
        {"batch_id": manifest["batch_id"]},
    ).fetchall()
    con.execute(
        """
        INSERT INTO stg_batch
        SELECT $batch_id, $dir, $at, $actor, s.n, n.n, s.n - n.n
        FROM (SELECT count(*) AS n FROM _stg) s, (SELECT count(*) AS n FROM _new) n
        WHERE NOT EXISTS (SELECT 1 FROM stg_batch WHERE batch_id = $batch_id)
        """,
        {**params, "batch_id": manifest["batch_id"], "dir": str(batch)},
    )
    changed = con.execute(
        "SELECT DISTINCT n.unit_code, n.period FROM _new n JOIN fct_submission s"
        " ON s.submission_id = n.submission_id WHERE s.is_current ORDER BY 1, 2"
    ).fetchall()
    for table in ("_stg", "_match", "_numbered", "_new"):
        con.execute(f"DROP TABLE {table}")
    if after is not None and changed:
        after(con, [(u, p) for u, p in changed])
    pause_for_test()
    return rows


def batch_outcomes(
    con: duckdb.DuckDBPyConnection, batch_dir: str | Path
) -> list[SubmissionOutcome] | None:
    """What became of each submission of an already loaded staging batch, in staging order, as
    `load_batch` returned it (status and currency as they are now); None while the batch is not
    loaded. For a run whose batch another run loaded first (two ingests at once), so that each
    submitter's answer still says what happened to its file."""
    batch = Path(batch_dir)
    manifest = read_manifest(batch)
    loaded = con.execute(
        "SELECT count(*) FROM stg_batch WHERE batch_id = ?", [manifest["batch_id"]]
    ).fetchall()[0][0]
    if not loaded:
        return None
    sub = _sql_path(batch / "submissions.parquet")
    rows = con.execute(
        f"""
        SELECT s.unit_code, s.period, d.version, d.status, d.submission_id,
               NOT (d.batch_id = $b AND d.file_name IS NOT DISTINCT FROM s.file_name)
                   AS duplicate,
               CASE WHEN d.batch_id = $b AND d.file_name IS NOT DISTINCT FROM s.file_name
                    THEN p.version END AS superseded,
               s.file_name, d.is_current, $b AS batch
        FROM read_parquet({sub}) s
        JOIN fct_submission d
          ON d.unit_code IS NOT DISTINCT FROM s.unit_code
         AND d.period IS NOT DISTINCT FROM s.period
         AND d.content_hash = s.content_hash
        LEFT JOIN fct_submission p ON p.submission_id = d.supersedes
        WHERE d.loaded_at <= (SELECT loaded_at FROM stg_batch WHERE batch_id = $b)
        QUALIFY row_number() OVER (
            PARTITION BY s.seq
            ORDER BY (d.batch_id = $b AND d.file_name IS NOT DISTINCT FROM s.file_name) DESC,
                     {date_rejected_sql("d")}, d.version DESC) = 1
        ORDER BY s.seq
        """,
        {"b": manifest["batch_id"]},
    ).fetchall()
    return [SubmissionOutcome(*row) for row in rows]


def _log_refused(con: duckdb.DuckDBPyConnection, manifest: dict, at: datetime) -> None:
    """Files refused by validations.authority (manifest `refused`), in audit_log, once per batch.

    Runs inside load_batch's transaction; nothing else of a refused file is stored."""
    refused = manifest.get("refused") or []
    loaded = con.execute(
        "SELECT count(*) FROM stg_batch WHERE batch_id = ?", [manifest["batch_id"]]
    ).fetchall()[0][0]
    if not refused or loaded:
        return
    con.executemany(
        "INSERT INTO audit_log VALUES (?, ?, 'refuse', ?, ?, NULL, NULL, 'refused', ?)",
        [
            [
                at,
                str(r.get("actor") or "unknown sender"),
                r.get("unit_code"),
                r.get("period"),
                str(r.get("detail") or ""),
            ]
            for r in refused
        ],
    )


def pending_batches(con: duckdb.DuckDBPyConnection, staging_dir: str | Path) -> list[Path]:
    """Complete batch folders under staging_dir not loaded yet, oldest first (by manifest time)."""
    root = Path(staging_dir)
    if not root.is_dir():
        return []
    loaded = {r[0] for r in con.execute("SELECT batch_id FROM stg_batch").fetchall()}
    found = []
    for d in root.iterdir():
        if d.name.startswith(".") or not (d / MANIFEST).is_file() or d.name in loaded:
            continue
        found.append((read_manifest(d).get("created_at", ""), d.name, d))
    return [d for _, _, d in sorted(found)]


def predict_outcome(
    con: duckdb.DuckDBPyConnection,
    unit_code: str | None,
    period: str | None,
    content_hash: str | None,
    validation_status: str,
    close_day: int = DEFAULT_CLOSE_DAY,
) -> SubmissionOutcome | None:
    """What `load_batch` would do with one submission received now (predict_outcomes of
    one)."""
    found = predict_outcomes(
        con, [(0, unit_code, period, content_hash, validation_status)], close_day
    )
    return found.get(0)


def predict_outcomes(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[tuple[K, str | None, str | None, str | None, str]],
    close_day: int = DEFAULT_CLOSE_DAY,
) -> dict[K, SubmissionOutcome | None]:
    """What `load_batch` would do with each submission received now, read-only (the dry run of
    files: service.check), in three queries whatever their number: the stored version a file
    duplicates (same content hash, not a date-dependent rejection), or the version it would
    get, `held` when its unit and period are locked, current when accepted and not held. The
    same rules and SQL pieces as `_load` (date_rejected_sql, locked_sql). `files`: (key,
    unit_code, period, content_hash, validation status); the answer by key, None for a file
    that names no unit or period (each file is judged alone, as if it were the only one)."""
    out: dict[K, SubmissionOutcome | None] = {key: None for key, *_ in files}
    asked: list[tuple[K, str, str, str]] = []  # key, unit, period, validation status; seq = index
    cols: dict[str, list[Any]] = {"seq": [], "u": [], "p": [], "h": [], "s": []}
    for key, unit_code, period, content_hash, status in files:
        if not unit_code or not period:
            continue
        try:
            structure = structure_on(parse_period(period).end(close_day))
        except PeriodError:
            continue
        for col, value in zip("uphs", (unit_code, period, content_hash, structure), strict=True):
            cols[col].append(value)
        cols["seq"].append(len(asked))
        asked.append((key, unit_code, period, status))
    if not asked:
        return out
    table = """(SELECT unnest($seq) AS seq, unnest($u::VARCHAR[]) AS unit_code,
                unnest($p::VARCHAR[]) AS period, unnest($h::VARCHAR[]) AS content_hash,
                unnest($s::VARCHAR[]) AS structure)"""
    dups = {
        int(seq): (version, status, sid, current)
        for seq, version, status, sid, current in con.execute(
            f"""
            SELECT t.seq, e.version, e.status, e.submission_id, e.is_current
            FROM {table} t JOIN fct_submission e
              ON e.unit_code = t.unit_code AND e.period = t.period
             AND e.content_hash = t.content_hash
            WHERE NOT {date_rejected_sql("e")}
            QUALIFY row_number() OVER (PARTITION BY t.seq ORDER BY e.version DESC) = 1
            """,
            cols,
        ).fetchall()
    }
    versions = {
        int(seq): (last, cur)
        for seq, last, cur in con.execute(
            f"""
            SELECT t.seq, coalesce(max(e.version), 0),
                   max(CASE WHEN e.is_current THEN e.version END)
            FROM {table} t LEFT JOIN fct_submission e
              ON e.unit_code = t.unit_code AND e.period = t.period
            GROUP BY t.seq
            """,
            cols,
        ).fetchall()
    }
    locked: set[int] = set()
    if con.execute(  # no approval in those years (the usual case): nothing is locked
        f"SELECT 1 FROM fct_approval WHERE state IN {LOCKING_SQL}"
        " AND left(period, 4) IN (SELECT left(unnest($p::VARCHAR[]), 4)) LIMIT 1",
        {"p": cols["p"]},
    ).fetchall():
        locked = {int(r[0]) for r in con.execute(locked_sql(table), cols).fetchall()}
    for seq, (key, unit_code, period, validation_status) in enumerate(asked):
        if seq in dups:
            version, status, sid, current = dups[seq]
            out[key] = SubmissionOutcome(
                unit_code, period, version, status, sid, True, None, None, bool(current)
            )
            continue
        last, cur = versions.get(seq, (0, None))
        status = validation_status
        if status in ACCEPTED_STATES and seq in locked:
            status = "held"
        current = status in ACCEPTED_STATES
        version = int(last) + 1
        out[key] = SubmissionOutcome(
            unit_code,
            period,
            version,
            status,
            f"{unit_code}:{period}:v{version}",
            False,
            int(cur) if current and cur is not None else None,
            None,
            current,
        )
    return out
