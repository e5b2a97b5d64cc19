"""Ten years of monthly national history, generated inside DuckDB with set-based SQL.

    python bench/history.py [--scale national|province] [--years 10] [--out FILE]

A warehouse file with the real schema (warehouse.db migrations, dim_unit, dim_indicator) holding,
for every month of the `years` before the bench month (2014-06 .. 2024-05 for 2024-06), what
ingest and consolidation would have stored for every unit of the three-level structure:
fct_submission and fct_value (one accepted, current version per unit and month; communes,
districts and provinces), fct_rollup and fct_completeness (districts and provinces).

No file is written and no row goes through Python: `generate_series` makes the months, a hash
of (unit, month, draw) makes each random draw, and values are consistent the way
sample_submissions/generate.py makes them: every unit has its own record (parts <= wholes,
suspects >= cases, ...), a parent reports its children's sum plus its own cases for ">="
indicators and exactly their sum for "=" indicators (stocks), rates are recomputed from their
parts. National scale: 10,794 units x 120 months, about 37 million values (2-3 minutes on
2 cores, about 1 GB on disk). Deterministic (DuckDB's hash of fixed inputs).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HISTORY_VERSION = 6
END_MONTH = "2024-05"  # the month before the bench month (bench/national.py DEFAULT_PERIOD)
DATA = ROOT / "data" / "bench"

# A uniform draw in [0, 1) per (unit, period, k); S(k) per (unit, k) only: a unit's stable traits.
R = "((hash(u.unit_code, m.period, {k}) % 1000003) / 1000003.0)"
S = "((hash(u.unit_code, 'stable', {k}) % 1000003) / 1000003.0)"


def _r(k: int) -> str:
    return R.format(k=k)


def _s(k: int) -> str:
    return S.format(k=k)


# Each unit's own record, as in own_record(): `sc` is the level's scale (1, 2, 3), `leaf` is
# true for a unit without children (stocks are its own, a parent's are its children's sum).
# DuckDB lets later expressions use earlier aliases.
OWN = {
    "crime_cases": f"floor(3.2 * sc * {_r(1)})",
    "crime_solved": f"floor(crime_cases * (0.7 + 0.3 * {_r(2)}))",
    "crime_cases_prev": f"floor(3.6 * sc * {_r(3)})",
    "reports_received": f"crime_cases + floor(2.4 * sc * {_r(4)})",
    "reports_resolved": f"floor(reports_received * (0.8 + 0.2 * {_r(5)}))",
    "drug_cases": f"floor(1.0 * sc * {_r(6)})",
    "drug_suspects": f"drug_cases + CASE WHEN drug_cases > 0 THEN floor(1.5 * {_r(7)}) ELSE 0 END",
    "rehab_voluntary": f"floor(1.6 * sc * {_r(8)})",
    "drug_hotspots_cleared": f"floor(0.4 * sc * {_r(9)})",
    "poppy_destroyed_m2": f"CASE WHEN {_r(10)} < 0.25 THEN round(50 + 850 * {_r(11)}, 1) ELSE 0 END",
    "prostitution_cases": f"floor(0.1 * sc * {_r(12)})",
    "propaganda_sessions": f"(1 + floor(6 * {_r(13)})) * CASE WHEN lvl = 'C' THEN 1 ELSE 2 END",
    "propaganda_participants": f"propaganda_sessions * (25 + floor(115 * {_r(14)}))",
    "security_models_new": f"floor(0.6 * sc * {_r(15)})",
    "security_models_maintained": f"floor(4 * {_r(16)})",
    "hotspots_total": f"floor(3 * {_r(17)})",
    "hotspots_transformed": f"floor((hotspots_total + 0.999) * {_r(18)})",
    "illegal_border_crossings": f"floor(3 * sc * {_r(19)})",
    "drug_users_managed": f"CASE WHEN leaf THEN greatest(0, 4 + floor(42 * {_s(1)}) + floor(5 * {_r(20)}) - 2) ELSE 0 END",
    "residential_areas": f"CASE WHEN leaf THEN 5 + floor(14 * {_s(2)}) ELSE 0 END",
    "residential_areas_safe": f"CASE WHEN leaf THEN least(residential_areas, floor(residential_areas * (0.5 + 0.5 * {_s(3)})) + floor(2 * {_r(21)})) ELSE 0 END",
    "released_prisoners": f"CASE WHEN leaf THEN greatest(0, floor(7 * {_s(4)}) + floor(3 * {_r(22)}) - 1) ELSE 0 END",
    "reoffenders": f"floor(released_prisoners * 0.25 * {_r(23)})",
    "drug_free_commune": "CASE WHEN drug_users_managed < 15 AND drug_cases = 0 THEN 1 ELSE 0 END",
    "serious_cases": f"floor(1.2 * sc * {_r(24)})",
    "serious_solved": f"floor(serious_cases * (0.8 + 0.2 * {_r(25)}))",
    "wanted_existing": f"2 + floor(11 * {_r(26)})",
    "wanted_surrendered": f"floor(floor(wanted_existing / 3) * {_r(27)})",
    "wanted_arrested": f"floor(floor((wanted_existing - wanted_surrendered) / 2) * {_r(28)})",
    "economic_cases": f"floor(1.2 * sc * {_r(29)})",
    "corruption_cases": f"floor(0.2 * sc * {_r(30)})",
    "assets_lost_mvnd": f"CASE WHEN {_r(31)} < 0.5 THEN 0 ELSE round(20 + 780 * {_r(32)}, 1) END",
    "assets_recovered_mvnd": f"floor(assets_lost_mvnd * (4 + 6 * {_r(33)})) / 10",
    "rehab_compulsory": f"floor(4 * sc * {_r(34)})",
    "methadone_patients": f"5 + floor(56 * {_r(35)})",
    "vice_inspections": f"2 + floor(14 * {_r(36)})",
    "vice_violations": f"floor(floor(vice_inspections / 2) * {_r(37)})",
    "hiv_new_cases": f"floor(0.8 * sc * {_r(38)})",
    "hiv_arv_patients": f"10 + floor(81 * {_r(39)})",
    "trafficking_cases": f"floor(0.3 * sc * {_r(40)})",
    "trafficking_suspects": f"trafficking_cases + CASE WHEN trafficking_cases > 0 THEN floor(3 * {_r(41)}) ELSE 0 END",
    "trafficking_victims": f"CASE WHEN trafficking_cases > 0 THEN trafficking_cases + floor(2 * {_r(42)}) ELSE 0 END",
    "media_items": f"2 + floor(11 * {_r(43)})",
}


def history_path(scale: str, out: Path | None = None) -> Path:
    return (out or DATA) / f"history-{scale}.duckdb"


def _months(years: int) -> tuple[str, str]:
    y, m = map(int, END_MONTH.split("-"))
    first = y * 12 + (m - 1) - (12 * years - 1)
    return f"{first // 12}-{first % 12 + 1:02d}-01", f"{y}-{m:02d}-01"


def build_history(
    scale: str = "national", years: int = 10, out: Path | None = None, force: bool = False
) -> dict[str, Any]:
    """Write (or reuse) the history warehouse; return its description."""

    from validations.catalog import Formula, load_catalog
    from validations.units import load_units
    from warehouse.db import open_warehouse

    path = history_path(scale, out)
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file() and not force:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("history_version") == HISTORY_VERSION and meta.get("years") == years:
            return meta
    t0 = time.perf_counter()
    catalog, units = load_catalog(), load_units()
    tmp = path.with_name(path.name + ".tmp")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    con = open_warehouse(tmp, catalog, units)
    con.execute("SET memory_limit = '6GB'")
    con.execute("SET preserve_insertion_order = false")
    first, last = _months(years)
    province = "AND province_code = '12'" if scale == "province" else ""
    con.execute(f"""
        CREATE TEMP TABLE months AS
        SELECT strftime(d, '%Y-%m') AS period, d AS month_start
        FROM generate_series(DATE '{first}', DATE '{last}', INTERVAL 1 MONTH) t(d)
    """)
    con.execute(f"""
        CREATE TEMP TABLE units AS
        SELECT u.unit_code, u.level, u.parent_code, u.province_code,
               NOT EXISTS (SELECT 1 FROM dim_unit c WHERE c.structure = 'legacy'
                           AND c.parent_code = u.unit_code) AS leaf
        FROM dim_unit u WHERE u.structure = 'legacy' {province}
    """)
    inds = list(catalog.indicators.values())
    parts = [i for i in inds if i.kind != "rate"]
    # 1. every unit's own record per month (long), only the indicators of its level
    exprs = ",\n".join(f"{OWN[i.code]} AS {i.code}" for i in parts)
    con.execute(f"""
        CREATE TEMP TABLE own_wide AS
        SELECT u.unit_code, u.level AS lvl, m.period, {exprs}
        FROM (SELECT *, CASE level WHEN 'C' THEN 1 WHEN 'D' THEN 2 ELSE 3 END AS sc
              FROM units) u
        CROSS JOIN months m
    """)
    levels_sql = " UNION ALL ".join(
        f"SELECT '{i.code}' AS indicator, '{lv}' AS lvl" for i in parts for lv in i.levels
    )
    con.execute(f"""
        CREATE TEMP TABLE own_long AS
        SELECT o.unit_code, o.lvl, o.period, o.indicator, o.value
        FROM (UNPIVOT own_wide ON {", ".join(i.code for i in parts)}
              INTO NAME indicator VALUE value) o
        JOIN ({levels_sql}) l ON l.indicator = o.indicator AND l.lvl = o.lvl
    """)
    con.execute("DROP TABLE own_wide")
    # 2. reported values: communes their own record; parents their children's sum plus their
    #    own cases (">="), exactly their children's sum ("=", stocks), their own ("-")
    con.execute("""
        CREATE TEMP TABLE reported AS
        SELECT unit_code, period, indicator, value FROM own_long WHERE lvl = 'C'
    """)
    meta_sql = " UNION ALL ".join(
        f"SELECT '{i.code}' AS indicator, '{i.parent_relation}' AS rel, '{i.kind}' AS kind"
        for i in parts
    )
    for lvl in ("D", "P"):
        con.execute(f"""
            INSERT INTO reported
            WITH kids AS (
                SELECT c.parent_code AS unit_code, r.period, r.indicator,
                       sum(r.value) AS s
                FROM reported r JOIN units c ON c.unit_code = r.unit_code
                WHERE c.parent_code IN (SELECT unit_code FROM units WHERE level = '{lvl}')
                GROUP BY ALL
            )
            SELECT o.unit_code, o.period, o.indicator,
                   CASE WHEN k.s IS NULL OR mt.rel = '-' THEN o.value
                        WHEN mt.rel = '=' THEN k.s
                        WHEN mt.kind = 'decimal' THEN round(k.s + o.value, 1)
                        ELSE k.s + o.value END
            FROM own_long o
            JOIN ({meta_sql}) mt ON mt.indicator = o.indicator
            LEFT JOIN kids k ON k.unit_code = o.unit_code AND k.period = o.period
                            AND k.indicator = o.indicator
            WHERE o.lvl = '{lvl}'
        """)
    con.execute("DROP TABLE own_long")
    # 3. rates recomputed from their parts (the catalog's formula), rounded as the form does
    rate_sql = " UNION ALL ".join(
        f"""
        SELECT n.unit_code, n.period, '{i.code}' AS code,
               round({i.formula.sql("n.value", "d.value")}, 2) AS v,
               {i.min if i.min is not None else "NULL"} AS lo,
               {i.max if i.max is not None else "NULL"} AS hi
        FROM reported n
        JOIN reported d ON d.indicator = '{i.denominator}' AND d.unit_code = n.unit_code
                       AND d.period = n.period
        JOIN units u ON u.unit_code = n.unit_code
        WHERE n.indicator = '{i.numerator}' AND d.value > 0
          AND u.level IN ({", ".join(f"'{lv}'" for lv in i.levels)})"""
        for i in inds
        if i.kind == "rate" and i.formula is not None
    )
    con.execute(f"""
        INSERT INTO reported
        SELECT unit_code, period, code, v FROM ({rate_sql})
        WHERE (v >= lo OR lo IS NULL) AND (v <= hi OR hi IS NULL)
    """)
    # 4. what ingest stores: one accepted, current version per unit and month
    con.execute("""
        INSERT INTO fct_submission
        SELECT u.unit_code || ':' || m.period || ':v1', u.unit_code, m.period, 'legacy', u.level,
               1, 'history:' || u.unit_code || ':' || m.period,
               'history/' || u.unit_code || '_' || m.period || '.csv', 'history',
               CAST(m.month_start + INTERVAL 15 DAY AS TIMESTAMP), 'accepted', 'accepted', NULL,
               true, (SELECT count(*) FROM reported r WHERE r.unit_code = u.unit_code
                      AND r.period = m.period), 0, 0,
               CAST(m.month_start + INTERVAL 16 DAY AS TIMESTAMP)
        FROM units u CROSS JOIN months m
        ORDER BY m.period, u.unit_code
    """)
    con.execute("""
        INSERT INTO fct_value
        SELECT unit_code || ':' || period || ':v1', unit_code, period, indicator, value, NULL,
               NULL
        FROM reported ORDER BY period, unit_code
    """)
    # 5. what consolidation stores: communes' own figures, districts and provinces, with the
    #    catalog's formulas (validations.catalog.semantics: Formula.sql)
    ind_sql = " UNION ALL ".join(
        f"SELECT '{i.code}' AS code, '{i.aggregation}' AS agg, "
        f"{_q(i.target.text() if i.target else None)} AS target"
        for i in inds
    )
    con.execute(f"CREATE TEMP TABLE ind AS {ind_sql}")
    flag = next(i.code for i in inds if i.is_flag)
    share = Formula.RATIO.sql("yes", "total")

    def ratio_rows(lvl: str) -> str:
        """One SELECT per rate: its formula over the unit's own parts and its children's sums."""
        return " UNION ALL ".join(
            f"""
            SELECT n.unit_code, n.period, '{i.code}' AS indicator,
                   {i.formula.sql("n.value", "d.value")} AS value,
                   n.value AS numerator, d.value AS denominator, NULL AS share,
                   {"NULL" if lvl == "C" else i.formula.sql("kn.s", "kd.s")} AS children_sum,
                   {"NULL" if lvl == "C" else "coalesce(kn.n, 0)"} AS children_reporting
            FROM own n
            JOIN own d ON d.indicator = '{i.denominator}' AND d.unit_code = n.unit_code
                      AND d.period = n.period
            LEFT JOIN kid kn ON kn.unit_code = n.unit_code AND kn.period = n.period
                            AND kn.indicator = '{i.numerator}'
            LEFT JOIN kid kd ON kd.unit_code = n.unit_code AND kd.period = n.period
                            AND kd.indicator = '{i.denominator}'
            WHERE n.indicator = '{i.numerator}'"""
            for i in inds
            if i.is_rate and i.formula is not None and lvl in i.levels
        )

    years_of = sorted({m[:4] for (m,) in con.execute("SELECT period FROM months").fetchall()})
    for lvl in ("C", "D", "P"):
        leaf = lvl == "C"
        for year in years_of:  # a year at a time: the communes' rows of ten years at once
            _rollup_rows(con, lvl, leaf, year, flag, share, ratio_rows)
        if leaf:
            continue
        con.execute(f"""
            INSERT INTO fct_completeness
            WITH leaves AS (  -- the communes under each unit
                SELECT c.parent_code AS unit_code, count(*) AS n FROM units c
                WHERE c.level = 'C' GROUP BY 1
                UNION ALL
                SELECT d.parent_code, count(*) FROM units d JOIN units c
                ON c.parent_code = d.unit_code WHERE d.level = 'D' GROUP BY 1
            )
            SELECT u.unit_code, '{lvl}', m.period, 'legacy', any_value(c.level),
                   count(c.unit_code), count(c.unit_code), 0, count(c.unit_code), 0,
                   CASE WHEN count(c.unit_code) > 0 THEN 100.0 END,
                   CAST(m.month_start + INTERVAL 13 DAY + INTERVAL 6 DAY AS DATE),
                   [], [], CAST(m.month_start + INTERVAL 20 DAY AS TIMESTAMP),
                   coalesce(list(c.unit_code ORDER BY c.unit_code)
                            FILTER (WHERE c.unit_code IS NOT NULL), []),
                   [],
                   coalesce(list(c.unit_code ORDER BY c.unit_code)
                            FILTER (WHERE NOT c.leaf), []),
                   coalesce(any_value(l.n), 0), coalesce(any_value(l.n), 0), [],
                   1, coalesce(any_value(l.n), 0), coalesce(any_value(l.n), 0), [], []
            FROM units u CROSS JOIN months m
            LEFT JOIN units c ON c.parent_code = u.unit_code
            LEFT JOIN (SELECT unit_code, sum(n) AS n FROM leaves GROUP BY 1) l
                   ON l.unit_code = u.unit_code
            WHERE u.level = '{lvl}'
            GROUP BY u.unit_code, m.period, m.month_start
        """)
    # lineage: each unit's figures come from its own submission and its descendants'
    con.execute("""
        INSERT INTO fct_rollup_lineage
        WITH tree AS (
            SELECT unit_code AS top, unit_code FROM units
            UNION ALL
            SELECT parent_code, unit_code FROM units WHERE parent_code IS NOT NULL
            UNION ALL
            SELECT d.parent_code, c.unit_code FROM units c JOIN units d
                ON d.unit_code = c.parent_code WHERE d.parent_code IS NOT NULL
        )
        SELECT t.top, m.period, t.unit_code || ':' || m.period || ':v1',
               CAST(m.month_start + INTERVAL 20 DAY AS TIMESTAMP)
        FROM tree t CROSS JOIN months m
        WHERE t.top IN (SELECT unit_code FROM units)
    """)
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("fct_submission", "fct_value", "fct_rollup", "fct_completeness")
    }
    con.execute("CHECKPOINT")
    con.close()
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    shutil.move(str(tmp), str(path))
    meta = {
        "history_version": HISTORY_VERSION,
        "scale": scale,
        "years": years,
        "months": f"{first[:7]} .. {last[:7]}",
        "rows": counts,
        "file_mb": round(path.stat().st_size / 1e6),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


def _rollup_rows(
    con: Any, lvl: str, leaf: bool, year: str, flag: str, share: str, ratio_rows: Any
) -> None:
    """What consolidation stores for the units of one level and the months of one year."""
    con.execute(f"""
        INSERT INTO fct_rollup
        WITH kid AS (
            SELECT c.parent_code AS unit_code, r.period, r.indicator,
                   sum(r.value) AS s, count(*) AS n
            FROM reported r JOIN units c ON c.unit_code = r.unit_code
            WHERE c.parent_code IN (SELECT unit_code FROM units WHERE level = '{lvl}')
              AND starts_with(r.period, '{year}')
            GROUP BY ALL
        ),
        flags AS (  -- communes with 1 among those reporting (a province: its districts')
            SELECT unit_code, period, indicator, numerator, denominator FROM fct_rollup
            WHERE level = 'D' AND indicator = '{flag}' AND starts_with(period, '{year}')
        ),
        flag_rows AS (
            SELECT unit_code, period, indicator, value AS yes, 1.0 AS total, NULL AS n
            FROM reported WHERE indicator = '{flag}' AND '{lvl}' = 'C'
              AND starts_with(period, '{year}')
            UNION ALL
            SELECT k.unit_code, k.period, k.indicator, k.s AS yes, k.n AS total, k.n
            FROM kid k WHERE k.indicator = '{flag}' AND '{lvl}' = 'D'
            UNION ALL
            SELECT c.parent_code, f.period, f.indicator, sum(f.numerator), sum(f.denominator),
                   count(*)
            FROM flags f JOIN units c ON c.unit_code = f.unit_code
            WHERE '{lvl}' = 'P' GROUP BY ALL
        ),
        own AS (
            SELECT r.* FROM reported r JOIN units u ON u.unit_code = r.unit_code
            WHERE u.level = '{lvl}' AND starts_with(r.period, '{year}')
        ),
        rows AS (
            SELECT o.unit_code, o.period, o.indicator, o.value, NULL AS numerator,
                   NULL AS denominator, NULL AS share,
                   {"NULL" if leaf else "k.s"} AS children_sum,
                   {"NULL" if leaf else "coalesce(k.n, 0)"} AS children_reporting
            FROM own o JOIN ind i ON i.code = o.indicator AND i.agg = 'sum'
            LEFT JOIN kid k USING (unit_code, period, indicator)
            UNION ALL
            {ratio_rows(lvl)}
            UNION ALL
            SELECT unit_code, period, indicator, yes, yes, total, {share}, {"NULL" if leaf else "yes"}, n
            FROM flag_rows
        )
        SELECT r.unit_code, '{lvl}', r.period, 'legacy', r.indicator, r.value, r.numerator,
               r.denominator, r.share, r.children_sum, r.children_reporting,
               CASE WHEN r.indicator = '{flag}' AND '{lvl}' <> 'C' THEN 'children' ELSE 'own' END,
               i.target, NULL, NULL, NULL, NULL, {"NULL" if leaf else "100.0"},
               CAST(m.month_start + INTERVAL 20 DAY AS TIMESTAMP), NULL, NULL, NULL,
               NULL, NULL, NULL
        FROM rows r JOIN ind i ON i.code = r.indicator
        JOIN months m ON m.period = r.period
        ORDER BY r.period, r.unit_code
    """)


def _q(x: object) -> str:
    return "NULL" if x is None else "'" + str(x).replace("'", "''") + "'"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", choices=("national", "province"), default="national")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    meta = build_history(args.scale, args.years, args.out, args.force)
    print(json.dumps(meta, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
