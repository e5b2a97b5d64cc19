"""The one home of the formulas: each computation in Python, on arrays and as SQL agrees."""

import math

import duckdb
import numpy as np
import pytest

from validations.catalog import Formula, Target, Tolerance


@pytest.mark.parametrize(
    ("formula", "n", "d", "expected"),
    [
        (Formula.RATIO, 13, 14, 100 * 13 / 14),
        (Formula.RATIO, 0, 5, 0.0),
        (Formula.RATIO, 5, 0, None),
        (Formula.CHANGE, 630, 700, -10.0),
        (Formula.CHANGE, 215, 226, 100 * (215 - 226) / 226),
        (Formula.CHANGE, 3, 0, None),
        (Formula.RATIO, None, 4, None),
        (Formula.RATIO, float("nan"), 4, None),
    ],
)
def test_a_rate_is_the_same_in_python_numpy_and_sql(formula, n, d, expected):
    got = formula.of(n, d)
    arr = formula.array(np.array([n if n is not None else np.nan]), np.array([d]))[0]
    con = duckdb.connect()
    sql = con.execute(
        f"SELECT {formula.sql('n', 'd')} FROM (SELECT ?::DOUBLE AS n, ?::DOUBLE AS d)",
        [None if n is None or (isinstance(n, float) and math.isnan(n)) else n, d],
    ).fetchall()[0][0]
    if expected is None:
        assert got is None and math.isnan(arr) and sql is None
    else:
        assert got == pytest.approx(expected) and arr == pytest.approx(expected)
        assert sql == pytest.approx(expected)


def test_tolerance_absorbs_rounding_and_float_noise_only():
    rate = Tolerance(abs=0.005)
    assert rate.allows(92.86, 100 * 13 / 14)  # 92.857142...
    assert rate.allows(12.35, 12.345)  # exactly half a hundredth off: the form's rounding
    assert not rate.allows(92.87, 100 * 13 / 14)
    exact = Tolerance()
    assert exact.allows(1453.1, 1453.1000000000001) and not exact.allows(10, 11)
    rel = Tolerance(abs=1, rel=0.02)
    assert rel.allows(102, 100) and not rel.allows(103, 100) and rel.allows(1, 0)
    assert list(rate.allows_array([92.86, 92.87], [100 * 13 / 14] * 2)) == [True, False]


@pytest.mark.parametrize(
    ("op", "goal", "value", "expected"),
    [
        (">=", 75, 92.857, ("exceeded", 17.86)),
        (">=", 75, 75.001, ("reached", 0.0)),
        (">=", 90, 83.72, ("missed", 6.28)),
        ("<=", -5, -9.25, ("exceeded", 4.25)),
        ("<=", -5, -4.87, ("missed", 0.13)),
        ("<", 15, 15, ("missed", 0.0)),
        (">=", 60, None, (None, None)),
    ],
)
def test_target_attainment_reads_as_the_seeds_phrase_it(op, goal, value, expected):
    assert Target(op, goal, "seed").attainment(value) == expected
