"""What the fortnightly report says, read from the warehouse once for all of its documents.

The Excel report, its Markdown/HTML twin and the district email all show this one object,
so they cannot disagree. Everything here is an aggregate: the only query that touches the
`restricted` schema (open dropouts per week, for the chart) returns counts, never a row
about a student.

Labels and table columns are defined once, here, in Vietnamese.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, and_, func, select

from chuyencan.core import schema as wh  # the tables
from chuyencan.core.contract import LEVELS
from chuyencan.core.reference import INCLUDE_DIR, Reference
from chuyencan.core.schema import fortnight_summary
from chuyencan.core.settings import TIMEZONE
from chuyencan.core.text import fold
from chuyencan.report.calendar_periods import Fortnight, report_year

log = logging.getLogger(__name__)

REPORT_TEMPLATE_DIR = INCLUDE_DIR / "templates" / "report"

LEVEL_LABELS: dict[str, str] = {"TH": "Tiểu học", "THCS": "Trung học cơ sở", "THPT": "Trung học phổ thông"}
STATUS_LABELS: dict[str, str] = {
    "on_time": "Đúng hạn",
    "late": "Nộp muộn",
    "missing": "Chưa nộp",
    "rejected": "Bị trả lại",
}
DEFAULT_MAX_SESSIONS = 45
DISTRICT_LABEL = "Toàn huyện"
# "When they left", the notice's "trong hè, kỳ 1, kỳ 2, sau Tết" (calendar_periods.PERIODS).
PERIOD_LABELS: dict[str, str] = {
    "summer": "Trong hè",
    "hk1": "Học kỳ I",
    "hk2": "Học kỳ II, trước Tết",
    "after_tet": "Sau Tết",
}
# Public exports (issue 6) hide counts this small: a handful of children is identifiable.
SMALL_COUNT_LIMIT = 5
SUPPRESSED_TEXT = f"<{SMALL_COUNT_LIMIT}"


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

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Figures:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

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


SUMMARY_FIELDS = tuple(f.name for f in fields(Figures))


@dataclass(frozen=True)
class ScopeRow:
    scope: str  # district / level / commune / school
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
        return f"{label} ({received_at.astimezone(TIMEZONE):%d/%m %H:%M})"
    if status == "rejected":
        return f"{label} ({error_count} lỗi)"
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
    district: ScopeRow
    levels: tuple[ScopeRow, ...]
    communes: tuple[ScopeRow, ...]
    schools: tuple[ScopeRow, ...]
    completeness: tuple[SchoolCompleteness, ...]
    trend: tuple[TrendWeek, ...]

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
    dropped = "Học sinh bỏ học chưa trở lại"
    when = "Chia theo thời điểm bỏ học"
    police = "Kết quả xác minh của công an xã"
    eligible = "Điều kiện học tiếp nếu trở lại"
    metrics = (
        Metric("enrolled", "Sĩ số (tuần gần nhất)"),
        Metric("attendance_rate", "Tỷ lệ chuyên cần 2 tuần", kind="rate"),
        Metric("dropouts_open", "Tổng số", dropped),
        Metric("dropouts_new", "Mới bỏ học trong kỳ", dropped),
        Metric("dropouts_summer", PERIOD_LABELS["summer"], when),
        Metric("dropouts_hk1", PERIOD_LABELS["hk1"], when),
        Metric("dropouts_hk2", PERIOD_LABELS["hk2"], when),
        Metric("dropouts_after_tet", PERIOD_LABELS["after_tet"], when),
        Metric("left_locality", "Đã rời địa phương", police),
        Metric("in_locality", "Còn ở địa phương", police),
        Metric("unverified", "Chưa xác minh", police),
        Metric("eligible_to_continue", "Đủ điều kiện", eligible),
        Metric("not_eligible", f"Không đủ (nghỉ quá {max_sessions} buổi)", eligible),
        Metric("returned", "Đã trở lại trong kỳ"),
        Metric("at_risk", "Có nguy cơ bỏ học"),
    )
    return ((Metric("schools_expected", "Số trường"),) if with_schools else ()) + metrics


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
    return (
        SummaryLine("I", "NỘP BÁO CÁO CỦA CÁC TRƯỜNG (lượt trường × tuần, 2 tuần)", kind="heading"),
        SummaryLine("1", "Số trường phải báo cáo", "schools_expected"),
        SummaryLine("2", "Số lượt báo cáo phải nộp", "submissions_due"),
        SummaryLine("", "Nộp đúng hạn", "submissions_on_time", share_of="submissions_due", indent=1),
        SummaryLine("", "Nộp muộn", "submissions_late", share_of="submissions_due", indent=1),
        SummaryLine("", "Chưa nộp", "submissions_missing", share_of="submissions_due", indent=1),
        SummaryLine(
            "",
            "Bị trả lại, chưa có bản đạt yêu cầu",
            "submissions_rejected",
            share_of="submissions_due",
            indent=1,
        ),
        SummaryLine("3", "Tỷ lệ báo cáo đầy đủ (đúng hạn và muộn)", "completeness_rate", kind="rate"),
        SummaryLine("II", "CHUYÊN CẦN", kind="heading"),
        SummaryLine("4", "Sĩ số học sinh (tuần gần nhất)", "enrolled"),
        SummaryLine("5", "Tỷ lệ chuyên cần bình quân 2 tuần", "attendance_rate", kind="rate"),
        SummaryLine("III", "HỌC SINH BỎ HỌC CHƯA TRỞ LẠI LỚP (đến ngày báo cáo)", kind="heading"),
        SummaryLine("6", "Tổng số học sinh bỏ học chưa trở lại", "dropouts_open"),
        SummaryLine(
            "", "Trong đó: mới bỏ học trong kỳ báo cáo", "dropouts_new", share_of="dropouts_open", indent=1
        ),
        SummaryLine("7", "Chia theo thời điểm bỏ học", kind="heading"),
        SummaryLine("", PERIOD_LABELS["summer"], "dropouts_summer", share_of="dropouts_open", indent=1),
        SummaryLine("", PERIOD_LABELS["hk1"], "dropouts_hk1", share_of="dropouts_open", indent=1),
        SummaryLine("", PERIOD_LABELS["hk2"], "dropouts_hk2", share_of="dropouts_open", indent=1),
        SummaryLine("", PERIOD_LABELS["after_tet"], "dropouts_after_tet", share_of="dropouts_open", indent=1),
        SummaryLine("8", "Chia theo kết quả xác minh của công an xã", kind="heading"),
        SummaryLine("", "Đã rời khỏi địa phương", "left_locality", share_of="dropouts_open", indent=1),
        SummaryLine("", "Còn ở địa phương", "in_locality", share_of="dropouts_open", indent=1),
        SummaryLine("", "Chưa xác minh được", "unverified", share_of="dropouts_open", indent=1),
        SummaryLine("9", "Điều kiện tiếp tục học nếu trở lại trường", kind="heading"),
        SummaryLine(
            "",
            f"Đủ điều kiện (nghỉ không quá {max_sessions} buổi)",
            "eligible_to_continue",
            share_of="dropouts_open",
            indent=1,
        ),
        SummaryLine(
            "",
            f"Không đủ điều kiện (nghỉ quá {max_sessions} buổi)",
            "not_eligible",
            share_of="dropouts_open",
            indent=1,
        ),
        SummaryLine("IV", "HỌC SINH TRỞ LẠI LỚP VÀ HỌC SINH CÓ NGUY CƠ BỎ HỌC", kind="heading"),
        SummaryLine("10", "Học sinh đã trở lại lớp trong kỳ báo cáo", "returned"),
        SummaryLine("11", "Học sinh có nguy cơ bỏ học", "at_risk"),
    )


def figure(figures: Figures, name: str) -> int | float | None:
    """A Figures column or derived property by name (the summary lines name them)."""
    value: int | float | None = getattr(figures, name)
    return value


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
    """report.fortnight_summary has no district row for the report date: publish it first."""


def load_content(
    engine: Engine, report_date: date, ref: Reference, *, max_sessions: int = DEFAULT_MAX_SESSIONS
) -> ReportContent:
    fortnight = Fortnight(report_date)
    weeks = fortnight.weeks
    year = report_year(ref, report_date)
    year_start = year.start
    fs = fortnight_summary
    with engine.connect() as conn:
        rows = conn.execute(select(fs).where(fs.c.report_date == report_date)).mappings().all()
        statuses = conn.execute(
            select(wh.report_submission_status).where(wh.report_submission_status.c.week_ending.in_(weeks))
        ).all()
        attendance = _weekly_attendance(conn, year_start, report_date)
        dropouts_by_school_week = _weekly_open_dropouts(conn, year_start, report_date)
        published = dict(
            conn.execute(
                select(fs.c.report_date, fs.c.dropouts_open).where(
                    fs.c.scope == "district",
                    fs.c.report_date.between(year_start, report_date),
                )
            ).all()
        )
    by_scope: dict[str, list[Mapping[Any, Any]]] = {}  # RowMappings, keyed by column name
    for row in rows:
        by_scope.setdefault(row["scope"], []).append(row)
    district_rows = by_scope.get("district", [])
    if not district_rows:
        raise NoSummaryError(f"report.fortnight_summary has no district row for {report_date}")
    district = ScopeRow(
        "district", district_rows[0]["scope_key"], DISTRICT_LABEL, Figures.from_row(district_rows[0])
    )
    return ReportContent(
        report_date=report_date,
        weeks=weeks,
        school_year=year.name,
        period_start=fortnight.first_day,
        max_sessions=max_sessions,
        district=district,
        levels=_levels(by_scope.get("level", [])),
        communes=_communes(by_scope.get("commune", [])),
        schools=_schools(by_scope.get("school", []), ref),
        completeness=_completeness(statuses, weeks, ref, report_date),
        trend=_trend(
            ref,
            year=year.name,
            report_date=report_date,
            attendance=attendance,
            dropouts=dropouts_by_school_week,
            published=published,
        ),
    )


def _levels(rows: Sequence[Mapping[str, Any]]) -> tuple[ScopeRow, ...]:
    order = {level: i for i, (level, _, _) in enumerate(LEVELS)}
    rows = sorted(rows, key=lambda r: (order.get(r["scope_key"], len(order)), r["scope_key"]))
    return tuple(
        ScopeRow(
            "level", r["scope_key"], LEVEL_LABELS.get(r["scope_key"], r["scope_key"]), Figures.from_row(r)
        )
        for r in rows
    )


def _communes(rows: Sequence[Mapping[str, Any]]) -> tuple[ScopeRow, ...]:
    rows = sorted(rows, key=lambda r: (fold(r["scope_key"]), r["scope_key"]))
    return tuple(ScopeRow("commune", r["scope_key"], r["scope_key"], Figures.from_row(r)) for r in rows)


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
                Figures.from_row(r),
                commune=school.commune if school else None,
            )
        )
    return tuple(out)


def _completeness(
    statuses: Sequence[Any], weeks: tuple[date, ...], ref: Reference, report_date: date
) -> tuple[SchoolCompleteness, ...]:
    by_school: dict[str, dict[date, Any]] = {}
    for row in statuses:
        by_school.setdefault(row.school_code, {})[row.week_ending] = row
    codes = set(by_school) | {s.code for s in ref.active_schools(report_date)}
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


def _weekly_attendance(conn: Any, start: date, end: date) -> dict[date, float | None]:
    aw = wh.report_attendance_weekly
    absent = func.sum(aw.c.absent_excused + aw.c.absent_unexcused)
    rows = conn.execute(
        select(aw.c.week_ending, func.sum(aw.c.student_days_scheduled), absent)
        .where(aw.c.week_ending.between(start, end))
        .group_by(aw.c.week_ending)
    ).all()
    # Recomputed from the counts (a mean of the schools' rates would weigh a class of 5 like 500).
    return {week: (1.0 - int(a) / int(s)) if s else None for week, s, a in rows}


def _weekly_open_dropouts(conn: Any, start: date, end: date) -> dict[str, dict[date, int]]:
    """Students with status bo_hoc on each school's file in effect for each week: counts only."""
    cs, se = wh.ops_current_submission, wh.restricted_student_entry
    rows = conn.execute(
        select(cs.c.school_code, cs.c.week_ending, func.count(se.c.student_key))
        .select_from(
            cs.outerjoin(se, and_(se.c.submission_id == cs.c.submission_id, se.c.status == "bo_hoc"))
        )
        .where(cs.c.week_ending.between(start, end))
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


# --- who issues the report ---------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """The header and signature lines of the report (include/templates/report/issuer.json)."""

    parent_agency: str
    office: str
    office_name: str
    place: str
    area: str
    document_number: str
    addressee: str
    signer_title: str
    recipients: tuple[str, ...]


def load_issuer(path: Path = REPORT_TEMPLATE_DIR / "issuer.json") -> Issuer:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Issuer(
        **{f.name: data[f.name] for f in fields(Issuer) if f.name != "recipients"},
        recipients=tuple(data["recipients"]),
    )


def official_date(place: str, day: date) -> str:
    """'Bát Xát, ngày 04 tháng 4 năm 2025' (Decree 30/2020: a zero before days 1-9 and months 1-2)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


@dataclass(frozen=True)
class ScopeTable:
    """A table by level, commune or school: the same in the workbook and its twin."""

    title: str  # "Biểu 1. …", in sentence case; the workbook writes it in capitals
    keys: tuple[str, ...]  # headers of the label columns after STT
    rows: tuple[tuple[tuple[str, ...], Figures], ...]
    metrics: tuple[Metric, ...]
    note: str | None = None


def scope_tables(content: ReportContent) -> tuple[ScopeTable, ...]:
    with_schools = table_metrics(content.max_sessions, with_schools=True)
    return (
        ScopeTable(
            "Biểu 1. Tình hình chuyên cần và học sinh bỏ học theo cấp học",
            ("Cấp học",),
            tuple(((r.label,), r.figures) for r in content.levels),
            with_schools,
        ),
        ScopeTable(
            "Biểu 2. Tình hình chuyên cần và học sinh bỏ học theo xã, thị trấn",
            ("Xã, thị trấn",),
            tuple(((r.label,), r.figures) for r in content.communes),
            with_schools,
            note="Chuyên cần tính theo xã nơi trường đóng; học sinh bỏ học, trở lại, có nguy cơ tính theo "
            "xã nơi học sinh cư trú.",
        ),
        ScopeTable(
            "Biểu 3. Tình hình chuyên cần và học sinh bỏ học theo trường",
            ("Mã trường", "Tên trường", "Xã, thị trấn"),
            tuple(((r.key, r.label, r.commune or ""), r.figures) for r in content.schools),
            table_metrics(content.max_sessions, with_schools=False),
        ),
    )


COMPLETENESS_TITLE = "Biểu 4. Tình hình nộp báo cáo hằng tuần của các trường"
TREND_TITLE = "Biểu 5. Tỷ lệ chuyên cần và số học sinh bỏ học chưa trở lại theo tuần"
