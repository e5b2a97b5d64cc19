"""National scale: the bench's generators, batches over processes, set-based consolidation.

The timings themselves are benchmarks (bench/run.py), not tests; these check that the fast paths
compute what the simple ones do.
"""

from __future__ import annotations

import importlib.util
import json
import math
import pickle
import shutil
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT, SAMPLES, TODAY
from validations.catalog import load_catalog
from validations.intake import expand_paths, validate_paths
from validations.readers import read_submission
from validations.result import BatchValues
from validations.units import load_units
from validations.validator import Validator
from warehouse.db import open_warehouse
from warehouse.rollup import consolidate, consolidate_many
from warehouse.staging import write_staging
from warehouse.store import load_batch

pytestmark = pytest.mark.slow  # the fast lane is `pytest -m "not slow"`

P = "2024-06"


def _bench(name):
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _same_rows(a, b):
    """Equal rows, floats within 1e-12 (a sum of decimals may differ in its last bit)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) and isinstance(v, float):
                if not math.isclose(u, v, rel_tol=1e-12, abs_tol=1e-12):
                    return False
            elif u != v:
                return False
    return True


def _summary(r):
    return (
        r.path,
        r.unit_code,
        r.period,
        str(r.status),
        [(i.rule_id, i.indicator, i.location) for i in r.issues],
        r.values.to_dict("list"),
        r.checked,
    )


def test_values_are_built_lazily_and_survive_pickling(validator):
    raws = [read_submission(p) for p in sorted((SAMPLES / "valid" / P / "105").iterdir())]
    results = validator.validate(raws)
    first = results[0]
    assert isinstance(first.__dict__["_values"], BatchValues)
    assert first.n_values == len(first.value_columns()["indicator"]) > 0
    cols = first.value_columns()
    back = pickle.loads(pickle.dumps(results))
    frame = first.values  # built now, as a result of its own would hold it
    assert list(frame.columns) == ["unit_code", "period", "indicator", "value", "note", "location"]
    assert frame["indicator"].tolist() == list(cols["indicator"])
    assert set(frame["unit_code"]) == {first.unit_code}
    assert [_summary(r) for r in back] == [_summary(r) for r in results]
    alone = validator.validate([raws[0]])[0]  # a batch of one gives the same frame
    assert alone.values.equals(frame)


def test_batches_over_processes_give_what_one_batch_gives(tmp_path):
    from warehouse.ingest_settings import IngestSettings
    from warehouse.reading import read_files

    files = expand_paths([SAMPLES / "valid" / P, SAMPLES / "invalid", SAMPLES / "unreadable"])
    one = validate_paths(files, Validator(today=TODAY))
    settings = IngestSettings.resolve(
        tmp_path / "none.duckdb", batch_size=40, workers=2, today=TODAY.isoformat()
    )
    many = read_files([str(f) for f in files], None, settings).outcome
    assert [_summary(r) for r in many.results] == [_summary(r) for r in one.results]
    assert many.unreadable == one.unreadable and many.hashes == one.hashes


def test_national_generator_plants_violations_that_tonghop_finds_exactly(tmp_path):
    national = _bench("national")
    manifest = national.generate_month("province", P, out=tmp_path)
    folder = national.month_dir("province", P, tmp_path)
    assert manifest["files"] == 115 and manifest["by_level"] == {"P": 1, "D": 8, "C": 106}
    again = national.generate_month("province", P, out=tmp_path, force=True)
    assert again["planted"] == manifest["planted"]
    files = national.month_files(folder)
    out = validate_paths(files, Validator(today=TODAY))
    fired = {
        str(Path(r.path).relative_to(folder)): sorted({i.rule_id for i in r.issues})
        for r in out.results
        if r.issues
    }
    assert fired == {f: [rule] for f, rule in manifest["planted"].items()}
    # every planted change breaks its rule alone, at every level
    cat, units = load_catalog(), load_units()
    gen_mod = national.load_sample_generator()
    gen = gen_mod.Generator(cat, units)
    for level, code in (("C", "03386"), ("D", "105"), ("P", "12")):
        values = gen.values(units.get(code), P)
        for rule, (levels, _) in national.PLANTS.items():
            if level not in levels:
                continue
            vals, extra = national.planted_values(gen_mod, cat, level, values, rule)
            rows = gen_mod.rows_for(code, P, vals, cat) + [[code, P, i, t, ""] for i, t in extra]
            path = tmp_path / "one" / f"{rule}_{code}.csv"
            gen_mod.write_csv(path, rows)
            res = Validator(today=TODAY).validate_file(path)
            assert sorted({i.rule_id for i in res.issues}) == [rule], (rule, level)


def test_history_is_what_consolidation_computes(tmp_path):
    history = _bench("history")
    meta = history.build_history("province", years=1, out=tmp_path)
    assert meta["rows"]["fct_submission"] == 115 * 12
    wh = tmp_path / "history-province.duckdb"
    con = duckdb.connect(str(wh))
    period = "2024-03"
    query = (
        "SELECT unit_code, indicator, value, numerator, denominator, share, children_sum,"
        " children_reporting FROM fct_rollup WHERE period = ? ORDER BY ALL"
    )
    stored = con.execute(query, [period]).fetchall()
    consolidate(con, period, "12", load_catalog(), load_units())
    assert _same_rows(con.execute(query, [period]).fetchall(), stored)
    con.close()


def test_consolidating_many_units_at_once_writes_what_one_at_a_time_writes(tmp_path):
    cat, units = load_catalog(), load_units()
    national = _bench("national")
    folder = national.month_dir("province", P, tmp_path)
    national.generate_month("province", P, out=tmp_path)
    # Lai Châu's month plus a second province made by the sample generator (Bắc Kạn, 06)
    gen_mod = national.load_sample_generator()
    gen = gen_mod.Generator(cat, units)
    on = units.get("06").valid_to
    for d in units.children("06", on):
        for u in [*units.children(d.code, on), d]:
            gen_mod.write_csv(
                folder / "06" / f"{u.code}_{P}.csv",
                gen_mod.rows_for(u.code, P, gen.values(u, P), cat),
            )
    gen_mod.write_csv(
        folder / f"06_{P}.csv", gen_mod.rows_for("06", P, gen.values(units.get("06"), P), cat)
    )
    out = validate_paths(national.month_files(folder), Validator(today=TODAY))
    base = tmp_path / "base.duckdb"
    con = open_warehouse(base, cat, units)
    batch = write_staging(out.results, tmp_path / "st", "b", out.hashes, datetime(2024, 6, 15))
    load_batch(con, batch)
    con.close()
    rows = {}
    for how in ("each", "many"):
        wh = tmp_path / f"{how}.duckdb"
        shutil.copy(base, wh)
        con = duckdb.connect(str(wh))
        if how == "each":
            res = [consolidate(con, P, code, cat, units) for code in ("12", "06")]
        else:
            res = consolidate_many(con, P, ["12", "06", "105"], cat, units)
            assert res[2] is res[0].children[0]  # a unit under another one listed: once
            res = res[:2]
        rows[how] = {
            t: con.execute(f"SELECT * EXCLUDE (consolidated_at) FROM {t} ORDER BY ALL").fetchall()
            for t in ("fct_rollup", "fct_completeness", "fct_consolidation_issue")
        }
        rows[how]["results"] = [
            (
                r.unit_code,
                len(r.rollup),
                r.completeness,
                [i.to_dict() for i in r.issues],
                [c.unit_code for c in r.children],
            )
            for r in res
        ]
        con.close()
    assert rows["many"]["fct_completeness"] == rows["each"]["fct_completeness"]
    assert rows["many"]["fct_consolidation_issue"] == rows["each"]["fct_consolidation_issue"]
    assert rows["many"]["results"] == rows["each"]["results"]
    assert len(rows["many"]["fct_rollup"]) > 0
    assert _same_rows(rows["many"]["fct_rollup"], rows["each"]["fct_rollup"])


def test_bench_manifest_is_json_and_reused(tmp_path):
    national = _bench("national")
    first = national.generate_month("province", P, out=tmp_path)
    folder = national.month_dir("province", P, tmp_path)
    stamp = (folder / "manifest.json").stat().st_mtime_ns
    assert national.generate_month("province", P, out=tmp_path) == first
    assert (folder / "manifest.json").stat().st_mtime_ns == stamp
    assert json.loads((folder / "manifest.json").read_text())["generator_version"] == (
        national.GENERATOR_VERSION
    )
