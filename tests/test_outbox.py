import json

from conftest import SAMPLES
from validations.intake import Unreadable
from validations.outbox import safe_name, write_reports, write_unreadable


def test_safe_names_cannot_leave_the_outbox():
    for hostile in ("../../etc/passwd", "..", "a/b\\c", "03386'; DROP TABLE x; --", ""):
        name = safe_name(hostile)
        assert "/" not in name and "\\" not in name and not name.startswith(".") and name


def test_reports_land_in_the_units_folder_with_the_warehouse_outcome(validator, catalog, tmp_path):
    res = validator.validate_file(SAMPLES / "invalid" / "crime_solved_le_cases.csv")
    written = write_reports(
        tmp_path, [res], {res.path: {"version": 2, "status": "rejected"}}, catalog
    )
    assert {p.name for p in written} == {"2024-06_v2.json", "2024-06_v2.html"}
    assert all(p.parent == tmp_path / "03386" for p in written)
    data = json.loads((tmp_path / "03386" / "2024-06_v2.json").read_text(encoding="utf-8"))
    assert data["status"] == "rejected" and data["warehouse"]["version"] == 2
    page = (tmp_path / "03386" / "2024-06_v2.html").read_text(encoding="utf-8")
    assert "BỊ TỪ CHỐI" in page and "Phiên bản 2 bị từ chối" in page


def test_unreadable_messages_are_kept_for_the_steward(tmp_path):
    paths = write_unreadable(tmp_path, [Unreadable("in/../x.csv", "vi", "en")])
    assert paths[0].parent == tmp_path / "_unreadable"
    assert json.loads(paths[0].read_text())["status"] == "unreadable"
