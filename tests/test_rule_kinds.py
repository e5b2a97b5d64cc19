"""Rule kinds are registered once (validations.catalog.kinds): the catalog's list of kinds is
the registry, and a new kind is one function plus its catalog entry, run by the validator
without touching it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLES, TODAY
from validations.catalog import DEFAULT_CATALOG, CatalogError, load_catalog, rule_kinds
from validations.catalog.kinds import (
    Bounds,
    EntryError,
    Finding,
    RuleCheck,
    register_rule_kind,
    unregistered,
)
from validations.catalog.kinds.compare import parse_expr
from validations.catalog.kinds.frames import expr_array
from validations.fmt import fmt_num
from validations.rules import long_checks, wide_checks
from validations.validator import Validator

PROVINCE = SAMPLES / "valid" / "2024-06" / "12_2024-06.csv"


def test_the_catalogs_kinds_are_the_registry(catalog):
    kinds = rule_kinds()
    assert {r.kind for r in catalog.rules.values()} <= set(kinds)
    assert set(rule_kinds("long")) == {"integer", "nonnegative", "rate_range", "flag", "ceiling"}
    assert set(rule_kinds("wide")) == {"compare", "rate_consistency"}
    # every kind but compare is a step every catalog names a rule for
    assert {k for k, v in kinds.items() if not v.required} == {"compare"}
    # the checks come from it: one per domain rule, one per compare rule, one per rate
    assert len(long_checks(catalog)) == 5
    n_rates = sum(1 for i in catalog.rates() if i.numerator and i.denominator)
    assert len(wide_checks(catalog)) == len(catalog.rules_of_kind("compare")) + n_rates


def _catalog_with(tmp_path, rules_yaml: str, name: str = "with_kind.yaml"):
    path = tmp_path / name
    path.write_text(f"include: {DEFAULT_CATALOG}\nrules:\n{rules_yaml}", encoding="utf-8")
    return path


SHARE_RULE = """  - id: solved_share_plausible
    kind: share_at_most
    part: crime_solved
    whole: crime_cases
    limit: 80
    severity: warning
    message_vi: "{label} = {value}% số vụ, quá mức {expected}."
    message_en: "{label} is {value}% of {whole}, more than the limit ({expected})."
"""

DECIMALS_RULE = """  - id: decimal_two_places
    kind: two_decimals
    severity: error
    message_vi: "{label} = {value} có quá 2 chữ số thập phân."
    message_en: "{label} = {value} has more than 2 decimals ({expected})."
"""


def _parse_share(entry: dict[str, Any], codes: set[str]) -> dict[str, Any]:
    limit = entry.get("limit")
    if not isinstance(limit, int | float):
        raise EntryError("catalog.not_a_number", key="limit", value=repr(limit))
    return {
        "left": parse_expr(entry.get("part"), codes),
        "right": parse_expr(entry.get("whole"), codes),
        "limit": float(limit),
    }


def _share_at_most(rule, catalog) -> list[RuleCheck]:
    """100 * part / whole <= limit, where whole > 0."""
    limit = rule.param("limit")

    def share(wide: pd.DataFrame) -> np.ndarray:
        whole = expr_array(wide, rule.right)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(whole > 0, 100 * expr_array(wide, rule.left) / whole, np.nan)

    def passes(wide: pd.DataFrame) -> pd.Series:
        s = share(wide)
        return pd.Series(np.isnan(s) | (s <= limit), index=wide.index)

    def finding(row: pd.Series) -> Finding:
        s = float(share(row.to_frame().T)[0])
        whole = catalog.indicators[rule.right[0].code]
        return Finding(
            indicator=rule.left[0].code,
            value=round(s, 2),
            expected=f"≤ {fmt_num(limit, 'en')}",
            fields=lambda lang: {"whole": whole.label(lang)},
        )

    return [
        RuleCheck(rule.id, rule, None, passes, lambda w: ~np.isnan(share(w)), finding, linear=None)
    ]


def test_a_new_kind_is_one_function_and_its_catalog_entry(tmp_path):
    # unknown to the catalog before it is registered
    with pytest.raises(CatalogError, match="unknown key 'limit'"):
        load_catalog(_catalog_with(tmp_path, SHARE_RULE, "before.yaml"))
    with pytest.raises(CatalogError, match="kind 'two_decimals' is not one of"):
        load_catalog(_catalog_with(tmp_path, DECIMALS_RULE, "before2.yaml"))
    with unregistered("share_at_most", "two_decimals"):
        register_rule_kind(
            _share_at_most,
            name="share_at_most",
            stage="wide",
            keys=("part", "whole", "limit"),
            parse=_parse_share,
            fields=("whole",),
        )

        @register_rule_kind(
            stage="long",
            applies=lambda df: df["kind"] == "decimal",
            expected=lambda _row: "0,01",
            bounds=lambda ind: Bounds() if ind.kind == "decimal" else None,
        )
        def two_decimals(df: pd.DataFrame) -> pd.Series:
            v = df["value"]
            return (df["kind"] != "decimal") | v.isna() | (np.round(v, 2) == v)

        catalog = load_catalog(_catalog_with(tmp_path, SHARE_RULE + DECIMALS_RULE))
        assert catalog.rule("solved_share_plausible").param("limit") == 80
        validator = Validator(catalog=catalog, today=TODAY)
        text = PROVINCE.read_text(encoding="utf-8").replace(
            "assets_lost_mvnd,1453.1,", "assets_lost_mvnd,1453.125,"
        )
        path = tmp_path / "12_2024-06.csv"
        path.write_text(text, encoding="utf-8")
        result = validator.validate_file(path)
        got = {i.rule_id: i for i in result.issues}
        share = got["solved_share_plausible"]  # 180 / 215 = 83.72 % > 80
        assert (share.indicator, share.value, share.expected) == ("crime_solved", 83.72, "≤ 80")
        assert share.location == "row 3"
        assert share.message_vi.startswith("Số vụ điều tra, khám phá = 83,72% số vụ")
        assert "of Criminal cases" in share.message_en
        dec = got["decimal_two_places"]
        assert (dec.indicator, dec.value, dec.severity) == ("assets_lost_mvnd", 1453.125, "error")
        assert result.checked["solved_share_plausible"] == 1
        assert result.checked["decimal_two_places"] == 3  # assets lost, recovered, m2
        assert set(got) == {"solved_share_plausible", "decimal_two_places"}
    # gone again: the catalog that uses it no longer loads
    with pytest.raises(CatalogError, match="kind 'two_decimals' is not one of"):
        load_catalog(_catalog_with(tmp_path, DECIMALS_RULE, "after.yaml"))


def test_a_kind_checks_its_own_keys_and_the_loader_names_the_entry(tmp_path):
    bad = SHARE_RULE.replace("limit: 80", "limit: lots")
    with unregistered("share_at_most"):
        register_rule_kind(
            _share_at_most,
            name="share_at_most",
            stage="wide",
            keys=("part", "whole", "limit"),
            parse=_parse_share,
            fields=("whole",),
        )
        path = _catalog_with(tmp_path, bad)
        with pytest.raises(CatalogError) as exc:
            load_catalog(path)
        assert "'solved_share_plausible'" in str(exc.value)
        assert "limit must be a number, not 'lots'" in str(exc.value)
        with pytest.raises(ValueError, match="already registered"):
            register_rule_kind(_share_at_most, name="share_at_most", stage="wide")
