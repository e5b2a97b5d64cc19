"""Every catalog mistake is named at load (issue 23, part 4): a key given twice, two entries for
one code, a wrong case, an impossible date, a wrong type or value, a reference to nothing, a
message with a placeholder nothing fills. Each is one CatalogError naming the file, the line,
the entry and the key, in both languages; never a traceback, never a silent default.

The cases are written as provincial catalogs (or patches of the national one); the line a
refusal must name is marked `# <-` in the case.
"""

from __future__ import annotations

import copy
import itertools
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validations.catalog import DEFAULT_CATALOG, CatalogError, load_catalog
from validations.errors import TonghopError

NATIONAL = DEFAULT_CATALOG.read_text(encoding="utf-8")
_names = itertools.count()


def _file(folder: Path, text: str) -> Path:
    path = folder / f"c{next(_names)}.yaml"  # a new name: load_catalog caches by path
    path.write_text(text, encoding="utf-8")
    return path


def province(folder: Path, body: str) -> Path:
    return _file(folder, f"include: {DEFAULT_CATALOG}\nname: Tỉnh thử\n{body}")


def national(folder: Path, old: str, new: str) -> Path:
    assert old in NATIONAL, old
    return _file(folder, NATIONAL.replace(old, new, 1))


def refused(path: Path) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    return info.value


def marked_line(path: Path) -> int | None:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next((n for n, line in enumerate(lines, 1) if "# <-" in line), None)


def check(path: Path, reason: str, *words: str) -> CatalogError:
    """Refused with `reason`, in one sentence naming the file, the marked line and `words`
    (the entry, the key), in Vietnamese and English."""
    exc = refused(path)
    assert exc.reason == reason, exc.message("en")
    vi, en = exc.message("vi"), exc.message("en")
    line = marked_line(path)
    for text, word in ((vi, "dòng"), (en, "line")):
        assert str(path) in text and "\n" not in text and "Traceback" not in text
        if line is not None:
            assert f"{path}, {word} {line}:" in text, text
    for w in words:
        assert w in en, (w, en)
    assert vi != en
    return exc


# --- a key given twice in one mapping: YAML would keep the last one ------------------------------
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("name: Tỉnh khác  # <-\n", ["'name'", "first on line 2"]),
        (
            "indicators:\n  - code: crime_clearance_rate\n"
            "    target: {op: '>=', value: 80, source: Kế hoạch}\n"
            "    target: {op: '>=', value: 85, source: Kế hoạch}  # <-\n",
            ["indicators[1] 'crime_clearance_rate'", "'target'", "first on line 5"],
        ),
        (
            "indicators:\n  - code: crime_clearance_rate\n"
            "    target:\n      op: '>='\n      value: 80\n      value: 85  # <-\n"
            "      source: Kế hoạch\n",
            ["indicators[1] 'crime_clearance_rate': target", "'value'"],
        ),
        (
            "calendar:\n  deadline_days:\n    C: 3\n    P: 12\n    C: 5  # <-\n",
            ["calendar: deadline_days", "'C'", "first on line 5"],
        ),
        (
            "outliers:\n  - id: outlier_history\n    min_difference_for:\n"
            "      poppy_destroyed_m2: 500\n      poppy_destroyed_m2: 800  # <-\n",
            ["outliers[1] 'outlier_history': min_difference_for", "'poppy_destroyed_m2'"],
        ),
        (
            "localisation:\n  weights: {rate: 0.5,\n    rate: 0.7}  # <-\n",
            ["localisation: weights", "'rate'"],
        ),
        (
            "targets:\n  - indicator: safe_area_rate\n    units: ['12']\n    op: '>='\n"
            "    value: 55\n    source: Kế hoạch\n    op: '>'  # <-\n",
            ["targets[1] 'safe_area_rate'", "'op'"],
        ),
    ],
)
def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path, body, words):
    check(province(tmp_path, body), "catalog.key_twice", *words, "delete one of the two")


def test_a_key_twice_in_the_national_catalog_itself_is_refused(tmp_path):
    path = national(
        tmp_path,
        'kind: count, over_time: flow, aggregation: sum, parent_relation: ">=", '
        "direction: down_is_good}",
        'kind: count, over_time: flow, aggregation: sum, parent_relation: ">=", '
        "direction: down_is_good, kind: decimal}",
    )
    exc = check(path, "catalog.key_twice", "indicators[1] 'crime_cases'", "'kind'")
    assert exc.params["first"] == exc.params["where"].params["line"]  # one line, flow style


