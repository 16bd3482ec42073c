"""The collection step: new files in the inbox -> checked -> loaded or quarantined -> statuses.

Runs every few minutes on school days (feedback within minutes of a drop) and in every Friday
and fortnightly run (to sweep in late files). Bad input never fails the step: every file ends
loaded or quarantined with its reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, func, select

from chuyencan.core import schema
from chuyencan.core.reference import Reference
from chuyencan.core.settings import Settings
from chuyencan.core.text import fold, rule_codes, safe_display_name
from chuyencan.submissions.inbox import InboxFile, new_files, scan
from chuyencan.submissions.load import Stored, store_accepted, store_rejected
from chuyencan.submissions.reader import read_workbook
from chuyencan.submissions.status import refresh_weeks
from chuyencan.submissions.validate import CheckedFile, check_parsed

log = logging.getLogger(__name__)

# Called inside the transaction that records a rejected (or accepted) file, so the school's
# email is queued exactly once with it.
RejectionHook = Callable[[Connection, InboxFile, CheckedFile, int], None]
AcceptanceHook = RejectionHook

USUAL_RATE_WEEKS = 4


@dataclass
class CollectionResult:
    files_found: int = 0
    stored: list[Stored] = field(default_factory=list)

    @property
    def accepted(self) -> list[Stored]:
        return [s for s in self.stored if s.outcome == "accepted"]

    @property
    def rejected(self) -> list[Stored]:
        return [s for s in self.stored if s.outcome == "rejected"]

    @property
    def weeks(self) -> set[date]:
        """Reporting weeks the stored files name (a rejected file's impossible week excluded)."""
        return {
            s.week_ending for s in self.stored if s.week_ending is not None and s.week_ending.weekday() == 4
        }

    def summary(self) -> dict[str, object]:
        """Counts only: this goes to logs and XCom."""
        return {
            "files_found": self.files_found,
            "accepted": len(self.accepted),
            "rejected": len(self.rejected),
            "weeks": sorted(w.isoformat() for w in self.weeks),
        }


def usual_rates(engine: Engine) -> dict[str, float]:
    """Each school's attendance over its last few reported weeks: the yardstick for warnings."""
    aw = schema.report_attendance_weekly
    recent = (
        select(
            aw.c.school_code,
            aw.c.week_ending,
            func.row_number()
            .over(partition_by=aw.c.school_code, order_by=aw.c.week_ending.desc())
            .label("n"),
        )
        .group_by(aw.c.school_code, aw.c.week_ending)
        .subquery()
    )
    query = (
        select(
            aw.c.school_code,
            (
                1.0
                - func.sum(aw.c.absent_excused + aw.c.absent_unexcused)
                * 1.0
                / func.nullif(func.sum(aw.c.student_days_scheduled), 0)
            ).label("rate"),
        )
        .join(recent, (recent.c.school_code == aw.c.school_code) & (recent.c.week_ending == aw.c.week_ending))
        .where(recent.c.n <= USUAL_RATE_WEEKS)
        .group_by(aw.c.school_code)
    )
    with engine.connect() as conn:
        return {code: float(rate) for code, rate in conn.execute(query) if rate is not None}


def usual_enrolment(engine: Engine) -> dict[tuple[str, str], int]:
    """(school, folded class name) -> sĩ số in the school's latest accepted week."""
    cs, ca = schema.ops_current_submission, schema.ops_class_attendance
    latest: dict[str, int] = {}
    with engine.connect() as conn:
        for row in conn.execute(
            select(cs.c.school_code, cs.c.submission_id).order_by(cs.c.school_code, cs.c.week_ending.desc())
        ):
            latest.setdefault(row.school_code, row.submission_id)
        if not latest:
            return {}
        rows = conn.execute(
            select(ca.c.school_code, ca.c.class_name, ca.c.enrolled).where(
                ca.c.submission_id.in_(list(latest.values()))
            )
        )
        return {(r.school_code, fold(r.class_name)): int(r.enrolled) for r in rows if r.enrolled is not None}


def collect(
    engine: Engine,
    ref: Reference,
    settings: Settings,
    *,
    on_rejected: RejectionHook | None = None,
    on_accepted: AcceptanceHook | None = None,
    now: datetime | None = None,
) -> CollectionResult:
    now = now or datetime.now(UTC)
    found = scan(settings.inbox, settle_seconds=settings.settle_seconds, now=now)
    files = new_files(engine, found)
    result = CollectionResult(files_found=len(found))
    if not files:
        log.info("no new files among %d in the inbox", len(found))
        return result
    log.info("checking %d new files", len(files))
    checked = check_parsed(
        [read_workbook(f.path) for f in files],
        ref,
        today=now.astimezone(settings.timezone).date(),
        usual_rates=usual_rates(engine),
        attendance_drop=settings.attendance_drop_warning,
        usual_enrolment=usual_enrolment(engine),
    )
    for f, c in zip(files, checked, strict=True):
        if c.accepted:
            stored = store_accepted(engine, f, c, settings.archive_dir, now, on_accepted=on_accepted)
        else:
            stored = store_rejected(engine, f, c, settings.quarantine_dir, now, on_rejected=on_rejected)
        if stored is not None:
            result.stored.append(stored)
            log.info(
                "file %s: %s, school %s, week %s, submission %d (%s), %d errors [%s], %d warnings [%s]",
                safe_display_name(f.relative_path),
                stored.outcome,
                stored.school_code or "?",
                stored.week_ending or "?",
                stored.submission_id,
                f.sha256[:12],
                len(c.errors),
                rule_codes([i.rule for i in c.errors]),
                len(c.warnings),
                rule_codes([i.rule for i in c.warnings]),
            )
        else:
            log.info(
                "file %s (%s): already stored by another run, school %s, week %s",
                safe_display_name(f.relative_path),
                f.sha256[:12],
                c.school_code or "?",
                c.week_ending or "?",
            )
    refresh_weeks(engine, ref, settings, result.weeks, now=now)
    log.info("collection done: %s", result.summary())
    return result
