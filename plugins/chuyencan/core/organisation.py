"""The organisation as reference data: administrative units, reporting units and the unit each
school reports to, all with validity dates, so one deployment serves Bát Xát's district before
the 2025 reform and the merged province after it (issue 12).

Read from include/reference: `admin_units.csv`, `reporting_units.csv` (+ `reporting_units.json`
for letterheads) and `school_units.csv`, checked against `schools.csv`, `communes.csv` and
`calendar.csv`. `load_organisation` lists every problem of the files at once
(`OrganisationError`), so a reviewer fixes them in one pass. No Airflow, no flow imports.

Codes: an administrative unit's code is its statistics code (GSO); a code is reused when a unit
is replaced (the town of Bát Xát 02683 became the commune of Bát Xát 02683 on 2025-07-01), so a
code names one row per period, never two at once. A reporting unit's code is a scope key
(`BAT_XAT`), the same namespace as the warehouse's `scope_key`.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, or_, select

from chuyencan.core import schema
from chuyencan.core.reference import Reference, School, commune_key, load_reference
from chuyencan.core.settings import REFERENCE_DIR
from chuyencan.core.text import fold

# Level of each kind of administrative unit: 1 province, 2 district (until 2025-06-30), 3 commune.
ADMIN_LEVEL = {"tinh": 1, "huyen": 2, "thanh_pho": 2, "thi_xa": 2, "xa": 3, "phuong": 3, "thi_tran": 3}
KIND_LABEL = {
    "tinh": "tỉnh",
    "huyen": "huyện",
    "thanh_pho": "thành phố",
    "thi_xa": "thị xã",
    "xa": "xã",
    "phuong": "phường",
    "thi_tran": "thị trấn",
}
LEVELS = {"province": 1, "district": 2, "commune": 3}
# Reporting units and the level of the administrative unit each kind belongs to.
REPORTING_KIND_LEVEL = {"so_gddt": 1, "phong_gddt": 2, "ubnd_xa": 3}
# Decree 142/2025/NĐ-CP: a commune manages only primary and lower-secondary schools (and
# multi-level schools whose highest level is lower secondary); the rest belong to the province.
COMMUNE_SCHOOL_KINDS = frozenset({"MN", "TH", "THCS", "TH&THCS"})
# The scope of a unit's own row in its report (report.fortnight_summary): the district office's
# report keeps the scope it always had; every other unit's is a 'unit'.
TOP_SCOPE = {"phong_gddt": "district"}
# Every scope a unit's own row can have (top_scope's answers): what lists each unit's report.
TOP_SCOPES = frozenset({*TOP_SCOPE.values(), "unit"})
# report.submission_status / attendance_weekly of a school that has no unit on the week's date
# (school_units.csv covers every school day of every school year, so only a file for a week
# outside them can get it).
UNASSIGNED_UNIT = "UNASSIGNED"
SCHEDULES = ("fortnightly", "weekly")
DEFAULT_SCHEDULE = "fortnightly"

ADMIN_COLUMNS = (
    "code",
    "name",
    "kind",
    "parent",
    "valid_from",
    "valid_to",
    "successors",
    "aliases",
    "source",
    "verified",
)
REPORTING_COLUMNS = (
    "code",
    "name",
    "kind",
    "admin_unit",
    "parent",
    "valid_from",
    "valid_to",
    "schedule",
    "emails",
    "verified",
)
ASSIGNMENT_COLUMNS = ("school_code", "reporting_unit", "valid_from", "valid_to", "basis", "verified")

_EMAIL = re.compile(r"^[^@\s|]+@[^@\s|]+\.[^@\s|]+$")
# Accented, so that a name that merely starts with the same letters ("Xà Phìn") keeps them.
_HIGHER_PREFIXES = ("tỉnh ", "huyện ", "thành phố ", "thị xã ", "tp. ", "tp ")


def in_force(valid_from: date, valid_to: date | None, on: date) -> bool:
    return valid_from <= on and (valid_to is None or on <= valid_to)


def unit_key(name: str, level: int) -> str:
    """Matching key of a unit's name at a level. Communes match exactly as the pipeline always
    has (`commune_key`), so a home commune resolves the same here and in the intake."""
    if level == ADMIN_LEVEL["xa"]:
        return commune_key(name)
    text = name.strip().lower()
    for prefix in _HIGHER_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return fold(text)


@dataclass(frozen=True)
class AdminUnit:
    code: str
    name: str  # without its kind: "Bát Xát", with kind "thi_tran"
    kind: str
    parent: str | None
    valid_from: date
    valid_to: date | None
    successors: tuple[str, ...]
    aliases: tuple[str, ...]
    source: str
    verified: bool

    @property
    def level(self) -> int:
        return ADMIN_LEVEL[self.kind]

    @property
    def label(self) -> str:
        """'xã Bát Xát', 'thị trấn Bát Xát', 'tỉnh Lào Cai'."""
        return f"{KIND_LABEL[self.kind]} {self.name}"

    @property
    def commune_name(self) -> str:
        """The name reports and communes.csv give a commune: 'Quang Kim' for a xã, 'Thị trấn
        Bát Xát', 'Phường Cốc Lếu' for the others (a report's commune scope key)."""
        if self.kind == "xa":
            return self.name
        return f"{KIND_LABEL[self.kind].capitalize()} {self.name}"

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(k for k in (unit_key(n, self.level) for n in (self.name, *self.aliases)) if k)

    def in_force(self, on: date) -> bool:
        return in_force(self.valid_from, self.valid_to, on)


@dataclass(frozen=True)
class Letterhead:
    """Header, addressee and signature lines of a unit's report (the district's are
    include/templates/report/issuer.json, reproduced as unit BAT_XAT)."""

    parent_agency: str
    office: str
    office_name: str
    place: str
    area: str
    document_number: str
    addressee: str
    signer_title: str
    recipients: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}


@dataclass(frozen=True)
class ReportingUnit:
    code: str  # the report's scope key: "BAT_XAT", "XA_BAT_XAT", "SO_GDDT_LAO_CAI"
    name: str
    kind: str
    admin_unit: str  # code of the administrative unit it serves
    parent: str | None  # reporting unit whose report rolls this one up
    valid_from: date
    valid_to: date | None
    schedule: str
    emails: tuple[str, ...]
    verified: bool
    letterhead: Letterhead

    def in_force(self, on: date) -> bool:
        return in_force(self.valid_from, self.valid_to, on)

    @property
    def top_scope(self) -> str:
        return top_scope(self)


def top_scope(unit: ReportingUnit) -> str:
    """The scope of the unit's own row in its report: 'district' for a district education
    office (Bát Xát's rows keep the scope they always had), 'unit' for every other unit."""
    return TOP_SCOPE.get(unit.kind, "unit")  # keep TOP_SCOPES in step


@dataclass(frozen=True)
class SchoolAssignment:
    school_code: str
    unit: str
    valid_from: date
    valid_to: date | None
    basis: str
    verified: bool

    def in_force(self, on: date) -> bool:
        return in_force(self.valid_from, self.valid_to, on)


_Unit = TypeVar("_Unit", AdminUnit, ReportingUnit)


def _chain(unit: _Unit, on: date, lookup: Callable[[str, date], _Unit | None]) -> list[_Unit]:
    """The unit and its parents in force on `on` (a circle, which the checks forbid, stops it)."""
    chain = [unit]
    while chain[-1].parent and (parent := lookup(chain[-1].parent, on)) is not None and parent not in chain:
        chain.append(parent)
    return chain


class OrganisationError(ValueError):
    """The reference files contradict themselves; `problems` says where, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            f"{len(self.problems)} problem(s) in the organisation's reference files:\n"
            + "\n".join(self.problems)
        )


class UnknownUnit(LookupError):
    pass


class AmbiguousName(LookupError):
    """A name leads to more than one unit on a date (a unit split between several successors)."""

    def __init__(self, name: str, on: date, labels: Sequence[str]) -> None:
        self.candidates = tuple(labels)
        super().__init__(f"'{name}' means more than one unit on {on}: {', '.join(labels)}")


class Organisation:
    """Administrative units, reporting units and schools' assignments, queried by date."""

    def __init__(
        self,
        admin_units: Iterable[AdminUnit],
        reporting_units: Iterable[ReportingUnit],
        assignments: Iterable[SchoolAssignment],
    ) -> None:
        self.admin_units = tuple(admin_units)
        self.reporting_units = tuple(reporting_units)
        self.assignments = tuple(assignments)
        self._admin: dict[str, list[AdminUnit]] = defaultdict(list)
        self._by_key: dict[tuple[int, str], list[AdminUnit]] = defaultdict(list)
        for unit in self.admin_units:
            self._admin[unit.code].append(unit)
            for key in unit.keys:
                self._by_key[(unit.level, key)].append(unit)
        self._reporting: dict[str, list[ReportingUnit]] = defaultdict(list)
        for ru in self.reporting_units:
            self._reporting[ru.code].append(ru)
        self._assignments: dict[str, list[SchoolAssignment]] = defaultdict(list)
        for a in self.assignments:
            self._assignments[a.school_code].append(a)

    # -- administrative units --
    def admin_unit(self, code: str, on: date) -> AdminUnit | None:
        return next((u for u in self._admin.get(code.strip(), ()) if u.in_force(on)), None)

    def unit_in_force(self, name_or_alias: str, on: date, level: str = "commune") -> AdminUnit | None:
        """The unit in force on `on` that a name means, following merges: 'Quang Kim' on
        2025-10-03 is xã Bát Xát. None for an unknown name, a unit not yet created on `on`, or
        one dissolved without successor (a district after 2025-06-30)."""
        lvl = LEVELS[level]
        found: dict[tuple[str, date], AdminUnit] = {}
        for unit in self._by_key.get((lvl, unit_key(name_or_alias, lvl)), ()):
            for target in self._follow(unit, on):
                found[(target.code, target.valid_from)] = target
        if len(found) > 1:
            raise AmbiguousName(name_or_alias, on, sorted(u.label for u in found.values()))
        return next(iter(found.values()), None)

    def commune_name(self, written: str, on: date) -> str | None:
        """The `commune_name` of the commune in force on `on` that a written home commune means
        (old names and aliases followed through merges); None when it means none, or several."""
        try:
            unit = self.unit_in_force(written, on)
        except AmbiguousName:
            return None
        return unit.commune_name if unit is not None else None

    def _follow(self, unit: AdminUnit, on: date) -> list[AdminUnit]:
        if unit.in_force(on):
            return [unit]
        if unit.valid_to is None or on < unit.valid_from:
            return []
        # Each successor starts after its predecessor ends, so the walk moves forward in time.
        day_after = unit.valid_to + timedelta(days=1)
        out: list[AdminUnit] = []
        for code in unit.successors:
            successor = self.admin_unit(code, day_after)
            if successor is not None:
                out.extend(self._follow(successor, on))
        return out

    def communes_of(self, unit: str, on: date) -> list[AdminUnit]:
        """Communes in force on `on` inside a unit (an administrative unit's code, or a reporting
        unit's code for the communes whose resident children its report covers)."""
        ru = self.reporting_unit(unit, on)
        area = self.admin_unit(ru.admin_unit if ru else unit, on)
        if area is None:
            raise UnknownUnit(f"no unit {unit!r} in force on {on}")
        return sorted(
            (
                u
                for u in self.admin_units
                if u.level == ADMIN_LEVEL["xa"] and u.in_force(on) and area in self._admin_chain(u, on)
            ),
            key=lambda u: fold(u.name),
        )

    def _admin_chain(self, unit: AdminUnit, on: date) -> list[AdminUnit]:
        return _chain(unit, on, self.admin_unit)

    # -- reporting units --
    def reporting_unit(self, code: str, on: date) -> ReportingUnit | None:
        return next((u for u in self._reporting.get(code.strip(), ()) if u.in_force(on)), None)

    def _reporting_chain(self, unit: ReportingUnit, on: date) -> list[ReportingUnit]:
        return _chain(unit, on, self.reporting_unit)

    def parent_chain(self, unit: str, on: date) -> list[AdminUnit] | list[ReportingUnit]:
        """The unit and its parents up to the top, as in force on `on`: for a reporting unit's
        code, reporting units (a commune's, then the department's); otherwise administrative
        units (commune, [district,] province)."""
        ru = self.reporting_unit(unit, on)
        if ru is not None:
            return self._reporting_chain(ru, on)
        au = self.admin_unit(unit, on)
        if au is None:
            raise UnknownUnit(f"no unit {unit!r} in force on {on}")
        return self._admin_chain(au, on)

    def reporting_units_in_force(self, on: date) -> list[ReportingUnit]:
        """Every unit that gets a report on `on`; a unit comes before its parent, so a roll-up
        can be computed in this order."""
        units = [u for u in self.reporting_units if u.in_force(on)]
        return sorted(units, key=lambda u: (-len(self._reporting_chain(u, on)), u.code))

    def reporting_unit_of_school(self, school_code: str, on: date) -> ReportingUnit | None:
        """The unit whose report a school's weekly file goes into on `on`."""
        for a in self._assignments.get(school_code.strip().upper(), ()):
            if a.in_force(on):
                return self.reporting_unit(a.unit, on)
        return None

    def schools_of(self, unit: str, on: date) -> list[str]:
        """Codes of the schools assigned to a reporting unit on `on` (not its children's)."""
        return sorted(a.school_code for a in self.assignments if a.unit == unit and a.in_force(on))

    def unit_schools(self, unit: str, on: date) -> list[str]:
        """Codes of the schools whose report goes to `unit` on `on`, or to a unit under it
        (parent links): the schools a unit's report covers."""
        covered = {
            u.code
            for u in self.reporting_units
            if u.in_force(on) and unit in self.reporting_codes_up(u.code, on)
        }
        return sorted(a.school_code for a in self.assignments if a.unit in covered and a.in_force(on))

    def reporting_codes_up(self, unit: str, on: date) -> list[str]:
        """A reporting unit's code and its parents' codes, as in force on `on`."""
        ru = self.reporting_unit(unit, on)
        return [u.code for u in self._reporting_chain(ru, on)] if ru is not None else []


# --- the warehouse's copy (ref.admin_unit, ref.reporting_unit, ref.school_unit) --------------


def write_organisation(conn: Connection, org: Organisation) -> None:
    """Replace the organisation's `ref` tables with `org`, inside the caller's transaction (the
    reference loader's, so a reader sees the files of one run)."""
    for table in (schema.ref_admin_unit, schema.ref_reporting_unit, schema.ref_school_unit):
        conn.execute(table.delete())
    if org.admin_units:
        conn.execute(
            schema.ref_admin_unit.insert(),
            [
                {
                    "code": u.code,
                    "valid_from": u.valid_from,
                    "valid_to": u.valid_to,
                    "name": u.name,
                    "kind": u.kind,
                    "level": u.level,
                    "parent_code": u.parent,
                    "successors": "|".join(u.successors) or None,
                    "aliases": "|".join(u.aliases) or None,
                    "source": u.source or None,
                    "verified": u.verified,
                }
                for u in org.admin_units
            ],
        )
    if org.reporting_units:
        conn.execute(
            schema.ref_reporting_unit.insert(),
            [
                {
                    "code": u.code,
                    "valid_from": u.valid_from,
                    "valid_to": u.valid_to,
                    "name": u.name,
                    "kind": u.kind,
                    "admin_unit": u.admin_unit,
                    "parent_code": u.parent,
                    "schedule": u.schedule,
                    "emails": "|".join(u.emails) or None,
                    "verified": u.verified,
                    "letterhead": json.dumps(u.letterhead.as_dict(), ensure_ascii=False),
                }
                for u in org.reporting_units
            ],
        )
    if org.assignments:
        conn.execute(
            schema.ref_school_unit.insert(),
            [
                {
                    "school_code": a.school_code,
                    "valid_from": a.valid_from,
                    "valid_to": a.valid_to,
                    "reporting_unit": a.unit,
                    "basis": a.basis or None,
                    "verified": a.verified,
                }
                for a in org.assignments
            ],
        )


def school_units_on(conn: Connection, day: date) -> dict[str, str]:
    """school code -> the unit its weekly file goes to on `day`, from ref.school_unit (what
    `Organisation.reporting_unit_of_school` answers, for code that works inside a transaction)."""
    t = schema.ref_school_unit
    rows = conn.execute(
        select(t.c.school_code, t.c.reporting_unit).where(
            t.c.valid_from <= day, or_(t.c.valid_to.is_(None), t.c.valid_to >= day)
        )
    )
    return dict(rows.tuples().all())


# --- loading and checking ------------------------------------------------------------------------


class _Problems(list[str]):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def _rows(path: Path, columns: Sequence[str], problems: _Problems) -> list[tuple[str, dict[str, str]]]:
    """(where, row) for every row of a CSV file; `where` is 'file.csv line N'."""
    if not path.is_file():
        problems.add(path.name, "file is missing")
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            problems.add(path.name, f"missing column(s) {', '.join(missing)}")
            return []
        out = []
        for row in reader:
            out.append(
                (f"{path.name} line {reader.line_num}", {k: (v or "").strip() for k, v in row.items() if k})
            )
        return out


def _date(where: str, row: dict[str, str], column: str, problems: _Problems, required: bool) -> date | None:
    value = row[column]
    if not value:
        if required:
            problems.add(where, f"{column} is empty")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.add(where, f"{column} {value!r} is not a date (YYYY-MM-DD)")
        return None


def _verified(where: str, row: dict[str, str], problems: _Problems) -> bool:
    value = row["verified"].lower()
    if value not in ("yes", "no"):
        problems.add(where, f"verified must be yes or no, not {row['verified']!r}")
    return value == "yes"


def _validity(where: str, row: dict[str, str], problems: _Problems) -> tuple[date, date | None] | None:
    start = _date(where, row, "valid_from", problems, required=True)
    end = _date(where, row, "valid_to", problems, required=False)
    if start is None:
        return None
    if end is not None and end < start:
        problems.add(where, f"valid_to {end} is before valid_from {start}")
        return None
    return start, end


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split("|") if v.strip())


