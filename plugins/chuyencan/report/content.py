"""What the fortnightly report says, read from the warehouse once for all of its documents.

The Excel report, its Markdown/HTML twin and the district email all show this one object,
so they cannot disagree. Everything here is an aggregate: the only query that touches the
`restricted` schema (open dropouts per week, for the chart) returns counts, never a row
about a student.

Table columns and summary lines are defined once, here; their Vietnamese wording is data
(include/templates/report/wording.vi.json, read by `chuyencan.report.wording`).

A report is one reporting unit's (`chuyencan.report.unit`): its rows of the `report` tables
(`reporting_unit`), its letterhead and the words for its area from the organisation's data.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import Engine, and_, func, select

from chuyencan.core import schema as wh  # the tables
from chuyencan.core.contract import LEVELS
from chuyencan.core.reference import Reference
from chuyencan.core.schema import fortnight_breakdown, fortnight_summary
from chuyencan.core.settings import DISTRICT_KEY, INCLUDE_DIR, TIMEZONE
from chuyencan.core.text import fold
from chuyencan.report.calendar_periods import FORTNIGHT, Fortnight, report_year
from chuyencan.report.dimensions import (
    BREAKDOWN_CATEGORIES,
    BREAKDOWN_TOTALS,
    NOT_IN_WORKBOOK,
    UNKNOWN_COMMUNE,
)
from chuyencan.report.offices import RoundArrival, load_round_arrivals
from chuyencan.report.unit import ReportUnit, report_unit
from chuyencan.report.verification_findings import overdue_communes
from chuyencan.report.wording import say, words

log = logging.getLogger(__name__)

REPORT_TEMPLATE_DIR = INCLUDE_DIR / "templates" / "report"

LEVEL_LABELS: dict[str, str] = words("levels")
STATUS_LABELS: dict[str, str] = words("statuses")
DEFAULT_MAX_SESSIONS = 45
# "When they left", the notice's "trong hè, kỳ 1, kỳ 2, sau Tết" (calendar_periods.PERIODS).
PERIOD_LABELS: dict[str, str] = words("periods")
# Public exports (issue 6) hide counts this small: a handful of children is identifiable.
SMALL_COUNT_LIMIT = 5
SUPPRESSED_TEXT = f"<{SMALL_COUNT_LIMIT}"  # a count of 1 to 4 children (primary suppression)
SECONDARY_TEXT = "x"  # a larger count hidden so that the small ones cannot be worked out
PRIMARY_TOP_GRADE = 5  # grades 1-5: the 45-session rule (Circular 22/2021 Art. 12) does not apply
PRIMARY_GRADES = tuple(str(g) for g in range(1, PRIMARY_TOP_GRADE + 1))


@dataclass(frozen=True)
class Figures:
    """One row of report.fortnight_summary without its key (docs/contracts.md#5-warehouse, same names)."""

    schools_expected: int
    submissions_on_time: int
    submissions_late: int
    submissions_missing: int
    submissions_rejected: int
    enrolled: int | None
    attendance_rate: float | None
    dropouts_open: int
    dropouts_new: int
    dropouts_summer: int
    dropouts_hk1: int
    dropouts_hk2: int
    dropouts_after_tet: int
    left_locality: int
    in_locality: int
    unverified: int
    eligible_to_continue: int
    not_eligible: int
    returned: int
    at_risk: int
    # report.fortnight_breakdown of the same scope: (dimension, category) -> students.
    breakdown: Mapping[tuple[str, str], int] = field(default_factory=dict, compare=False)

    @classmethod
    def from_row(
        cls, row: Mapping[str, Any], breakdown: Mapping[tuple[str, str], int] | None = None
    ) -> Figures:
        return cls(**{name: row[name] for name in SUMMARY_FIELDS}, breakdown=dict(breakdown or {}))

    def count(self, dimension: str, category: str) -> int:
        return int(self.breakdown.get((dimension, category), 0))

    @property
    def primary_dropouts(self) -> int:
        """Open dropouts of primary grades: the 45-session rule does not apply to them."""
        return sum(self.count("grade", g) for g in PRIMARY_GRADES)

    @property
    def eligible_secondary(self) -> int:
        """Lower and upper secondary dropouts who may still move up (primary counts apart)."""
        return self.eligible_to_continue - self.primary_dropouts

    @property
    def submissions_due(self) -> int:
        """School-weeks the fortnight asked for (every status counts one)."""
        return (
            self.submissions_on_time
            + self.submissions_late
            + self.submissions_missing
            + self.submissions_rejected
        )

    @property
    def submissions_received(self) -> int:
        return self.submissions_on_time + self.submissions_late

    def share(self, part: int | None, whole: int | None) -> float | None:
        return part / whole if part is not None and whole else None

    @property
    def completeness_rate(self) -> float | None:
        return self.share(self.submissions_received, self.submissions_due)

    @property
    def on_time_rate(self) -> float | None:
        return self.share(self.submissions_on_time, self.submissions_due)


SUMMARY_FIELDS = tuple(f.name for f in fields(Figures) if f.name != "breakdown")


@dataclass(frozen=True)
class ScopeRow:
    scope: str  # district or unit (the report's own row) / level / commune / school
    key: str  # scope_key as stored
    label: str  # Vietnamese name
    figures: Figures
    commune: str | None = None  # schools only: the commune the school is in


@dataclass(frozen=True)
class WeekStatus:
    week_ending: date
    status: str | None  # None: the school was not asked for this week
    received_at: datetime | None
    error_count: int

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status or "", "—")


