"""Defaults shared by the DAG files. Import-cheap on purpose: DAG files are parsed often."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param

from chuyencan.core.settings import REMINDER_TIME, TIMEZONE, weekly_run_time
from chuyencan.orchestration.failure_notifier import notify_engineers_of_failure

OWNER = "chuyencan-data-engineering"
START = datetime(2024, 9, 6, tzinfo=TIMEZONE)  # first Friday of school year 2024-25

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "depends_on_past": False,
    # A task stuck on a hung connection ends and is retried instead of holding the run until
    # its dagrun_timeout; tasks with more work set their own.
    "execution_timeout": timedelta(minutes=15),
}

# Every DAG: one email to the data engineers per failed run (see failure_notifier).
DAG_ARGS = {
    "default_args": DEFAULT_ARGS,
    "on_failure_callback": notify_engineers_of_failure,
}

# Manual runs of the weekly DAGs: which week (its Friday) to work on. Empty: the week of the
# run's logical date (a scheduled run's own Friday; for a manual run, the last week that ended).
WEEK_PARAMS = {
    "week": Param(
        None,
        type=["null", "string"],
        format="date",
        title="Week ending (Friday)",
        description="The Friday that ends the week to work on, e.g. 2025-04-04. Empty: the week "
        "of the run's logical date. Any date is taken to its week's Friday.",
    )
}

# Tasks that touch the warehouse or the mail server: transient failures get retried with
# growing gaps instead of paging someone at once.
RETRY_ARGS: dict[str, Any] = {
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
}


def weekly_cron() -> str:
    """Fridays at the weekly run time (after the schools' default deadline)."""
    at = weekly_run_time()
    return f"{at.minute} {at.hour} * * 5"


def reminder_cron() -> str:
    """Fridays at the default reminder time, before the schools' deadline."""
    return f"{REMINDER_TIME.minute} {REMINDER_TIME.hour} * * 5"


# How long a task may take before Airflow stops it (per task, well above measured times).
QUICK = timedelta(minutes=5)  # checks, reference data, announcing assets
LOAD = timedelta(minutes=30)  # reading and validating files, matching, sending mail
REPORT = timedelta(minutes=45)  # the fortnight's summary and Excel report
