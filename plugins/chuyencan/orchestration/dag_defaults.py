"""Defaults shared by the DAG files. Import-cheap on purpose: DAG files are parsed often."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

TIMEZONE_NAME = "Asia/Ho_Chi_Minh"
LOCAL = ZoneInfo(TIMEZONE_NAME)
OWNER = "chuyencan-data-engineering"
START = datetime(2024, 9, 6, tzinfo=LOCAL)  # first Friday of school year 2024-25

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
