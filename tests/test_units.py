from datetime import date

from validations.units import fold, structure_on

BEFORE, AFTER = date(2024, 6, 14), date(2025, 7, 14)


def test_both_structures_have_the_official_counts(units):
    legacy = [u for u in units.units if u.structure == "legacy"]
    reform = [u for u in units.units if u.structure == "2025"]
    count = lambda us, lv: sum(1 for u in us if u.level == lv)  # noqa: E731
    assert (count(legacy, "P"), count(legacy, "D")) == (63, 696)
    # 10,040 rows: 10,035 communes plus 5 island districts without a commune level
    assert count(legacy, "C") == 10_035
    assert (count(reform, "P"), count(reform, "C"), count(reform, "D")) == (34, 3_321, 0)


def test_lai_chau_has_8_districts_and_106_communes(units):
    districts = units.children("12", BEFORE)
    assert len(districts) == 8
    assert {"Huyện Tam Đường", "Huyện Phong Thổ", "Huyện Than Uyên", "Huyện Tân Uyên"} <= {
        d.name for d in districts
    }
    assert len(units.communes_of("12", BEFORE)) == 106
    # two levels from 1 July 2025: communes straight under the province
    assert {u.level for u in units.children("12", AFTER)} == {"C"}
    assert len(units.children("12", AFTER)) == 38


def test_lookup_by_code_respects_validity(units):
    assert units.get("106", BEFORE).name == "Huyện Tam Đường"
    assert units.get("106", AFTER) is None  # districts abolished
    # the same code names different communes before and after the reform
    assert units.get("00004", BEFORE).name != units.get("00004", AFTER).name
    assert units.get("03386", BEFORE).parent_code == "105"


def test_stripped_leading_zeros_are_padded_back(units):
    assert units.pad("3386") == ["03386"]
    assert units.pad("3386.0") == ["03386"]
    assert units.pad("12") == ["12"]
    assert units.pad("abc") == []


def test_lookup_by_name_folds_accents_and_case(units):
    assert fold("  Huyện Tam Đường ") == "huyentamduong"
    hits = units.find_by_name("TAM DUONG", level="D", on=BEFORE)
    assert "106" in {u.code for u in hits}
    assert all(u.level == "D" for u in hits)
    assert units.find_by_name("Lai Châu", level="P", on=BEFORE)[0].code == "12"


def test_structure_changes_on_1_july_2025():
    assert structure_on(date(2025, 6, 30)) == "legacy"
    assert structure_on(date(2025, 7, 1)) == "2025"