# --- two entries for one code in one file: they would be merged silently -------------------------
@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            "indicators:\n  - code: crime_clearance_rate\n"
            "    target: {op: '>=', value: 80, source: Kế hoạch}\n"
            "  - code: crime_clearance_rate  # <-\n    tolerance: {abs: 0.01}\n",
            ["indicators[2] 'crime_clearance_rate'", "first on line 4"],
        ),
        (
            "rules:\n  - id: rehab_compulsory_le_users\n    severity: error\n"
            "  - id: rehab_compulsory_le_users  # <-\n    severity: warning\n",
            ["rules[2] 'rehab_compulsory_le_users'"],
        ),
        (
            "outliers:\n  - id: outlier_peers\n    min_peers: 6\n"
            "  - id: outlier_peers  # <-\n    ratio: 4\n",
            ["outliers[2] 'outlier_peers'"],
        ),
        (
            "security:\n  - id: sender_unknown\n    severity: error\n"
            "  - id: sender_unknown  # <-\n    severity: error\n",
            ["security[2] 'sender_unknown'"],
        ),
        (
            "targets:\n"
            "  - {indicator: safe_area_rate, units: ['12'], op: '>=', value: 55, source: A}\n"
            "  - {indicator: safe_area_rate, units: ['12'], op: '>=', value: 60, source: B}  # <-\n",
            ["targets[2] 'safe_area_rate'", "safe_area_rate [12]"],
        ),
    ],
)
def test_two_entries_for_one_code_in_one_file_are_refused(tmp_path, body, words):
    check(province(tmp_path, body), "catalog.entry_twice", *words, "make them one entry")


def test_two_entries_for_one_code_in_the_national_catalog_are_refused(tmp_path):
    path = national(tmp_path, "  - id: duplicate_value\n", "  - id: file_several_submissions\n")
    check(path, "catalog.entry_twice", "rules[2] 'file_several_submissions'")


def test_an_entry_that_overrides_nothing_is_refused_with_the_closest_code(tmp_path):
    path = province(
        tmp_path,
        "indicators:\n  - code: crime_clearence_rate  # <-\n"
        "    target: {op: '>=', value: 80, source: Kế hoạch}\n",
    )
    check(
        path,
        "catalog.override_unknown",
        "'crime_clearence_rate' (did you mean 'crime_clearance_rate'?)",
        "default.yaml",
    )
    path = province(tmp_path, "rules:\n  - id: crime_solved_le_case  # <-\n    severity: warning\n")
    check(path, "catalog.override_unknown", "crime_solved_le_cases")


def test_two_rules_that_check_the_same_thing_are_refused(tmp_path):
    body = (
        "rules:\n  - id: khong_am  # <-\n    kind: nonnegative\n    severity: error\n"
        "    message_vi: '{label} âm'\n    message_en: '{label} negative'\n"
    )
    check(province(tmp_path, body), "catalog.rule_same_check", "'value_negative'", "nonnegative")
    body = (
        "rules:\n  - id: solved_again  # <-\n    kind: compare\n    left: crime_solved\n"
        "    op: '<='\n    right: crime_cases\n    severity: warning\n"
        "    message_vi: '{left} lớn'\n    message_en: '{left} large'\n"
    )
    check(province(tmp_path, body), "catalog.rule_same_check", "'crime_solved_le_cases'")