def status_text(status: str | None, received_at: datetime | None, error_count: int) -> str:
    """'Nộp muộn (05/04 08:12)', 'Bị trả lại (3 lỗi)', '—' when the week was not asked for."""
    if status is None:
        return "—"
    label = STATUS_LABELS.get(status, status)
    if status == "late" and received_at is not None:
        return say("status_late", label=label, when=f"{received_at.astimezone(TIMEZONE):%d/%m %H:%M}")
    if status == "rejected":
        return say("status_rejected", label=label, errors=error_count)
    return label


@dataclass(frozen=True)
class SchoolCompleteness:
    school_code: str
    school_name: str
    commune: str | None
    weeks: tuple[WeekStatus, ...]

    def count(self, status: str) -> int:
        return sum(w.status == status for w in self.weeks)

    @property
    def has_problem(self) -> bool:
        return any(w.status in ("late", "missing", "rejected") for w in self.weeks)


@dataclass(frozen=True)
class TrendWeek:
    week_ending: date
    attendance_rate: float | None  # district, from report.attendance_weekly
    dropouts_open: int | None  # district, as of that Friday


@dataclass(frozen=True)
class ReportContent:
    report_date: date
    weeks: tuple[date, ...]  # the Fridays of the fortnight, oldest first
    period_start: date  # first day the fortnight covers (the Saturday after the last report)
    school_year: str | None
    max_sessions: int
    unit: ReportUnit  # whose report: letterhead, area, recipients (the organisation's data)
    district: ScopeRow  # the unit's own row: its total (Bát Xát's district row, scope 'district')
    levels: tuple[ScopeRow, ...]
    communes: tuple[ScopeRow, ...]
    schools: tuple[ScopeRow, ...]
    completeness: tuple[SchoolCompleteness, ...]
    trend: tuple[TrendWeek, ...]
    # The previous report's figures of the unit, for the change since then (None: no report then).
    previous: Figures | None = None
    # The commune police's extracts by round, as of the report date (chuyencan.report.offices).
    police_rounds: tuple[RoundArrival, ...] = ()
    # The roll-up (a unit with child units: the department): each child's own row, by area
    # name (the rest of the total is `rest_row`).
    units: tuple[ScopeRow, ...] = ()
    # Communes named for two fortnights without returning their verification list (names).
    overdue_communes: tuple[str, ...] = ()

    @property
    def previous_date(self) -> date:
        return self.report_date - FORTNIGHT

    @property
    def total_label(self) -> str:
        """'Toàn huyện', 'Toàn xã', 'Toàn tỉnh': the unit's own row."""
        return say("district", **self.area_words)

    @property
    def area_words(self) -> dict[str, str]:
        """Placeholders of the catalogue's texts about the unit's area: {area} 'huyện',
        {communes} 'xã, thị trấn', {Communes} 'Xã, thị trấn'."""
        communes = ", ".join(self.unit.commune_kinds)
        return {
            "area": self.unit.area_kind,
            "communes": communes,
            "Communes": communes[:1].upper() + communes[1:],
        }

    def say(self, key: str, **values: object) -> str:
        """A text of the report's catalogue, with the unit's area words filled in."""
        return say(key, **self.area_words, **values)

    @property
    def completeness_problems(self) -> tuple[SchoolCompleteness, ...]:
        return tuple(s for s in self.completeness if s.has_problem)


