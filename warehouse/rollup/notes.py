"""An approved period does not move: the figures a consolidation would now give it are noted.

An approval locks a unit's period, the units below it and the periods inside it (the months
of an approved half-year): a new version for them is held (warehouse.store). What it shows
beside its own figures reads other periods too: the change vs the same period last year and
last year's figure, the plausibility warnings. So a correction of last year's figures (a
month of 2023 under an approved 2024-H1), or the consolidation of the unit above a locked
district, would recompute the locked rows. They are never rewritten (`locked_units`: the
consolidation leaves them as they are); where the new computation differs, the difference is
recorded in fct_approval_note with the version that caused it (`record`), and shown beside the
period (`messages`: the CLI's rollup and report, the summary, the portal) as a note to reopen
it. Unapproving it consolidates it again (refresh.reopened), which clears the note.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from validations.catalog import Catalog
from validations.messages import Message, msg
from validations.period import Period, PeriodError, parse_period
from validations.units import ReferenceUnits
from warehouse.approval import approval_row, locks_above
from warehouse.rollup.computation import Level
from warehouse.rollup.scope import stale_chain
from warehouse.store import containing_sql, locked_sql

# the columns compared: what a reader sees of a figure
NUMBERS = (
    "value",
    "numerator",
    "denominator",
    "share",
    "children_sum",
    "attainment_points",
    "change_vs_last_year",
    "last_year_value",
)
TEXTS = ("source", "target", "attainment")
NOTE_COLUMNS = (
    "unit_code",
    "period",
    "structure",
    "source_unit_code",
    "source_period",
    "submission_id",
    "version",
    "received_at",
    "units",
    "indicators",
    "noted_at",
)


def locked_units(
    con: duckdb.DuckDBPyConnection, codes: list[str], period: str, structure: str
) -> set[str]:
    """Which of the units are locked for the period: approved or accepted, themselves or a
    unit above them, for the period or a period containing it."""
    if not codes:
        return set()
    any_approval = con.execute(
        f"SELECT count(*) FROM fct_approval WHERE list_contains({containing_sql('$p')}, period)",
        {"p": period},
    ).fetchall()[0][0]
    if not any_approval:  # the usual case: nothing approved, nothing to look up
        return set()
    probe = pd.DataFrame(
        {
            "seq": np.arange(len(codes)),
            "unit_code": codes,
            "period": period,
            "structure": structure,
        }
    )
    con.register("_lock_probe", probe)
    try:
        hit = {int(r[0]) for r in con.execute(locked_sql("_lock_probe")).fetchall()}
    finally:
        con.unregister("_lock_probe")
    return {codes[k] for k in hit}


def _differences(
    con: duckdb.DuckDBPyConnection, computed: pd.DataFrame, codes: list[str], period: str
) -> dict[str, list[str]]:
    """unit -> the indicators whose computed row differs from the stored one (a row only in
    one of the two differs too)."""
    cols = ["unit_code", "indicator", *NUMBERS, *TEXTS]
    stored = con.execute(
        f"SELECT {', '.join(cols)} FROM fct_rollup"
        " WHERE period = $p AND unit_code IN (SELECT unnest($u))",
        {"p": period, "u": codes},
    ).df()
    now = computed.loc[computed["unit_code"].isin(codes)].reindex(columns=cols)
    j = stored.merge(now, on=["unit_code", "indicator"], how="outer", indicator=True)
    differs = j["_merge"] != "both"
    for c in NUMBERS:
        a = pd.to_numeric(j[f"{c}_x"], errors="coerce").to_numpy(dtype="float64")
        b = pd.to_numeric(j[f"{c}_y"], errors="coerce").to_numpy(dtype="float64")
        same = np.isclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)
        differs |= ~same
    for c in TEXTS:
        a = j[f"{c}_x"].astype(object).where(j[f"{c}_x"].notna(), None)
        b = j[f"{c}_y"].astype(object).where(j[f"{c}_y"].notna(), None)
        differs |= pd.Series([x != y for x, y in zip(a, b, strict=True)], index=j.index)
    out: dict[str, list[str]] = {}
    for u, ind in zip(j.loc[differs, "unit_code"], j.loc[differs, "indicator"], strict=True):
        out.setdefault(str(u), []).append(str(ind))
    return out


def _versions(
    con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, int, datetime]]:
    """(unit, period) -> its current version: submission id, version, received at."""
    if not pairs:
        return {}
    rows = con.execute(
        "SELECT s.unit_code, s.period, s.submission_id, s.version, s.received_at"
        " FROM fct_submission s JOIN (SELECT unnest($u) AS u, unnest($p) AS p) q"
        " ON q.u = s.unit_code AND q.p = s.period WHERE s.is_current",
        {"u": [u for u, _ in pairs], "p": [p for _, p in pairs]},
    ).fetchall()
    return {(u, p): (sid, int(v), at) for u, p, sid, v, at in rows}


def record(
    con: duckdb.DuckDBPyConnection,
    levels: list[Level],
    locked: set[str],
    because: Iterable[tuple[str | None, str | None]],
    catalog: Catalog,
    units: ReferenceUnits,
    at: datetime,
) -> dict[str, list[str]]:
    """Note, for each locked district or province of the computed `levels` whose new figures
    (its own rows or its communes') differ from the stored ones, which changes (`because`:
    the changed (unit, period) pairs of the refresh) reach it; returns unit -> the indicators
    that differ."""
    scopes = [s for lv in levels for s in lv.scopes if s.unit.code in locked]
    if not scopes:
        return {}
    period, structure = scopes[0].period, scopes[0].structure
    owner = {s.unit.code: s.unit.code for s in scopes}  # a figure's row -> the note's unit
    for s in scopes:  # the communes' rows too: the grids and the report show them beside it
        owner.update({c.code: s.unit.code for c in s.children if c.level == "C"})
    frames = [f for lv in levels if len(f := lv.frame())]
    if not frames:
        return {}
    rows_differ = _differences(
        con, pd.concat(frames, ignore_index=True), sorted(owner), period.code
    )
    differ: dict[str, list[str]] = {}
    changed_units: dict[str, list[str]] = {}
    for code, inds in rows_differ.items():
        unit = owner[code]
        differ[unit] = sorted({*differ.get(unit, []), *inds})
        changed_units.setdefault(unit, []).append(code)
    if not differ:
        return {}
    causes: list[tuple[str, Period]] = []
    for unit_code, code in dict.fromkeys(because):
        if unit_code and code:
            try:
                causes.append((unit_code, parse_period(code)))
            except PeriodError:
                continue
    found = _versions(con, [(u, p.code) for u, p in causes])
    rows = []
    for unit_code, indicators in differ.items():
        reaching = [
            (u, p)
            for u, p in causes
            if unit_code in stale_chain(u, p, period, catalog, units) and (u, p.code) in found
        ]
        for u, p in reaching or [(None, None)]:
            sid, version, received = found[(u, p.code)] if u and p else (None, None, None)
            rows.append(
                (
                    unit_code,
                    period.code,
                    structure,
                    u,
                    p.code if p else None,
                    sid,
                    version,
                    received,
                    sorted(changed_units[unit_code]),
                    sorted(indicators),
                    at,
                )
            )
    frame = pd.DataFrame(rows, columns=list(NOTE_COLUMNS))
    # a difference of unknown cause where a note already names one adds nothing to it
    noted = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT unit_code FROM fct_approval_note"
            " WHERE period = $p AND unit_code IN (SELECT unnest($u))",
            {"p": period.code, "u": sorted(differ)},
        ).fetchall()
    }
    frame = frame.loc[~(frame["source_unit_code"].isna() & frame["unit_code"].isin(noted))]
    if frame.empty:
        return differ
    con.register("_notes", frame)
    try:  # one note per locked unit and cause: the newest version of that cause
        con.execute(
            "DELETE FROM fct_approval_note n USING _notes w WHERE n.unit_code = w.unit_code"
            " AND n.period = w.period AND n.source_unit_code IS NOT DISTINCT FROM"
            " w.source_unit_code AND n.source_period IS NOT DISTINCT FROM w.source_period"
        )
        con.execute(
            f"INSERT INTO fct_approval_note SELECT {', '.join(NOTE_COLUMNS[:-3])},"
            " CAST(units AS VARCHAR[]), CAST(indicators AS VARCHAR[]), noted_at FROM _notes"
        )
    finally:
        con.unregister("_notes")
    return differ


def notes(con: duckdb.DuckDBPyConnection, unit_code: str, period: str) -> list[dict[str, Any]]:
    """The notes of a unit's period (NOTE_COLUMNS), newest first (none in a warehouse that
    no writer has migrated to 008 yet: read-only connections do not migrate)."""
    try:
        res = con.execute(
            f"SELECT {', '.join(NOTE_COLUMNS)} FROM fct_approval_note"
            " WHERE unit_code = ? AND period = ? ORDER BY noted_at DESC, received_at DESC",
            [unit_code, period],
        )
    except duckdb.CatalogException:
        return []
    return [dict(zip(NOTE_COLUMNS, r, strict=True)) for r in res.fetchall()]


def messages(
    con: duckdb.DuckDBPyConnection, unit_code: str, period: str, close_day: int
) -> list[Message]:
    """The notes of a unit's period as sentences: what changed after the approval, and which
    approval to reopen to bring it in ("Số liệu cùng kỳ năm 2023 đã được sửa sau khi phê
    duyệt (...): mở lại ... để cập nhật")."""
    found = notes(con, unit_code, period)
    if not found:
        return []
    p = parse_period(period)
    own = approval_row(con, unit_code, p.code)
    lock = own or next(iter(locks_above(con, unit_code, p.code, close_day)), None)
    where = {
        "unit": unit_code,
        "period": p.code,
        "lock_unit": lock["unit_code"] if lock else unit_code,
        "lock_period": lock["period"] if lock else p.code,
    }
    out = []
    for n in found:
        if n["source_unit_code"] is None:
            out.append(msg("approval.note.changed", **where, indicators=n["indicators"]))
            continue
        cause = {
            "source": n["source_unit_code"],
            "source_period": n["source_period"],
            "version": n["version"],
            "at": n["received_at"],
        }
        year = int(str(n["source_period"])[:4])
        if year == p.year - 1:
            out.append(msg("approval.note.base_corrected", **where, **cause, year=year))
        else:
            out.append(msg("approval.note.inputs_changed", **where, **cause))
    return out
