"""Dates of the fortnightly report: which Fridays, which weeks, and when in the year a child left.

Import-cheap on purpose (only `datetime`): the timetable, which the scheduler loads with the DAG
file, takes its anchor from here.

- Report Fridays are every other Friday from 4 April 2025 (the district's order of 26 March
  2025), in both directions: 21 March 2025 and 18 April 2025 are report Fridays too.
- The report dated Friday F covers the school weeks ending F-7 and F, i.e. the days from the
  Saturday after F-14 through F.
- "When they left" (the notice's "trong hè, kỳ 1, kỳ 2, sau Tết") is read from the first day
  missed against the calendar of the school year the report belongs to: before the year's start
  is summer; then semester 1; semester 2 up to the Tết break; from the Tết break on, after Tết.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chuyencan.core.reference import Reference, SchoolYear

FIRST_REPORT = date(2025, 4, 4)
FORTNIGHT = timedelta(days=14)
SESSIONS_PER_DAY = 2  # morning and afternoon: schools count missed sessions (buổi)
PERIODS = ("summer", "hk1", "hk2", "after_tet")


def friday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() - 4) % 7)


def report_date_on_or_before(day: date) -> date:
    """The latest report Friday on or before a day (report Fridays continue both ways)."""
    friday = friday_on_or_before(day)
    offset = (friday - FIRST_REPORT).days % FORTNIGHT.days
    return friday - timedelta(days=offset)


def is_report_date(day: date) -> bool:
    return report_date_on_or_before(day) == day


@dataclass(frozen=True)
class Fortnight:
    """The two school weeks a report covers."""

    report_date: date

    @property
    def weeks(self) -> tuple[date, date]:
        """The Fridays ending the two weeks, earlier first."""
        return (self.report_date - timedelta(days=7), self.report_date)

    @property
    def first_day(self) -> date:
        """The Saturday after the previous report Friday."""
        return self.report_date - FORTNIGHT + timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.report_date


@dataclass(frozen=True)
class YearBoundaries:
    """The calendar dates that split a school year into the notice's periods."""

    school_year: str
    start: date  # first day of school: earlier is summer
    semester_2_start: date  # the day after semester 1 ends
    tet_start: date  # first day of the Tết break: from here on, after Tết
    previous_start: date  # the previous school year's first day: earlier is not this year's dropout

    def period_of(self, first_day_missed: date) -> str:
        if first_day_missed < self.start:
            return "summer"
        if first_day_missed < self.semester_2_start:
            return "hk1"
        if first_day_missed < self.tet_start:
            return "hk2"
        return "after_tet"


def report_year(ref: Reference, report_date: date) -> SchoolYear:
    """The school year a report belongs to: the latest one that has started by the report date
    (a report in the summer holidays is about the year that just ended)."""
    started = [y for y in ref.years if y.start <= report_date]
    if started:
        return max(started, key=lambda y: y.start)
    if not ref.years:
        raise ValueError("the reference calendar has no school year")
    return min(ref.years, key=lambda y: y.start)


def year_boundaries(ref: Reference, report_date: date) -> YearBoundaries:
    year = report_year(ref, report_date)
    earlier = [y for y in ref.years if y.start < year.start]
    # Without the previous year in the calendar, assume it started a year earlier.
    previous_start = (
        max(earlier, key=lambda y: y.start).start if earlier else year.start - timedelta(days=365)
    )
    return YearBoundaries(
        school_year=year.name,
        start=year.start,
        semester_2_start=year.semester_1.end + timedelta(days=1),
        tet_start=year.tet_break.start,
        previous_start=previous_start,
    )


@lru_cache(maxsize=8)
def _school_days_before(year: SchoolYear) -> tuple[int, ...]:
    """Entry i: school days of the year before its (i)th day (a running count, computed once)."""
    counts, total = [], 0
    for offset in range((year.end - year.start).days + 1):
        counts.append(total)
        day = year.start + timedelta(days=offset)
        total += day.weekday() < 5 and year.is_school_day(day)
    counts.append(total)
    return tuple(counts)


def school_days_between(year: SchoolYear, first: date, last: date) -> int:
    """School days (Monday to Friday, as schools count them in their weekly files) from first to
    last inclusive, clipped to the school year."""
    first, last = max(first, year.start), min(last, year.end)
    if last < first:
        return 0
    before = _school_days_before(year)
    return before[(last - year.start).days + 1] - before[(first - year.start).days]


def sessions_between(year: SchoolYear, first: date, last: date) -> int:
    return SESSIONS_PER_DAY * school_days_between(year, first, last)
