"""What the undisturbed run must show, checked against the sample generator's ground truth
(truth/*.csv beside the generated files) and the reference data, never against the pipeline's
own output. Counts and codes only: no personal data is printed."""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
from collections import Counter
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Connection, create_engine, text

from chuyencan.core.reference import Reference, load_reference


class CheckFailed(AssertionError):
    pass


def read_truth(sample: Path, name: str) -> list[dict[str, str]]:
    with (sample / "truth" / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _differences(a: dict, b: dict, show: int = 5) -> list:
    return sorted(set(a.items()) ^ set(b.items()), key=str)[:show]


def check_files(conn: Connection, sample: Path) -> str:
    files = {r["path"].removeprefix("inbox/"): r["expected_outcome"] for r in read_truth(sample, "files.csv")}
    got = dict(conn.execute(text("SELECT inbox_path, outcome FROM ops.submission")).all())
    if got != files:
        raise CheckFailed(
            f"ops.submission: {len(got)} files, {len(files)} generated: {_differences(got, files)}"
        )
    rejected = sum(o == "rejected" for o in files.values())
    return f"ops.submission: all {len(files)} files, {rejected} rejected, each outcome as generated"


def check_statuses(conn: Connection, sample: Path, ref: Reference, fridays: list[date]) -> str:
    expected = {
        (r["week_ending"], r["school_code"]): r["expected_status"]
        for r in read_truth(sample, "submissions.csv")
    }
    rows = conn.execute(text("SELECT week_ending, school_code, status FROM report.submission_status"))
    status = {(str(w), s): st for w, s, st in rows}
    for friday in fridays:
        active = {s.code for s in ref.active_schools(friday)} if ref.is_school_week(friday) else set()
        week = {s for (w, s) in status if w == friday.isoformat()}
        if week != active:
            raise CheckFailed(f"report.submission_status {friday}: {len(week)} schools, {len(active)} active")
    if status != expected:
        raise CheckFailed(
            f"report.submission_status differs from the ground truth: {_differences(status, expected)}"
        )
    kinds = Counter(status.values())
    return f"report.submission_status: {len(status)} school-weeks, every active school, as generated ({dict(kinds)})"


def check_attendance(conn: Connection, sample: Path) -> str:
    expected = {
        (r["week_ending"], r["school_code"], int(r["grade"])): (
            int(r["enrolled"]),
            int(r["absent_excused"]),
            int(r["absent_unexcused"]),
        )
        for r in read_truth(sample, "attendance.csv")
        if r["in_accepted_file"] == "yes"
    }
    rows = conn.execute(
        text(
            "SELECT week_ending, school_code, grade, enrolled, absent_excused, absent_unexcused FROM report.attendance_weekly"
        )
    )
    got = {(str(w), s, g): (e, x, u) for w, s, g, e, x, u in rows}
    if not got or got != expected:
        raise CheckFailed(
            f"report.attendance_weekly: {len(got)} rows, {len(expected)} expected: {_differences(got, expected)}"
        )
    return f"report.attendance_weekly: {len(got)} rows, enrolment and absences as generated"


def check_verdicts(conn: Connection) -> str:
    n = conn.execute(text("SELECT count(*) FROM restricted.case_verdict")).scalar_one()
    if not n:
        raise CheckFailed("restricted.case_verdict is empty after police_reconciliation")
    return f"restricted.case_verdict: {n} verdicts (counted only)"


def check_fortnight(conn: Connection, ref: Reference, report_days: list[date]) -> str:
    rows = conn.execute(
        text(
            "SELECT report_date, schools_expected, submissions_on_time + submissions_late"
            " + submissions_missing + submissions_rejected AS submissions"
            " FROM report.fortnight_summary WHERE scope = 'district' ORDER BY report_date"
        )
    ).all()
    if [r.report_date for r in rows] != report_days:
        raise CheckFailed(
            f"report.fortnight_summary: district rows for {[r.report_date for r in rows]}, expected {report_days}"
        )
    for r in rows:
        # Submissions are counted per school-week (docs/contracts.md#5-warehouse): every active school in each
        # school week of the two.
        weeks = [r.report_date - timedelta(days=7), r.report_date]
        school_weeks = sum(len(ref.active_schools(w)) for w in weeks if ref.is_school_week(w))
        if r.schools_expected != len(ref.active_schools(r.report_date)) or r.submissions != school_weeks:
            raise CheckFailed(
                f"report.fortnight_summary {r.report_date}: {r.schools_expected} schools expected and "
                f"{r.submissions} submissions counted; {school_weeks} school-weeks are due"
            )
    scopes = conn.execute(text("SELECT scope, count(*) FROM report.fortnight_summary GROUP BY scope")).all()
    return f"report.fortnight_summary: report dates {', '.join(map(str, report_days))}, rows by scope {dict(scopes)}"


def check_warehouse(
    url: str, sample: Path, dag_ids: list[str], fridays: list[date], report_days: list[date]
) -> list[str]:
    ref = load_reference()
    engine = create_engine(url, hide_parameters=True)
    try:
        with engine.connect() as conn:
            out = [
                check_files(conn, sample),
                check_statuses(conn, sample, ref, fridays),
                check_attendance(conn, sample),
            ]
            if "police_reconciliation" in dag_ids:
                out.append(check_verdicts(conn))
            if "fortnightly_report" in dag_ids:
                out.append(check_fortnight(conn, ref, report_days))
    finally:
        engine.dispose()
    return out


def read_mail(folder: Path) -> list[EmailMessage]:
    paths = sorted(folder.glob("*.eml"), key=lambda p: int(p.stem))
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]  # type: ignore[misc]


def mail_key(message: EmailMessage) -> tuple[str, str, str]:
    """What a reader gets: recipients, subject, body (Date and Message-ID aside)."""
    body = message.get_body(preferencelist=("html", "plain"))
    content = body.get_content() if body is not None else ""
    return (str(message["To"]), str(message["Subject"]), hashlib.sha256(content.encode()).hexdigest()[:12])


def check_mail(messages: list[EmailMessage], sample: Path, district: str, fridays: list[date]) -> str:
    ref = load_reference()
    to = Counter(str(m["To"]) for m in messages)
    rejected = [r for r in read_truth(sample, "files.csv") if r["expected_outcome"] == "rejected"]
    for r in rejected:
        address = ref.schools[r["school_code"]].email
        if not to.get(address):
            raise CheckFailed(f"no email reached {r['school_code']} about its rejected file")
    weeks = [f for f in fridays if ref.is_school_week(f)]
    if to.get(district, 0) < len(weeks):
        raise CheckFailed(
            f"the district received {to.get(district, 0)} emails, expected at least {len(weeks)}"
        )
    schools = sum(n for address, n in to.items() if address != district)
    return (
        f"emails: {len(messages)} received by the SMTP server: {schools} to schools (rejections and warnings; every school with one of "
        f"the {len(rejected)} rejected files told), {to[district]} to the district (>= one per closed week)"
    )
