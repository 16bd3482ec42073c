"""The fortnightly report's schedule, read from the DAG's own timetable: every other Friday 15:00
Asia/Ho_Chi_Minh from 4 April 2025, caught up when missed, and rebuilt identically by the
scheduler from the serialised DAG (which needs the timetable registered by our plugin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chuyencan.report.calendar_periods import Fortnight, report_date_on_or_before
from tests.helpers import load_dag

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_TEN = [
    date(2025, 4, 4),
    date(2025, 4, 18),
    date(2025, 5, 2),
    date(2025, 5, 16),
    date(2025, 5, 30),
    date(2025, 6, 13),
    date(2025, 6, 27),
    date(2025, 7, 11),
    date(2025, 7, 25),
    date(2025, 8, 8),
]


@pytest.fixture(scope="module")
def dag(airflow_db: Path) -> Any:
    return load_dag("fortnightly_report")


def scheduled_runs(timetable, start: datetime, n: int, *, catchup: bool = True) -> list:
    from airflow.timetables.base import TimeRestriction

    restriction = TimeRestriction(earliest=start, latest=None, catchup=catchup)
    runs, last = [], None
    for _ in range(n):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        runs.append(info)
        last = info.data_interval
    return runs


def test_first_ten_report_fridays(dag) -> None:
    runs = scheduled_runs(dag.timetable, dag.start_date, 10)
    assert [r.logical_date.astimezone(VN).date() for r in runs] == FIRST_TEN
    for r in runs:
        local = r.logical_date.astimezone(VN)
        assert (local.hour, local.minute, local.weekday()) == (15, 0, 4)
        assert r.run_after == r.logical_date  # runs at the moment it names, no data interval
    assert dag.catchup is True
    assert str(dag.timetable.timezone) == "Asia/Ho_Chi_Minh"


def test_the_scheduler_rebuilds_the_same_timetable(dag) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    rebuilt = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    assert type(rebuilt.timetable).__name__ == "FortnightlyFridays"
    start = datetime(2025, 4, 1, tzinfo=UTC)
    assert [r.logical_date for r in scheduled_runs(rebuilt.timetable, start, 10)] == [
        r.logical_date for r in scheduled_runs(dag.timetable, start, 10)
    ]


def test_a_late_start_begins_at_the_next_report_friday(dag) -> None:
    # Deployed on Monday 21 April 2025: the first run is 2 May, not a drifted "every 14 days".
    runs = scheduled_runs(dag.timetable, datetime(2025, 4, 21, 9, 0, tzinfo=VN), 2)
    assert [r.logical_date.astimezone(VN).date() for r in runs] == [date(2025, 5, 2), date(2025, 5, 16)]


def test_without_catchup_only_report_fridays_are_scheduled(dag) -> None:
    (info,) = scheduled_runs(dag.timetable, dag.start_date, 1, catchup=False)
    local = info.logical_date.astimezone(VN)
    assert report_date_on_or_before(local.date()) == local.date()
    assert (local.hour, local.weekday()) == (15, 4)


def test_a_run_after_the_last_allowed_date_is_not_scheduled(dag) -> None:
    from airflow.timetables.base import TimeRestriction

    restriction = TimeRestriction(
        earliest=dag.start_date, latest=datetime(2025, 4, 10, tzinfo=UTC), catchup=True
    )
    first = dag.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert (
        dag.timetable.next_dagrun_info(
            last_automated_data_interval=first.data_interval, restriction=restriction
        )
        is None
    )


@pytest.mark.parametrize(
    ("day", "report"),
    [
        (date(2025, 4, 4), date(2025, 4, 4)),
        (date(2025, 4, 10), date(2025, 4, 4)),
        (date(2025, 4, 11), date(2025, 4, 4)),  # a Friday between report Fridays
        (date(2025, 4, 18), date(2025, 4, 18)),
        (date(2025, 3, 21), date(2025, 3, 21)),  # the grid extends backwards
    ],
)
def test_report_date_of_a_day(day: date, report: date) -> None:
    assert report_date_on_or_before(day) == report


def test_a_report_covers_the_two_weeks_ending_on_its_friday() -> None:
    fortnight = Fortnight(date(2025, 4, 4))
    assert fortnight.weeks == (date(2025, 3, 28), date(2025, 4, 4))
    assert fortnight.first_day == date(2025, 3, 22)
    assert fortnight.first_day - timedelta(days=1) == date(2025, 4, 4) - timedelta(days=14)
