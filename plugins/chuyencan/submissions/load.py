"""Store a checked file: load it (accepted) or quarantine it (rejected), one transaction each.

A file's rows, its submission record and everything derived from it are written in one
transaction keyed on the file's content hash, so a crash mid-load leaves nothing behind and a
rerun finds the file again. The copy in the archive or quarantine is named by hash and
written first, so repeating it is harmless.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, Engine, String, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from chuyencan.core import schema
from chuyencan.core import warehouse as wh
from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET, reason_code
from chuyencan.core.inbox import InboxFile, Staging, safe_name
from chuyencan.core.organisation import UNASSIGNED_UNIT
from chuyencan.core.sql import as_utc, sql
from chuyencan.core.text import fold
from chuyencan.core.wording import Wording, severity_label
from chuyencan.submissions.issues import Issue
from chuyencan.submissions.validate import CheckedFile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    submission_id: int
    outcome: str  # accepted / rejected / duplicate
    school_code: str | None
    week_ending: date | None
    version: int | None
    stored_path: Path


def student_key(personal_id: Any, full_name: Any, birth_date: Any, school_code: str) -> str:
    """Stable key of a student across a school's weekly lists (pseudonymous, stays restricted)."""
    if isinstance(personal_id, str) and len(personal_id) == 12:
        basis = f"id:{personal_id}"
    else:
        basis = f"{school_code}|{fold(full_name)}|{birth_date}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _submission_row(
    f: InboxFile, checked: CheckedFile, outcome: str, stored: Path, now: datetime
) -> dict[str, Any]:
    errors = checked.errors
    return {
        "sha256": f.sha256,
        "inbox_path": f.relative_path,
        "file_size": f.size,
        "received_at": f.received_at,
        "processed_at": now,
        "school_code": checked.school_code,
        "week_ending": checked.week_ending,
        "outcome": outcome,
        "error_count": len(errors),
        "warning_count": len(checked.warnings),
        "stored_path": str(stored),  # the record of a file not copied names where it would be
        "summary": errors[0].message() if errors else None,
    }


def _insert_issues(conn: Connection, submission_id: int, issues: list[Issue]) -> None:
    if not issues:
        return
    conn.execute(
        schema.ops_submission_issue.insert(),
        [
            {
                "submission_id": submission_id,
                "severity": i.severity,
                "sheet": i.sheet,
                "row": i.row,
                "column_key": i.column,
                "rule": i.rule,
                "value": i.public_value,
                "class_name": i.class_name,
            }
            for i in issues
        ],
    )


def _insert_submission(conn: Connection, row: dict[str, Any]) -> int | None:
    """Insert the submission record; None when another run already stored the same bytes."""
    exists = conn.execute(
        select(schema.ops_submission.c.submission_id).where(schema.ops_submission.c.sha256 == row["sha256"])
    ).first()
    if exists is not None:
        return None
    key = conn.execute(schema.ops_submission.insert().values(**row)).inserted_primary_key
    assert key is not None  # a single-row INSERT always has one
    return int(key[0])


def store_accepted(
    engine: Engine,
    f: InboxFile,
    checked: CheckedFile,
    archive_dir: Path,
    now: datetime,
    *,
    staging: Staging,
    on_accepted: Callable[[Connection, InboxFile, CheckedFile, int], None] | None = None,
) -> Stored | None:
    school, week = checked.school_code, checked.week_ending
    if school is None or week is None:  # guaranteed by the 'required' rules; never silently load
        raise ValueError(f"accepted file {f.relative_path} has no school or week")
    # A known school code and a date: the folder is ours, whatever the file says.
    target = archive_dir / school / week.isoformat() / stored_name(f)
    staging.keep(f, target)
    try:
        with engine.begin() as conn, wh.school_week_lock(conn, school, week):
            row = _submission_row(f, checked, "accepted", target, now)
            previous = conn.execute(
                select(func.count())
                .select_from(schema.ops_submission)
                .where(
                    schema.ops_submission.c.school_code == school,
                    schema.ops_submission.c.week_ending == week,
                    schema.ops_submission.c.outcome == "accepted",
                )
            ).scalar_one()
            row["version"] = previous + 1
            submission_id = _insert_submission(conn, row)
            if submission_id is None:
                return None
            _insert_classes(conn, submission_id, school, week, checked)
            _insert_students(conn, submission_id, school, week, checked)
            _insert_issues(conn, submission_id, checked.warnings)
            _make_current_if_newest(conn, school, week, submission_id, f.received_at)
            if on_accepted is not None:
                on_accepted(conn, f, checked, submission_id)
    except IntegrityError:
        # An overlapping run stored the same bytes first; that run's copy stands.
        log.info("submission %s already stored by another run", f.sha256[:12])
        return None
    except BaseException:
        staging.put_back(f, target)  # for the quarantine, if the caller rejects the file instead
        raise
    return Stored(submission_id, "accepted", school, week, row["version"], target)


def stored_name(f: InboxFile) -> str:
    """The name of a file's copy in the work dir: its hash, then its name made safe."""
    return f"{f.sha256[:16]}__{safe_name(f.name)}"


def _insert_classes(
    conn: Connection, submission_id: int, school: str, week: date, checked: CheckedFile
) -> None:
    cols = (
        "grade",
        "class_name",
        "enrolled",
        "school_days",
        "absent_excused",
        "absent_unexcused",
        "source_row",
    )
    rows = [
        {
            **{c: r[c] for c in cols},
            "submission_id": submission_id,
            "school_code": school,
            "week_ending": week,
        }
        for r in checked.records(CLASS_SHEET)
    ]
    conn.execute(schema.ops_class_attendance.insert(), rows)


