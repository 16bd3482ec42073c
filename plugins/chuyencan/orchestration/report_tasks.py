"""The fortnightly report's Airflow tasks and its 15:30 check (the DAG files only wire them).

Each task reads the settings from Airflow, works out the report date from the run's logical
date, calls one step of `chuyencan.report.pipeline` and returns counts or file paths (never
personal data). Heavy imports happen inside the tasks, never when a DAG file is parsed.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from airflow.sdk import get_current_context, task

from chuyencan.orchestration.dag_defaults import LOAD, QUICK, REPORT, RETRY_ARGS
from chuyencan.orchestration.school_tasks import _settings, fail_without_retry

log = logging.getLogger(__name__)


def run_report_date() -> date:
    """The report a run publishes: the report Friday of its `week` param if given, else of its
    logical date (a manual run without one: the latest report Friday by the time it was
    triggered)."""
    from chuyencan.report.pipeline import report_date_for

    context = get_current_context()
    chosen = (context.get("params") or {}).get("week")
    moment = (
        date.fromisoformat(str(chosen))
        if chosen
        else context.get("logical_date") or context["dag_run"].run_after
    )
    return report_date_for(moment, _settings())


@task(task_id="close_both_weeks", execution_timeout=LOAD, **RETRY_ARGS)
def close_both_weeks() -> dict:
    """Every active school's status for both weeks of the fortnight (late files swept in since
    the weekly runs count). The district's weekly email is not sent again."""
    from chuyencan.report.pipeline import close_fortnight_weeks

    return close_fortnight_weeks(_settings(), run_report_date())


@task(execution_timeout=LOAD, **RETRY_ARGS)
def refresh_reconciliation() -> dict:
    """Police verdicts for the open cases (left the locality / still there / unverified)."""
    from chuyencan.report.pipeline import refresh_reconciliation as run

    return run(_settings())


@task(execution_timeout=LOAD, **RETRY_ARGS)
def flag_students_at_risk() -> dict:
    """Early warning into `restricted.student_risk`: chronic absence, rising absences, near the
    45-session limit, the school's own "at risk", a sibling who dropped out."""
    from chuyencan.report.pipeline import flag_students_at_risk as run

    return run(_settings(), run_report_date())


@task(execution_timeout=REPORT, **RETRY_ARGS)
def publish_fortnight_summary() -> dict:
    """`report.fortnight_summary` and `report.fortnight_breakdown` for the district, each level,
    commune and school. The run note gets the district's headline figures."""
    from chuyencan.orchestration.run_notes import add_to_run_note
    from chuyencan.report.pipeline import publish_fortnight_summary as run

    report_date = run_report_date()
    from chuyencan.core.runs import engine_for
    from chuyencan.report.status_board import district_headline, fortnight_note

    settings = _settings()
    summary = run(settings, report_date)
    headline = fortnight_note(report_date, district_headline(engine_for(settings.warehouse_url), report_date))
    add_to_run_note(headline, tier="headline")
    return summary


@task(execution_timeout=REPORT, **RETRY_ARGS)
def write_excel_report() -> dict:
    """The district's Excel report (+ Markdown/HTML twin) and its public version (small counts
    hidden) under `<work dir>/reports/`."""
    from chuyencan.report.pipeline import write_excel_report as run

    return run(_settings(), run_report_date())


@task(execution_timeout=REPORT, **RETRY_ARGS)
def write_school_risk_lists() -> dict:
    """One restricted list of at-risk students per school, for its principal."""
    from chuyencan.report.pipeline import write_school_risk_lists as run

    return run(_settings(), run_report_date())


@task(execution_timeout=QUICK, **RETRY_ARGS)
def email_district_report(files: dict) -> dict:
    """Queue the Excel report to the district office (aggregates only); sent by send_emails."""
    from chuyencan.report.pipeline import email_district_report as run

    return run(_settings(), run_report_date(), files)


@task(execution_timeout=QUICK, **RETRY_ARGS)
def check_report_is_out() -> dict:
    """At 15:30: the report dated today is out, or the district and the engineers are told and
    this task ends red (without retrying, which would alert them again)."""
    from chuyencan.orchestration.adapter import SMTP_CONN_ID, smtp_configured
    from chuyencan.orchestration.run_notes import add_to_run_note
    from chuyencan.orchestration.smtp import airflow_smtp_sender
    from chuyencan.report.pipeline import ReportDeadlineMissed, check_report_out

    send = airflow_smtp_sender(SMTP_CONN_ID) if smtp_configured() else None
    report_date = run_report_date()
    try:
        seen = check_report_out(_settings(), report_date, now=datetime.now(UTC), send=send)
    except ReportDeadlineMissed as missed:
        add_to_run_note(f"DEADLINE MISSED: {missed}", tier="alert")
        fail_without_retry(str(missed))
        raise
    add_to_run_note(
        tier="headline",
        line=f"report {report_date.isoformat()} "
        + ("is out" if seen["published"] else "not out (past fortnight: no alert)"),
    )
    return seen
