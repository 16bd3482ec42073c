"""The fortnightly report's Airflow tasks and its 15:30 check (the DAG files only wire them).

Each task reads the settings from Airflow, works out the report date from the run's logical
date, calls one step of `chuyencan.report.pipeline` and returns counts or file paths (never
personal data). Heavy imports happen inside the tasks, never when a DAG file is parsed.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from airflow.sdk import get_current_context, task

from chuyencan.orchestration.dag_defaults import RETRY_ARGS

if TYPE_CHECKING:
    from chuyencan.core.settings import Settings

log = logging.getLogger(__name__)


def _settings() -> Settings:
    from chuyencan.orchestration.adapter import settings_from_airflow

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


@task(**RETRY_ARGS)
def check_report_is_out() -> dict:
    """At 15:30: the report dated today is out, or the district and the engineers are told."""
    from chuyencan.orchestration.adapter import SMTP_CONN_ID, smtp_configured
    from chuyencan.orchestration.smtp import airflow_smtp_sender
    from chuyencan.report.pipeline import check_report_out

    send = airflow_smtp_sender(SMTP_CONN_ID) if smtp_configured() else None
    return check_report_out(_settings(), run_report_date(), now=datetime.now(UTC), send=send)
