"""The fortnightly report's procedure as plain functions of the settings and the report date.

Each task of the `fortnightly_report` DAG calls one of these; tests, benchmarks and the demo
call them directly. The report dated Friday F covers the school weeks ending F-7 and F. Every
step replaces what an earlier run of the same date wrote, so a rerun leaves the same state.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from chuyencan.core.runs import engine_for, friday_of, reference_for
from chuyencan.core.settings import Settings
from chuyencan.report.calendar_periods import Fortnight, report_date_on_or_before

if TYPE_CHECKING:
    from chuyencan.core.mail.outbox import OutgoingEmail

log = logging.getLogger(__name__)

RECONCILE_MODULE = "chuyencan.police.pipeline"


def report_date_for(moment: datetime | date, settings: Settings) -> date:
    """The report a run publishes: the latest report Friday on or before its logical date
    (a scheduled run's logical date is the report Friday itself)."""
    return report_date_on_or_before(friday_of(moment, settings))


def reports_dir(settings: Settings) -> Path:
    """Where the report files go; per-school lists of at-risk students go in its `restricted/`."""
    return settings.work_dir / "reports"


def close_fortnight_weeks(
    settings: Settings, report_date: date, now: datetime | None = None
) -> dict[str, object]:
    """Every active school's submission status for both weeks of the fortnight.

    The district's weekly email is the weekly DAG's job and is not queued again here.
    """
    from chuyencan.submissions.status import refresh_weeks

    ref = reference_for(settings)
    weeks = {w for w in Fortnight(report_date).weeks if ref.is_school_week(w)}
    statuses = refresh_weeks(engine_for(settings.warehouse_url), ref, settings, weeks, now=now)
    counts = {s: sum(x.status == s for x in statuses) for s in ("on_time", "late", "missing", "rejected")}
    return {
        "report_date": report_date.isoformat(),
        "school_weeks": sorted(w.isoformat() for w in weeks),
        **counts,
    }


def refresh_reconciliation(settings: Settings) -> dict[str, object]:
    """Police reconciliation first, so the report counts fresh verdicts; without it, every case
    is reported unverified."""
    if importlib.util.find_spec(RECONCILE_MODULE) is None:
        log.warning("police reconciliation is not installed: every case is reported as unverified")
        return {"reconciled": False}
    module = importlib.import_module(RECONCILE_MODULE)
    result = module.reconcile(settings)
    summary = result if isinstance(result, dict) else {"result": str(result)}
    return {"reconciled": True, **summary}


def flag_students_at_risk(settings: Settings, report_date: date) -> dict[str, object]:
    from chuyencan.report.early_warning import flag_students

    result = flag_students(engine_for(settings.warehouse_url), reference_for(settings), settings, report_date)
    return result.as_dict()


def publish_fortnight_summary(settings: Settings, report_date: date) -> dict[str, object]:
    """The summary table, then warnings to schools whose dropout lists disagree with the calendar."""
    from chuyencan.report.school_warnings import warn_schools
    from chuyencan.report.summary import publish_summary

    engine, ref = engine_for(settings.warehouse_url), reference_for(settings)
    result = publish_summary(engine, ref, settings, report_date)
    warnings = warn_schools(engine, ref, settings, report_date)
    return {**result.as_dict(), "calendar_warnings": warnings}


def write_excel_report(settings: Settings, report_date: date) -> dict[str, str]:
    """The district's report (.xlsx, .md, .html) and its public version (small counts hidden)."""
    from chuyencan.report.content import load_content, load_issuer
    from chuyencan.report.excel import write_report_files
    from chuyencan.report.public import write_public_report

    engine, ref = engine_for(settings.warehouse_url), reference_for(settings)
    content = load_content(engine, report_date, ref, max_sessions=settings.eligibility_max_sessions)
    issuer = load_issuer()
    files = write_report_files(content, issuer, reports_dir(settings))
    public = write_public_report(content, issuer, reports_dir(settings))
    return {
        "xlsx": str(files.xlsx),
        "markdown": str(files.markdown),
        "html": str(files.html),
        "public_xlsx": str(public.xlsx),
        "public_csv": str(public.csv),
    }


def write_school_risk_lists(settings: Settings, report_date: date) -> dict[str, object]:
    from chuyencan.report.lists import write_school_risk_lists as write_lists

    paths = write_lists(
        engine_for(settings.warehouse_url),
        report_date,
        reports_dir(settings),
        reference_for(settings),
        max_sessions=settings.eligibility_max_sessions,
    )
    # Paths only name school codes and dates; the files themselves are restricted.
    return {"report_date": report_date.isoformat(), "school_lists": len(paths)}


def email_district_report(settings: Settings, report_date: date, files: dict[str, str]) -> dict[str, object]:
    from chuyencan.report.email import queue_district_report
    from chuyencan.report.files import ReportFiles

    report_files = ReportFiles(
        xlsx=Path(files["xlsx"]), markdown=Path(files["markdown"]), html=Path(files["html"])
    )
    queued = queue_district_report(engine_for(settings.warehouse_url), settings, report_date, report_files)
    return {"report_date": report_date.isoformat(), "queued": bool(queued)}


def publish_fortnight(
    settings: Settings, report_date: date, now: datetime | None = None
) -> dict[str, object]:
    """The whole procedure after collection, in the DAG's order, for scripts and benchmarks."""
    out: dict[str, object] = {"close": close_fortnight_weeks(settings, report_date, now=now)}
    out["reconciliation"] = refresh_reconciliation(settings)
    out["at_risk"] = flag_students_at_risk(settings, report_date)
    out["summary"] = publish_fortnight_summary(settings, report_date)
    files = write_excel_report(settings, report_date)
    out["files"] = files
    out["school_lists"] = write_school_risk_lists(settings, report_date)
    out["district_email"] = email_district_report(settings, report_date, files)
    return out


DEADLINE_AFTER_RUN = timedelta(minutes=30)  # the run starts 15:00; the district expects it by 15:30
RUN_STATE_LABELS = {
    "not_published": "chưa có bảng tổng hợp hoặc tệp báo cáo Excel của kỳ này",
    "warehouse_unreachable": "không truy cập được kho dữ liệu",
}


def deadline_of(report_date: date, settings: Settings) -> datetime:
    """15:30 on the report Friday, local time."""
    return datetime.combine(report_date, time(15, 0), tzinfo=settings.timezone) + DEADLINE_AFTER_RUN


def report_is_out(settings: Settings, report_date: date) -> bool:
    """Published: the district's summary row for the date is in the warehouse and the Excel
    report is written (what the district reads and what it files)."""
    from sqlalchemy import func, select

    from chuyencan.core.schema import fortnight_summary as t
    from chuyencan.report.files import report_files

    query = select(func.count()).where(t.c.report_date == report_date, t.c.scope == "district")
    with engine_for(settings.warehouse_url).connect() as conn:
        rows = conn.execute(query).scalar_one()
    return rows > 0 and report_files(reports_dir(settings), report_date).xlsx.exists()


def check_report_out(
    settings: Settings,
    report_date: date,
    *,
    now: datetime,
    send: Callable[[OutgoingEmail], None] | None,
) -> dict[str, object]:
    """At the deadline: is the report out? If not, alert the district and the engineers.

    Only the current fortnight's report alerts anyone: a check of an older date (a manual run,
    or the scheduler's first run while the report DAG still catches up) only says what it saw.
    An unreachable warehouse counts as "not out": it is one of the reasons a report is late.
    """
    from sqlalchemy.exc import SQLAlchemyError

    summary: dict[str, object] = {
        "report_date": report_date.isoformat(),
        "published": False,
        "alerted": False,
    }
    state = "not_published"
    try:
        summary["published"] = report_is_out(settings, report_date)
    except SQLAlchemyError as exc:
        log.warning("cannot tell whether report %s is out: %s", report_date, type(exc).__name__)
        state = "warehouse_unreachable"
    if summary["published"]:
        log.info("report %s is out", report_date)
        return summary
    current = report_date_on_or_before(now.astimezone(settings.timezone).date())
    if report_date != current:
        log.info("report %s is not out; not the current fortnight (%s), so no alert", report_date, current)
        return summary
    recipients = [*settings.district_emails, *settings.engineer_emails]
    if send is None:
        raise RuntimeError(
            f"report {report_date} is not out by its deadline and no SMTP connection is configured "
            f"to alert {len(recipients)} recipients"
        )
    summary["alerted"] = send_deadline_alert(
        settings, report_date, recipients=recipients, dag_id="fortnightly_report", state=state, send=send
    )
    return summary


def send_deadline_alert(
    settings: Settings,
    report_date: date,
    *,
    recipients: Sequence[str],
    dag_id: str,
    state: str,
    send: Callable[[OutgoingEmail], None],
) -> bool:
    """Tell the district and the engineers that the report is not out by its deadline.

    Sent straight through the mail server, not the outbox: the outbox lives in the warehouse
    and is emptied by a later task of the very run that is late, either of which may be what
    broke. False when there is nobody to tell.
    """
    from chuyencan.core.mail.outbox import OutgoingEmail
    from chuyencan.core.mail.render import render_email

    if not recipients:
        log.warning("report %s missed its deadline and no recipients are configured", report_date)
        return False
    week_1, week_2 = Fortnight(report_date).weeks
    rendered = render_email(
        "report_deadline_missed",
        report_date=report_date,
        week_1=week_1,
        week_2=week_2,
        deadline=deadline_of(report_date, settings),
        dag_id=dag_id,
        state_label=RUN_STATE_LABELS.get(state, state),
    )
    send(
        OutgoingEmail(
            email_id=0,
            recipients=list(dict.fromkeys(recipients)),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            attachments=[],
            dedup_key=f"report_deadline:{report_date.isoformat()}",
        )
    )
    log.warning("report %s missed its deadline: %d recipients alerted", report_date, len(recipients))
    return True
