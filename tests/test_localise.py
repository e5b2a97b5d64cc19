"""Which figure is wrong (validations/localise): the fewest weighted cells whose change makes
every linear rule hold, on generated cases of every level, and its pieces."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLES, TODAY
from validations.catalog import CatalogError, load_catalog
from validations.catalog.kinds import catalog_checks
from validations.localise import Localiser, lead_lines
from validations.localise.intervals import Span, restrict
from validations.localise.single import single_figure_sets
from validations.readers import read_submission
from validations.validator import Validator

PROVINCE = SAMPLES / "valid" / "2024-06" / "12_2024-06.csv"
# the corrupted month of each structure, and the months before it (the unit's history)
MONTHS = {
    "2024-06": ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"],
    "2026-03": ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"],
}


def _files(period: str) -> list[Path]:
    return sorted(p for p in (SAMPLES / "valid" / period).rglob("*") if p.is_file())


def _typos(x: float, kind: str) -> set[float]:
    """What a clerk's slip makes of x: a digit dropped, added, doubled, two swapped."""
    if kind == "decimal":
        return {round(x * 10, 1), round(x / 10, 1)} - {x}
    s = str(int(x))
    if x < 10:
        return {x * 10, x + 10} - {x}
    out = {s[:-1], s[1:] or "0", s + "0", s[0] + s, s[1] + s[0] + s[2:], s[:-2] + s[-1] + s[-2]}
    return {float(int(t)) for t in out} - {x}


def _csv(path: Path, unit: str, period: str, rows: list[tuple[str, float]]) -> Path:
    lines = ["unit_code,period,indicator,value,note"]
    for code, x in rows:
        lines.append(f"{unit},{period},{code},{int(x) if float(x).is_integer() else x},")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def generated(validator, tmp_path_factory):
    """Valid forms of every level (the province, its districts, communes; the two-level
    province and communes) with one cell slipped (every slip of every count and decimal that
    breaks at least two rules), or two or three; validated as one batch; with each unit's
    history (the median of its previous months)."""
    rng = random.Random(22)
    old = _files("2024-06")
    new = _files("2026-03")
    by_width = defaultdict(list)
    for f in old:
        by_width[len(f.name.split("_")[0])].append(f)
    communes = [f for f in by_width[5] if f.suffix == ".csv"]
    chosen = by_width[2] + by_width[3] + rng.sample(communes, 20)
    chosen += [f for f in new if f.name.startswith("12_")]
    chosen += rng.sample([f for f in new if not f.name.startswith("12_")], 8)
    forms = []
    for f, r in zip(chosen, validator.validate([read_submission(f) for f in chosen]), strict=True):
        assert not r.errors, f
        v = r.values
        rows = list(zip(v["indicator"], v["value"], strict=True))
        forms.append((f, r.unit_code, r.period, r.level, rows))
    history = _history(validator, {(u, p) for _, u, p, _, _ in forms})
    cat = validator.catalog
    cases = []
    for f, unit, period, level, rows in forms:
        judged = [(c, x) for c, x in rows if cat.indicators[c].kind in ("count", "decimal")]
        for code, x in judged:
            if x:
                for y in sorted(_typos(x, cat.indicators[code].kind)):
                    cases.append((f, unit, period, level, rows, {code: y}))
        big = [(c, x) for c, x in judged if x >= 10]
        for m in (2, 3):
            for _ in range(3):
                if len(big) >= m:
                    pick = rng.sample(big, m)
                    cases.append(
                        (
                            f,
                            unit,
                            period,
                            level,
                            rows,
                            {
                                c: rng.choice(sorted(_typos(x, cat.indicators[c].kind)))
                                for c, x in pick
                            },
                        )
                    )
    folder = tmp_path_factory.mktemp("slips")
    raws = [
        read_submission(
            _csv(
                folder / f"{n}_{unit}.csv",
                unit,
                period,
                [(c, changes.get(c, x)) for c, x in rows],
            )
        )
        for n, (_, unit, period, _, rows, changes) in enumerate(cases)
    ]
    results = validator.validate(raws)
    return cases, results, history


def _history(validator, keys) -> dict[tuple[str, str], dict[str, float]]:
    files = [
        f
        for period, before in MONTHS.items()
        for month in before
        for f in _files(month)
        if (f.name.split("_")[0], period) in keys
    ]
    values: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in validator.validate([read_submission(f) for f in files]):
        now = next(p for p in MONTHS if r.period in MONTHS[p])
        for code, x in zip(r.values["indicator"], r.values["value"], strict=True):
            values[(r.unit_code, now)][code].append(float(x))
    return {k: {c: statistics.median(xs) for c, xs in d.items()} for k, d in values.items()}


