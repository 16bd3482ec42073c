"""Each school's submission status for a school week (`report.submission_status`).

- on_time: the school's first accepted file for the week is dated before the deadline
  (a later correction does not make a punctual school late);
- late: its first accepted file is dated after the deadline;
- rejected: files came, none accepted;
- missing: nothing came.
`received_at` is the file time of the accepted file in effect (or of the last rejected one);
`version` counts accepted files; `error_count` is the last rejected file's errors when the
status is rejected, else 0.

Before a week's deadline only the schools that have sent something get a row: nobody is
missing yet. The status depends on file times, not on when the pipeline ran, so reruns and
late processing give the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, select

from chuyencan.core import schema
from chuyencan.core import warehouse as wh
from chuyencan.core.organisation import UNASSIGNED_UNIT, school_units_on
from chuyencan.core.reference import Reference
from chuyencan.core.settings import Settings
from chuyencan.core.sql import as_utc


@dataclass(frozen=True)
class SchoolWeekStatus:
    week_ending: date
    school_code: str
    status: str
    received_at: datetime | None
    version: int
    error_count: int


def compute_week(
    conn: Connection, ref: Reference, settings: Settings, week: date, now: datetime
) -> list[SchoolWeekStatus]:
    sub, cs = schema.ops_submission, schema.ops_current_submission
    deadline = settings.deadline_for(week)
    rows = conn.execute(
        select(sub.c.submission_id, sub.c.school_code, sub.c.outcome, sub.c.received_at, sub.c.error_count)
        .where(sub.c.week_ending == week)
        .order_by(sub.c.received_at, sub.c.submission_id)
    ).all()
    current = dict(
        conn.execute(select(cs.c.school_code, cs.c.submission_id).where(cs.c.week_ending == week)).all()
    )
    by_school: dict[str, list] = {}
    for r in rows:
        by_school.setdefault(r.school_code, []).append(r)

    past_deadline = now >= deadline
    out = []
    for school in ref.active_schools(week):
        files = by_school.get(school.code, [])
        if not files and not past_deadline:
            continue
        accepted = [r for r in files if r.outcome == "accepted"]
        rejected = [r for r in files if r.outcome == "rejected"]
        if accepted:
            first = as_utc(accepted[0].received_at)
            in_effect = next(
                (r for r in accepted if r.submission_id == current.get(school.code)), accepted[-1]
            )
            out.append(
                SchoolWeekStatus(
                    week,
                    school.code,
                    "on_time" if first <= deadline else "late",
                    as_utc(in_effect.received_at),
                    len(accepted),
                    0,
                )
            )
        elif rejected:
            last = rejected[-1]
            out.append(
                SchoolWeekStatus(week, school.code, "rejected", as_utc(last.received_at), 0, last.error_count)
            )
        else:
            out.append(SchoolWeekStatus(week, school.code, "missing", None, 0, 0))
    return out


def refresh_weeks(
    engine: Engine, ref: Reference, settings: Settings, weeks: set[date], now: datetime | None = None
) -> list[SchoolWeekStatus]:
    """Recompute the status rows of the given school weeks, each week in one transaction."""
    now = now or datetime.now(UTC)
    table = schema.report_submission_status
    result: list[SchoolWeekStatus] = []
    for week in sorted(w for w in weeks if ref.is_school_week(w)):
        with engine.begin() as conn:
            # Before reading: an overlapping run refreshing the same week would otherwise
            # collide on the rewrite, or overwrite newer rows with what it read earlier.
            wh.serialise(conn, f"submission_status|{week.isoformat()}")
            statuses = compute_week(conn, ref, settings, week, now)
            units = school_units_on(conn, week)
            conn.execute(table.delete().where(table.c.week_ending == week))
            if statuses:
                conn.execute(
                    table.insert(),
                    [
                        {**s.__dict__, "reporting_unit": units.get(s.school_code, UNASSIGNED_UNIT)}
                        for s in statuses
                    ],
                )
        result.extend(statuses)
    return result