# --- a wrong case: a level, a severity, a key --------------------------------------------------
@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        (
            "calendar:\n  deadline_days: {c: 5}  # <-\n",
            "catalog.level_unknown",
            ["calendar: deadline_days", "'c' (did you mean 'C'?)"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    levels: [c, D, P]  # <-\n",
            "catalog.level_unknown",
            ["indicators[1] 'crime_cases'", "levels", "'c' (did you mean 'C'?)"],
        ),
        (
            "outliers:\n  - id: outlier_peers\n    levels: [C, d]  # <-\n",
            "catalog.level_unknown",
            ["outliers[1] 'outlier_peers'", "'d' (did you mean 'D'?)"],
        ),
        (
            "rules:\n  - id: rehab_compulsory_le_users\n    severity: Warning  # <-\n",
            "catalog.severity",
            ["rules[1] 'rehab_compulsory_le_users'", "'Warning' (did you mean 'warning'?)"],
        ),
        (
            "Indicators:  # <-\n  - code: crime_cases\n",
            "catalog.unknown_key",
            ["'Indicators' (did you mean 'indicators'?)"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    Direction: up_is_good  # <-\n",
            "catalog.unknown_key",
            ["indicators[1] 'crime_cases'", "'Direction' (did you mean 'direction'?)"],
        ),
        (
            "defaults:\n  tolerance: {Count: {abs: 1}}  # <-\n",
            "catalog.unknown_key",
            ["defaults: tolerance", "'Count' (did you mean 'count'?)"],
        ),
    ],
)
def test_a_wrong_case_is_refused_with_the_right_spelling(tmp_path, body, reason, words):
    check(province(tmp_path, body), reason, *words)


def test_a_provinces_deadline_is_merged_level_by_level(tmp_path):
    cat = load_catalog(province(tmp_path, "calendar:\n  deadline_days: {P: 12}\n"))
    assert cat.deadline_days == {"C": 3, "D": 6, "P": 12}


