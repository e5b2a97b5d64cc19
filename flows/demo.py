"""The main job on the sample data: a fresh warehouse for Lai Châu, filled by the real flows.

The scenario replays a reporting season with realistic arrival times:
- last year, 2023-06 and the half-year 2023-H1: every unit's reports (so that 2024's figures
  are compared with the same period last year, "so với cùng kỳ");
- 2024-01 .. 2024-05: every commune, district and the province report on time (history);
- 2024-06: two communes never report, three communes and one district report late, a commune
  of Sìn Hồ types an extra zero (consolidation traces the district's disagreement to it), commune
  03386 first sends a file the rules reject and then a corrected one, commune 03387 sends a
  correction after its first accepted report (a new version supersedes the old one);
- every load re-consolidates what it changed (rollups are never stale); the consolidate flow
  then runs for every month and the first half-year 2024-H1 (built from the months: flows
  summed, stocks the June value) with its quality checkpoint; district 105 approves
  June and the province accepts it; a later correction from commune 03388 is then *held*;
- 2025-07 .. 2026-10: the two-level structure, communes consolidated straight into the province;
- the new Tuyên Quang (08 = old Tuyên Quang 08 + old Hà Giang 02): its predecessors' half-years
  2024-H2 and 2025-H1, then its own 2025-H2 and 2026-H1, each compared with the same territory
  the year before (the sum of its predecessors).
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from flows.consolidate import consolidate_period
from flows.ingest import ingest_submissions
from service import approval, figures
from validations.catalog import load_catalog
from validations.period import parse_period
from validations.units import load_units
from warehouse.access import WarehouseFile
from warehouse.summary import (
    build_report,
    find_profile,
    render_html,
    render_markdown,
    write_docx,
    write_xlsx,
)

PROVINCE = "12"
LAST_YEAR = ["2023-06", "2023-H1"]
HISTORY = [f"2024-{m:02d}" for m in range(1, 6)]
HALF_YEAR = "2024-H1"
MONTH = "2024-06"
TWO_LEVEL = "2025-07"
# the present: Lai Châu every month from the reform to 2026-10; the new Tuyên Quang (08: the
# old Tuyên Quang 08 plus the old Hà Giang 02) compared across the reform
TWO_LEVEL_MONTHS = [f"2025-{m:02d}" for m in range(7, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
MERGED = "08"
MERGED_BEFORE = ["2024-H2", "2025-H1"]
MERGED_AFTER = ["2025-H2", "2026-H1"]
MISSING = ("03394", "03430")  # Tam Đường communes that never report in June
TYPO = "03478"  # a Sìn Hồ commune types an extra zero (sample_submissions/anomalies/)
LATE = ("03400", "03421", "03424")
LATE_DISTRICT = "112"
REJECTED_THEN_CORRECTED = "03386"
CORRECTED = "03387"
HELD = "03388"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".csv", ".xlsx"))


def _period_of(f: Path) -> str:
    """Sample files are named <unit_code>_<period>.<ext>."""
    return f.stem.split("_", 1)[1]


def _at(period: str, days_after_close: float, hour: int = 9) -> datetime:
    close = parse_period(period).end(load_catalog().close_day)
    return datetime.combine(close, time(hour)) + timedelta(days=days_after_close)


def run_demo(
    root: str | Path = "data/demo",
    samples: str | Path = "sample_submissions",
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build the demo warehouse from scratch and return what happened."""
    root, samples = Path(root), Path(samples)
    shutil.rmtree(root, ignore_errors=True)
    wh, outbox, staging = root / "tonghop.duckdb", root / "outbox", root / "staging"
    common = {"warehouse": str(wh), "outbox": str(outbox), "staging": str(staging)}
    runs: list[dict[str, Any]] = []

    def ingest(label: str, files: list[Path], received: dict[str, datetime]) -> None:
        res = ingest_submissions([str(f) for f in files], received_at=received, **common)
        runs.append(res)
        counts = Counter("duplicate" if s["duplicate"] else s["status"] for s in res["submissions"])
        echo(
            f"  {label}: {len(files)} files -> "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )

    echo(f"Building the demo warehouse in {root}/ (Prefect flows on the local ephemeral server)")
    valid = samples / "valid"
    last_year = [f for p in LAST_YEAR for f in _files(valid / p)]
    ingest(
        "2023-06, 2023-H1 (last year)",
        last_year,
        {str(f): _at(_period_of(f), 1) for f in last_year},
    )
    history = [f for p in HISTORY for f in _files(valid / p)]
    ingest("2024-01..05 on time", history, {str(f): _at(_period_of(f), 1) for f in history})

    june = _files(valid / MONTH)
    skip = {f"{c}_{MONTH}" for c in (*MISSING, *LATE)} | {f"{LATE_DISTRICT}_{MONTH}"}
    first_wave = [f for f in june if f.stem not in skip]
    rejected = samples / "invalid" / "crime_solved_le_cases.csv"  # commune 03386, June
    typo = samples / "anomalies" / f"{TYPO}_{MONTH}.csv"
    wave1 = [rejected, typo] + [
        f
        for f in first_wave
        if f.stem not in (f"{REJECTED_THEN_CORRECTED}_{MONTH}", f"{TYPO}_{MONTH}")
    ]
    ingest("2024-06 first wave (one rejected)", wave1, {str(f): _at(MONTH, 1) for f in wave1})

    fixes = [f for f in first_wave if f.stem == f"{REJECTED_THEN_CORRECTED}_{MONTH}"]
    fixes.append(samples / "corrections" / f"{CORRECTED}_{MONTH}.csv")
    ingest("2024-06 corrections", fixes, {str(f): _at(MONTH, 2) for f in fixes})

    late = [
        f for f in june if f.stem in {f"{c}_{MONTH}" for c in LATE} | {f"{LATE_DISTRICT}_{MONTH}"}
    ]
    ingest("2024-06 late reports", late, {str(f): _at(MONTH, 9) for f in late})

    reform = [f for p in TWO_LEVEL_MONTHS for f in _files(valid / p)]
    ingest(
        "2025-07..2026-10 two-level structure",
        reform,
        {str(f): _at(_period_of(f), 1) for f in reform},
    )
    before = [f for p in MERGED_BEFORE for f in _files(valid / p)]
    ingest(
        "2024-H2, 2025-H1 old Tuyên Quang and Hà Giang",
        before,
        {str(f): _at(_period_of(f), 2) for f in before},
    )
    after = [f for p in MERGED_AFTER for f in _files(valid / p)]
    ingest(
        "2025-H2, 2026-H1 new Tuyên Quang", after, {str(f): _at(_period_of(f), 2) for f in after}
    )

    summaries = consolidate_period(
        HISTORY + [MONTH, HALF_YEAR, TWO_LEVEL, TWO_LEVEL_MONTHS[-1]], PROVINCE, warehouse=str(wh)
    )
    summaries += consolidate_period(MERGED_AFTER, MERGED, warehouse=str(wh))
    june_summary = next(s for s in summaries if s["period"] == MONTH)
    echo(f"  consolidated province {PROVINCE} for {len(summaries)} periods (districts first)")

    wh_file = WarehouseFile(wh, load_catalog(), load_units())
    approval.approve(wh_file, "105", MONTH, "steward.105", load_catalog())
    approval.accept(wh_file, "105", MONTH, "steward.12")
    echo(f"  district 105 approved {MONTH}; province {PROVINCE} accepted it")
    held = [samples / "corrections" / f"{HELD}_{MONTH}.csv"]
    ingest("2024-06 correction after approval", held, {str(f): _at(MONTH, 12) for f in held})
    which = [
        (MONTH, PROVINCE),
        (HALF_YEAR, PROVINCE),
        (TWO_LEVEL_MONTHS[-1], PROVINCE),
        (MERGED_AFTER[-1], MERGED),
    ]
    profiles = root / "profiles"  # the offices' profiles, where `tonghop report` looks
    shutil.copytree(samples / "profiles", profiles)
    reports = write_reports(wh, root / "reports", which, profiles)
    echo(
        f"  wrote the summaries of Lai Châu for {MONTH}, {HALF_YEAR} and "
        f"{TWO_LEVEL_MONTHS[-1]}, and of Tuyên Quang for {MERGED_AFTER[-1]}, compared with the "
        "old Tuyên Quang and Hà Giang (md, html, xlsx, and docx: the document to sign)"
    )
    return {
        "root": str(root),
        "warehouse": str(wh),
        "outbox": str(outbox),
        "runs": runs,
        "consolidation": summaries,
        "june": june_summary,
        "reports": reports,
    }


def write_reports(
    wh: Path, folder: Path, which: list[tuple[str, str]], profiles: Path | None = None
) -> list[str]:
    """The period summaries as the province publishes them: Markdown, HTML, xlsx and the Word
    document an office signs (its heading from the unit's profile in `profiles`)."""
    units, catalog = load_units(), load_catalog()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    with WarehouseFile(wh).reading() as con:
        for period, unit in which:
            s = figures.summary(con, period, unit, catalog, units)
            r = build_report(s, units)
            stem = folder / f"{unit}_{period}"
            stem.with_suffix(".md").write_text(render_markdown(s, units, r), encoding="utf-8")
            stem.with_suffix(".html").write_text(render_html(s, units, r), encoding="utf-8")
            write_xlsx(s, units, stem.with_suffix(".xlsx"), r)
            office = find_profile(s.unit, folder=profiles, warehouse=wh)
            write_docx(s, units, stem.with_suffix(".docx"), office, r)
            out += [str(stem.with_suffix(x)) for x in (".md", ".html", ".xlsx", ".docx")]
    return out
