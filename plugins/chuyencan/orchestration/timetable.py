"""Every other Friday at 15:00 Vietnam time: when the district's fortnightly report is due.

No cron expression says "every other Friday", and `DeltaTriggerTimetable` drifts to "now" when
runs are not caught up. This timetable counts fortnights from a fixed Friday (4 April 2025,
`calendar_periods.FIRST_REPORT`), so the report Fridays never move: 4 Apr, 18 Apr, 2 May, …
Each run is at the exact moment (logical date = Friday 15:00 local), which is what the
report's 15:30 deadline is measured from.

Registered with Airflow by the plugin module `plugins/chuyencan_timetables.py`, so that the
scheduler can rebuild it from the serialised DAG.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

from chuyencan.report.calendar_periods import FIRST_REPORT, FORTNIGHT

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _pendulum(moment: datetime) -> Any:
    """Airflow's own datetime type (pendulum), in UTC as the scheduler stores it."""
    import pendulum

    return pendulum.instance(moment.astimezone(UTC), tz=pendulum.UTC)


class FortnightlyFridays(Timetable):
    """Runs at `at` local time on `anchor` and every `every_days` days before and after it."""

    def __init__(
        self,
        anchor: date = FIRST_REPORT,
        at: time = time(15, 0),
        timezone: str = DEFAULT_TIMEZONE,
        every_days: int = FORTNIGHT.days,
    ) -> None:
        if every_days < 1:
            raise ValueError("every_days must be at least 1")
        self.anchor = anchor
        self.at = at
        self.every_days = every_days
        self._tz_name = str(timezone)
        self.timezone = ZoneInfo(self._tz_name)
        self.description = (
            f"Every {every_days} days at {at:%H:%M} {self._tz_name}, counted from {anchor.isoformat()}"
        )

    # -- the schedule -----------------------------------------------------------------------
    def _moment(self, day: date) -> datetime:
        return datetime.combine(day, self.at, tzinfo=self.timezone)

    def _local(self, moment: datetime) -> datetime:
        # A plain datetime: pendulum's arithmetic does not mix with timedelta division.
        return datetime.fromtimestamp(moment.timestamp(), tz=self.timezone)

    def _run_on_or_after(self, moment: datetime) -> datetime:
        """The first scheduled moment at or after `moment`."""
        local = self._local(moment)
        steps = -(-(local - self._moment(self.anchor)) // timedelta(days=self.every_days))
        return self._moment(self.anchor + timedelta(days=self.every_days * steps))

    def _run_on_or_before(self, moment: datetime) -> datetime:
        local = self._local(moment)
        steps = (local - self._moment(self.anchor)) // timedelta(days=self.every_days)
        return self._moment(self.anchor + timedelta(days=self.every_days * steps))

    # -- the Timetable protocol ---------------------------------------------------------------
    @property
    def summary(self) -> str:
        return f"every {self.every_days} days from {self.anchor.isoformat()}, {self.at:%H:%M}"

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        return DataInterval.exact(_pendulum(run_after))

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: Any
    ) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            after_last = self._moment(
                self._local(last_automated_data_interval.end).date() + timedelta(days=self.every_days)
            )
            candidates = [after_last]
        else:
            earliest = restriction.earliest or self._moment(self.anchor)
            candidates = [self._run_on_or_after(earliest)]
        if not restriction.catchup:
            # Without catch-up, only the latest due run (or the next one) is scheduled.
            candidates.append(self._run_on_or_before(_utc_now()))
            if restriction.earliest is not None:
                candidates.append(self._run_on_or_after(restriction.earliest))
        next_run = max(candidates)
        if restriction.latest is not None and next_run > self._local(restriction.latest):
            return None
        return DagRunInfo.exact(_pendulum(next_run))

    def serialize(self) -> dict[str, Any]:
        return {
            "anchor": self.anchor.isoformat(),
            "at": self.at.isoformat("minutes"),
            "timezone": self._tz_name,
            "every_days": self.every_days,
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> FortnightlyFridays:
        return cls(
            anchor=date.fromisoformat(data["anchor"]),
            at=time.fromisoformat(data["at"]),
            timezone=data["timezone"],
            every_days=int(data["every_days"]),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FortnightlyFridays):
            return NotImplemented
        return self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.serialize().items())))
