import pytest

from validations.catalog import CatalogError, load_catalog


def test_default_catalog_holds_every_indicator_of_the_form(catalog):
    assert len(catalog.indicators) == 52
    rate = catalog.indicators["crime_clearance_rate"]
    assert (rate.kind, rate.numerator, rate.denominator, rate.aggregation) == (
        "rate",
        "crime_solved",
        "crime_cases",
        "ratio",
    )
    assert rate.target.op == ">=" and rate.target.value == 75 and "Quốc hội" in rate.target.source
    assert (rate.target.horizon, rate.target.interim) == ("Y", "same")
    assert catalog.indicators["crime_change_rate"].min == -100
    assert catalog.indicators["drug_free_commune"].levels == ("C",)
    assert catalog.indicators["drug_users_managed"].parent_relation == "="
    assert not rate.required and catalog.indicators["crime_cases"].required
    assert len(catalog.for_level("C")) == 30


def test_rules_have_stable_ids_texts_and_parsed_expressions(catalog):
    r = catalog.rule("wanted_resolved_le_existing")
    assert [t.code for t in r.left] == ["wanted_surrendered", "wanted_arrested"]
    assert r.op == "<=" and r.severity == "error"
    cond = catalog.rule("drug_suspects_ge_cases").when
    assert (cond.code, cond.op, cond.value) == ("drug_cases", ">", 0)
    assert catalog.rule("participants_per_session_plausible").right[0].coef == 2000
    assert all(r.message_vi and r.message_en for r in catalog.rules.values())


def _write(tmp_path, text, name="bad.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        (
            (
                "kind: count, over_time: flow, aggregation: sum",
                "kind: counts, over_time: flow, aggregation: sum",
            ),
            "kind 'counts'",
        ),
        (("left: crime_solved\n", "left: crime_solvd\n"), "unknown indicator 'crime_solvd'"),
        (("severity: warning", "severity: maybe"), "severity"),
        (("levels: [D, P], kind: count", "levels: [X], kind: count"), "levels"),
        # every key is known: a typo fails instead of being silently ignored
        (("    severity: warning\n", "    severty: warning\n"), "unknown key 'severty'"),
        (("    target: {op", "    targt: {op"), "unknown key 'targt' (did you mean 'target'?)"),
        (("close_day: 14", "close_days: 14"), "unknown key 'close_days'"),
        (("version: 1\n", "version: 1\nindicator:\n"), "unknown key 'indicator'"),
        (('target: {op: ">=", value: 75,', 'target: {op: ">=", valeu: 75,'), "valeu"),
        (("rate: {abs: 0.005, rel: 0}", "rate: {abs: 0.005, rell: 0}"), "rell"),
        # how a figure aggregates over time is declared, and a stock says why
        (
            ("kind: count, over_time: flow, aggregation: sum", "kind: count, aggregation: sum"),
            "missing 'over_time'",
        ),
        (
            ('over_time: stock, over_time_reason: "hiện có', 'over_time: stock, xx: "hiện có'),
            "unknown key 'xx'",
        ),
        (("kind: count, over_time: flow,", "kind: count, over_time: sum,"), "over_time 'sum'"),
        (
            (
                "aggregation: ratio\n    numerator: crime_solved",
                "aggregation: sum\n    numerator: crime_solved",
            ),
            "aggregates across units as 'ratio'",
        ),
    ],
)
def test_a_bad_catalog_fails_loudly_naming_file_and_entry(tmp_path, patch, needle):
    from validations.catalog import DEFAULT_CATALOG

    text = DEFAULT_CATALOG.read_text(encoding="utf-8").replace(*patch, 1)
    path = _write(tmp_path, text)
    with pytest.raises(CatalogError) as exc:
        load_catalog(path)
    assert str(path) in str(exc.value) and needle in str(exc.value)


def test_provincial_catalog_includes_the_national_one_and_overrides(tmp_path):
    from validations.catalog import DEFAULT_CATALOG

    path = _write(
        tmp_path,
        f"""include: {DEFAULT_CATALOG}
name: Lai Châu
indicators:
  - code: crime_clearance_rate
    target: {{op: ">=", value: 80, source: "Kế hoạch của tỉnh"}}
rules:
  - id: participants_per_session_plausible
    severity: error
""",
        "lai_chau.yaml",
    )
    cat = load_catalog(path)
    assert cat.name == "Lai Châu"
    assert cat.indicators["crime_clearance_rate"].target.value == 80
    assert cat.indicators["crime_clearance_rate"].numerator == "crime_solved"
    assert cat.rule("participants_per_session_plausible").severity == "error"
    assert len(cat.indicators) == 52