# --- dates: impossible ones, times, an end before the start ------------------------------------
@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        (
            "indicators:\n  - code: crime_cases\n    valid_from: 2025-13-01  # <-\n",
            "catalog.not_a_date",
            ["indicators[1] 'crime_cases'", "valid_from", "'2025-13-01'"],
        ),
        (
            "targets:\n  - {indicator: safe_area_rate, units: ['12'], op: '>=', value: 55,\n"
            "     source: A, valid_to: 2025-02-30}  # <-\n",
            "catalog.not_a_date",
            ["targets[1] 'safe_area_rate'", "valid_to", "'2025-02-30'"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    valid_from: 2025-07-01 08:00  # <-\n",
            "catalog.not_a_date",
            ["valid_from", "'2025-07-01 08:00'"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    valid_from: '1/7/2025'  # <-\n",
            "catalog.not_a_date",
            ["valid_from", "'1/7/2025'"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    valid_from: 2025-07-01\n"
            "    valid_to: 2025-06-30  # <-\n",
            "catalog.valid_to_before",
            ["indicators[1] 'crime_cases'"],
        ),
    ],
)
def test_an_impossible_date_is_refused_not_a_traceback(tmp_path, body, reason, words):
    check(province(tmp_path, body), reason, *words)


# --- wrong types ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        ("version: '1'  # <-\n", "catalog.version", ["version", "'1'"]),
        ("calendar: [14, 3]  # <-\n", "catalog.section_not_a_mapping", ["'calendar'"]),
        ("rules: {id: x}  # <-\n", "catalog.not_a_list", ["'rules'"]),
        ("calendar:\n  close_day: '14'  # <-\n", "catalog.not_a_number", ["calendar", "'14'"]),
        ("calendar:\n  close_day: 14.5  # <-\n", "catalog.whole_number", ["close_day"]),
        (
            "calendar:\n  deadline_days: {C: true}  # <-\n",
            "catalog.not_a_number",
            ["deadline_days: C", "True"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    required: 'no'  # <-\n",
            "catalog.not_a_bool",
            ["indicators[1] 'crime_cases'", "required", "'no'"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    levels: CDP  # <-\n",
            "catalog.levels",
            ["indicators[1] 'crime_cases'"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    label_vi: [Số vụ]  # <-\n",
            "catalog.not_text",
            ["label_vi", "['Số vụ']"],
        ),
        (
            "indicators:\n  - code: crime_clearance_rate\n    numerator: [crime_solved]  # <-\n",
            "catalog.not_text",
            ["numerator"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    min: 'không'  # <-\n",
            "catalog.not_a_number",
            ["min", "'không'"],
        ),
        (
            "indicators:\n  - code: 1234  # <-\n    kind: count\n",
            "catalog.id_not_text",
            ["indicators[1]", "code", "1234"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    tolerance: 2  # <-\n",
            "catalog.tolerance_not_a_mapping",
            ["indicators[1] 'crime_cases'"],
        ),
        ("groups:\n  extra: Nhóm mới  # <-\n", "catalog.group_labels", ["groups: extra"]),
        ("sources:\n  mine: 12  # <-\n", "catalog.not_text", ["sources: mine"]),
        (
            "defaults:\n  ceiling: 100  # <-\n",
            "catalog.defaults_per_kind",
            ["defaults: ceiling"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    aggregation: []  # <-\n",
            "catalog.aggregation_unknown",
            ["indicators[1] 'crime_cases'"],
        ),
        (
            "rules:\n  - id: value_negative\n    hint_en: [Correct it]  # <-\n",
            "catalog.not_text",
            ["rules[1] 'value_negative'", "hint_en"],
        ),
        (
            "outliers:\n  - id: outlier_history\n    exclude: ''  # <-\n",
            "catalog.outlier_exclude",
            ["outliers[1] 'outlier_history'"],
        ),
    ],
)
def test_a_wrong_type_is_refused(tmp_path, body, reason, words):
    check(province(tmp_path, body), reason, *words)


# --- impossible values ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        (
            "indicators:\n  - code: crime_change_rate\n    min: 50\n    max: 10  # <-\n",
            "catalog.min_max",
            ["indicators[1] 'crime_change_rate'"],
        ),
        ("calendar:\n  close_day: 31  # <-\n", "catalog.close_day", ["calendar"]),
        (
            "calendar:\n  deadline_days: {P: -2}  # <-\n",
            "catalog.number_below",
            ["deadline_days: P"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    levels: [P]  # <-\n",
            "catalog.relation_to_nothing",
            ["indicators[1] 'crime_cases'", "'>='"],
        ),
        (
            "indicators:\n  - code: crime_clearance_rate\n    parent_relation: '='  # <-\n",
            "catalog.relation_of_kind",
            ["indicators[1] 'crime_clearance_rate'", "rate"],
        ),
        (
            "indicators:\n  - code: crime_cases_prev\n    last_year_of: crime_cases_prev  # <-\n",
            "catalog.last_year_of",
            ["'crime_cases_prev'"],
        ),
        (
            "indicators:\n  - code: crime_cases\n    ceiling: 0  # <-\n",
            "catalog.ceiling_not_positive",
            ["ceiling"],
        ),
        (
            "outliers:\n  - id: outlier_peers\n    ratio: 1  # <-\n",
            "catalog.outlier_ratio",
            ["outliers[1] 'outlier_peers'"],
        ),
        (
            "indicators:\n  - code: safe_area_rate\n"
            "    target: {op: '>=', value: 120, source: Kế hoạch}  # <-\n",
            "catalog.target_unreachable",
            ["indicators[1] 'safe_area_rate'", ">= 120", "between 0 and 100"],
        ),
        (
            "targets:\n  - {indicator: reoffending_rate, units: ['12'], op: '<', value: -3,"
            " source: A}  # <-\n",
            "catalog.target_unreachable",
            ["targets[1] 'reoffending_rate'", "< -3"],
        ),
    ],
)
def test_an_impossible_value_is_refused(tmp_path, body, reason, words):
    check(province(tmp_path, body), reason, *words)


# --- references to nothing -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        (
            "rules:\n  - id: crime_solved_le_cases\n    left: crime_solvd  # <-\n",
            "catalog.expression_unknown",
            ["rules[1] 'crime_solved_le_cases'", "'crime_solvd'"],
        ),
        (
            "rules:\n  - id: drug_suspects_ge_cases\n    when: drug_case > 0  # <-\n",
            "catalog.when_unreadable",
            ["rules[1] 'drug_suspects_ge_cases'", "drug_case > 0"],
        ),
        (
            "rules:\n  - id: drug_suspects_ge_cases\n    when: 0  # <-\n",
            "catalog.when_unreadable",
            ["'0'"],
        ),
        (
            "indicators:\n  - code: crime_clearance_rate\n    numerator: crime_solvd  # <-\n",
            "catalog.part_unknown",
            ["'crime_solvd'"],
        ),
        (
            "targets:\n  - {indicator: safe_area_rate, units: ['99'], op: '>=', value: 55,"
            " source: A}  # <-\n",
            "catalog.target_unit_unknown",
            ["targets[1] 'safe_area_rate'", "'99'"],
        ),
        (
            "targets:\n  - {indicator: safe_areas_rate, units: ['12'], op: '>=', value: 55,"
            " source: A}  # <-\n",
            "catalog.target_indicator_unknown",
            ["'safe_areas_rate'"],
        ),
        (
            "outliers:\n  - id: outlier_history\n    exclude: [crime_case]  # <-\n",
            "catalog.outlier_exclude",
            ["outliers[1] 'outlier_history'"],
        ),
        (
            "localisation:\n  indicators: {crime_case: 1.2}  # <-\n",
            "catalog.localisation_indicator",
            ["localisation", "'crime_case'"],
        ),
        (
            "include: ../khong_co.yaml  # <-\n",
            "catalog.include_not_found",
            ["khong_co.yaml"],
        ),
        (
            "indicators:\n  - code: new_cases\n    group: crimes  # <-\n    kind: count\n"
            "    label_vi: a\n    label_en: a\n    unit_vi: vụ\n    unit_en: cases\n"
            "    levels: [C]\n    over_time: flow\n    direction: neutral\n",
            "catalog.group_unknown",
            ["indicators[1] 'new_cases'", "'crimes'"],
        ),
    ],
)
def test_a_reference_to_nothing_is_refused(tmp_path, body, reason, words):
    path = province(tmp_path, body) if not body.startswith("include") else None
    if path is None:  # a file whose include names nothing
        path = _file(tmp_path, body + "name: x\n")
    check(path, reason, *words)


