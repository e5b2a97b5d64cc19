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
    assert rate.target.op == ">=" and rate.target.value == 75 and "92,86" in rate.target.source
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
                'kind: count, aggregation: sum, parent_relation: ">="}',
                'kind: counts, aggregation: sum, parent_relation: ">="}',
            ),
            "kind 'counts'",
        ),
        (("left: crime_solved\n", "left: crime_solvd\n"), "unknown indicator 'crime_solvd'"),
        (("severity: warning", "severity: maybe"), "severity"),
        (("levels: [D, P], kind: count", "levels: [X], kind: count"), "levels"),
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
