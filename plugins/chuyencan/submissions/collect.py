"""The collection step: new files in the inbox -> checked -> loaded or quarantined -> statuses.

Runs every few minutes on school days (feedback within minutes of a drop) and in every Friday
and fortnightly run (to sweep in late files). Bad input never fails the step: every file ends
loaded or quarantined with its reasons.

Each file is judged and stored on its own (docs/faults.md, "One hostile file"): its private
copy is read under the limits of `chuyencan.core.inbox`, a reader or checker failure on it
becomes its own rule, and a value the warehouse refuses rejects that file only. Files are
taken in batches, so a run that dies part-way keeps what it stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePath

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DataError, IntegrityError, StatementError

from chuyencan.core import schema
from chuyencan.core.inbox import (
    FILE_TOO_LARGE,
    SCHOOL_LIMITS,
    InboxFile,
    ReadMarks,
    Staging,
    staging_for,
    together_else_alone,
)
from chuyencan.core.reference import Reference
from chuyencan.core.settings import Settings
from chuyencan.core.text import fold, rule_codes, safe_display_name
from chuyencan.submissions.inbox import new_files, scan
from chuyencan.submissions.issues import Issue
from chuyencan.submissions.load import Stored, store_accepted, store_rejected
from chuyencan.submissions.reader import ParsedWorkbook, read_workbook
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


BATCH_FILES = 1000  # one GX validation per batch (its cost is mostly fixed); memory bounded


def listed_dropouts(engine: Engine) -> dict[str, str]:
    """Personal ID -> school, of the dropouts on each school's latest accepted list: so a child
    another school also lists as a dropout is pointed out to both (counted once: fortnight_summary.sql).
    Stays in memory; the IDs are never logged or shown."""
    cs, se = schema.ops_current_submission, schema.restricted_student_entry
    latest = (
        select(cs.c.school_code, func.max(cs.c.week_ending).label("week_ending"))
        .group_by(cs.c.school_code)
        .subquery()
    )
    query = (
        select(se.c.personal_id, se.c.school_code)
        .join(cs, cs.c.submission_id == se.c.submission_id)
        .join(latest, (latest.c.school_code == cs.c.school_code) & (latest.c.week_ending == cs.c.week_ending))
        .where(se.c.status == "bo_hoc", se.c.personal_id.is_not(None))
    )
    with engine.connect() as conn:
        return dict(conn.execute(query).tuples().all())


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
    found = scan(settings.inbox, settle_seconds=settings.settle_seconds, now=now, limits=SCHOOL_LIMITS)
    files = new_files(engine, found)
    result = CollectionResult(files_found=len(found))
    if not files:
        log.info("no new files among %d in the inbox", len(found))
        return result
    log.info("checking %d new files", len(files))
    rates, enrolment, elsewhere = usual_rates(engine), usual_enrolment(engine), listed_dropouts(engine)
    today = now.astimezone(settings.timezone).date()
    staging = staging_for(settings.work_dir, SCHOOL_LIMITS)
    marks = ReadMarks(settings.work_dir / "reading")
    codes = {fold(code): code for code in ref.schools}
    try:
        for start in range(0, len(files), BATCH_FILES):
            batch = [staging.take(f) for f in files[start : start + BATCH_FILES]]
            parsed = [_read(f, marks) for f in batch]
            checked = _check(
                parsed,
                ref,
                today=today,
                rates=rates,
                drop=settings.attendance_drop_warning,
                enrolment=enrolment,
                elsewhere=elsewhere,
            )
            for f, c in zip(batch, checked, strict=True):
                _verify(f, c, codes)
                stored = _store(
                    engine,
                    f,
                    c,
                    settings=settings,
                    now=now,
                    staging=staging,
                    on_accepted=on_accepted,
                    on_rejected=on_rejected,
                )
                marks.clear(f.sha256)
                if stored is None:
                    log.info(
                        "file %s (%s): already stored by another run, school %s, week %s",
                        safe_display_name(f.relative_path),
                        f.sha256[:12],
                        c.school_code or "?",
                        c.week_ending or "?",
                    )
                    continue
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
    finally:
        staging.clean()
    refresh_weeks(engine, ref, settings, result.weeks, now=now)
    log.info("collection done: %s", result.summary())
    return result


def inbox_issue(f: InboxFile) -> Issue:
    """The problem of a file the pipeline did not read (too large, unreadable, a link out)."""
    assert f.problem is not None
    params: tuple[tuple[str, object], ...] = ()
    if f.problem == FILE_TOO_LARGE:
        params = (
            ("size_mb", f.size // (1024 * 1024)),
            ("limit_mb", SCHOOL_LIMITS.file_bytes // (1024 * 1024)),
        )
    return Issue("error", f.problem, params=params)


def _read(f: InboxFile, marks: ReadMarks) -> ParsedWorkbook:
    if f.problem is not None:
        return ParsedWorkbook(path=f.path, issues=[inbox_issue(f)])
    if marks.crashed_before(f.sha256):
        log.warning("%s killed the reading process before: refused without reading it again", f.relative_path)
        return ParsedWorkbook(path=f.judged_path, issues=[Issue("error", "reader_failed")])
    with marks.reading(f.sha256):
        return read_workbook(f.judged_path, SCHOOL_LIMITS)


def _check(
    parsed: list[ParsedWorkbook],
    ref: Reference,
    *,
    today: date,
    rates: dict[str, float],
    drop: float,
    enrolment: dict[tuple[str, str], int],
    elsewhere: dict[str, str],
) -> list[CheckedFile]:
    """All files in one GX run; if that fails, each file alone, so a file that breaks the
    checker is rejected on its own instead of keeping the others out."""

    def run(files: list[ParsedWorkbook]) -> list[CheckedFile]:
        return check_parsed(
            files,
            ref,
            today=today,
            usual_rates=rates,
            attendance_drop=drop,
            usual_enrolment=enrolment,
            dropouts_elsewhere=elsewhere,
        )

    def broken(p: ParsedWorkbook) -> CheckedFile:
        unread = ParsedWorkbook(path=p.path, issues=[Issue("error", "reader_failed")])
        return CheckedFile(path=p.path, parsed=unread, issues=list(unread.issues))

    return together_else_alone(parsed, run, broken, lambda p: p.path.name)


def folder_school(codes: dict[str, str], relative_path: str) -> str | None:
    """The school whose code names the file's top folder in the inbox, if one does
    (`codes`: folded code -> code)."""
    parts = PurePath(relative_path).parts
    return codes.get(fold(parts[0])) if len(parts) >= 2 else None


def _verify(f: InboxFile, c: CheckedFile, codes: dict[str, str]) -> None:
    """Trust, but verify, what the file says about itself."""
    folder = folder_school(codes, f.relative_path)
    if folder is not None and c.school_code is not None and c.school_code != folder:
        # A file in one school's folder that speaks for another: held, never replacing the
        # other school's week; both schools and the district are told (notify.rejection_hook).
        c.issues.insert(
            0,
            Issue(
                "error",
                "school_folder_differs",
                params=(("folder_school", folder), ("school", c.school_code)),
            ),
        )
    if f.future_dated:
        c.issues.append(Issue("warning", "file_dated_in_future"))


def _store(
    engine: Engine,
    f: InboxFile,
    c: CheckedFile,
    *,
    settings: Settings,
    now: datetime,
    staging: Staging,
    on_accepted: AcceptanceHook | None,
    on_rejected: RejectionHook | None,
) -> Stored | None:
    if c.accepted:
        try:
            return store_accepted(
                engine, f, c, settings.archive_dir, now, staging=staging, on_accepted=on_accepted
            )
        except (DataError, StatementError, OverflowError) as exc:
            if isinstance(exc, IntegrityError) or not _refused_value(exc):
                raise
            # A value the checks let through and the warehouse refuses: this file's problem,
            # never the run's. The error's text is not logged: it may quote a child's row.
            log.warning(
                "the warehouse refused a value of %s (%s): quarantined", f.relative_path, type(exc).__name__
            )
            c.issues.insert(0, Issue("error", "value_not_storable"))
    return store_rejected(
        engine, f, c, settings.quarantine_dir, now, staging=staging, on_rejected=on_rejected
    )


def _refused_value(exc: Exception) -> bool:
    """A refused value (overflow, too long, bad encoding), not a lost connection or a lock."""
    from sqlalchemy.exc import OperationalError

    return not isinstance(exc, OperationalError | IntegrityError)