# --- the tables' columns -----------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    field: str  # a Figures attribute
    header: str
    group: str | None = None  # a header spanning consecutive metrics of the same group
    kind: Literal["count", "rate"] = "count"


def table_metrics(max_sessions: int, *, with_schools: bool) -> tuple[Metric, ...]:
    """Columns of the tables by level, commune and school (in this order, left to right)."""
    group = words("groups")

    def metric(name: str, group_key: str | None = None, kind: Literal["count", "rate"] = "count") -> Metric:
        header = say(f"metrics.{name}", max_sessions=max_sessions)
        return Metric(name, header, group[group_key] if group_key else None, kind)

    def period(name: str, key: str) -> Metric:
        return Metric(name, PERIOD_LABELS[key], group["when"])

    metrics = (
        metric("enrolled"),
        metric("attendance_rate", kind="rate"),
        metric("dropouts_open", "dropped"),
        metric("dropouts_new", "dropped"),
        period("dropouts_summer", "summer"),
        period("dropouts_hk1", "hk1"),
        period("dropouts_hk2", "hk2"),
        period("dropouts_after_tet", "after_tet"),
        metric("left_locality", "police"),
        metric("in_locality", "police"),
        metric("unverified", "police"),
        metric("eligible_to_continue", "eligible"),
        metric("not_eligible", "eligible"),
        metric("returned"),
        metric("at_risk"),
    )
    return ((metric("schools_expected"),) if with_schools else ()) + metrics


@dataclass(frozen=True)
class SummaryLine:
    """A line of the summary sheet: a numbered item, a sub-item, or a section heading."""

    number: str  # "I", "1", "" for sub-items
    text: str
    field: str | None = None  # a Figures attribute, or a property such as completeness_rate
    kind: Literal["count", "rate", "heading"] = "count"
    share_of: str | None = None  # show the value as a share of this field too
    indent: int = 0


