"""ISO weeks (Monday–Sunday), calendar periods and the current time in Asia/Shanghai."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from zwgk.settings import TIMEZONE

TZ = ZoneInfo(TIMEZONE)

# the dates a user may give (as_of, a week, a deadline's start): the measures look a year or more back and
# weeks ahead, so a date near datetime's ends (0001-01-01, 9999-12-31) would overflow mid-computation
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
WEEK_LABEL = re.compile(r"\d{4}-W\d{2}")


@dataclass(frozen=True, order=True)
class Week:
    """One ISO week; `label` is e.g. 2026-W40."""

    start: date  # Monday

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def label(self) -> str:
        y, w, _ = self.start.isocalendar()
        return f"{y}-W{w:02d}"

    def previous(self, n: int = 1) -> Week:
        return Week(self.start - timedelta(weeks=n))

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end

    def bounds(self) -> tuple[datetime, datetime]:
        """[Monday 00:00, next Monday 00:00) in Asia/Shanghai, timezone-aware."""
        lo = datetime.combine(self.start, time(0), TZ)
        return lo, lo + timedelta(days=7)


def week_of(d: date) -> Week:
    """The ISO week containing d."""
    return Week(d - timedelta(days=d.weekday()))


def parse_label(label: str) -> Week:
    """'2026-W40' → Week; ValueError with the reason for a malformed label."""
    if not WEEK_LABEL.fullmatch(label):
        raise ValueError(f"not an ISO week (YYYY-Www): {label!r}")
    year, w = label.split("-W")
    try:
        return Week(date.fromisocalendar(int(year), int(w), 1))
    except ValueError:
        raise ValueError(f"{year} has no week {w}") from None


def parse_week(label: str) -> Week:
    """A week a user gives: parse_label, and its Monday inside [FIRST_DAY, LAST_DAY]."""
    week = parse_label(label)
    check_day(week.start)
    return week


def check_day(d: date) -> date:
    """d itself when inside [FIRST_DAY, LAST_DAY], else ValueError saying the range."""
    if not FIRST_DAY <= d <= LAST_DAY:
        raise ValueError(f"{d.isoformat()} is outside {FIRST_DAY.isoformat()} … {LAST_DAY.isoformat()}")
    return d


def parse_day(text: str) -> date:
    """'YYYY-MM-DD' → date inside the range; ValueError with the reason otherwise."""
    try:
        d = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None
    return check_day(d)


def last_complete_week(as_of: date) -> Week:
    """The week a report made on as_of evaluates: as_of's week if as_of is Sunday, else the one before."""
    week = week_of(as_of)
    return week if as_of == week.end else week.previous()


def now() -> datetime:
    """The current time in Asia/Shanghai (timezone-aware): the one clock every stage reads."""
    return datetime.now(TZ)


def now_iso() -> str:
    """now() to the second, e.g. 2026-11-26T09:00:00+08:00 (the records' timestamp format)."""
    return now().isoformat(timespec="seconds")


def today() -> date:
    """Today's date in Asia/Shanghai."""
    return now().date()


def to_local(value: str | datetime | None) -> datetime | None:
    """Parse an ISO timestamp or date into an aware Asia/Shanghai datetime (a bare date is local midnight)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            try:
                dt = datetime.combine(date.fromisoformat(text[:10]), time(0))
            except ValueError:
                return None
    return dt.replace(tzinfo=TZ) if dt.tzinfo is None else dt.astimezone(TZ)


def local_date(value: str | datetime | None) -> date | None:
    dt = to_local(value)
    return dt.date() if dt else None


def minus_months(d: date, months: int) -> date:
    """Same day `months` calendar months earlier (clamped to the month's last day)."""
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m, day)
        except ValueError:
            continue
    raise ValueError(d)


PERIOD_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def period_start(d: date, period: str) -> date:
    """First day of the month/quarter/half-year/year containing d."""
    n = PERIOD_MONTHS[period]
    return date(d.year, (d.month - 1) // n * n + 1, 1)


def period_end(start: date, period: str) -> date:
    """Last day of the period beginning at start."""
    y, m = divmod(start.year * 12 + start.month - 1 + PERIOD_MONTHS[period], 12)
    return date(y, m + 1, 1) - timedelta(days=1)


def period_label(start: date, period: str) -> str:
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if period == "half_year":
        return f"{start.year}-H{(start.month - 1) // 6 + 1}"
    return str(start.year)


def periods_between(first: date, last: date, period: str) -> list[date]:
    """Start dates of every period overlapping [first, last]."""
    out, cur = [], period_start(first, period)
    while cur <= last:
        out.append(cur)
        cur = period_end(cur, period) + timedelta(days=1)
    return out
