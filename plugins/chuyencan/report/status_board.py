"""Who is missing? Each school's status per week and the fortnights' headline figures, for the
chuyencan page of the Airflow UI and the weekly run's note.

Reads `report` and `ops` tables only: statuses, counts, rule codes and file locations, never a
cell's value or a child's data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, and_, select

from chuyencan.core import schema as wh
from chuyencan.core.organisation import TOP_SCOPES
from chuyencan.core.schema import fortnight_summary
from chuyencan.core.settings import DISTRICT_KEY

STATUSES = ("on_time", "late", "missing", "rejected")
HEADLINE = (
    "schools_expected",
    "submissions_on_time",
    "submissions_late",
    "submissions_missing",
    "submissions_rejected",
    "attendance_rate",
    "dropouts_open",
    "dropouts_new",
    "left_locality",
    "unverified",
    "returned",
    "at_risk",
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UNIT_CODE = re.compile(r"^[A-Z0-9_]+$")


@dataclass(frozen=True)
class SchoolLine:
    school_code: str
    school_name: str
    status: str
    received_at: datetime | None
    version: int
    rules: tuple[str, ...]  # rule codes of the latest rejected file, when the status is rejected
    rejected_submission: int | None  # that file's submission id (its error report)


@dataclass(frozen=True)
class WeekBoard:
    week_ending: date
    lines: tuple[SchoolLine, ...]

    def codes(self, status: str) -> list[str]:
        return [line.school_code for line in self.lines if line.status == status]

    @property
    def counts(self) -> dict[str, int]:
        return {s: len(self.codes(s)) for s in STATUSES}


@dataclass(frozen=True)
class FortnightLine:
    report_date: date
    figures: dict[str, float | int | None]
    report_xlsx: Path | None
    public_xlsx: Path | None
    unit: str = DISTRICT_KEY  # the reporting unit whose report it is


def week_board(engine: Engine, week: date) -> WeekBoard:
    return _boards(engine, [week])[0]


def recent_weeks(engine: Engine, limit: int = 4) -> list[WeekBoard]:
    st = wh.report_submission_status
    with engine.connect() as conn:
        weeks = list(
            conn.execute(
                select(st.c.week_ending).distinct().order_by(st.c.week_ending.desc()).limit(limit)
            ).scalars()
        )
    return _boards(engine, weeks) if weeks else []


def _boards(engine: Engine, weeks: Sequence[date]) -> list[WeekBoard]:
    st, sch, sub, iss = wh.report_submission_status, wh.ref_school, wh.ops_submission, wh.ops_submission_issue
    with engine.connect() as conn:
        names = dict(conn.execute(select(sch.c.school_code, sch.c.name)).tuples().all())
        statuses = conn.execute(
            select(st.c.week_ending, st.c.school_code, st.c.status, st.c.received_at, st.c.version)
            .where(st.c.week_ending.in_(list(weeks)))
            .order_by(st.c.week_ending.desc(), st.c.school_code)
        ).all()
        latest_rejected: dict[tuple[date, str], int] = {}
        for sub_row in conn.execute(
            select(sub.c.week_ending, sub.c.school_code, sub.c.submission_id)
            .where(sub.c.week_ending.in_(list(weeks)), sub.c.outcome == "rejected")
            .order_by(sub.c.processed_at, sub.c.submission_id)
        ):
            latest_rejected[(sub_row.week_ending, sub_row.school_code)] = sub_row.submission_id
        rules: dict[int, list[str]] = {}
        if latest_rejected:
            for issue in conn.execute(
                select(iss.c.submission_id, iss.c.rule)
                .where(iss.c.submission_id.in_(list(latest_rejected.values())), iss.c.severity == "error")
                .distinct()
                .order_by(iss.c.submission_id, iss.c.rule)
            ):
                rules.setdefault(issue.submission_id, []).append(issue.rule)
    by_week: dict[date, list[SchoolLine]] = {w: [] for w in weeks}
    for row in statuses:
        rejected = (
            latest_rejected.get((row.week_ending, row.school_code)) if row.status == "rejected" else None
        )
        by_week.setdefault(row.week_ending, []).append(
            SchoolLine(
                school_code=row.school_code,
                school_name=names.get(row.school_code, ""),
                status=row.status,
                received_at=row.received_at,
                version=row.version,
                rules=tuple(rules.get(rejected, ())) if rejected is not None else (),
                rejected_submission=rejected,
            )
        )
    return [WeekBoard(w, tuple(by_week[w])) for w in weeks]


def fortnights(engine: Engine, reports_dir: Path, limit: int = 6) -> list[FortnightLine]:
    """Every reporting unit's report of the latest `limit` report dates, newest first: each
    unit's own row (scope `organisation.top_scope` of the unit, keyed by its own code), the
    district's before the others of a date, then by unit code."""
    fs = fortnight_summary
    own = and_(fs.c.scope.in_(sorted(TOP_SCOPES)), fs.c.scope_key == fs.c.reporting_unit)
    with engine.connect() as conn:
        dates = list(
            conn.execute(
                select(fs.c.report_date).where(own).distinct().order_by(fs.c.report_date.desc()).limit(limit)
            ).scalars()
        )
        rows = conn.execute(
            select(
                fs.c.report_date, fs.c.reporting_unit, fs.c.scope, *(fs.c[name] for name in HEADLINE)
            ).where(own, fs.c.report_date.in_(dates))
        ).all()
    rows = sorted(rows, key=lambda r: (-r.report_date.toordinal(), r.scope != "district", r.reporting_unit))
    return [
        FortnightLine(
            report_date=row.report_date,
            figures={name: getattr(row, name) for name in HEADLINE},
            report_xlsx=report_file(
                reports_dir, row.report_date.isoformat(), public=False, unit=row.reporting_unit
            ),
            public_xlsx=report_file(
                reports_dir, row.report_date.isoformat(), public=True, unit=row.reporting_unit
            ),
            unit=row.reporting_unit,
        )
        for row in rows
    ]


