"""The fortnightly report's Airflow tasks and its deadline check (the DAG files only wire them).

Each task reads the settings from Airflow, works out the report date from the run's logical
date, runs one step of `chuyencan.orchestration.fortnight` and returns counts or file paths (never
personal data). Heavy imports happen inside the tasks, never when a DAG file is parsed.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

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


def _step_task(name: str) -> Any:
    """The Airflow task that runs the step `name` for the run's report date; the results of
    the steps it reads arrive as keyword arguments (XCom)."""

    def run_step(**inputs: dict) -> dict:
        from chuyencan.orchestration.fortnight import FortnightRun, step_named
        from chuyencan.orchestration.school_tasks import mail_sender

        run = FortnightRun(_settings(), run_report_date(), mail_sender=mail_sender, results=dict(inputs))
        return step_named(name).run(run)

    return task(task_id=name, multiple_outputs=True, **RETRY_ARGS)(run_step)


def fortnight_tasks() -> None:
    """Inside a DAG: one task per step of `FORTNIGHT_STEPS`, each after the steps it waits for."""
    from chuyencan.orchestration.fortnight import FORTNIGHT_STEPS, upstream

    made: dict[str, Any] = {}
    for step in FORTNIGHT_STEPS:
        made[step.name] = _step_task(step.name)(**{name: made[name] for name in step.needs})
        for name in upstream(step):
            made[name] >> made[step.name]


@task(**RETRY_ARGS)
def check_report_is_out() -> dict:
    """At the report deadline: the report dated today is out, or the district and the engineers
    are told."""
    from chuyencan.orchestration.school_tasks import mail_sender
    from chuyencan.report.pipeline import check_report_out

    return check_report_out(_settings(), run_report_date(), now=datetime.now(UTC), send=mail_sender())
