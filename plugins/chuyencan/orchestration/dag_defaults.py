"""Defaults shared by the DAG files. Import-cheap on purpose: DAG files are parsed often."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chuyencan.core.settings import TIMEZONE, weekly_run_time

OWNER = "chuyencan-data-engineering"
START = datetime(2024, 9, 6, tzinfo=TIMEZONE)  # first Friday of school year 2024-25

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "depends_on_past": False,
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
