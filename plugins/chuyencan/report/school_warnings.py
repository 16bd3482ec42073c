"""Tell a school when its own account of a dropout disagrees with the school calendar.

The district counts dropouts by when they left (summer, semester 1, semester 2 before Tết,
after Tết) and by eligibility, from the first day missed and the cumulative missed sessions a
school writes. When those disagree with the calendar the report is quietly wrong, so for each
school's latest list the fortnightly run checks every dropout (`bo_hoc`) for:

| rule | the school wrote |
| --- | --- |
| `dropout_date_after_week` | a first day missed after the week its list reports (a date typed mm/dd) |
| `dropout_date_before_previous_year` | a first day missed before the previous school year began: not a dropout of this year |
| `reason_period_mismatch` | a reason that names a period ("sau Tết", "nghỉ hè", "học kỳ I"…) other than the one the first day missed falls in |
| `eligibility_contradicts_calendar` | at most 45 missed sessions, while the calendar has held more than 45 sessions since the first day missed: the child is counted eligible to continue on a number that cannot be right |

Why an email and not rows in `ops.submission_issue`: the file was accepted and its issues are
the record of what the checks said at intake; these findings come later, from the calendar and
the report, and a school only acts on what reaches it. The email goes through the outbox
(`ops.email_outbox`, dedup per list and findings, so a list is reported once however many
fortnights it stays the latest), identifies each case by sheet, row and class only, and never
repeats the reason text a school typed (free text may name people).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Date, Engine, select

from chuyencan.core.contract import STUDENT_SHEET
from chuyencan.core.mail.outbox import queue_email
from chuyencan.core.mail.render import TEMPLATE_DIR, IssueLine, RenderedEmail, format_date
from chuyencan.core.reference import Reference, SchoolYear
from chuyencan.core.schema import ops_email_outbox
from chuyencan.core.settings import Settings
from chuyencan.core.text import strip_diacritics
from chuyencan.report.calendar_periods import (
    YearBoundaries,
    report_year,
    sessions_between,
    year_boundaries,
)
from chuyencan.report.scratch import load_latest_lists, statement

log = logging.getLogger(__name__)

MESSAGES_FILE = TEMPLATE_DIR / "calendar_warning.messages.vi.json"
PERIOD_LABELS = {
    "summer": "trong hè",
    "hk1": "học kỳ I",
    "hk2": "học kỳ II (trước Tết)",
    "after_tet": "sau Tết",
}
# Word sequences in a reason that name a period; matched on whole words, without diacritics.
_PERIOD_PHRASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "summer": tuple((w, "he") for w in ("nghi", "mua", "dip", "trong", "tu", "sau", "cuoi", "ky", "ki")),
    "hk1": (
        ("hk1",),
        ("hki",),
        *((k, n) for k in ("ky", "ki") for n in ("1", "i")),
    ),
    "hk2": (
        ("hk2",),
        ("hkii",),
        ("truoc", "tet"),
        *((k, n) for k in ("ky", "ki") for n in ("2", "ii")),
    ),
    "after_tet": tuple((w, "tet") for w in ("sau", "an", "nghi", "tu", "qua", "het")),
}
_WORDS = re.compile(r"[0-9a-z]+")


@dataclass(frozen=True)
class CalendarWarning:
    school_code: str
    submission_id: int
    week_ending: date
    row: int
    class_name: str
    rule: str
    params: tuple[tuple[str, str], ...]

    def issue_line(self) -> IssueLine:
        text = _messages()[self.rule]
        params = dict(self.params)
        return IssueLine(
            sheet=STUDENT_SHEET.name,
            row=self.row,
            column=STUDENT_SHEET.column("first_day_missed").header,
            class_name=self.class_name,
            value=params.get("first_day"),
            message=text["message"].format(**params),
            fix=text["fix"].format(**params),
        )


@cache
def _messages() -> dict[str, dict[str, str]]:
    return json.loads(MESSAGES_FILE.read_text(encoding="utf-8"))


def stated_period(reason: str | None) -> str | None:
    """The period a reason names, if exactly one ('không ra lớp sau Tết' -> after_tet)."""
    if not reason:
        return None
    words = _WORDS.findall(strip_diacritics(reason).lower())
    found = set()
    for period, phrases in _PERIOD_PHRASES.items():
        for phrase in phrases:
            n = len(phrase)
            if any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1)):
                found.add(period)
    return found.pop() if len(found) == 1 else None


def check_row(
    row: Any, bounds: YearBoundaries, year: SchoolYear, max_sessions: int
) -> list[tuple[str, dict[str, str]]]:
    """The findings for one dropout row of fortnight_dropout_rows.sql."""
    first, week = row.first_day_missed, row.week_ending
    base = {"first_day": format_date(first), "week": format_date(week)}
    if first > week:
        return [("dropout_date_after_week", base)]
    if first < bounds.previous_start:
        return [
            (
                "dropout_date_before_previous_year",
                {**base, "previous_start": format_date(bounds.previous_start)},
            )
        ]
    found: list[tuple[str, dict[str, str]]] = []
    stated, actual = stated_period(row.reason_text), bounds.period_of(first)
    if stated is not None and stated != actual:
        found.append(
            (
                "reason_period_mismatch",
                {**base, "stated": PERIOD_LABELS[stated], "calendar": PERIOD_LABELS[actual]},
            )
        )
    calendar_sessions = sessions_between(year, first, week)
    if row.sessions_missed <= max_sessions < calendar_sessions:
        found.append(
            (
                "eligibility_contradicts_calendar",
                {
                    **base,
                    "calendar_sessions": str(calendar_sessions),
                    "sessions": str(row.sessions_missed),
                    "max_sessions": str(max_sessions),
                },
            )
        )
    return found


def find_warnings(
    conn: Connection, ref: Reference, settings: Settings, report_date: date
) -> list[CalendarWarning]:
    """Findings on every school's latest list (fortnight_list must be loaded in `conn`)."""
    bounds = year_boundaries(ref, report_date)
    year = report_year(ref, report_date)
    out = []
    rows = statement("fortnight_dropout_rows.sql").columns(week_ending=Date, first_day_missed=Date)
    for r in conn.execute(rows):
        for rule, params in check_row(r, bounds, year, settings.eligibility_max_sessions):
            out.append(
                CalendarWarning(
                    r.school_code,
                    r.submission_id,
                    r.week_ending,
                    r.source_row,
                    r.class_name,
                    rule,
                    tuple(sorted(params.items())),
                )
            )
    return out


