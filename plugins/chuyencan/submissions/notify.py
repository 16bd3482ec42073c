"""Who is told what: rejections and warnings to schools, the weekly summary to the district.

Messages are queued in the outbox (`ops.email_outbox`) inside the transaction that records
what they report, and sent by a separate step; an SMTP outage delays them, never loses or
repeats them. Nothing here puts a student's personal data in a message: issues carry masked
values only.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import Connection, Engine, select

from chuyencan.core import schema
from chuyencan.core.mail.outbox import queue_email, rewrite_unsent
from chuyencan.core.mail.render import (
    AcceptedWithWarningsContext,
    DistrictWeeklyContext,
    IssueLine,
    LateSchool,
    RejectedSchool,
    RejectionContext,
    SchoolRef,
    UnattributedFile,
    UnreadableFileContext,
    render_accepted_with_warnings,
    render_district_weekly,
    render_rejection,
    render_unreadable_file,
)
from chuyencan.core.reference import Reference, School
from chuyencan.core.settings import Settings
from chuyencan.core.sql import as_utc
from chuyencan.core.text import fold
from chuyencan.core.wording import catalogue
from chuyencan.submissions.collect import AcceptanceHook, RejectionHook
from chuyencan.submissions.inbox import InboxFile
from chuyencan.submissions.issues import Issue
from chuyencan.submissions.status import SchoolWeekStatus
from chuyencan.submissions.validate import CheckedFile


def school_hint(ref: Reference, relative_path: str) -> School | None:
    """The school a file's folder or name points to. Never used for data, only to tell the
    sender that a file it dropped could not be read."""
    parts = [fold(p) for p in PurePath(relative_path).parts]
    for school in ref.schools.values():
        code = fold(school.code)
        if any(code == p or p.startswith(code) for p in parts):
            return school
    return None


def issue_line(issue: Issue) -> IssueLine:
    return IssueLine(
        sheet=issue.sheet or "",
        row=issue.row,
        column=issue.header if issue.column else None,
        class_name=issue.class_name,
        value=issue.public_value,
        message=issue.message(),
        fix=issue.fix(),
    )


def _about_the_file(school: School, f: InboxFile, week: date, settings: Settings) -> dict[str, Any]:
    """What every email to a school about one of its files starts with."""
    return {
        "school_code": school.code,
        "school_name": school.name,
        "week_ending": week,
        "file_name": f.name,
        "received_at": f.received_at,
        "deadline": settings.deadline_for(week),
    }


JUNK_LISTED = 20  # files named in one email about unreadable files; the rest are counted


def rejection_hook(ref: Reference, settings: Settings) -> RejectionHook:
    """Queue the school's email in the same transaction that records its rejected file.

    One hook serves one collection run. Files that cannot be read at all (photos, PDFs, links)
    make one email per school per run, rewritten as more arrive, however many were dropped. A
    file that speaks for a school other than its folder's is reported to both schools and the
    district.
    """
    junk: dict[str, list[tuple[InboxFile, Issue]]] = {}

    def on_rejected(conn: Connection, f: InboxFile, checked: CheckedFile, _submission_id: int) -> None:
        school = ref.school(checked.school_code) if checked.school_code else None
        school = school or school_hint(ref, f.relative_path)
        recipients = [school.email] if school and school.email else list(settings.district_emails)
        moved = next((i for i in checked.errors if i.rule == "school_folder_differs"), None)
        if moved is not None:
            folder = ref.school(str(dict(moved.params).get("folder_school")))
            recipients = [
                *recipients,
                *([folder.email] if folder and folder.email else []),
                *settings.district_emails,
            ]
        if not recipients:
            return
        now = datetime.now(UTC)
        if not checked.parsed.readable or school is None or checked.week_ending is None:
            files = junk.setdefault(school.code if school else "", [])
            files.append((f, checked.errors[0]))
            email = render_unreadable_file(_unreadable_context(files, school))
            # Keyed by the run's first such file of the school (not a random run id): the same
            # files give the same email whichever worker or retry sends them.
            key = f"unreadable:{school.code if school else '_district'}:{files[0][0].sha256[:12]}"
            if len(files) > 1 and rewrite_unsent(conn, dedup_key=key, email=email):
                return
            queue_email(
                conn,
                dedup_key=key if len(files) == 1 else f"{key}:{len(files)}",
                kind="rejection",
                recipients=recipients,
                email=email,
                attachments=[],
                now=now,
            )
            return
        email = render_rejection(
            RejectionContext(
                **_about_the_file(school, f, checked.week_ending, settings),
                error_count=len(checked.errors),
                errors=[issue_line(i) for i in checked.errors],
                warnings=[issue_line(i) for i in checked.warnings],
            )
        )
        queue_email(
            conn,
            dedup_key=f"rejection:{f.sha256}",
            kind="rejection",
            recipients=recipients,
            email=email,
            attachments=[],
            now=now,
        )

    return on_rejected


def _unreadable_context(files: list[tuple[InboxFile, Issue]], school: School | None) -> UnreadableFileContext:
    """One file's problem, or several files' problems in one email."""
    f, first = files[-1]
    if len(files) == 1:
        return UnreadableFileContext(
            file_name=f.name,
            inbox_path=f.relative_path,
            received_at=f.received_at,
            problem=first.message(),
            fix=first.fix(),
            school_name=school.name if school else None,
        )
    listed = files[:JUNK_LISTED]
    more = len(files) - len(listed)
    problem = " ".join(f"({n}) “{x.name}”: {i.message()}" for n, (x, i) in enumerate(listed, start=1))
    if more:
        problem += catalogue("mail")["junk_files_more"].format(more=more)
    fixes = list(dict.fromkeys(i.fix() for _, i in listed))
    return UnreadableFileContext(
        file_name=catalogue("mail")["junk_files_count"].format(count=len(files)),
        inbox_path="; ".join(x.relative_path for x, _ in listed) + ("; …" if more else ""),
        received_at=max(x.received_at for x, _ in files),
        problem=problem,
        fix=" ".join(fixes),
        school_name=school.name if school else None,
    )


def acceptance_hook(ref: Reference, settings: Settings) -> AcceptanceHook:
    """Queue the school's notice of warnings in the transaction that records its accepted file.
    A file without warnings needs no email: its school sees it counted in the weekly status."""

    def on_accepted(conn: Connection, f: InboxFile, checked: CheckedFile, _submission_id: int) -> None:
        school = ref.school(checked.school_code) if checked.school_code else None
        if not checked.warnings or school is None or not school.email or checked.week_ending is None:
            return
        email = render_accepted_with_warnings(
            AcceptedWithWarningsContext(
                **_about_the_file(school, f, checked.week_ending, settings),
                warnings=[issue_line(i) for i in checked.warnings],
            )
        )
        # A child the file shares with another school's dropout list: that school is told too.
        others = {
            str(dict(i.params).get("elsewhere_school"))
            for i in checked.warnings
            if i.rule == "dropout_listed_elsewhere"
        }
        also = [s.email for s in (ref.school(code) for code in sorted(others)) if s is not None and s.email]
        queue_email(
            conn,
            dedup_key=f"accepted_with_warnings:{f.sha256}",
            kind="accepted_with_warnings",
            recipients=[school.email, *also],
            email=email,
            attachments=[],
            now=datetime.now(UTC),
        )

    return on_accepted


def queue_district_weekly(
    engine: Engine, ref: Reference, settings: Settings, week: date, statuses: list[SchoolWeekStatus]
) -> bool:
    """Queue the district's summary of a week; a rerun with the same facts queues nothing."""
    if not settings.district_emails:
        return False
    names = {s.code: s.name for s in ref.schools.values()}
    sub = schema.ops_submission
    with engine.begin() as conn:
        rejected_rows = {
            r.school_code: r.summary
            for r in conn.execute(
                select(sub.c.school_code, sub.c.summary)
                .where(sub.c.week_ending == week, sub.c.outcome == "rejected")
                .order_by(sub.c.received_at)
            )
        }
        unattributed = [
            UnattributedFile(path=r.inbox_path, reason=r.summary or "", received_at=as_utc(r.received_at))
            for r in conn.execute(
                select(sub.c.inbox_path, sub.c.summary, sub.c.received_at).where(
                    sub.c.outcome == "rejected",
                    sub.c.school_code.is_(None),
                    sub.c.received_at >= _week_start_utc(settings, week),
                    sub.c.received_at < _week_start_utc(settings, week, weeks=1),
                )
            )
        ]
        ctx = DistrictWeeklyContext(
            week_ending=week,
            deadline=settings.deadline_for(week),
            expected=len(statuses),
            on_time=sum(s.status == "on_time" for s in statuses),
            late=[
                LateSchool(s.school_code, names[s.school_code], s.received_at)
                for s in statuses
                if s.status == "late" and s.received_at is not None
            ],
            missing=[
                SchoolRef(s.school_code, names[s.school_code]) for s in statuses if s.status == "missing"
            ],
            rejected=[
                RejectedSchool(
                    s.school_code,
                    names[s.school_code],
                    s.received_at,
                    s.error_count,
                    rejected_rows.get(s.school_code),
                )
                for s in statuses
                if s.status == "rejected"
            ],
            unattributed=unattributed,
        )
        email = render_district_weekly(ctx)
        digest = hashlib.sha256((email.subject + email.text).encode()).hexdigest()[:16]
        return queue_email(
            conn,
            dedup_key=f"district_weekly:{week.isoformat()}:{digest}",
            kind="district_weekly",
            recipients=list(settings.district_emails),
            email=email,
            attachments=[],
            now=datetime.now(UTC),
        )


def _week_start_utc(settings: Settings, week: date, weeks: int = 0) -> datetime:
    """Files dropped from the Saturday before a week's Friday belong to that week's summary."""
    saturday = week - timedelta(days=6) + timedelta(weeks=weeks)
    return datetime.combine(saturday, time(0), tzinfo=settings.timezone).astimezone(UTC)