def _insert_students(
    conn: Connection, submission_id: int, school: str, week: date, checked: CheckedFile
) -> None:
    cols = [c.name for c in STUDENT_SHEET.columns if c.name != "reason"] + ["source_row"]
    rows = []
    for r in checked.records(STUDENT_SHEET):
        reason = r["reason"]
        rows.append(
            {
                **{c: r[c] for c in cols},
                "submission_id": submission_id,
                "school_code": school,
                "week_ending": week,
                "student_key": student_key(r["personal_id"], r["full_name"], r["birth_date"], school),
                "reason_code": reason_code(reason) if reason else None,
                "reason_text": reason,
            }
        )
    if rows:
        conn.execute(schema.restricted_student_entry.insert(), rows)


def _make_current_if_newest(
    conn: Connection, school: str, week: date, submission_id: int, received_at: datetime
) -> None:
    """The file in effect for a school and week is the newest by file time, whatever the order
    in which files were processed."""
    cs, sub = schema.ops_current_submission, schema.ops_submission
    current = conn.execute(
        select(sub.c.submission_id, sub.c.received_at)
        .join(cs, cs.c.submission_id == sub.c.submission_id)
        .where(cs.c.school_code == school, cs.c.week_ending == week)
    ).first()
    if current is not None and as_utc(current.received_at) > as_utc(received_at):
        return
    conn.execute(cs.delete().where(cs.c.school_code == school, cs.c.week_ending == week))
    conn.execute(cs.insert().values(school_code=school, week_ending=week, submission_id=submission_id))
    rebuild_attendance(conn, school, week)


def rebuild_attendance(conn: Connection, school: str, week: date) -> None:
    aw = schema.report_attendance_weekly
    conn.execute(aw.delete().where(aw.c.school_code == school, aw.c.week_ending == week))
    conn.execute(
        text(sql("attendance_weekly.sql")).bindparams(
            bindparam("school_code", type_=String),
            bindparam("week_ending", type_=Date),
            bindparam("unassigned_unit", type_=String),
        ),
        {"school_code": school, "week_ending": week, "unassigned_unit": UNASSIGNED_UNIT},
    )


def store_rejected(
    engine: Engine,
    f: InboxFile,
    checked: CheckedFile,
    quarantine_dir: Path,
    now: datetime,
    *,
    staging: Staging,
    on_rejected: Callable[[Connection, InboxFile, CheckedFile, int], None] | None = None,
) -> Stored | None:
    # Only a known code names a folder (validate.check_parsed): text from the file never does.
    folder = (
        quarantine_dir
        / (checked.school_code or UNKNOWN_FOLDER)
        / (checked.week_ending.isoformat() if checked.week_ending else UNKNOWN_FOLDER)
    )
    target = folder / stored_name(f)
    copied = staging.keep(f, target)
    if not copied:
        # Over the size limit, unreadable, a link out of the inbox: no copy (the original
        # stays in the inbox); the reports beside where it would be say why.
        log.info("submission %s: no copy kept (%s)", f.sha256[:12], f.problem or "none taken")
    write_error_reports(target, f, checked, copied=copied)
    try:
        with engine.begin() as conn:
            row = _submission_row(f, checked, "rejected", target, now)
            submission_id = _insert_submission(conn, row)
            if submission_id is None:
                return None
            _insert_issues(conn, submission_id, checked.issues)
            if on_rejected is not None:
                on_rejected(conn, f, checked, submission_id)
    except IntegrityError:
        log.info("submission %s already stored by another run", f.sha256[:12])
        return None
    return Stored(submission_id, "rejected", checked.school_code, checked.week_ending, None, target)


UNKNOWN_FOLDER = "_unknown"


def write_error_reports(
    target: Path, f: InboxFile, checked: CheckedFile, *, copied: bool = True
) -> tuple[Path, Path]:
    """Beside the quarantined copy: `<file>.errors.json` for machines, `<file>.errors.txt` in
    Vietnamese for people. Personal values are masked in both."""
    issues = [i.public_dict() for i in checked.issues]
    target.parent.mkdir(parents=True, exist_ok=True)
    json_path = target.with_name(target.name + ".errors.json")
    json_path.write_text(
        json.dumps(
            {
                "file": f.relative_path,
                "sha256": f.sha256,
                "received_at": f.received_at.isoformat(),
                "school_code": checked.school_code,
                "week_ending": checked.week_ending.isoformat() if checked.week_ending else None,
                "error_count": len(checked.errors),
                "warning_count": len(checked.warnings),
                "copy_kept": copied,
                "issues": issues,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    w = Wording("quarantine_report")
    unreadable = w("unreadable")
    week = checked.week_ending.strftime("%d/%m/%Y") if checked.week_ending else unreadable
    lines = [
        w("file", path=f.relative_path),
        w("school", school=checked.school_code or unreadable),
        w("week", week=week),
        w("counts", errors=len(checked.errors), warnings=len(checked.warnings)),
        *([] if copied else [w("not_copied")]),
        "",
    ]
    for i in checked.issues:
        place = ", ".join(
            w(f"place.{part}", sheet=i.sheet, row=i.row, header=i.header, class_name=i.class_name)
            for part, given in (
                ("sheet", i.sheet),
                ("row", i.row),
                ("column", i.column),
                ("class", i.class_name),
            )
            if given
        )
        lines.append(
            w("issue", label=severity_label(i.severity), place=place, message=i.message(), fix=i.fix())
        )
    txt_path = target.with_name(target.name + ".errors.txt")
    txt_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return json_path, txt_path
