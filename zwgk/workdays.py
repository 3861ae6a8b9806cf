"""Chinese working days: weekends, State Council holidays and make-up working days (调休).

`chinesecalendar` carries the official schedule for the years it knows. Any other year does not
crash: it falls back to Monday-Friday adjusted by a holiday file (zwgk/data/holidays.yaml, then the
file named by env ZWGK_HOLIDAYS; layout documented in that file) and `calendar_note()` says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from zwgk.settings import PACKAGE_DATA

DEFAULT_HOLIDAY_FILE = PACKAGE_DATA / "holidays.yaml"


@dataclass
class YearSchedule:
    """Days off and make-up working days of one year from a holiday file."""

    year: int
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: set[date] = field(default_factory=set)
    source: str = ""
    path: str = ""


class HolidayFileError(ValueError):
    """A holiday file that cannot be read (bad YAML/JSON, bad date)."""


@lru_cache(maxsize=1)
def _package_years() -> frozenset[int]:
    """Years chinesecalendar has the State Council schedule for."""
    try:
        from chinese_calendar.constants import holidays
    except ImportError:  # the package is a dependency, but the calendar must still work without it
        return frozenset()
    return frozenset(d.year for d in holidays)


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("chinesecalendar")
    except Exception:
        return "?"


def _as_date(value, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise HolidayFileError(f"{where}: not a date: {value!r}") from exc


def _read_holiday_file(path: Path) -> dict[int, YearSchedule]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise HolidayFileError(f"{path}: {exc}") from exc
    out: dict[int, YearSchedule] = {}
    for key, entry in (data or {}).items():
        year = int(key)
        entry = entry or {}
        sched = YearSchedule(year=year, source=str(entry.get("source") or ""), path=str(path))
        for name, span in (entry.get("holidays") or {}).items():
            days = span if isinstance(span, list) else [span]
            if not 1 <= len(days) <= 2:
                raise HolidayFileError(f"{path}: {year} {name}: give [first, last] or one date")
            first = _as_date(days[0], f"{path}: {year} {name}")
            last = _as_date(days[-1], f"{path}: {year} {name}")
            day = first
            while day <= last:
                sched.holidays[day] = str(name)
                day += timedelta(days=1)
        sched.workdays = {_as_date(d, f"{path}: {year} workdays") for d in entry.get("workdays") or ()}
        out[year] = sched
    return out


@lru_cache(maxsize=8)
def _file_schedules(files: tuple[tuple[str, float], ...]) -> dict[int, YearSchedule]:
    merged: dict[int, YearSchedule] = {}
    for path, _mtime in files:
        merged.update(_read_holiday_file(Path(path)))  # later files win per year
    return merged


def holiday_files() -> tuple[tuple[str, float], ...]:
    """The holiday files in effect (path, mtime): the packaged one, then $ZWGK_HOLIDAYS when set."""
    paths = [DEFAULT_HOLIDAY_FILE] if DEFAULT_HOLIDAY_FILE.exists() else []
    extra = os.environ.get("ZWGK_HOLIDAYS")
    if extra:
        if not Path(extra).exists():
            raise HolidayFileError(f"ZWGK_HOLIDAYS={extra}: no such file")
        paths.append(Path(extra).resolve())
    return tuple((str(p), p.stat().st_mtime) for p in paths)


def fallback_schedule(year: int) -> YearSchedule | None:
    """The holiday-file schedule of a year (used only when chinesecalendar lacks the year)."""
    return _file_schedules(holiday_files()).get(year)


def package_covers(year: int) -> bool:
    return year in _package_years()


def _to_date(d) -> date:
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    return date.fromisoformat(str(d))


@lru_cache(maxsize=8192)
def _is_workday(d: date, files: tuple[tuple[str, float], ...]) -> bool:
    if d.year in _package_years():
        import chinese_calendar

        return chinese_calendar.is_workday(d)
    sched = _file_schedules(files).get(d.year)
    if sched is not None:
        if d in sched.workdays:
            return True
        if d in sched.holidays:
            return False
    return d.weekday() < 5


def is_workday(d) -> bool:
    """True on a Chinese working day (make-up Saturdays included, holidays excluded)."""
    return _is_workday(_to_date(d), holiday_files())


def holiday_name(d) -> str | None:
    """The festival a day off or a make-up working day belongs to, when known."""
    d = _to_date(d)
    if package_covers(d.year):
        import chinese_calendar

        return chinese_calendar.get_holiday_detail(d)[1]
    sched = fallback_schedule(d.year)
    return sched.holidays.get(d) if sched else None


def add_workdays(d, n: int) -> date:
    """The n-th working day after d (d itself not counted); n < 0 counts back; n == 0 gives d."""
    day = _to_date(d)
    step = 1 if n >= 0 else -1
    files = holiday_files()
    remaining = abs(n)
    while remaining:
        day += timedelta(days=step)
        if _is_workday(day, files):
            remaining -= 1
    return day


def workdays_between(a, b) -> int:
    """Working days in (a, b]: 1 when b is the next working day after a; negative when b < a."""
    a, b = _to_date(a), _to_date(b)
    if b < a:
        return -workdays_between(b, a)
    files = holiday_files()
    return sum(1 for i in range(1, (b - a).days + 1) if _is_workday(a + timedelta(days=i), files))


def add_hours(moment: datetime, hours: float) -> datetime:
    """A deadline in hours (24小时内) runs on the clock, holidays included."""
    return moment + timedelta(hours=hours)


def due(start, amount: int, unit: str):
    """Due date/time of a deadline obligation: amount in working_days, days, hours, weeks or months."""
    if unit == "working_days":
        return add_workdays(start, amount)
    if unit == "hours":
        moment = (
            start if isinstance(start, datetime) else datetime.combine(_to_date(start), datetime.min.time())
        )
        return add_hours(moment, amount)
    if unit == "days":
        return _to_date(start) + timedelta(days=amount)
    if unit == "weeks":
        return _to_date(start) + timedelta(weeks=amount)
    if unit == "months":
        d = _to_date(start)
        month = d.month - 1 + amount
        year, month = d.year + month // 12, month % 12 + 1
        import calendar

        return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))
    raise ValueError(f"unknown deadline unit {unit!r}")


def calendar_note(years: Iterable[int]) -> str | None:
    """None when chinesecalendar covers every year; otherwise which years fall back, and to what."""
    notes = []
    for year in sorted(set(years)):
        if package_covers(year):
            continue
        sched = fallback_schedule(year)
        covered = _package_years()
        span = f"{min(covered)}–{max(covered)}" if covered else "no years"
        if sched is not None:
            how = (
                f"weekends plus the holiday file {sched.path} "
                f"({len(sched.holidays)} days off, {len(sched.workdays)} make-up workdays"
                + (f"; {sched.source}" if sched.source else "")
                + ")"
            )
        else:
            how = "weekends only (no holiday file lists this year; set ZWGK_HOLIDAYS to add the State Council schedule)"
        notes.append(f"{year}: chinesecalendar {_package_version()} covers {span}; using {how}")
    return "\n".join(notes) or None
