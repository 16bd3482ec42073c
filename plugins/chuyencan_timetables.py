"""Airflow plugin: registers chuyencan's custom timetable so the scheduler can deserialise it.

This file sits directly in the plugins folder because `plugins/.airflowignore` keeps the
`chuyencan` package itself out of Airflow's plugin scan.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from chuyencan.orchestration.timetable import FortnightlyFridays
from chuyencan.orchestration.timetables import WeeklyCron


class ChuyencanTimetables(AirflowPlugin):
    name = "chuyencan_timetables"
    timetables = [FortnightlyFridays, WeeklyCron]  # noqa: RUF012 - Airflow reads a plain class attribute