def render_calendar_warning(
    *,
    school_code: str,
    school_name: str,
    report_date: date,
    school_year: str,
    week_ending: date,
    warnings: Iterable[CalendarWarning],
) -> RenderedEmail:
    # The mail package's renderer: same layout, filters and signature as every other email.
    from chuyencan.core.mail.render import render_email

    return render_email(
        "calendar_warning",
        school_code=school_code,
        school_name=school_name,
        report_date=report_date,
        school_year=school_year,
        week_ending=week_ending,
        warnings=[w.issue_line() for w in warnings],
    )


def _dedup_key(submission_id: int, found: list[CalendarWarning]) -> str:
    # The findings, not the report date: a list that stays the latest is reported once.
    digest = hashlib.sha256(json.dumps([(w.rule, w.row, w.params) for w in found]).encode()).hexdigest()[:16]
    return f"calendar_warning:{submission_id}:{digest}"


def warn_schools(engine: Engine, ref: Reference, settings: Settings, report_date: date) -> dict[str, int]:
    """Queue one email per school whose latest list has findings; counts only in the result."""
    year = report_year(ref, report_date)
    queued = unreachable = 0
    with engine.begin() as conn:
        load_latest_lists(conn, ref, report_date, year_boundaries(ref, report_date).start)
        warnings = find_warnings(conn, ref, settings, report_date)
        by_list: dict[tuple[str, int, date], list[CalendarWarning]] = {}
        for w in warnings:
            by_list.setdefault((w.school_code, w.submission_id, w.week_ending), []).append(w)
        keys = {group: _dedup_key(group[1], found) for group, found in by_list.items()}
        already = set(
            conn.execute(
                select(ops_email_outbox.c.dedup_key).where(
                    ops_email_outbox.c.dedup_key.in_(list(keys.values()))
                )
            ).scalars()
        )
        for group, found in sorted(by_list.items()):
            code, _, week = group
            school = ref.school(code)
            if school is None or not school.email:
                unreachable += 1
                continue
            if keys[group] in already:
                continue  # a rerun, or a list that is still the latest a fortnight later
            email = render_calendar_warning(
                school_code=code,
                school_name=school.name,
                report_date=report_date,
                school_year=year.name,
                week_ending=week,
                warnings=found,
            )
            queued += queue_email(
                conn,
                dedup_key=keys[group],
                kind="calendar_warning",
                recipients=[school.email],
                email=email,
                attachments=[],
                now=datetime.now(UTC),
            )
    result = {
        "warnings": len(warnings),
        "schools": len({w.school_code for w in warnings}),
        "emails_queued": queued,
        "schools_without_email": unreachable,
    }
    log.info("calendar checks of the dropout lists: %s", result)
    return result
