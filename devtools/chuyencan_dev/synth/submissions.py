"""When each school delivers its file, under which name, and what the pipeline should conclude.

Schools have habits (some always on Thursday afternoon, some always late, a few often missing);
each school week draws from them with its own seeded generator, so a week's plan does not depend
on which other weeks are generated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chuyencan.core.reference import School
from chuyencan.core.text import strip_diacritics
from chuyencan_dev.synth.mistakes import KINDS

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# The pipeline's default deadline (Settings.deadline): Friday 10:00 of the reported week.
DEADLINE = time(10, 0)

RESUBMIT_SUFFIXES = (" (sửa)", "_v2", " - ban sua", " (1)", "_moi", " da sua loi", " - Copy")


@dataclass(frozen=True)
class Habit:
    p_missing: float
    p_late: float
    thursday: float  # share of on-time files sent on Thursday rather than Friday morning
    folder: str
    name_pattern: int


@dataclass
class PlannedFile:
    attempt: int
    when: datetime
    broken: bool


@dataclass
class SchoolWeekPlan:
    school: School
    week: date
    files: list[PlannedFile] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # mistake kinds to try, in order
    status: str = "missing"
    received_at: datetime | None = None


def deadline(week: date) -> datetime:
    return datetime.combine(week, DEADLINE, tzinfo=TIMEZONE)


def _short(school: School) -> str:
    return school.name.removeprefix("Trường ").removeprefix("Trung tâm ")


def school_habit(school: School, seed: int) -> Habit:
    rng = random.Random(f"{seed}:habit:{school.code}")
    folder = rng.choices(
        (
            school.code,
            strip_diacritics(_short(school)),
            _short(school),
            (school.email or school.code).split("@")[0].lower(),
        ),
        weights=(40, 25, 20, 15),
    )[0]
    return Habit(
        p_missing=rng.choices((0.01, 0.04, 0.12), weights=(60, 30, 10))[0],
        p_late=rng.choices((0.04, 0.12, 0.30), weights=(50, 35, 15))[0],
        thursday=rng.uniform(0.2, 0.6),
        folder=folder.replace("/", "-"),
        name_pattern=rng.randrange(7),
    )


def _at(day: date, start: time, end: time, rng: random.Random) -> datetime:
    low = datetime.combine(day, start, tzinfo=TIMEZONE)
    span = int((datetime.combine(day, end, tzinfo=TIMEZONE) - low).total_seconds())
    return low + timedelta(seconds=rng.randrange(span))


def _first_time(week: date, late: bool, habit: Habit, rng: random.Random) -> datetime:
    if late:
        slot = rng.choices(("fri", "sat", "sun", "mon"), weights=(45, 15, 5, 35))[0]
        if slot == "fri":
            return _at(week, time(10, 0, 1), time(17, 30), rng)
        if slot == "sat":
            return _at(week + timedelta(days=1), time(7, 0), time(21, 0), rng)
        if slot == "sun":
            return _at(week + timedelta(days=2), time(8, 0), time(20, 0), rng)
        return _at(week + timedelta(days=3), time(7, 0), time(17, 0), rng)
    if rng.random() < 0.05:
        return _at(week - timedelta(days=2), time(14, 0), time(21, 0), rng)
    if rng.random() < habit.thursday:
        return _at(week - timedelta(days=1), time(13, 30), time(22, 30), rng)
    return _at(week, time(6, 30), time(9, 59, 59), rng)


def _fix_time(broken_at: datetime, rng: random.Random) -> datetime:
    """A corrected file a few hours later; nobody fixes files between 23:00 and 06:30."""
    when = broken_at + timedelta(seconds=rng.randrange(3600, 6 * 3600))
    if when.hour >= 23 or when.time() < time(6, 30):
        morning = when.date() + timedelta(days=1) if when.hour >= 23 else when.date()
        when = _at(morning, time(6, 30), time(8, 30), rng)
    if when == deadline(when.date()):
        when += timedelta(seconds=1)
    return when


def plan_school_week(
    school: School, week: date, habit: Habit, seed: int, mistake_rate: float
) -> SchoolWeekPlan:
    rng = random.Random(f"{seed}:submission:{school.code}:{week.isoformat()}")
    plan = SchoolWeekPlan(school, week)
    kinds = list(KINDS)
    rng.shuffle(kinds)
    plan.kinds = kinds
    if rng.random() < habit.p_missing:
        return plan
    late = rng.random() < habit.p_late
    first = _first_time(week, late, habit, rng)
    if rng.random() < mistake_rate:
        plan.files.append(PlannedFile(1, first, broken=True))
        if rng.random() < 0.85:
            plan.files.append(PlannedFile(2, _fix_time(first, rng), broken=False))
    else:
        plan.files.append(PlannedFile(1, first, broken=False))
    accepted = [f for f in plan.files if not f.broken]
    if accepted:
        plan.received_at = accepted[0].when
        plan.status = "on_time" if accepted[0].when <= deadline(week) else "late"
    else:
        plan.received_at = plan.files[-1].when
        plan.status = "rejected"
    return plan


def file_name(
    school: School, week: date, week_number: int, habit: Habit, *, attempt: int, rng: random.Random
) -> str:
    """The name a school gives its file; names are not trusted, so they vary and sometimes lie."""
    pattern = habit.name_pattern if rng.random() < 0.85 else rng.randrange(7)
    shown = week - timedelta(days=7) if rng.random() < 0.05 else week  # last week's file renamed badly
    short_ascii = strip_diacritics(_short(school))
    stem = (
        f"Bao cao chuyen can tuan {shown:%d-%m}",
        f"BC chuyên cần tuần {shown:%d.%m.%Y}",
        f"ChuyenCan_{school.code}_{shown:%Y-%m-%d}",
        f"Báo cáo chuyên cần tuần {week_number}",
        f"{short_ascii} - tuan {shown:%d_%m}",
        f"chuyen can {shown:%d%m%y}",
        f"Copy of BC chuyen can {shown:%d-%m-%Y}",
    )[pattern]
    if attempt > 1:
        stem += rng.choice(RESUBMIT_SUFFIXES)
    return f"{stem}.xlsx"
