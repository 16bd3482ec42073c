"""The pipeline's Airflow tasks, shared by the DAG files (which only schedule and wire them).

Each task reads the settings from Airflow, calls one step of `chuyencan.submissions.pipeline` and returns
a small JSON summary (counts only: no personal data in XCom or logs). Heavy imports happen
inside the tasks, never when the scheduler parses a DAG file.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from airflow.sdk import get_current_context, task

from chuyencan.orchestration.dag_defaults import RETRY_ARGS

if TYPE_CHECKING:
    from chuyencan.core.settings import Settings


def _settings() -> Settings:
    from chuyencan.orchestration.adapter import settings_from_airflow

    return settings_from_airflow()


def run_week() -> date:
    """The Friday a run works on: its logical date's (a manual run without one: the last
    week that ended)."""
    from chuyencan.core.runs import friday_of

    context = get_current_context()
    moment = context.get("logical_date") or context["dag_run"].run_after
    return friday_of(moment, _settings())


@task(**RETRY_ARGS)
def prepare_warehouse() -> dict:
    from chuyencan.submissions.pipeline import prepare_warehouse as run

    return run(_settings())


@task(**RETRY_ARGS)
def collect_new_files() -> dict:
    from chuyencan.submissions.pipeline import collect_new_files as run

    return run(_settings())


@task(**RETRY_ARGS)
def close_the_week() -> dict:
    from chuyencan.submissions.pipeline import close_week

    return close_week(_settings(), run_week())


@task(**RETRY_ARGS)
def send_emails() -> dict:
    from chuyencan.orchestration.adapter import SMTP_CONN_ID, smtp_configured
    from chuyencan.orchestration.smtp import airflow_smtp_sender
    from chuyencan.submissions.pipeline import send_emails as run

    return run(_settings(), airflow_smtp_sender(SMTP_CONN_ID) if smtp_configured() else None)


@task(**RETRY_ARGS)
def write_next_week_templates() -> dict:
    from chuyencan.submissions.pipeline import write_templates

    return write_templates(_settings(), run_week() + timedelta(days=7))