# --- rules: keys of another kind, texts with placeholders nothing fills --------------------------
@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        (
            "rules:\n  - id: crime_solved_le_cases\n    formula: ratio  # <-\n",
            "catalog.rule_key_of_kind",
            ["rules[1] 'crime_solved_le_cases'", "'formula'", "compare"],
        ),
        (
            "rules:\n  - id: crime_solved_le_cases\n    message_en: '{lable} > {right}'  # <-\n",
            "catalog.text_placeholder",
            ["message_en", "'lable' (did you mean 'label'?)"],
        ),
        (
            "rules:\n  - id: value_negative\n    hint_vi: 'Sửa {left} rồi gửi lại'  # <-\n",
            "catalog.text_placeholder",
            ["rules[1] 'value_negative'", "hint_vi", "'left'"],
        ),
        (
            "rules:\n  - id: crime_solved_le_cases\n    message_vi: '{left} lớn hơn {right'  # <-\n",
            "catalog.text_malformed",
            ["message_vi"],
        ),
        (
            "outliers:\n  - id: outlier_peers\n    hint_en: 'Compare with {parents}'  # <-\n",
            "catalog.text_placeholder",
            ["outliers[1] 'outlier_peers'", "'parents' (did you mean 'parent'?)"],
        ),
        (
            "security:\n  - id: sender_unknown\n    message_vi: 'Tệp {0} không rõ'  # <-\n",
            "catalog.text_placeholder",
            ["security[1] 'sender_unknown'", "'0'"],
        ),
        (
            "security:\n  - id: sender_unknown\n    severity: warning  # <-\n",
            "catalog.security_severity",
            ["security[1] 'sender_unknown'"],
        ),
    ],
)
def test_a_rule_entry_is_checked_for_its_kind_and_its_texts(tmp_path, body, reason, words):
    check(province(tmp_path, body), reason, *words)


def test_the_kinds_own_placeholders_are_allowed_in_its_messages(tmp_path):
    body = (
        "rules:\n  - id: crime_solved_le_cases\n"
        "    message_en: '{left} = {left_value} > {right} = {right_value} ({period})'\n"
    )
    assert load_catalog(province(tmp_path, body)).rule("crime_solved_le_cases")


def test_the_security_section_is_checked_when_the_catalog_loads(tmp_path):
    """validate reads the same catalog as the ingest with an inbox: a bad `security:` entry is
    refused by both, not only when an inbox is given."""
    from validations.authority import security_rules

    assert set(security_rules(load_catalog())) == {"sender_unknown", "sender_not_authorized"}
    check(
        province(tmp_path, "security:\n  - id: sender_unknwn  # <-\n    severity: error\n"),
        "catalog.security_id",
        "security[1] 'sender_unknwn'",
    )


def test_the_provincial_sample_catalog_and_the_national_one_load(catalog):
    from conftest import SAMPLES

    cat = load_catalog(SAMPLES / "catalogs" / "lai_chau.yaml")
    assert "cyber_fraud_cases" in cat.indicators and len(catalog.indicators) == 52
    assert cat.indicators["crime_clearance_rate"].target.value == 80