def summary_lines(max_sessions: int) -> tuple[SummaryLine, ...]:
    """The summary sheet, in the notice's order: submissions, attendance, the open dropouts
    (when, why, entry grades, police verdict, eligibility, workplace), those who left the
    locality (when, where to), returns (and their eligibility) and students at risk. Fields
    "dimension:category" are counts of report.fortnight_breakdown."""

    def say_(key: str) -> str:
        return say(f"summary.{key}", max_sessions=max_sessions)

    def item(number: str, key: str, field: str | None = None, **kw: Any) -> SummaryLine:
        return SummaryLine(number, say_(key), field or key, **kw)

    def sub(key: str, field: str | None = None, of: str = "dropouts_open") -> SummaryLine:
        return SummaryLine("", say_(key), field or key, share_of=of, indent=1)

    def heading(number: str, key: str) -> SummaryLine:
        return SummaryLine(number, say_(key), kind="heading")

    def split(number: str, dimension: str, of: str) -> tuple[SummaryLine, ...]:
        spec = words(f"breakdowns.{dimension}")
        labels = spec.get("categories", {})
        lines = [SummaryLine(number, spec["title"].split(". ", 1)[-1], kind="heading")]
        for category in BREAKDOWN_CATEGORIES[dimension]:
            label = labels.get(category) or spec["category"].format(grade=category)
            lines.append(
                SummaryLine(
                    "",
                    label.format(max_sessions=max_sessions),
                    f"{dimension}:{category}",
                    share_of=of,
                    indent=1,
                )
            )
        return tuple(lines)

    grade = words("breakdowns.grade")["category"]
    left = words("breakdowns.left_period")["title"].split(". ", 1)[-1].split(" chia theo")[0]
    return (
        heading("I", "submissions"),
        item("1", "schools_expected"),
        item("2", "submissions_due"),
        sub("submissions_on_time", of="submissions_due"),
        sub("submissions_late", of="submissions_due"),
        sub("submissions_missing", of="submissions_due"),
        sub("submissions_rejected", of="submissions_due"),
        item("3", "completeness_rate", kind="rate"),
        heading("II", "attendance"),
        item("4", "enrolled"),
        item("5", "attendance_rate", kind="rate"),
        heading("III", "dropouts"),
        item("6", "dropouts_open"),
        sub("dropouts_new"),
        SummaryLine("", grade.format(grade=6), "grade:6", share_of="dropouts_open", indent=1),
        SummaryLine("", grade.format(grade=10), "grade:10", share_of="dropouts_open", indent=1),
        heading("7", "by_period"),
        SummaryLine("", PERIOD_LABELS["summer"], "dropouts_summer", share_of="dropouts_open", indent=1),
        SummaryLine("", PERIOD_LABELS["hk1"], "dropouts_hk1", share_of="dropouts_open", indent=1),
        SummaryLine("", PERIOD_LABELS["hk2"], "dropouts_hk2", share_of="dropouts_open", indent=1),
        SummaryLine("", PERIOD_LABELS["after_tet"], "dropouts_after_tet", share_of="dropouts_open", indent=1),
        *split("8", "cause", "dropouts_open"),
        heading("9", "by_police"),
        sub("left_locality"),
        sub("in_locality"),
        sub("unverified"),
        heading("10", "by_eligibility"),
        sub("eligible_secondary"),
        sub("not_eligible"),
        sub("primary_not_applicable", "primary_dropouts"),
        *split("11", "workplace_kind", "dropouts_open"),
        SummaryLine("IV", left.upper(), kind="heading"),
        item("12", "left_total", "left_locality"),
        *split("13", "left_period", "left_locality"),
        *split("14", "destination", "left_locality"),
        heading("V", "returns"),
        item("15", "returned"),
        *(line for line in split("", "returned_eligibility", "returned")[1:]),
        item("16", "at_risk"),
    )


def figure(figures: Figures, name: str) -> int | float | None:
    """A Figures column or derived property by name (the summary lines name them), or a
    breakdown count as "dimension:category"."""
    if ":" in name:
        dimension, category = name.split(":", 1)
        return figures.count(dimension, category)
    value: int | float | None = getattr(figures, name)
    return value


def change(content: ReportContent, line: SummaryLine) -> tuple[int | float | None, int | float | None]:
    """(the previous report's district figure, the change since) for a summary line."""
    if content.previous is None or line.field is None or line.kind == "heading":
        return None, None
    before, now = figure(content.previous, line.field), figure(content.district.figures, line.field)
    if before is None or now is None:
        return before, None
    return before, now - before


def share(figures: Figures, line: SummaryLine) -> float | None:
    if line.share_of is None or line.field is None:
        return None
    part, whole = figure(figures, line.field), figure(figures, line.share_of)
    return part / whole if part is not None and whole else None


# Counts of schools and submissions are not about children; everything else is.
NOT_CHILDREN = frozenset(
    {"schools_expected", "submissions_due", "submissions_on_time", "submissions_late"}
    | {"submissions_missing", "submissions_rejected"}
)


def hidden(field: str, value: int | float | None, suppress: bool) -> bool:
    """True when a count must be hidden in a public export: 1 to 4 children."""
    return suppress and field not in NOT_CHILDREN and isinstance(value, int) and 0 < value < SMALL_COUNT_LIMIT


# --- reading the warehouse ---------------------------------------------------------------------


class NoSummaryError(LookupError):
    """report.fortnight_summary has no row of the unit itself for the report date: publish it
    first."""


