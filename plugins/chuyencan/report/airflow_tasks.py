"""The fortnightly report's Airflow tasks and its deadline callback (the DAG file only wires them).

Each task reads the settings from Airflow, works out the report date from the run's logical
date, calls one step of `chuyencan.report.pipeline` and returns counts or file paths (never
personal data). Heavy imports happen inside the tasks, never when a DAG file is parsed.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import get_current_context, task

from chuyencan.dag_defaults import RETRY_ARGS

if TYPE_CHECKING:
    from chuyencan.settings import Settings

log = logging.getLogger(__name__)


def _settings() -> Settings:
    from chuyencan.airflow_adapter import settings_from_airflow

    return settings_from_airflow()


def run_report_date() -> date:
    """The report a run publishes: its logical date's report Friday (a manual run without a
    logical date: the latest report Friday by the time it was triggered)."""
    from chuyencan.report.pipeline import report_date_for

    context = get_current_context()
    moment = context.get("logical_date") or context["dag_run"].run_after
    return report_date_for(moment, _settings())


@task(task_id="close_both_weeks", **RETRY_ARGS)
def close_both_weeks() -> dict:
    from chuyencan.report.pipeline import close_fortnight_weeks

    return close_fortnight_weeks(_settings(), run_report_date())


@task(**RETRY_ARGS)
def refresh_reconciliation() -> dict:
    from chuyencan.report.pipeline import refresh_reconciliation as run

    return run(_settings())


@task(**RETRY_ARGS)
def flag_students_at_risk() -> dict:
    from chuyencan.report.pipeline import flag_students_at_risk as run

    return run(_settings(), run_report_date())


@task(**RETRY_ARGS)
def publish_fortnight_summary() -> dict:
    from chuyencan.report.pipeline import publish_fortnight_summary as run

    return run(_settings(), run_report_date())


@task(**RETRY_ARGS)
def write_excel_report() -> dict:
    from chuyencan.report.pipeline import write_excel_report as run

    return run(_settings(), run_report_date())


@task(**RETRY_ARGS)
def write_school_risk_lists() -> dict:
    from chuyencan.report.pipeline import write_school_risk_lists as run

    return run(_settings(), run_report_date())


@task(**RETRY_ARGS)
def email_district_report(files: dict) -> dict:
    from chuyencan.report.pipeline import email_district_report as run

    return run(_settings(), run_report_date(), files)


def report_deadline_missed(context: dict[str, Any] | None = None, **_: Any) -> bool:
    """Deadline callback (`DeadlineAlert` of the `fortnightly_report` DAG): the report is not
    out 30 minutes after its 15:00 run. Emails the district and the data engineers.

    Airflow runs it outside any task (executor or dag-processor), with a context holding the
    run as JSON. A catch-up run of an old fortnight misses its deadline the moment it is
    created; only the current fortnight's report alerts anyone, so a backfill is not a flood.
    """
    from chuyencan.mail.smtp import airflow_smtp_sender
    from chuyencan.report.calendar_periods import report_date_on_or_before
    from chuyencan.report.pipeline import report_date_for, send_deadline_alert

    settings = _settings()
    run = (context or {}).get("dag_run") or {}
    logical = run.get("logical_date") or run.get("run_after")
    moment = datetime.fromisoformat(logical) if isinstance(logical, str) else logical
    if moment is None:
        log.error("deadline missed by a run without a logical date: %s", run.get("run_id"))
        return False
    report_date = report_date_for(moment, settings)
    current = report_date_on_or_before(datetime.now(settings.timezone).date())
    if report_date != current:
        log.info(
            "catch-up run for %s missed its deadline; no alert (current report: %s)", report_date, current
        )
        return False
    return send_deadline_alert(
        settings,
        report_date,
        recipients=[*settings.district_emails, *settings.engineer_emails],
        dag_id=str(run.get("dag_id", "fortnightly_report")),
        run_id=str(run.get("run_id", "")),
        state=str(run.get("state", "")),
        send=airflow_smtp_sender(),
    )