def test_include_cycle_and_missing_file_are_reported(tmp_path):
    a = _write(tmp_path, "include: b.yaml\n", "a.yaml")
    _write(tmp_path, "include: a.yaml\n", "b.yaml")
    with pytest.raises(CatalogError, match="include cycle"):
        load_catalog(a)
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope.yaml")


def test_indicator_entries_and_their_keys_are_checked_in_a_provincial_catalog(tmp_path):
    from validations.catalog import DEFAULT_CATALOG

    path = _write(
        tmp_path,
        f"""include: {DEFAULT_CATALOG}
indicators:
  - code: crime_clearance_rate
    targt: {{op: ">=", value: 80, source: "Kế hoạch của tỉnh"}}
""",
        "lai_chau.yaml",
    )
    with pytest.raises(CatalogError) as exc:
        load_catalog(path)
    text = str(exc.value)
    assert str(path) in text and "crime_clearance_rate" in text and "'targt'" in text


def test_every_count_and_decimal_says_flow_or_stock_and_stocks_say_why(catalog):
    stocks = set(catalog.stocks())
    assert stocks == {
        "wanted_existing",
        "drug_users_managed",
        "methadone_patients",
        "hiv_arv_patients",
        "hotspots_total",
        "hotspots_transformed",
        "residential_areas",
        "residential_areas_safe",
        "security_models_maintained",
        "drug_free_commune",
    }
    for ind in catalog.indicators.values():
        if ind.kind == "rate":
            assert ind.over_time == "derived"
        elif ind.kind == "flag":
            assert ind.over_time == "stock"
        else:
            assert ind.over_time in ("flow", "stock")
            if ind.over_time == "stock":
                assert len(ind.over_time_reason) > 20


def test_tolerances_come_from_the_kind_and_a_province_can_override_one(tmp_path, catalog):
    from validations.catalog import DEFAULT_CATALOG

    assert catalog.indicators["crime_clearance_rate"].tolerance.abs == 0.005
    assert catalog.indicators["crime_cases"].tolerance.abs == 0
    assert catalog.indicators["poppy_destroyed_m2"].tolerance.abs == 0.01
    path = _write(
        tmp_path,
        f"""include: {DEFAULT_CATALOG}
defaults:
  tolerance:
    count: {{rel: 0.02}}
indicators:
  - code: drug_users_managed
    tolerance: {{abs: 3}}
""",
        "p.yaml",
    )
    cat = load_catalog(path)
    assert cat.indicators["crime_cases"].tolerance.rel == 0.02
    assert cat.indicators["drug_users_managed"].tolerance.abs == 3
    assert cat.indicators["crime_clearance_rate"].tolerance.abs == 0.005


def test_valid_from_and_valid_to_bound_the_form_of_a_period(tmp_path):
    from datetime import date

    from validations.catalog import DEFAULT_CATALOG

    path = _write(
        tmp_path,
        f"""include: {DEFAULT_CATALOG}
indicators:
  - code: cyber_fraud_cases
    group: crime
    label_vi: "Số vụ lừa đảo trên không gian mạng"
    label_en: "Online fraud cases"
    unit_vi: "vụ"
    unit_en: "cases"
    levels: [C, D, P]
    kind: count
    over_time: flow
    parent_relation: ">="
    valid_from: 2025-07-01
    direction: down_is_good
""",
        "p.yaml",
    )
    cat = load_catalog(path)
    ind = cat.indicators["cyber_fraud_cases"]
    assert ind.valid_from == date(2025, 7, 1) and ind.valid_to is None
    assert "cyber_fraud_cases" not in {i.code for i in cat.for_level("C", date(2024, 6, 14))}
    assert "cyber_fraud_cases" in {i.code for i in cat.for_level("C", date(2025, 7, 14))}
    bad = _write(tmp_path, path.read_text().replace("2025-07-01", "July 2025"), "bad.yaml")
    with pytest.raises(CatalogError, match="valid_from must be a date"):
        load_catalog(bad)