def load_content(
    engine: Engine,
    report_date: date,
    ref: Reference,
    *,
    unit: str | ReportUnit = DISTRICT_KEY,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
) -> ReportContent:
    """What the report of `unit` (Bát Xát's district by default; a code is looked up in the
    shipped reference files) says on `report_date`: its own rows of the `report` tables, its
    schools' submissions and attendance, its letterhead."""
    if isinstance(unit, str):
        from chuyencan.core.organisation import load_organisation

        unit = report_unit(load_organisation(), unit, report_date)
    fortnight = Fortnight(report_date)
    weeks = fortnight.weeks
    year = report_year(ref, report_date)
    year_start = year.start
    fs = fortnight_summary
    previous_date = report_date - FORTNIGHT
    own = fs.c.reporting_unit == unit.code
    top = and_(own, fs.c.scope == unit.top_scope, fs.c.scope_key == unit.code)
    with engine.connect() as conn:
        rows = conn.execute(select(fs).where(fs.c.report_date == report_date, own)).mappings().all()
        counts = _breakdowns(conn, report_date, unit.code)
        before = conn.execute(select(fs).where(fs.c.report_date == previous_date, top)).mappings().first()
        before_counts = _breakdowns(conn, previous_date, unit.code).get(
            (unit.top_scope, unit.code), Counter()
        )
        # The schools the unit's figures cover (a department's include its communes'), whichever
        # unit each school-week was filed under.
        # Selected in SQL by school (a province's report date loads ~100 units' content).
        statuses = list(
            conn.execute(
                select(wh.report_submission_status).where(
                    wh.report_submission_status.c.week_ending.in_(weeks),
                    wh.report_submission_status.c.school_code.in_(sorted(unit.schools)),
                )
            )
        )
        attendance = _weekly_attendance(conn, year_start, report_date, unit.schools)
        dropouts_by_school_week = _weekly_open_dropouts(conn, year_start, report_date, unit.schools)
        # Communes this report names for two fortnights without a verification return: its own
        # and those of the units rolled up into it.
        overdue = tuple(overdue_communes(conn, report_date, {unit.code, *(c.code for c in unit.children)}))
        police_rounds = load_round_arrivals(conn, report_date, unit.code)
        published = dict(
            conn.execute(
                select(fs.c.report_date, fs.c.dropouts_open).where(
                    top, fs.c.report_date.between(year_start, report_date)
                )
            ).all()
        )
        children = _children(conn, report_date, unit)
    by_scope: dict[str, list[Mapping[Any, Any]]] = {}  # RowMappings, keyed by column name
    for row in rows:
        by_scope.setdefault(row["scope"], []).append(
            {**row, "breakdown": counts.get((row["scope"], row["scope_key"]), Counter())}
        )
    own_rows = [r for r in by_scope.get(unit.top_scope, []) if r["scope_key"] == unit.code]
    if not own_rows:
        raise NoSummaryError(
            f"report.fortnight_summary has no {unit.top_scope} row of {unit.code} for {report_date}"
        )
    content = ReportContent(
        report_date=report_date,
        weeks=weeks,
        school_year=year.name,
        period_start=fortnight.first_day,
        max_sessions=max_sessions,
        unit=unit,
        district=ScopeRow(unit.top_scope, unit.code, "", _figures(own_rows[0])),
        levels=_levels(by_scope.get("level", [])),
        communes=_communes(by_scope.get("commune", [])),
        schools=_schools(by_scope.get("school", []), ref),
        completeness=_completeness(statuses, weeks, ref, report_date, unit),
        trend=_trend(
            ref,
            year=year.name,
            report_date=report_date,
            attendance=attendance,
            dropouts=dropouts_by_school_week,
            published=published,
        ),
        previous=Figures.from_row(dict(before), before_counts) if before is not None else None,
        police_rounds=police_rounds,
        units=children,
        overdue_communes=overdue,
    )
    # The own row's label is the unit's area ("Toàn xã"): known once the content is.
    return replace(content, district=replace(content.district, label=content.total_label))


def _breakdowns(conn: Any, report_date: date, unit: str) -> dict[tuple[str, str], Counter[tuple[str, str]]]:
    """(scope, scope_key) -> (dimension, category) -> students, of one unit's report."""
    fb = fortnight_breakdown
    out: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    for r in conn.execute(
        select(fb.c.scope, fb.c.scope_key, fb.c.dimension, fb.c.category, fb.c.students).where(
            fb.c.report_date == report_date, fb.c.reporting_unit == unit
        )
    ):
        out.setdefault((r.scope, r.scope_key), Counter())[(r.dimension, r.category)] = int(r.students)
    return out


