"""Every other Friday at the report deadline (14:00 by default): is the fortnightly report out?
If not, say so."""

from __future__ import annotations

from datetime import datetime, time

from airflow.sdk import dag

from chuyencan.core.settings import REPORT_DEADLINE, REPORT_TIME, TIMEZONE
from chuyencan.orchestration.dag_defaults import DAG_ARGS
from chuyencan.orchestration.report_tasks import check_report_is_out
from chuyencan.orchestration.timetable import FortnightlyFridays
from chuyencan.report.calendar_periods import FIRST_REPORT

DOC = f"""
### Is the fortnightly report out by {REPORT_DEADLINE:%H:%M}?

The fortnightly report (`fortnightly_report`, every other Friday {REPORT_TIME:%H:%M}) must be
reviewed and signed before it is due at the People's Committee at 15:00. At
{REPORT_DEADLINE:%H:%M} (`REPORT_DEADLINE` in `chuyencan.core.settings`) on each report Friday
this DAG checks the warehouse and the reports folder:
the district's line of `report.fortnight_summary` for the date and the Excel report must both
be there. If not (the run failed, is still running, never started, or the warehouse cannot be
reached), the district office and the data engineers (`AIRFLOW_VAR_CHUYENCAN_DISTRICT_EMAIL`,
`AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL`) get an email straight through the mail server, not the
warehouse's outbox, since the warehouse may be what failed, and **check_report_is_out** then
ends red (no retry: that would alert again), so the missed deadline shows on the grid too.

No catch-up: only the current fortnight's report ever alerts anyone, so a first start or a
backfill is not a flood. A separate DAG rather than an Airflow `DeadlineAlert` on the report
DAG, because with Airflow 3.3.2 `airflow dags test` of a DAG carrying a `DeadlineAlert` fails
after every task succeeded (apache/airflow#73428).
"""


@dag(
    dag_id="fortnightly_report_deadline",
    schedule=FortnightlyFridays(at=REPORT_DEADLINE),
    description=f"Report Fridays {REPORT_DEADLINE:%H:%M}: is the fortnightly report out? If not, alert and end red",
    start_date=datetime.combine(FIRST_REPORT, time(0), tzinfo=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    **DAG_ARGS,
    tags=["chuyencan", "report", "fortnightly", "alert"],
    doc_md=DOC,
)
def fortnightly_report_deadline() -> None:
    check_report_is_out()


fortnightly_report_deadline()
