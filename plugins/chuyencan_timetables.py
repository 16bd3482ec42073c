"""Airflow plugin: registers chuyencan's custom timetable so the scheduler can deserialise it.

This file sits directly in the plugins folder because `plugins/.airflowignore` keeps the
`chuyencan` package itself out of Airflow's plugin scan.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from chuyencan.orchestration.timetable import FortnightlyFridays


class ChuyencanTimetables(AirflowPlugin):
    name = "chuyencan_timetables"
    timetables = [FortnightlyFridays]  # noqa: RUF012 - Airflow reads a plain class attribute
