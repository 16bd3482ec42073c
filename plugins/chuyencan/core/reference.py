"""Reference data: schools, communes and school calendars, with validity dates.

Read from the CSV files in include/reference (reviewed as data, never code) and written to
the warehouse schema `ref` so that SQL and the district can join on them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from chuyencan.core import schema
from chuyencan.core import warehouse as wh
from chuyencan.core.contract import LEVELS
from chuyencan.core.settings import REFERENCE_DIR
from chuyencan.core.text import fold

if TYPE_CHECKING:
    from chuyencan.core.organisation import Organisation


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value.strip() else None


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


@dataclass(frozen=True)
class School:
    code: str
    name: str
    kind: str
    grade_min: int
    grade_max: int
    commune: str | None
    boarding: str | None
    valid_from: date
    valid_to: date | None
    email: str | None

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Commune:
    name: str
    kind: str
    district: str
    valid_from: date
    valid_to: date | None
    successor: str | None
    aliases: tuple[str, ...]
    verified: bool


@dataclass(frozen=True)
class CalendarEvent:
    school_year: str
    event: str
    start: date
    end: date
    label: str
    verified: bool

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class SchoolYear:
    name: str
    start: date
    end: date
    events: tuple[CalendarEvent, ...]

    def _one(self, event: str) -> CalendarEvent:
        for ev in self.events:
            if ev.event == event:
                return ev
        raise KeyError(f"calendar {self.name} has no {event}")

    @property
    def semester_1(self) -> CalendarEvent:
        return self._one("semester_1")

    @property
    def tet_break(self) -> CalendarEvent:
        return self._one("tet_break")

    def is_school_day(self, day: date) -> bool:
        """Monday to Saturday inside the year, outside breaks and holidays."""
        if not (self.start <= day <= self.end) or day.weekday() == 6:
            return False
        return not any(ev.covers(day) for ev in self.events if ev.event in ("tet_break", "holiday", "break"))

    def weeks(self) -> list[tuple[date, int]]:
        """(Friday ending the week, school days Monday to Friday) for every week with school."""
        first_friday = self.start + timedelta(days=(4 - self.start.weekday()) % 7)
        out = []
        friday = first_friday
        while friday - timedelta(days=4) <= self.end:
            days = sum(self.is_school_day(friday - timedelta(days=i)) for i in range(5))
            if days:
                out.append((friday, days))
            friday += timedelta(days=7)
        return out


@dataclass
class Reference:
    schools: dict[str, School]
    communes: list[Commune]
    years: list[SchoolYear]
    _commune_index: dict[str, Commune] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for commune in self.communes:
            for spelling in (commune.name, *commune.aliases):
                self._commune_index[commune_key(spelling)] = commune

    # -- schools --
    def school(self, code: str) -> School | None:
        return self.schools.get(code.strip().upper())

    def active_schools(self, day: date) -> list[School]:
        return sorted((s for s in self.schools.values() if s.active_on(day)), key=lambda s: s.code)

    # -- communes --
    def resolve_commune(self, written: str, on: date) -> str | None:
        """The commune a school wrote, as valid on the given day (following merges)."""
        commune = self._commune_index.get(commune_key(written))
        seen = set()
        while commune is not None and commune.valid_to is not None and commune.valid_to < on:
            if commune.successor is None or commune.name in seen:
                return None
            seen.add(commune.name)
            commune = self._commune_index.get(commune_key(commune.successor))
        if commune is None or commune.valid_from > on:
            return None
        return commune.name

    # -- calendar --
    def school_year_of(self, day: date) -> SchoolYear | None:
        """The school year a day belongs to; summer days belong to the year that follows."""
        for year in self.years:
            if year.start <= day <= year.end:
                return year
        following = [y for y in self.years if y.start > day]
        return min(following, key=lambda y: y.start) if following else None

    @cached_property
    def school_weeks(self) -> dict[date, tuple[str, int]]:
        """Friday -> (school year, school days) for every week in which schools must report."""
        return {friday: (y.name, days) for y in self.years for friday, days in y.weeks()}

    def is_school_week(self, friday: date) -> bool:
        return friday in self.school_weeks


def commune_key(name: str) -> str:
    """Matching key of a commune name: folded, without 'xã' / 'thị trấn' / 'phường'."""
    key = fold(name)
    for prefix in ("thitran", "xa", "phuong", "tt"):
        if key.startswith(prefix) and len(key) > len(prefix) + 2:
            return key[len(prefix) :]
    return key


def load_reference(directory: Path = REFERENCE_DIR) -> Reference:
    contacts = {r["school_code"]: r["email"] for r in _read_csv(directory / "school_contacts.csv")}
    schools = {}
    for r in _read_csv(directory / "schools.csv"):
        code = r["school_code"].upper()
        valid_from = _date(r["valid_from"])
        if valid_from is None:
            raise ValueError(f"schools.csv: {code} has no valid_from")
        schools[code] = School(
            code=code,
            name=r["name"],
            kind=r["kind"],
            grade_min=int(r["grade_min"]),
            grade_max=int(r["grade_max"]),
            commune=r["commune"] or None,
            boarding=r["boarding"] or None,
            valid_from=valid_from,
            valid_to=_date(r["valid_to"]),
            email=contacts.get(code) or None,
        )
    communes = [
        Commune(
            name=r["commune_name"],
            kind=r["kind"],
            district=r["district"],
            valid_from=_date(r["valid_from"]) or date.min,
            valid_to=_date(r["valid_to"]),
            successor=r["successor"] or None,
            aliases=tuple(a.strip() for a in r["aliases"].split("|") if a.strip()),
            verified=r["verified"].lower() == "yes",
        )
        for r in _read_csv(directory / "communes.csv")
    ]
    events: dict[str, list[CalendarEvent]] = {}
    for r in _read_csv(directory / "calendar.csv"):
        start, end = _date(r["start_date"]), _date(r["end_date"])
        if start is None or end is None or end < start:
            raise ValueError(f"calendar.csv: bad dates in {r}")
        events.setdefault(r["school_year"], []).append(
            CalendarEvent(r["school_year"], r["event"], start, end, r["label"], r["verified"] == "yes")
        )
    years = []
    for name, evs in sorted(events.items()):
        year_ev = [e for e in evs if e.event == "year"]
        if len(year_ev) != 1:
            raise ValueError(f"calendar.csv: school year {name} needs exactly one 'year' row")
        years.append(SchoolYear(name, year_ev[0].start, year_ev[0].end, tuple(evs)))
    return Reference(schools=schools, communes=communes, years=years)


def write_reference(engine: Engine, ref: Reference, organisation: Organisation | None = None) -> None:
    """Replace the `ref` tables with the files' content, in one transaction; with
    `organisation`, its tables too (ref.admin_unit, ref.reporting_unit, ref.school_unit)."""
    with engine.begin() as conn:
        # Overlapping runs (the intake and the Friday run both start at 11:00) reload at once.
        wh.serialise(conn, "chuyencan_reference")
        for table in (
            schema.ref_school,
            schema.ref_commune,
            schema.ref_calendar,
            schema.ref_school_week,
            schema.ref_grade_level,
        ):
            conn.execute(table.delete())
        conn.execute(
            schema.ref_grade_level.insert(),
            [{"grade": g, "level": level} for level, low, high in LEVELS for g in range(low, high + 1)],
        )
        conn.execute(
            schema.ref_school.insert(),
            [
                {
                    "school_code": s.code,
                    "name": s.name,
                    "kind": s.kind,
                    "grade_min": s.grade_min,
                    "grade_max": s.grade_max,
                    "commune": s.commune,
                    "boarding": s.boarding,
                    "valid_from": s.valid_from,
                    "valid_to": s.valid_to,
                    "email": s.email,
                }
                for s in ref.schools.values()
            ],
        )
        conn.execute(
            schema.ref_commune.insert(),
            [
                {
                    "commune_name": c.name,
                    "kind": c.kind,
                    "district": c.district,
                    "valid_from": c.valid_from,
                    "valid_to": c.valid_to,
                    "successor": c.successor,
                    "aliases": "|".join(c.aliases) or None,
                    "verified": c.verified,
                }
                for c in ref.communes
            ],
        )
        conn.execute(
            schema.ref_calendar.insert(),
            [
                {
                    "school_year": e.school_year,
                    "event": e.event,
                    "start_date": e.start,
                    "end_date": e.end,
                    "label": e.label,
                    "verified": e.verified,
                }
                for y in ref.years
                for e in y.events
            ],
        )
        conn.execute(
            schema.ref_school_week.insert(),
            [
                {"week_ending": friday, "school_year": year, "school_days": days}
                for friday, (year, days) in sorted(ref.school_weeks.items())
            ],
        )
        if organisation is not None:
            from chuyencan.core.organisation import write_organisation

            write_organisation(conn, organisation)