def district_headline(
    engine: Engine, report_date: date, unit: str = DISTRICT_KEY
) -> dict[str, float | int | None] | None:
    """A unit's own line of `report.fortnight_summary` for a date (headline columns only)."""
    fs = fortnight_summary
    with engine.connect() as conn:
        row = conn.execute(
            select(*(fs.c[name] for name in HEADLINE)).where(
                fs.c.reporting_unit == unit, fs.c.scope_key == unit, fs.c.report_date == report_date
            )
        ).first()
    return None if row is None else dict(row._mapping)


def fortnight_note(report_date: date, figures: dict[str, float | int | None] | None) -> str:
    """'report 2025-04-04: 26/28 school-weeks reported · 2 missing · 41 dropouts open (3 new) · …'."""
    day = report_date.isoformat()
    if not figures:
        return f"report {day}: no district summary"
    f = {k: int(v or 0) for k, v in figures.items() if k != "attendance_rate"}
    reported = f["submissions_on_time"] + f["submissions_late"]
    return (
        f"report {day}: {reported}/{2 * f['schools_expected']} school-weeks reported"
        f" ({f['submissions_missing']} missing, {f['submissions_rejected']} rejected)"
        f" · {f['dropouts_open']} dropouts open ({f['dropouts_new']} new) · {f['left_locality']} left the locality"
        f" · {f['returned']} returned · {f['at_risk']} at risk"
    )


def report_file(
    reports_dir: Path, report_date: str, *, public: bool, unit: str = DISTRICT_KEY
) -> Path | None:
    """A unit's Excel report of a date (Bát Xát's district by default), or its public version;
    None if not written (or the date or code is not one)."""
    if not _ISO_DATE.match(report_date) or not _UNIT_CODE.match(unit):
        return None
    from chuyencan.report.files import REPORT_STEM, dated_stem

    stem = "bao_cao_cong_khai" if public else REPORT_STEM
    # Named as chuyencan.report.unit.ReportUnit.file_tag names them: no tag for Bát Xát's district.
    tag = "" if unit == DISTRICT_KEY else unit
    path = reports_dir / f"{dated_stem(stem, date.fromisoformat(report_date), tag)}.xlsx"
    return path if path.is_file() else None


def error_report(engine: Engine, submission_id: int, quarantine_dir: Path) -> Path | None:
    """The quarantined file's error report (`<stored>.errors.txt`: rules and rows, personal
    values masked), only from inside the quarantine folder."""
    sub = wh.ops_submission
    with engine.connect() as conn:
        stored = conn.execute(
            select(sub.c.stored_path).where(sub.c.submission_id == submission_id, sub.c.outcome == "rejected")
        ).scalar_one_or_none()
    if stored is None:
        return None
    path = Path(f"{stored}.errors.txt").resolve()
    if not path.is_relative_to(quarantine_dir.resolve()) or not path.is_file():
        return None
    return path
