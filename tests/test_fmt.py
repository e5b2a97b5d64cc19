import pytest

from validations.fmt import fmt_location, fmt_num, fmt_pct


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (5100, "5.100", "5,100"),
        (443000.0, "443.000", "443,000"),
        (92.857, "92,86", "92.86"),
        (1453.1, "1.453,1", "1,453.1"),
        (-4.87, "-4,87", "-4.87"),
        (0, "0", "0"),
        (float("nan"), "—", "—"),
        (None, "—", "—"),
    ],
)
def test_numbers_use_each_language_separators(value, vi, en):
    assert fmt_num(value, "vi") == vi
    assert fmt_num(value, "en") == en


def test_percent_and_locations():
    assert fmt_pct(92.86) == "92,86%"
    assert fmt_location("row 14", "vi") == "Dòng 14"
    assert fmt_location("row 14", "en") == "Row 14"
    assert fmt_location("BaoCao!E27", "vi") == "Ô BaoCao!E27"
    assert fmt_location(None) == ""