def _broken(result, rules) -> int:
    return sum(1 for i in result.errors if i.rule_id in rules)


def test_one_slipped_cell_is_named_with_its_original_value(generated, validator, capsys):
    """The issue's goal: the slipped cell named exactly in >= 95 % of the single-cell cases
    that break several rules, its original value suggested where the rules determine it."""
    cases, results, history = generated
    loc = validator._localiser
    counts: Counter[str] = Counter()
    for (_, unit, period, _, rows, changes), r in zip(cases, results, strict=True):
        if len(changes) > 1 or _broken(r, loc.rules) < 2:
            continue
        (code,) = changes
        original = dict(rows)[code]
        counts["cases"] += 1
        # the validator alone (the CLI, the portal's verdict): never a wrong cell, at worst
        # "one of these two" where the rules cannot tell (a part and its whole both x 10)
        named = {s.indicator for s in r.suspects}
        assert code in named, (unit, changes, [s.indicator for s in r.suspects])
        alone = all(s.certain for s in r.suspects) and named == {code}
        counts["exact without history"] += alone
        # with the unit's history (the ingest): the figure ten times its usual size
        values = dict(rows) | changes
        issues = [(i.rule_id, i.indicator) for i in r.issues]
        found = loc.locate(values, None, issues, history.get((unit, period)))
        exact = all(s.certain for s in found) and {s.indicator for s in found} == {code}
        counts["exact"] += exact
        if exact and found[0].fits is not None:
            counts["determined"] += 1
            assert found[0].fits == pytest.approx(original), (unit, changes)
        if alone and r.suspects[0].fits is not None:
            assert r.suspects[0].fits == pytest.approx(original), (unit, changes)
    rate = counts["exact"] / counts["cases"]
    with capsys.disabled():
        print(
            f"\nlocalisation, one slipped cell breaking several rules: {counts['cases']} cases, "
            f"exact {counts['exact']} ({rate:.1%}) with the unit's history, "
            f"{counts['exact without history']} "
            f"({counts['exact without history'] / counts['cases']:.1%}) from the form alone; "
            f"original value suggested in {counts['determined']}"
        )
    assert counts["cases"] >= 300
    assert rate >= 0.95
    assert counts["determined"] >= 0.8 * counts["exact"]


def test_several_slipped_cells_give_a_smallest_set_that_repairs_the_form(
    generated, validator, tmp_path
):
    """Two or three slips: the named set weighs no more than the slipped cells (which repair
    the form), and changing it as suggested makes every linear rule hold."""
    cases, results, _ = generated
    loc = validator._localiser
    n = 0
    for (_, unit, period, _, rows, changes), r in zip(cases, results, strict=True):
        if len(changes) == 1 or not _broken(r, loc.rules):
            continue
        n += 1
        assert r.suspects, (unit, changes)
        problem = loc.problem(dict(rows) | changes)
        weight: dict[tuple[int, int], float] = defaultdict(float)
        for s in r.suspects:
            weight[(s.group, s.option)] += s.weight
        groups = {g for g, _ in weight}
        best = sum(min(w for (g, _), w in weight.items() if g == grp) for grp in groups)
        slipped = sum(problem.cells[c].weight for c in changes)
        assert best <= slipped + 1e-9, (unit, changes, [s.indicator for s in r.suspects])
        # the first option of every group, as suggested
        fixed = dict(rows) | changes
        for s in r.suspects:
            if s.option == 1 and not s.recompute:
                fixed[s.indicator] = s.fits if s.fits is not None else _inside(s, fixed)
        again = validator.validate(
            [read_submission(_csv(tmp_path / f"{n}_{unit}.csv", unit, period, fixed.items()))]
        )[0]
        recompute = {s.indicator for s in r.suspects if s.option == 1 and s.recompute}
        left = [i for i in again.errors if i.rule_id in loc.rules]
        # a rate "to recompute from the corrected parts" is the one thing left to do
        assert all(i.indicator in recompute for i in left), (unit, changes, left)
    assert n >= 60


def _inside(s, values) -> float:
    """A value of a suspect's range (the range's end nearest to the reported value)."""
    lo = s.low if s.low is not None else -np.inf
    hi = s.high if s.high is not None else np.inf
    return float(min(max(s.value, lo), hi))


