from datetime import date

import pytest

from validations.period import PeriodError, normalise_period, parse_period


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2024-06", "2024-06"),
        ("2024-6", "2024-06"),
        ("06/2024", "2024-06"),
        ("T6/2024", "2024-06"),
        ("2024-Q2", "2024-Q2"),
        ("2024q2", "2024-Q2"),
        ("2024-H1", "2024-H1"),
        ("2024", "2024"),
        (" 2024-06 ", "2024-06"),
    ],
)
def test_accepted_forms_normalise(text, code):
    assert parse_period(text).code == code


@pytest.mark.parametrize("text", ["", "2024-13", "2024/Jun", "June 2024", "24-06", "2024-Q5", None])
def test_malformed_periods_raise(text):
    with pytest.raises(PeriodError):
        parse_period(text)
    assert normalise_period(text) is None


def test_closing_calendar_runs_from_the_15th_to_the_14th():
    p = parse_period("2024-06")
    assert (p.start(), p.end()) == (date(2024, 5, 15), date(2024, 6, 14))
    assert parse_period("2024-01").start() == date(2023, 12, 15)
    assert parse_period("2024").start() == date(2023, 12, 15)
    assert parse_period("2024").end() == date(2024, 12, 14)
    assert parse_period("2024-H1").end() == date(2024, 6, 14)
    assert parse_period("2024-Q3").start() == date(2024, 6, 15)
    assert parse_period("2024-06").start(close_day=20) == date(2024, 5, 21)


def test_months_and_same_period_last_year():
    assert parse_period("2024-H1").month_codes() == [f"2024-0{m}" for m in range(1, 7)]
    assert parse_period("2024-Q2").same_period_last_year().code == "2023-Q2"
    assert parse_period("2024-06").label_vi == "tháng 06/2024"


def test_latest_closed_month_follows_the_closing_day():
    from validations.period import latest_closed_month

    assert latest_closed_month(date(2026, 11, 22)).code == "2026-11"
    assert latest_closed_month(date(2026, 11, 13)).code == "2026-10"
    assert latest_closed_month(date(2026, 1, 10)).code == "2025-12"