def _children(conn: Any, report_date: date, unit: ReportUnit) -> tuple[ScopeRow, ...]:
    """The roll-up: each child unit's own row, as its own report published it, by area name."""
    if not unit.children:
        return ()
    fs = fortnight_summary
    found = {
        (r["reporting_unit"], r["scope"], r["scope_key"]): r
        for r in conn.execute(
            select(fs).where(
                fs.c.report_date == report_date,
                fs.c.reporting_unit.in_([c.code for c in unit.children]),
            )
        ).mappings()
    }
    out = []
    for child in unit.children:
        row = found.get((child.code, child.top_scope, child.code))
        if row is None:
            raise NoSummaryError(f"report.fortnight_summary has no row of {child.code} for {report_date}")
        out.append(ScopeRow(child.top_scope, child.code, child.area, Figures.from_row(row)))
    return tuple(out)


def rest_row(content: ReportContent) -> ScopeRow | None:
    """The roll-up's last line: what the unit's total counts beyond its child units' reports,
    the total less their rows, column by column: the schools it manages itself (the department's
    THPT schools and centres) and the children whose home is in none of its communes. None for a
    unit without children. The attendance rate is not a difference and is left out."""
    if not content.units:
        return None
    total = content.district.figures
    rest: dict[str, Any] = {}
    for name in SUMMARY_FIELDS:
        values = [getattr(r.figures, name) for r in content.units]
        whole = getattr(total, name)
        known = name != "attendance_rate" and whole is not None and None not in values
        rest[name] = whole - sum(values) if known else None
    negative = sorted(k for k, v in rest.items() if v is not None and v < 0)
    if negative:
        # The child units' reports count more than the unit's own: the reports disagree.
        log.warning(
            "report %s of %s: its child units count more than its total in %s",
            content.report_date,
            content.unit.code,
            ", ".join(negative),
        )
    label = content.say("rollup.rest", office=content.unit.letterhead.office_name)
    return ScopeRow("rest", content.unit.code, label, Figures.from_row(rest))


def _figures(row: Mapping[str, Any]) -> Figures:
    return Figures.from_row(row, row["breakdown"])


def _levels(rows: Sequence[Mapping[str, Any]]) -> tuple[ScopeRow, ...]:
    order = {level: i for i, (level, _, _) in enumerate(LEVELS)}
    rows = sorted(rows, key=lambda r: (order.get(r["scope_key"], len(order)), r["scope_key"]))
    return tuple(
        ScopeRow("level", r["scope_key"], LEVEL_LABELS.get(r["scope_key"], r["scope_key"]), _figures(r))
        for r in rows
    )


def _communes(rows: Sequence[Mapping[str, Any]]) -> tuple[ScopeRow, ...]:
    # Alphabetical, "Chưa xác định xã" last: it is not a commune but what has none.
    rows = sorted(
        rows, key=lambda r: (r["scope_key"] == UNKNOWN_COMMUNE, fold(r["scope_key"]), r["scope_key"])
    )
    return tuple(ScopeRow("commune", r["scope_key"], r["scope_key"], _figures(r)) for r in rows)


def _schools(rows: Sequence[Mapping[str, Any]], ref: Reference) -> tuple[ScopeRow, ...]:
    # The reference file's order (grouped by kind of school), unknown codes last.
    order = {code: i for i, code in enumerate(ref.schools)}
    out = []
    for r in sorted(rows, key=lambda r: (order.get(r["scope_key"], len(order)), r["scope_key"])):
        school = ref.school(r["scope_key"])
        out.append(
            ScopeRow(
                "school",
                r["scope_key"],
                school.name if school else r["scope_key"],
                _figures(r),
                commune=school.commune if school else None,
            )
        )
    return tuple(out)


