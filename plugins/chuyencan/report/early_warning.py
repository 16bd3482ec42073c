"""Early warning: which students on the schools' lists are at risk of dropping out, and why.

For a report date, every student on a school's latest list of the school year (the school's
full current picture) is checked against these rules; thresholds come from `Settings`:

| rule id | fires when |
| --- | --- |
| `chronic_absence` | missed sessions >= `risk_chronic_absence_share` (10 %) of the sessions the calendar scheduled so far this school year (2 a school day) |
| `rising_absence` | missed sessions went up on each of the school's last `risk_rising_unexcused_weeks` lists (the student on every one) |
| `approaching_limit` | missed sessions >= `risk_approaching_sessions` (35), near or past the 45 of Circular 22 |
| `school_flag` | the school itself listed the student as at risk (`nguy_co`) |
| `sibling_dropout` | another student with the same parent, village and home commune has dropped out |

Students who have already dropped out (`bo_hoc`) are dropouts, not "at risk". The per-student
result goes to `restricted.student_risk` (delete-and-insert per report date, one transaction);
only counts leave the restricted schema.

Schools record only a cumulative count of missed sessions per student, excused and unexcused
together, so "unexcused absences rising" is read as that count rising week after week.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine

from chuyencan.core.organisation import Organisation
from chuyencan.core.reference import Reference
from chuyencan.core.schema import student_risk
from chuyencan.core.settings import Settings
from chuyencan.core.text import fold
from chuyencan.report.calendar_periods import SESSIONS_PER_DAY, year_boundaries
from chuyencan.report.scratch import load_latest_lists, statement

log = logging.getLogger(__name__)

RULES = ("chronic_absence", "rising_absence", "approaching_limit", "school_flag", "sibling_dropout")


@dataclass(frozen=True)
class RiskResult:
    report_date: date
    students_checked: int
    at_risk: int
    by_rule: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """Counts only: this goes to logs and XCom."""
        return {
            "report_date": self.report_date.isoformat(),
            "students_checked": self.students_checked,
            "at_risk": self.at_risk,
            "by_rule": dict(self.by_rule),
        }


def household_key(
    parent_name: str | None, village: str | None, commune: str | None
) -> tuple[str, ...] | None:
    """Who counts as a sibling: same parent, village and home commune, spelled loosely."""
    if not parent_name or not village or not commune:
        return None
    key = (fold(parent_name), fold(village), commune)
    return key if key[0] and key[1] else None


def reasons_for(row: Any, settings: Settings, *, sibling_dropped_out: bool) -> list[str]:
    """The rule ids that fire for one student (a row of student_risk_candidates.sql)."""
    reasons = []
    so_far = row.sessions_so_far or 0
    if (
        row.sessions_missed > 0
        and so_far > 0
        and row.sessions_missed >= settings.risk_chronic_absence_share * so_far
    ):
        reasons.append("chronic_absence")
    if row.rising:
        reasons.append("rising_absence")
    if row.sessions_missed >= settings.risk_approaching_sessions:
        reasons.append("approaching_limit")
    if row.status == "nguy_co":
        reasons.append("school_flag")
    if sibling_dropped_out:
        reasons.append("sibling_dropout")
    return reasons


def flag_students(
    engine: Engine, ref: Reference, settings: Settings, report_date: date, org: Organisation | None = None
) -> RiskResult:
    """Write restricted.student_risk for the report date from the schools' latest lists; with
    `org`, each student's home commune is the commune in force on the report date (what the
    units' reports count them under)."""
    year_start = year_boundaries(ref, report_date).start
    rising_weeks = max(settings.risk_rising_unexcused_weeks, 1)
    t = student_risk
    with engine.begin() as conn:
        load_latest_lists(conn, ref, report_date, year_start, org)
        rows = conn.execute(
            statement("student_risk_candidates.sql"),
            {
                "year_start": year_start,
                "report_date": report_date,
                "list_count": rising_weeks + 1,
                "rising_weeks": rising_weeks,
                "sessions_per_day": SESSIONS_PER_DAY,
            },
        ).all()
        dropouts: dict[tuple[str, ...], set[str]] = {}
        for r in rows:
            key = household_key(r.parent_name, r.village, r.commune)
            if r.status == "bo_hoc" and key is not None:
                dropouts.setdefault(key, set()).add(r.student_key)

        flagged: dict[str, dict[str, object]] = {}
        by_rule: Counter[str] = Counter()
        for r in rows:
            # Rows come newest list first: a student on two schools' lists (a transfer) is
            # judged on the newer one.
            if r.status == "bo_hoc" or r.student_key in flagged:
                continue
            key = household_key(r.parent_name, r.village, r.commune)
            siblings = dropouts.get(key, set()) - {r.student_key} if key else set()
            reasons = reasons_for(r, settings, sibling_dropped_out=bool(siblings))
            if not reasons:
                continue
            by_rule.update(reasons)
            flagged[r.student_key] = {
                "report_date": report_date,
                "student_key": r.student_key,
                "school_code": r.school_code,
                "grade": r.grade,
                "level": r.level,
                "commune": r.commune,
                "reasons": ",".join(reasons),
                "sessions_missed": r.sessions_missed,
            }
        conn.execute(t.delete().where(t.c.report_date == report_date))
        if flagged:
            conn.execute(t.insert(), list(flagged.values()))
    result = RiskResult(
        report_date, len({r.student_key for r in rows}), len(flagged), dict(sorted(by_rule.items()))
    )
    log.info("early warning: %s", result.as_dict())
    return result
