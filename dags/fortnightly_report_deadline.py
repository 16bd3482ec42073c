"""Every other Friday 15:30: is the fortnightly report out? If not, say so."""

from __future__ import annotations

from datetime import datetime, time

from airflow.sdk import dag

from chuyencan.orchestration.dag_defaults import DEFAULT_ARGS, LOCAL
from chuyencan.orchestration.report_tasks import check_report_is_out
from chuyencan.orchestration.timetable import FortnightlyFridays

DOC = """
### Is the fortnightly report out by 15:30?

The district expects the fortnightly report (`fortnightly_report`, every other Friday 15:00)
by 15:30. At 15:30 on each report Friday this DAG checks the warehouse and the reports folder:
the district's line of `report.fortnight_summary` for the date and the Excel report must both
be there. If not (the run failed, is still running, never started, or the warehouse cannot be
reached), the district office and the data engineers (`AIRFLOW_VAR_CHUYENCAN_DISTRICT_EMAIL`,
`AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL`) get an email straight through the mail server, not the
warehouse's outbox, since the warehouse may be what failed.

No catch-up: only the current fortnight's report ever alerts anyone, so a first start or a
backfill is not a flood. A separate DAG rather than an Airflow `DeadlineAlert` on the report
DAG, because with Airflow 3.3.2 `airflow dags test` of a DAG carrying a `DeadlineAlert` fails
after every task succeeded (apache/airflow#73428).
"""


@dag(
    dag_id="fortnightly_report_deadline",
    schedule=FortnightlyFridays(at=time(15, 30)),
    start_date=datetime(2025, 4, 4, tzinfo=LOCAL),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["chuyencan", "report", "fortnightly", "alert"],
    doc_md=DOC,
)
def fortnightly_report_deadline() -> None:
    check_report_is_out()


fortnightly_report_deadline()