def _completeness(
    statuses: Sequence[Any], weeks: tuple[date, ...], ref: Reference, report_date: date, unit: ReportUnit
) -> tuple[SchoolCompleteness, ...]:
    by_school: dict[str, dict[date, Any]] = {}
    for row in statuses:
        by_school.setdefault(row.school_code, {})[row.week_ending] = row
    codes = set(by_school) | {s.code for s in ref.active_schools(report_date) if s.code in unit.schools}
    order = {code: i for i, code in enumerate(ref.schools)}
    out = []
    for code in sorted(codes, key=lambda c: (order.get(c, len(order)), c)):
        school = ref.school(code)
        rows = by_school.get(code, {})
        out.append(
            SchoolCompleteness(
                school_code=code,
                school_name=school.name if school else code,
                commune=school.commune if school else None,
                weeks=tuple(
                    WeekStatus(
                        week,
                        rows[week].status if week in rows else None,
                        _aware(rows[week].received_at) if week in rows else None,
                        rows[week].error_count if week in rows else 0,
                    )
                    for week in weeks
                ),
            )
        )
    return tuple(out)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; the warehouse stores UTC (as submissions.load does;
    # importing that module would load the validator for nothing).
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _weekly_attendance(
    conn: Any, start: date, end: date, schools: frozenset[str]
) -> dict[date, float | None]:
    aw = wh.report_attendance_weekly
    absent = func.sum(aw.c.absent_excused + aw.c.absent_unexcused)
    rows = conn.execute(
        select(aw.c.week_ending, func.sum(aw.c.student_days_scheduled), absent)
        .where(aw.c.week_ending.between(start, end), aw.c.school_code.in_(sorted(schools)))
        .group_by(aw.c.week_ending)
    ).all()
    # Recomputed from the counts (a mean of the schools' rates would weigh a class of 5 like 500).
    return {week: (1.0 - int(a) / int(s)) if s else None for week, s, a in rows}


def _weekly_open_dropouts(
    conn: Any, start: date, end: date, schools: frozenset[str]
) -> dict[str, dict[date, int]]:
    """Students with status bo_hoc on each of `schools`' file in effect for each week: counts only."""
    cs, se = wh.ops_current_submission, wh.restricted_student_entry
    rows = conn.execute(
        select(cs.c.school_code, cs.c.week_ending, func.count(se.c.student_key))
        .select_from(
            cs.outerjoin(se, and_(se.c.submission_id == cs.c.submission_id, se.c.status == "bo_hoc"))
        )
        .where(cs.c.week_ending.between(start, end), cs.c.school_code.in_(sorted(schools)))
        .group_by(cs.c.school_code, cs.c.week_ending)
    ).all()
    out: dict[str, dict[date, int]] = {}
    for school, week, count in rows:
        out.setdefault(school, {})[week] = int(count)
    return out


def _trend(
    ref: Reference,
    *,
    year: str | None,
    report_date: date,
    attendance: Mapping[date, float | None],
    dropouts: Mapping[str, Mapping[date, int]],
    published: Mapping[date, int],
) -> tuple[TrendWeek, ...]:
    """One point per school week of the year up to the report date.

    Open dropouts on a Friday = each school's latest list up to that Friday (the summary's
    own definition), so the chart covers the whole year even before the first fortnightly
    report; on report dates the published figure is used, so the chart ends on the number
    the summary sheet shows.
    """
    fridays = sorted(w for w, (y, _) in ref.school_weeks.items() if y == year and w <= report_date)
    fridays = sorted(set(fridays) | set(attendance) | {report_date})
    ordered = {school: sorted(weeks.items()) for school, weeks in dropouts.items()}
    out = []
    for friday in fridays:
        counts = [_latest_until(weeks, friday) for weeks in ordered.values()]
        known = [c for c in counts if c is not None]
        from_lists = sum(known) if known else None
        value = published.get(friday, from_lists)
        if friday in published and from_lists is not None and from_lists != published[friday]:
            log.warning(
                "open dropouts on %s: the summary says %d, the schools' lists %d",
                friday,
                published[friday],
                from_lists,
            )
        out.append(TrendWeek(friday, attendance.get(friday), value))
    return tuple(out)


def _latest_until(weeks: Sequence[tuple[date, int]], friday: date) -> int | None:
    latest = None
    for week, count in weeks:
        if week > friday:
            break
        latest = count
    return latest


# --- the date line ---------------------------------------------------------------------------


def official_date(place: str, day: date) -> str:
    """'Bát Xát, ngày 04 tháng 4 năm 2025' (Decree 30/2020: a zero before days 1-9 and months 1-2)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return say("official_date", place=place, day=f"{day.day:02d}", month=month, year=day.year)


@dataclass(frozen=True)
class ScopeTable:
    """A table by level, commune or school: the same in the workbook and its twin."""

    title: str  # "Biểu 1. …", in sentence case; the workbook writes it in capitals
    keys: tuple[str, ...]  # headers of the label columns after STT
    rows: tuple[tuple[tuple[str, ...], Figures], ...]
    metrics: tuple[Metric, ...]
    note: str | None = None


def scope_tables(content: ReportContent) -> tuple[ScopeTable, ...]:
    """By level, by commune, by school (in this order, the workbook's sheets 2-4)."""
    with_schools = table_metrics(content.max_sessions, with_schools=True)

    def w(key: str) -> str:
        return content.say(f"scope_tables.{key}")

    return (
        ScopeTable(
            w("levels"),
            (w("level_key"),),
            tuple(((r.label,), r.figures) for r in content.levels),
            with_schools,
            note=w("levels_note"),
        ),
        ScopeTable(
            w("communes"),
            (w("commune_key"),),
            tuple(((r.label,), r.figures) for r in content.communes),
            with_schools,
            note=w("communes_note"),
        ),
        ScopeTable(
            w("schools"),
            (w("school_code"), w("school_name"), w("commune_key")),
            tuple(((r.key, r.label, r.commune or ""), r.figures) for r in content.schools),
            table_metrics(content.max_sessions, with_schools=False),
        ),
    )


def units_table(content: ReportContent) -> ScopeTable | None:
    """The roll-up of a unit with child units (the department): one row per child unit, its
    own published figures, then what its total counts beyond them; together they add up to its
    total row. None for a unit without children (Bát Xát's district, a commune)."""
    if not content.units:
        return None
    rest = rest_row(content)
    return ScopeTable(
        content.say("rollup.title"),
        (content.say("rollup.unit_key"),),
        tuple(((r.label,), r.figures) for r in (*content.units, *((rest,) if rest else ()))),
        table_metrics(content.max_sessions, with_schools=True),
        note=content.say("rollup.note"),
    )


@dataclass(frozen=True)
class BreakdownTable:
    """One dimension of report.fortnight_breakdown by district, level and commune: the same in
    the workbook, its twin and (suppressed) the public version."""

    dimension: str
    title: str
    categories: tuple[str, ...]
    headers: tuple[str, ...]  # one per category, then the total
    total_field: str  # the summary column the categories add up to
    rows: tuple[ScopeRow, ...]  # district first, then levels, then communes

    def values(self, row: ScopeRow) -> tuple[int, ...]:
        return (*(row.figures.count(self.dimension, c) for c in self.categories), self.total(row))

    def total(self, row: ScopeRow) -> int:
        value = figure(row.figures, self.total_field)
        return int(value or 0)


def breakdown_tables(content: ReportContent) -> tuple[BreakdownTable, ...]:
    rows = (content.district, *content.levels, *content.communes)
    out = []
    for dimension, categories in BREAKDOWN_CATEGORIES.items():
        if dimension in NOT_IN_WORKBOOK:
            continue
        spec = words(f"breakdowns.{dimension}")
        labels = spec.get("categories", {})
        headers = tuple(
            (labels.get(c) or spec["category"].format(grade=c)).format(max_sessions=content.max_sessions)
            for c in categories
        )
        out.append(
            BreakdownTable(
                dimension,
                spec["title"],
                categories,
                (*headers, say("breakdown_total")),
                BREAKDOWN_TOTALS[dimension],
                rows,
            )
        )
    return tuple(out)


COMPLETENESS_TITLE: str = say("completeness_title")
TREND_TITLE: str = say("trend_title")
BREAKDOWN_TITLE: str = say("breakdown_title")