# --- the same strict YAML for the report's profile and the message catalog ---------------------
def test_a_profile_with_a_key_twice_or_an_impossible_date_is_one_sentence(tmp_path, units):
    from warehouse.summary.profile import ProfileError, load_profile

    unit = units.get("12")
    twice = tmp_path / "12.yaml"
    twice.write_text('place: "Lai Châu"\nsymbol: BC-BCĐ\nplace: "Điện Biên"\n', encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(twice, unit)
    assert info.value.reason == "profile.key_twice"
    assert f"{twice}, line 3: the key 'place' is given twice (first on line 1)" in str(info.value)
    bad = tmp_path / "11.yaml"
    bad.write_text("date: 2025-13-01\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="'2025-13-01'"):
        load_profile(bad, unit)


def test_the_message_catalog_has_no_code_twice():
    from validations.messages import CATALOG_PATH
    from validations.yaml_source import KeyTwice, read_yaml

    text = CATALOG_PATH.read_text(encoding="utf-8")
    read_yaml(text, CATALOG_PATH)  # the real one: each code once
    with pytest.raises(KeyTwice):
        read_yaml(text + "catalog.at:\n  vi: x\n  en: y\n", CATALOG_PATH)


# --- property: any mapping with a key given twice, any section with an entry twice -------------
ROOT = yaml.compose(NATIONAL, Loader=yaml.SafeLoader)


def _mappings(node: yaml.Node, out: list[yaml.MappingNode]) -> list[yaml.MappingNode]:
    if isinstance(node, yaml.MappingNode):
        if node.value:  # an empty mapping ({}) has no key to give twice
            out.append(node)
        for _, v in node.value:
            _mappings(v, out)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            _mappings(v, out)
    return out


MAPPINGS = _mappings(ROOT, [])
SECTIONS = {
    k.value: v
    for k, v in ROOT.value
    if k.value in ("indicators", "rules", "outliers", "security", "targets")
}


def _emit(root: yaml.Node) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.serialize(root, Dumper=dumper, allow_unicode=True, width=4096)


def _load_text(text: str) -> TonghopError:
    with tempfile.TemporaryDirectory() as folder:
        path = _file(Path(folder), text)
        with pytest.raises(CatalogError) as info:
            load_catalog(path)
        return info.value


@pytest.mark.slow  # about 10 s each: the fast lane is -m 'not slow'
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_mapping_with_a_key_given_twice_is_refused(data):
    """Any mapping of the national catalog (the top, a section's settings, an entry, a target
    inside an entry, ...) with one of its keys written again, anywhere in it, is refused naming
    that key and the lines of both."""
    mapping = data.draw(st.sampled_from(MAPPINGS), label="mapping")
    i = data.draw(st.integers(0, len(mapping.value) - 1), label="key")
    j = data.draw(st.integers(0, len(mapping.value)), label="place")
    key, value = copy.deepcopy(mapping.value[i])
    mapping.value.insert(j, (key, value))  # in the shared tree: taken out again below
    try:
        text = _emit(ROOT)
    finally:
        del mapping.value[j]
    exc = _load_text(text)
    assert exc.reason == "catalog.key_twice", exc.message("en")
    assert exc.params["key"] == key.value
    lines = text.splitlines()
    second, first = exc.params["where"].params["line"], exc.params["first"]
    assert first < second or (first == second and "{" in lines[first - 1])  # a flow mapping
    for line in (first, second):
        assert key.value in lines[line - 1], (line, lines[line - 1])


@pytest.mark.slow  # about 10 s each: the fast lane is -m 'not slow'
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_section_with_an_entry_given_twice_is_refused(data):
    """Any entry of indicators, rules, outliers, security or targets written again at any
    place of its section (so that a merge by code would silently join the two) is refused,
    naming the entry and the line of its first writing."""
    section = data.draw(st.sampled_from(sorted(SECTIONS)), label="section")
    entries = SECTIONS[section].value
    i = data.draw(st.integers(0, len(entries) - 1), label="entry")
    j = data.draw(st.integers(0, len(entries)), label="place")
    entries.insert(j, copy.deepcopy(entries[i]))  # in the shared tree: taken out again below
    try:
        text = _emit(ROOT)
    finally:
        del entries[j]
    exc = _load_text(text)
    assert exc.reason == "catalog.entry_twice", exc.message("en")
    assert exc.params["section"] == section
    assert exc.params["first"] < exc.params["where"].params["line"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_provincial_catalog_giving_an_override_twice_is_refused(data):
    """A provincial catalog overriding a random indicator with a random part of its keys, and
    then the same code again (a random part again) at a random place among other overrides:
    refused, never merged."""
    ind = dict((k.value, v) for k, v in ROOT.value)["indicators"].value
    picks = data.draw(
        st.lists(st.integers(0, len(ind) - 1), min_size=1, max_size=4, unique=True),
        label="overridden",
    )
    twice = data.draw(st.sampled_from(picks), label="twice")
    j = data.draw(st.integers(0, len(picks)), label="place")

    def override(n: int) -> yaml.MappingNode:
        pairs = [copy.deepcopy(p) for p in ind[n].value]
        keep = data.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
        chosen = [p for p, k in zip(pairs, keep, strict=True) if k and p[0].value != "code"]
        code = next(p for p in pairs if p[0].value == "code")
        return yaml.MappingNode("tag:yaml.org,2002:map", [code, *chosen])

    items = [override(n) for n in picks]
    items.insert(j, override(twice))
    body = yaml.MappingNode(
        "tag:yaml.org,2002:map",
        [
            (yaml.ScalarNode("tag:yaml.org,2002:str", "include"),
             yaml.ScalarNode("tag:yaml.org,2002:str", str(DEFAULT_CATALOG))),
            (yaml.ScalarNode("tag:yaml.org,2002:str", "indicators"),
             yaml.SequenceNode("tag:yaml.org,2002:seq", items)),
        ],
    )  # fmt: skip
    exc = _load_text(_emit(body))
    assert exc.reason == "catalog.entry_twice", exc.message("en")
    code = next(v.value for k, v in ind[twice].value if k.value == "code")
    assert exc.params["entry"] == code


def _scalar(tag: str, value: str) -> yaml.ScalarNode:
    return yaml.ScalarNode(f"tag:yaml.org,2002:{tag}", value)


OTHER_VALUES = [
    _scalar("str", "x"),
    _scalar("str", ""),
    _scalar("int", "7"),
    _scalar("int", "-3"),
    _scalar("float", "1.5"),
    _scalar("float", ".nan"),
    _scalar("bool", "true"),
    _scalar("null", "null"),
    _scalar("timestamp", "2025-07-01"),
    _scalar("str", "2025-13-01"),
    yaml.SequenceNode("tag:yaml.org,2002:seq", []),
    yaml.SequenceNode("tag:yaml.org,2002:seq", [_scalar("str", "C")]),
    yaml.MappingNode("tag:yaml.org,2002:map", []),
    yaml.MappingNode("tag:yaml.org,2002:map", [(_scalar("str", "a"), _scalar("int", "1"))]),
]
SLOTS = [n for n in _mappings(ROOT, []) if n.value] + [
    n for n in SECTIONS.values() if isinstance(n, yaml.SequenceNode)
]


@pytest.mark.slow  # about 10 s each: the fast lane is -m 'not slow'
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_value_of_another_type_loads_or_is_one_sentence(data):
    """Any value of the national catalog (a key's value, an entry of a section) replaced by a
    value of another type (text, empty text, number, NaN, true, null, a date, an impossible
    date, a list, a mapping) loads, or is refused as one CatalogError: never a traceback."""
    slot = data.draw(st.sampled_from(SLOTS), label="where")
    i = data.draw(st.integers(0, len(slot.value) - 1), label="which")
    other = data.draw(st.sampled_from(OTHER_VALUES), label="value")
    old = slot.value[i]
    slot.value[i] = (old[0], other) if isinstance(slot, yaml.MappingNode) else other
    try:
        text = _emit(ROOT)
    finally:
        slot.value[i] = old
    with tempfile.TemporaryDirectory() as folder:
        path = _file(Path(folder), text)
        try:
            load_catalog(path)
        except CatalogError as exc:
            assert str(path) in exc.message("vi") and "\n" not in exc.message("en")


def test_the_national_catalog_is_left_as_it_was():
    """The property tests above change the shared node tree and take their change out again."""
    assert _emit(ROOT) == _emit(yaml.compose(NATIONAL, Loader=yaml.SafeLoader))