def test_the_program_agrees_with_the_shortcut_where_one_figure_explains_the_form(
    generated, validator
):
    """The mixed-integer program (SciPy's milp) finds the same smallest weight and the same
    sets as the one-figure shortcut wherever the shortcut is sure."""
    cases, results, _ = generated
    loc = validator._localiser
    compared = 0
    for (_, unit, _, _, rows, changes), r in zip(cases[::6], results[::6], strict=True):
        if not r.suspects:
            continue
        problem = loc.problem(dict(rows) | changes)
        for cells, cons in problem.components():
            found, sure = single_figure_sets(problem, cells, cons)
            if not sure:
                continue
            options = loc._program(problem, cells, cons, float("inf"), 3)
            assert options, (unit, changes)
            assert [o.weight for o in options] == pytest.approx([found[0][0]] * len(options))
            assert sorted(o.cells for o in options) == sorted(f[1] for f in found)
            compared += 1
    assert compared >= 30


def test_the_issues_example_names_crime_cases_and_215(validator, tmp_path):
    text = PROVINCE.read_text(encoding="utf-8").replace(",crime_cases,215,", ",crime_cases,21,")
    path = tmp_path / "12_2024-06.csv"
    path.write_text(text, encoding="utf-8")
    r = validator.validate_file(path)
    assert {i.rule_id for i in r.errors} == {
        "rate_mismatch",
        "change_rate_mismatch",
        "crime_solved_le_cases",
    }
    (s,) = r.suspects
    assert (s.indicator, s.value, s.fits, s.location, s.certain) == (
        "crime_cases",
        21,
        215,
        "row 2",
        True,
    )
    assert set(s.rules) == {"rate_mismatch", "change_rate_mismatch", "crime_solved_le_cases"}
    assert s.message("vi") == (
        "Số liệu có thể sai: Số vụ phạm pháp hình sự (tội phạm về TTXH) (dòng 2) = 21; "
        "giá trị làm mọi quy tắc thỏa mãn: 215"
    )
    assert s.message("en").endswith("(row 2) = 21; the value that satisfies every rule: 215")


def test_two_figures_the_rules_cannot_tell_apart_are_named_as_one_of_two(validator, catalog):
    values = dict(pd.read_csv(PROVINCE)[["indicator", "value"]].itertuples(index=False))
    values["drug_cases"] = 570.0  # drug_suspects >= drug_cases: either may be the slip
    found = validator._localiser.locate(values, {"drug_cases": "row 22", "drug_suspects": "row 23"})
    assert [(s.indicator, s.options, s.option, s.certain) for s in found] == [
        ("drug_cases", 2, 1, False),
        ("drug_suspects", 2, 2, False),
    ]
    assert (found[0].low, found[0].high, found[1].low, found[1].high) == (0, 77, 570, None)
    lines = lead_lines(found, "vi")
    assert lines[0].startswith("Số liệu có thể sai (một trong hai khả năng")
    assert "(dòng 22) = 570 → từ 0 đến 77" in lines[1] and "→ ≥ 570" in lines[2]
    assert lead_lines(found, "en")[0].startswith("One of these figures is likely wrong (two")


def test_a_rate_alone_is_the_cheaper_explanation_and_is_recomputed(validator):
    values = dict(pd.read_csv(PROVINCE)[["indicator", "value"]].itertuples(index=False))
    values["crime_clearance_rate"] = 38.72  # 83.72 with two digits swapped
    (s,) = validator._localiser.locate(values)
    assert (s.indicator, s.fits, s.certain) == ("crime_clearance_rate", 83.72, True)


def test_a_value_that_breaks_its_domain_is_a_suspect_with_the_value_that_fits(validator):
    values = dict(pd.read_csv(PROVINCE)[["indicator", "value"]].itertuples(index=False))
    values["crime_cases"] = -215.0
    (s,) = validator._localiser.locate(values)
    assert (s.indicator, s.fits) == ("crime_cases", 215)
    assert ("value_negative", "crime_cases") in s.explains


def test_an_accepted_file_is_not_localised(validator, monkeypatch):
    called = []
    monkeypatch.setattr(Localiser, "locate", lambda *a, **k: called.append(a) or [])
    r = validator.validate_file(PROVINCE)
    assert not r.errors and r.suspects == [] and called == []


def test_without_localisation_the_issues_are_the_same(catalog, units):
    files = sorted((SAMPLES / "invalid").glob("*.csv"))
    raws = [read_submission(f) for f in files]
    on = Validator(catalog=catalog, units=units, today=TODAY).validate(raws)
    off = Validator(catalog=catalog, units=units, today=TODAY, localise=False).validate(raws)
    assert [r.issues for r in on] == [r.issues for r in off]
    assert any(r.suspects for r in on) and not any(r.suspects for r in off)