def test_every_indicator_says_which_way_is_good(catalog, tmp_path):
    from validations.catalog import DEFAULT_CATALOG, DIRECTIONS

    assert {i.direction for i in catalog.indicators.values()} <= set(DIRECTIONS)
    d = {c: i.direction for c, i in catalog.indicators.items()}
    assert d["crime_cases"] == "down_is_good" and d["crime_clearance_rate"] == "up_is_good"
    assert d["reports_received"] == "neutral" and d["reoffending_rate"] == "down_is_good"
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    for patch, needle in (
        ((", direction: down_is_good}", "}"), "missing 'direction'"),
        ((", direction: down_is_good}", ", direction: down}"), "direction 'down'"),
    ):
        path = _write(tmp_path, text.replace(*patch, 1))
        with pytest.raises(CatalogError, match=needle):
            load_catalog(path)


def test_targets_have_a_source_a_horizon_and_belong_to_their_province(catalog):
    """Thái Bình's resolution judges Thái Bình only; the national goals judge everyone else; a
    provincial catalog's own targets replace them for its province (issue 20)."""
    from datetime import date

    from conftest import SAMPLES

    june = date(2024, 6, 14)
    assert catalog.target_for("reoffending_rate", "34", "34", june).source.endswith("Thái Bình")
    assert catalog.target_for("reoffending_rate", "12", "12", june) is None
    assert catalog.target_for("reoffending_rate", "106", "12", june) is None
    assert catalog.target_for("reoffending_rate", "34", "34", date(2026, 6, 14)) is None
    national = catalog.target_for("crime_clearance_rate", "12", "12", june)
    assert national.source == "Chỉ tiêu Quốc hội, Chính phủ giao hằng năm"
    lai_chau = load_catalog(SAMPLES / "catalogs" / "lai_chau.yaml")
    own = lai_chau.target_for("wanted_surrender_rate", "03386", "12", june)
    assert "Lai Châu" in own.source and (own.horizon, own.interim) == ("Y", "pro_rata")
    # judged on its horizon, pro rata on a shorter period, or not at all
    assert own.for_period("Y").value == 30 and own.for_period("H").value == 15
    assert own.for_period("M").value == 2.5
    year_only = lai_chau.target_for("hotspot_transformation_rate", "12", "12", june)
    assert year_only.for_period("Y") is year_only and year_only.for_period("H") is None
    assert national.for_period("M") is national  # interim: same
    assert lai_chau.target_for("wanted_surrender_rate", "08", "08", june) is None


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ('{indicator: nope, units: ["12"], op: ">=", value: 1, source: s}', "unknown indicator"),
        ('{indicator: crime_cases, units: [12], op: ">=", value: 1, source: s}', "leading zeros"),
        ('{indicator: crime_cases, units: ["12"], op: ">=", value: 1}', "needs a source"),
        (
            '{indicator: crime_cases, units: ["12"], op: ">=", value: 1, source: s, horizon: week}',
            "horizon 'week'",
        ),
        (
            '{indicator: reoffending_rate, units: ["12"], op: "<", value: 1, source: s, interim: pro_rata}',
            "pro_rata",
        ),
        ('{indicator: crime_cases, unit: ["12"], op: ">=", value: 1, source: s}', "unknown key"),
    ],
)
def test_a_bad_unit_target_fails_loudly(tmp_path, entry, needle):
    from validations.catalog import DEFAULT_CATALOG

    path = _write(tmp_path, f"include: {DEFAULT_CATALOG}\ntargets:\n  - {entry}\n", "p.yaml")
    with pytest.raises(CatalogError, match=needle):
        load_catalog(path)


def test_partial_months_and_plausible_change_are_catalog_settings(tmp_path, catalog):
    from validations.catalog import DEFAULT_CATALOG

    assert catalog.partial_months == "sum_reported"
    assert catalog.indicators["crime_cases"].plausible_change.ratio == 2
    assert catalog.indicators["crime_clearance_rate"].plausible_change is None
    path = _write(
        tmp_path,
        f"""include: {DEFAULT_CATALOG}
calendar: {{partial_months: leave_out}}
defaults: {{plausible_change: {{count: {{abs: 5, ratio: 3}}}}}}
indicators:
  - {{code: poppy_destroyed_m2, plausible_change: null}}
""",
        "p.yaml",
    )
    cat = load_catalog(path)
    assert cat.partial_months == "leave_out" and cat.close_day == 14
    assert cat.indicators["crime_cases"].plausible_change.abs == 5
    assert cat.indicators["poppy_destroyed_m2"].plausible_change is None
    bad = _write(tmp_path, path.read_text().replace("leave_out", "skip"), "bad.yaml")
    with pytest.raises(CatalogError, match="partial_months 'skip'"):
        load_catalog(bad)
