"""Working-day calendar: State Council holidays and make-up workdays, and the fallback for years
chinesecalendar does not cover."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from zwgk import workdays
from zwgk.workdays import (
    add_workdays,
    calendar_note,
    due,
    fallback_schedule,
    is_workday,
    package_covers,
    workdays_between,
)

PAST_PACKAGE = 2031  # a year chinesecalendar 1.x has no schedule for


def test_national_day_2026():
    assert not is_workday(date(2026, 10, 1))
    assert not is_workday(date(2026, 10, 7))
    assert is_workday(date(2026, 10, 10))  # Saturday, make-up workday
    assert is_workday(date(2026, 9, 20))  # Sunday, make-up workday
    assert not is_workday(date(2026, 10, 11))
    # the example: published 2026-09-30, 3 working days → the make-up Saturday
    assert add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert add_workdays("2026-09-30", 1) == date(2026, 10, 8)
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert workdays_between(date(2026, 10, 10), date(2026, 9, 30)) == -3


def test_spring_festival_and_plain_weeks():
    assert add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)  # make-up Saturday before 春节
    assert add_workdays(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert add_workdays(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday → Monday
    assert add_workdays(date(2026, 3, 9), 0) == date(2026, 3, 9)
    assert add_workdays(date(2026, 3, 9), -1) == date(2026, 3, 6)
    assert is_workday(datetime(2026, 3, 9, 15, 0))


def test_hours_run_on_the_clock():
    start = datetime(2026, 9, 30, 20, 0)
    assert due(start, 24, "hours") == datetime(2026, 10, 1, 20, 0)
    assert due(date(2026, 1, 31), 1, "months") == date(2026, 2, 28)
    with pytest.raises(ValueError):
        due(start, 1, "fortnights")


def test_year_past_the_package_falls_back_without_crashing(monkeypatch):
    monkeypatch.delenv("ZWGK_HOLIDAYS", raising=False)
    assert not package_covers(PAST_PACKAGE)
    assert is_workday(date(PAST_PACKAGE, 10, 1))  # a Wednesday: weekends only, nothing known
    assert not is_workday(date(PAST_PACKAGE, 10, 4))  # Saturday
    assert add_workdays(date(PAST_PACKAGE, 10, 3), 1) == date(PAST_PACKAGE, 10, 6)
    note = calendar_note([2026, PAST_PACKAGE])
    assert (
        note and f"{PAST_PACKAGE}:" in note and "weekends only" in note and "2026" not in note.split(":")[0]
    )
    assert calendar_note([2016, 2026]) is None
    # crossing from a covered year into an uncovered one
    assert add_workdays(date(2026, 12, 30), 3) == date(2027, 1, 4)


def test_holiday_file_honoured(tmp_path, monkeypatch):
    path = tmp_path / "holidays.json"
    path.write_text(
        json.dumps(
            {
                str(PAST_PACKAGE): {
                    "source": "test schedule",
                    "holidays": {"国庆节": [f"{PAST_PACKAGE}-10-01", f"{PAST_PACKAGE}-10-07"]},
                    "workdays": [f"{PAST_PACKAGE}-09-27"],
                }
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("ZWGK_HOLIDAYS", str(path))
    assert not is_workday(date(PAST_PACKAGE, 10, 1))
    assert is_workday(date(PAST_PACKAGE, 9, 27))  # a Saturday made a workday
    assert add_workdays(date(PAST_PACKAGE, 9, 30), 1) == date(PAST_PACKAGE, 10, 8)
    assert workdays.holiday_name(date(PAST_PACKAGE, 10, 3)) == "国庆节"
    note = calendar_note([PAST_PACKAGE])
    assert str(path.resolve()) in note and "7 days off" in note and "test schedule" in note
    monkeypatch.setenv("ZWGK_HOLIDAYS", str(tmp_path / "missing.yaml"))
    with pytest.raises(workdays.HolidayFileError):
        is_workday(date(PAST_PACKAGE, 1, 1))
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"{PAST_PACKAGE}:\n  workdays: [not-a-date]\n", encoding="utf-8")
    monkeypatch.setenv("ZWGK_HOLIDAYS", str(bad))
    with pytest.raises(workdays.HolidayFileError, match="not a date"):
        is_workday(date(PAST_PACKAGE, 1, 1))


def test_packaged_2026_schedule_agrees_with_chinesecalendar(monkeypatch):
    """zwgk/data/holidays.yaml carries 2026 for older chinesecalendar versions; both must agree."""
    import chinese_calendar

    monkeypatch.delenv("ZWGK_HOLIDAYS", raising=False)
    sched = fallback_schedule(2026)
    assert sched is not None and sched.source
    day = date(2026, 1, 1)
    while day.year == 2026:
        from_file = day in sched.workdays or (day not in sched.holidays and day.weekday() < 5)
        assert from_file == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_deadline_command(capsys):
    from zwgk.cli import main

    assert main(["deadline", "2026-09-30", "--workdays", "3"]) == 0
    out = capsys.readouterr().out
    assert "due 2026-10-10" in out and "make-up working day" in out and "note:" not in out
    assert main(["deadline", f"{PAST_PACKAGE}-09-30", "--workdays", "3"]) == 0
    out = capsys.readouterr().out
    assert f"due {PAST_PACKAGE}-10-03" in out and "note:" in out and "weekends" in out
    assert main(["deadline", "2026-09-30T10:00", "--hours", "24", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["due"] == "2026-10-01T10:00:00"
    assert main(["deadline", "not-a-date", "--workdays", "3"]) == 2