# --- the pieces ---------------------------------------------------------------------------------
def test_a_rates_linear_form_agrees_with_its_check(catalog):
    """The linearised rate (100 * top - (r0 +- L) * d) holds exactly where the validator's
    rate check passes, on random parts and reported rates near the boundary (its range, carried
    onto the parts, is the rate_range rule's)."""
    rng = random.Random(5)
    checks = {c.name: c for c in catalog_checks(catalog, "wide")}
    for name in ("rate_mismatch:crime_clearance_rate", "change_rate_mismatch:crime_change_rate"):
        check = checks[name]
        ind = catalog.indicators[check.indicator]
        for _ in range(400):
            d = float(rng.randint(1, 5000))
            n = float(rng.randint(0, int(d) * 2))
            exact = ind.formula.of(n, d)
            r = round(exact + rng.choice([0, 0.004, 0.005, 0.0051, -0.005, -0.006, 1]), 2)
            values = {ind.code: r, ind.numerator: n, ind.denominator: d}
            frame = pd.DataFrame([values], dtype=float)
            con = check.linear(values)
            agrees = all(lin.holds(values) for lin in con.parts)
            assert agrees == bool(check.passes(frame).iloc[0]), (n, d, r)


def test_one_cells_set_from_a_linear_inequality():
    from validations.catalog.kinds import Linear

    lin = Linear((("a", 1.0), ("b", -1.0)), "<=")  # a <= b
    assert restrict(lin, "a", {"a": 9, "b": 5}, True).parts[0][1] == pytest.approx(5)
    assert restrict(lin, "b", {"a": 9, "b": 5}, True).parts[0][0] == pytest.approx(9)
    strict = Linear((("a", 1.0),), "<", 3.0)
    assert restrict(strict, "a", {"a": 0}, True).parts == ((-np.inf, 2.0),)
    both = Span.between(0, 10) & (Span.between(-5, 1) | Span.between(4, 6))
    assert both.parts == ((0, 1), (4, 6)) and both.nearest(3) == 4
    assert Span.between(0.2, 0.8).whole().is_empty


def test_the_catalogs_localisation_settings_are_checked(tmp_path):
    from validations.catalog import DEFAULT_CATALOG

    def catalog_with(text: str):
        p = tmp_path / f"c{abs(hash(text))}.yaml"
        p.write_text(f"include: {DEFAULT_CATALOG}\nlocalisation:\n{text}", encoding="utf-8")
        return load_catalog(p)

    cat = catalog_with("  weights: {rate: 0.5}\n  indicators: {crime_cases_prev: 1.2}\n")
    loc = cat.localisation
    assert loc.weight("crime_clearance_rate", "rate") == 0.5
    assert loc.weight("crime_cases_prev", "count") == 1.2 and loc.weight("x", "count") == 1
    assert loc.history_factor == 1.5  # the included catalog's, key by key
    for bad, needle in (
        ("  weigths: {rate: 1}\n", "unknown key 'weigths'"),
        ("  weights: {ratio: 1}\n", "kind 'ratio' is not one of count"),
        ("  indicators: {nope: 1}\n", "unknown indicator 'nope'"),
        ("  history: {factor: -1}\n", "history.factor must be a number above 0"),
    ):
        with pytest.raises(CatalogError, match=needle):
            catalog_with(bad)


def test_the_solvers_import_is_not_taken_from_a_forms_budget(validator, monkeypatch):
    """The first form of a process that one cell cannot explain imports SciPy's solver (0.4 s,
    much more on a loaded machine): its suspects are still found within its own budget."""
    import importlib
    import sys
    import time

    import validations.localise as package
    from conftest import SAMPLES

    budget = validator.catalog.localisation.budget
    real = importlib.import_module("validations.localise.program")
    monkeypatch.delitem(sys.modules, "validations.localise.program")
    monkeypatch.delattr(package, "program")

    class Slow:  # finds the solver's module after more than a form's whole budget
        def find_spec(self, name, path=None, target=None):
            if name != "validations.localise.program":
                return None
            time.sleep(budget * 1.2)
            return real.__spec__

    monkeypatch.setattr(sys, "meta_path", [Slow(), *sys.meta_path])
    res = validator.validate_file(SAMPLES / "invalid" / "count_not_integer.csv")
    assert res.suspects, "the slow import left the form without suspects"
