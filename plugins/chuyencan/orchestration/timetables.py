"""Run ids that say which week a run works on, and schedules that read in local time.

Airflow names a manual run `manual__2026-12-05T07:02:03+00:00`: nothing about the week it
closes. A timetable decides the ids of the runs it is asked about (manual triggers from the UI
or the REST API, backfills), so the chuyencan timetables name the week's Friday (the weekly
DAGs) or the report date (the fortnightly ones): `manual__week-2025-04-04__2026-12-05T07:02:03+00:00`.
The week comes from the run's logical date; a `week` param given to a manual run takes
precedence in the tasks (and the run note names the week actually worked on).

Registered with Airflow by `plugins/chuyencan_timetables.py` so the scheduler can rebuild them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from airflow.timetables.trigger import CronTriggerTimetable

from chuyencan.report.calendar_periods import friday_on_or_before

NAMED_RUN_TYPES = frozenset({"manual", "backfill"})


def named_run_id(
    *,
    run_type: Any,
    run_after: datetime,
    data_interval: Any,
    timezone: ZoneInfo,
    label: str,
    day_for: Callable[[date], date],
) -> str | None:
    """`<type>__<label>-<day>__<run_after>` for manual and backfill runs, None for the others."""
    if str(getattr(run_type, "value", run_type)) not in NAMED_RUN_TYPES:
        return None
    moment = getattr(data_interval, "end", None) or run_after
    day = day_for(moment.astimezone(timezone).date())
    return run_type.generate_run_id(suffix=f"{label}-{day.isoformat()}__{run_after.isoformat()}")


class WeeklyCron(CronTriggerTimetable):
    """A cron trigger (in local time) whose manual and backfill run ids name the week's Friday."""

    @property
    def summary(self) -> str:
        return f"{self.description} ({self._timezone.name})"

    @property
    def timezone(self) -> Any:
        return self._timezone

    @property
    def expression(self) -> str:
        return self._expression

    def generate_run_id(self, *, run_type: Any, run_after: Any, data_interval: Any, **extra: Any) -> str:
        named = named_run_id(
            run_type=run_type,
            run_after=run_after,
            data_interval=data_interval,
            timezone=ZoneInfo(self._timezone.name),
            label="week",
            day_for=friday_on_or_before,
        )
        return named or super().generate_run_id(
            run_type=run_type, run_after=run_after, data_interval=data_interval, **extra
        )