def _overlap(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> date | None:
    """The first day two validity ranges share, if any."""
    start = max(a_from, b_from)
    ends = [d for d in (a_to, b_to) if d is not None]
    return start if not ends or start <= min(ends) else None


def _first_uncovered(
    start: date, end: date | None, ranges: Iterable[tuple[date, date | None]]
) -> date | None:
    """The first day of [start, end] that none of `ranges` covers (None: all covered)."""
    day = start
    for r_from, r_to in sorted(ranges):
        if r_from > day:
            break
        if r_to is None:
            return None
        if r_to >= day:
            day = r_to + timedelta(days=1)
    return day if end is None or day <= end else None


def _ranges(
    items: Iterable[Any], key: Callable[[Any], str] = lambda item: item.code
) -> dict[str, list[tuple[date, date | None]]]:
    """Validity ranges of the rows of each code."""
    out: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
    for item in items:
        out[key(item)].append((item.valid_from, item.valid_to))
    return out


def _check_no_overlap(
    items: Sequence[tuple[str, str, date, date | None]], what: str, problems: _Problems
) -> None:
    """items: (where, key, valid_from, valid_to); one key may have several rows, one at a time."""
    by_key: dict[str, list[tuple[str, date, date | None]]] = defaultdict(list)
    for where, key, start, end in items:
        by_key[key].append((where, start, end))
    for key, rows in by_key.items():
        rows.sort(key=lambda r: r[1])
        for i, (w1, s1, e1) in enumerate(rows):
            for w2, s2, e2 in rows[i + 1 :]:
                if (day := _overlap(s1, e1, s2, e2)) is not None:
                    problems.add(
                        w2, f"{what} {key} is already in force on {day} ({w1}): validity ranges overlap"
                    )


def _check_covered(
    where: str,
    what: str,
    code: str,
    *,
    span: tuple[date, date | None],
    ranges: Sequence[tuple[date, date | None]],
    problems: _Problems,
) -> None:
    """`code` must be in force on every day of `span` (ranges: its rows' validity)."""
    if not ranges:
        problems.add(where, f"{what} {code!r} does not exist")
    elif (day := _first_uncovered(span[0], span[1], ranges)) is not None:
        problems.add(where, f"{what} {code!r} is not in force on {day}")


def _check_parents(
    units: Sequence[tuple[str, AdminUnit]] | Sequence[tuple[str, ReportingUnit]], problems: _Problems
) -> None:
    """Every parent is in force on every day of its child's validity."""
    ranges = _ranges(u for _, u in units)
    for where, u in units:
        if u.parent is not None:
            _check_covered(
                where,
                "parent",
                u.parent,
                span=(u.valid_from, u.valid_to),
                ranges=ranges.get(u.parent, []),
                problems=problems,
            )


def _admin_units(directory: Path, problems: _Problems) -> list[tuple[str, AdminUnit]]:
    units = []
    for where, row in _rows(directory / "admin_units.csv", ADMIN_COLUMNS, problems):
        if not row["code"] or not row["name"]:
            problems.add(where, "code and name are required")
            continue
        if row["kind"] not in ADMIN_LEVEL:
            problems.add(where, f"kind {row['kind']!r} is not one of {', '.join(ADMIN_LEVEL)}")
            continue
        validity = _validity(where, row, problems)
        verified = _verified(where, row, problems)
        if validity is None:
            continue
        unit = AdminUnit(
            code=row["code"],
            name=row["name"],
            kind=row["kind"],
            parent=row["parent"] or None,
            valid_from=validity[0],
            valid_to=validity[1],
            successors=_split(row["successors"]),
            aliases=_split(row["aliases"]),
            source=row["source"],
            verified=verified,
        )
        if unit.successors and unit.valid_to is None:
            problems.add(where, "has successors but no valid_to")
        if unit.level > 1 and unit.parent is None:
            problems.add(where, f"a {KIND_LABEL[unit.kind]} needs its parent unit")
        units.append((where, unit))
    return units


def _check_admin_units(units: Sequence[tuple[str, AdminUnit]], problems: _Problems) -> None:
    _check_no_overlap([(w, u.code, u.valid_from, u.valid_to) for w, u in units], "code", problems)
    ranges = _ranges(u for _, u in units)
    levels: dict[str, set[int]] = defaultdict(set)
    for _, u in units:
        levels[u.code].add(u.level)
    _check_parents(units, problems)
    for where, u in units:
        if u.parent is not None and any(level >= u.level for level in levels.get(u.parent, ())):
            problems.add(where, f"parent {u.parent!r} is not a higher level than a {KIND_LABEL[u.kind]}")
        if u.valid_to is not None:
            day_after = u.valid_to + timedelta(days=1)
            for code in u.successors:
                _check_covered(
                    where,
                    "successor",
                    code,
                    span=(day_after, day_after),
                    ranges=ranges.get(code, []),
                    problems=problems,
                )
                if levels.get(code) and levels[code] != {u.level}:
                    problems.add(where, f"successor {code!r} is not at the level of a {KIND_LABEL[u.kind]}")
    # A name or alias must mean one unit of a level on any date.
    keyed = [(w, f"level {u.level} name '{key}'", u) for w, u in units for key in u.keys]
    by_key: dict[str, list[tuple[str, AdminUnit]]] = defaultdict(list)
    for w, key, u in keyed:
        by_key[key].append((w, u))
    for key, rows in by_key.items():
        for i, (w1, u1) in enumerate(rows):
            for w2, u2 in rows[i + 1 :]:
                if (day := _overlap(u1.valid_from, u1.valid_to, u2.valid_from, u2.valid_to)) is not None:
                    problems.add(
                        w2,
                        f"{key} also means {u1.label} ({w1}) on {day}: names and aliases must be unambiguous",
                    )


def _letterheads(directory: Path, problems: _Problems) -> tuple[dict[str, Any], dict[str, Any]]:
    path = directory / "reporting_units.json"
    if not path.is_file():
        problems.add(path.name, "file is missing")
        return {}, {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        problems.add(path.name, f"is not valid JSON ({exc.msg}, line {exc.lineno})")
        return {}, {}
    return data.get("kinds", {}), data.get("units", {})


def _letterhead(where: str, spec: Any, fill: dict[str, str], problems: _Problems) -> Letterhead | None:
    names = [f.name for f in fields(Letterhead)]
    if not isinstance(spec, dict) or any(n not in spec for n in names):
        problems.add(where, f"letterhead needs {', '.join(names)}")
        return None
    values: dict[str, Any] = {}
    try:
        for n in names:
            if n == "recipients":
                if not isinstance(spec[n], list) or not all(isinstance(line, str) for line in spec[n]):
                    problems.add(where, "letterhead recipients must be a list of lines")
                    return None
                values[n] = tuple(line.format_map(fill) for line in spec[n])
            elif not isinstance(spec[n], str):
                problems.add(where, f"letterhead {n} must be text")
                return None
            else:
                values[n] = spec[n].format_map(fill)
    except (KeyError, ValueError) as exc:
        problems.add(
            where,
            f"letterhead has an unknown placeholder {exc} (known: {', '.join('{' + k + '}' for k in fill)})",
        )
        return None
    return Letterhead(**values)


def _reporting_units(
    directory: Path, admin: Sequence[tuple[str, AdminUnit]], problems: _Problems
) -> list[tuple[str, ReportingUnit]]:
    kinds, own = _letterheads(directory, problems)
    admin_by_code: dict[str, list[AdminUnit]] = defaultdict(list)
    for _, u in admin:
        admin_by_code[u.code].append(u)
    units = []
    for where, row in _rows(directory / "reporting_units.csv", REPORTING_COLUMNS, problems):
        if not row["code"] or not row["name"] or not row["admin_unit"]:
            problems.add(where, "code, name and admin_unit are required")
            continue
        if row["kind"] not in REPORTING_KIND_LEVEL:
            problems.add(where, f"kind {row['kind']!r} is not one of {', '.join(REPORTING_KIND_LEVEL)}")
            continue
        schedule = row["schedule"] or DEFAULT_SCHEDULE
        if schedule not in SCHEDULES:
            problems.add(where, f"schedule {schedule!r} is not one of {', '.join(SCHEDULES)}")
        emails = _split(row["emails"])
        for bad in (e for e in emails if not _EMAIL.match(e)):
            problems.add(where, f"{bad!r} is not an email address")
        validity = _validity(where, row, problems)
        verified = _verified(where, row, problems)
        if validity is None:
            continue
        area = next((u for u in admin_by_code.get(row["admin_unit"], ()) if u.in_force(validity[0])), None)
        if area is not None and area.level != REPORTING_KIND_LEVEL[row["kind"]]:
            problems.add(
                where,
                f"a {row['kind']} serves a unit of level {REPORTING_KIND_LEVEL[row['kind']]}, not {area.label}",
            )
        fill = {"name": "", "NAME": "", "kind": "", "KIND": ""}
        if area is not None:
            fill = {
                "name": area.name,
                "NAME": area.name.upper(),
                "kind": KIND_LABEL[area.kind],
                "KIND": KIND_LABEL[area.kind].upper(),
            }
        spec = own.get(row["code"], kinds.get(row["kind"]))
        if spec is None:
            problems.add(
                where, f"reporting_units.json has no letterhead for {row['code']} nor for kind {row['kind']}"
            )
            continue
        letterhead = _letterhead(f"{where} (reporting_units.json)", spec, fill, problems)
        if letterhead is None:
            continue
        units.append(
            (
                where,
                ReportingUnit(
                    code=row["code"],
                    name=row["name"],
                    kind=row["kind"],
                    admin_unit=row["admin_unit"],
                    parent=row["parent"] or None,
                    valid_from=validity[0],
                    valid_to=validity[1],
                    schedule=schedule,
                    emails=emails,
                    verified=verified,
                    letterhead=letterhead,
                ),
            )
        )
    for code in own:
        if code not in {u.code for _, u in units} and not code.startswith("_"):
            problems.add(
                "reporting_units.json", f"letterhead for {code!r}, which reporting_units.csv does not have"
            )
    return units


def _check_reporting_units(
    units: Sequence[tuple[str, ReportingUnit]], admin: Sequence[tuple[str, AdminUnit]], problems: _Problems
) -> None:
    _check_no_overlap([(w, u.code, u.valid_from, u.valid_to) for w, u in units], "reporting unit", problems)
    admin_ranges = _ranges(a for _, a in admin)
    for where, u in units:
        if u.code in admin_ranges:
            problems.add(where, f"reporting unit code {u.code!r} is also an administrative unit's code")
        _check_covered(
            where,
            "administrative unit",
            u.admin_unit,
            span=(u.valid_from, u.valid_to),
            ranges=admin_ranges.get(u.admin_unit, []),
            problems=problems,
        )
    _check_parents(units, problems)
    # A parent chain must end: follow it on each unit's first day.
    for where, u in units:
        seen = [u.code]
        parent = u.parent
        while parent is not None:
            if parent in seen:
                problems.add(where, f"parents go round in a circle: {' -> '.join([*seen, parent])}")
                break
            seen.append(parent)
            nxt = next((p for _, p in units if p.code == parent and p.in_force(u.valid_from)), None)
            parent = nxt.parent if nxt else None


def _assignments(directory: Path, ref: Reference, problems: _Problems) -> list[tuple[str, SchoolAssignment]]:
    out = []
    for where, row in _rows(directory / "school_units.csv", ASSIGNMENT_COLUMNS, problems):
        code = row["school_code"].upper()
        if ref.school(code) is None:
            problems.add(where, f"school {row['school_code']!r} is not in schools.csv")
            continue
        validity = _validity(where, row, problems)
        verified = _verified(where, row, problems)
        if validity is None or not row["reporting_unit"]:
            if validity is not None:
                problems.add(where, "reporting_unit is empty")
            continue
        out.append(
            (
                where,
                SchoolAssignment(
                    code, row["reporting_unit"], validity[0], validity[1], row["basis"], verified
                ),
            )
        )
    return out


def _school_span(school: School, start: date, end: date) -> tuple[date, date] | None:
    first = max(start, school.valid_from)
    last = min(end, school.valid_to) if school.valid_to else end
    return (first, last) if first <= last else None


def _check_assignments(
    assignments: Sequence[tuple[str, SchoolAssignment]],
    units: Sequence[tuple[str, ReportingUnit]],
    ref: Reference,
    problems: _Problems,
) -> None:
    _check_no_overlap(
        [(w, a.school_code, a.valid_from, a.valid_to) for w, a in assignments], "school", problems
    )
    unit_ranges = _ranges(u for _, u in units)
    for where, a in assignments:
        _check_covered(
            where,
            "reporting unit",
            a.unit,
            span=(a.valid_from, a.valid_to),
            ranges=unit_ranges.get(a.unit, []),
            problems=problems,
        )
        school = ref.school(a.school_code)
        for _, u in units:
            if (
                school is not None
                and u.code == a.unit
                and u.kind == "ubnd_xa"
                and school.kind not in COMMUNE_SCHOOL_KINDS
                and _overlap(u.valid_from, u.valid_to, a.valid_from, a.valid_to)
            ):
                problems.add(
                    where,
                    f"{a.school_code} is a {school.kind} school: a commune ({u.code}) does not manage it (Decree 142/2025)",
                )
    # Every school open during a school year reports to exactly one unit on each of its days.
    by_school = _ranges((a for _, a in assignments), key=lambda a: a.school_code)
    for year in ref.years:
        for school in ref.schools.values():
            span = _school_span(school, year.start, year.end)
            if (
                span is not None
                and (day := _first_uncovered(span[0], span[1], by_school.get(school.code, []))) is not None
            ):
                problems.add(
                    "school_units.csv",
                    f"school {school.code} has no reporting unit on {day} (school year {year.name})",
                )


def _check_against_reference(org: Organisation, ref: Reference, problems: _Problems) -> None:
    """What needs the whole organisation: schools sit in their unit's commune, and communes.csv
    (the pipeline's district view) says what admin_units.csv says."""
    try:
        _check_schools_and_communes(org, ref, problems)
    except AmbiguousName as exc:
        problems.add("admin_units.csv", str(exc))


def _check_schools_and_communes(org: Organisation, ref: Reference, problems: _Problems) -> None:
    for a in org.assignments:
        school = ref.school(a.school_code)
        unit = org.reporting_unit(a.unit, a.valid_from)
        if school is None or unit is None or unit.kind != "ubnd_xa" or not school.commune:
            continue
        commune = org.unit_in_force(school.commune, a.valid_from)
        if commune is None or commune.code != unit.admin_unit:
            where = commune.label if commune else "no commune in force"
            problems.add(
                "school_units.csv",
                f"{a.school_code} is in {school.commune} ({where} on {a.valid_from}), not in {unit.code}'s commune",
            )
    for c in ref.communes:
        where = f"communes.csv {c.name}"
        admin = org.unit_in_force(c.name, c.valid_from)
        if admin is None:
            problems.add(where, "admin_units.csv has no commune of that name")
            continue
        if admin.kind != c.kind:
            problems.add(where, f"kind {c.kind} but admin_units.csv says {admin.kind}")
        missing = [a for a in c.aliases if commune_key(a) not in admin.keys]
        if missing:
            problems.add(where, f"aliases {', '.join(missing)} are missing in admin_units.csv")
        if c.valid_to is not None and c.successor:
            day_after = c.valid_to + timedelta(days=1)
            if org.unit_in_force(c.name, day_after) != org.unit_in_force(c.successor, day_after):
                problems.add(where, f"successor {c.successor} on {day_after} disagrees with admin_units.csv")


def validate_organisation(directory: Path = REFERENCE_DIR) -> list[str]:
    """Every problem of the organisation's reference files; empty when they are consistent."""
    try:
        load_organisation(directory)
    except OrganisationError as exc:
        return list(exc.problems)
    return []


def load_organisation(directory: Path = REFERENCE_DIR) -> Organisation:
    problems = _Problems()
    try:
        ref = load_reference(directory)
    except (OSError, ValueError, KeyError) as exc:
        raise OrganisationError(
            [f"the district reference (schools, communes, calendar) does not load: {exc}"]
        ) from exc
    admin = _admin_units(directory, problems)
    _check_admin_units(admin, problems)
    units = _reporting_units(directory, admin, problems)
    _check_reporting_units(units, admin, problems)
    assignments = _assignments(directory, ref, problems)
    _check_assignments(assignments, units, ref, problems)
    if problems:
        raise OrganisationError(problems)
    org = Organisation((u for _, u in admin), (u for _, u in units), (a for _, a in assignments))
    _check_against_reference(org, ref, problems)
    if problems:
        raise OrganisationError(problems)
    return org
